/* kind RequestAuthentication (security.istio.io): trusted issuers of bearer tokens
 * (docs/internals/bearer.md). */
#include <stdio.h>
#include <string.h>

#include "config_kinds.h"
#include "oidc/url.h"

/* tenantgate's extensions live in metadata.annotations, where Istio ignores them. */
#define ANNOTATION_USERID_CLAIM "tenantgate.io/userid-claim"
#define ANNOTATION_GROUPS_CLAIM "tenantgate.io/groups-claim"
#define ANNOTATION_ALLOW_INSECURE "tenantgate.io/allow-insecure-jwks-uri"

static int fail_field(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, const char *message)
{
    size_t saved = gw__cfg_push(c, key);
    gw__cfg_fail(c, gw__cfg_get(map, key), "%s", message);
    gw__cfg_pop(c, saved);
    return -1;
}

/* An https URL (or http on loopback when allowed) without query or fragment. */
static int check_url(gw__cfg_t *c, const gw_yaml_node_t *rule, const char *key, const char *url,
                     int allow_insecure)
{
    const char *reason = NULL;
    unsigned flags = OIDC_URL_NO_QUERY | (allow_insecure ? OIDC_URL_ALLOW_INSECURE_LOOPBACK : 0);
    if (oidc_url_check(url, flags, &reason) == 0)
        return 0;
    char message[240];
    snprintf(message, sizeof(message), "%s%s", reason != NULL ? reason : "not a valid URL",
             !allow_insecure && strncmp(url, "http://", 7) == 0
                 ? " (http is allowed only on loopback with the annotation " ANNOTATION_ALLOW_INSECURE
                   ": \"true\")"
                 : "");
    return fail_field(c, rule, key, message);
}

/* fromHeaders: only the default (Authorization with prefix "Bearer ") is supported. */
static int decode_from_headers(gw__cfg_t *c, const gw_yaml_node_t *rule)
{
    const gw_yaml_node_t *list = gw__cfg_get(rule, "fromHeaders");
    if (list == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "fromHeaders");
    int rc = gw__cfg_expect_list(c, list);
    for (size_t i = 0; rc == 0 && i < list->count; ++i) {
        static const char *const fields[] = {"name", "prefix", NULL};
        size_t item = gw__cfg_push_index(c, i);
        char *name = NULL, *prefix = NULL;
        rc = gw__cfg_fields(c, list->items[i], fields, NULL) != 0 ||
                     gw__cfg_string(c, list->items[i], "name", GW__CFG_REQUIRED, &name) < 0 ||
                     gw__cfg_string(c, list->items[i], "prefix", 0, &prefix) < 0
                 ? -1
                 : 0;
        if (rc == 0 &&
            (strcasecmp(name, "authorization") != 0 || prefix == NULL || strcmp(prefix, "Bearer ") != 0))
            rc = gw__cfg_fail(c, list->items[i],
                              "only name: Authorization with prefix: \"Bearer \" is supported yet");
        gw__cfg_pop(c, item);
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_rule(gw__cfg_t *c, const gw_yaml_node_t *node, const gw_meta_t *meta, gw_jwt_rule_t *rule)
{
    static const char *const fields[] = {
        "issuer", "jwksUri", "audiences", "fromHeaders", "forwardOriginalToken", NULL};
    /* outputClaimToHeaders is refused: a claim must never be able to set kubeflow-userid */
    static const char *const unsupported[] = {
        "jwks",    "fromParams", "fromCookies", "outputPayloadToHeader", "outputClaimToHeaders",
        "timeout", NULL};
    rule->mark = gw__cfg_mark(c, node);
    const char *insecure = gw_labels_get(&meta->annotations, ANNOTATION_ALLOW_INSECURE);
    rule->allow_insecure = insecure != NULL && strcmp(insecure, "true") == 0;
    rule->userid_claim = gw_labels_get(&meta->annotations, ANNOTATION_USERID_CLAIM);
    rule->groups_claim = gw_labels_get(&meta->annotations, ANNOTATION_GROUPS_CLAIM);
    if (rule->groups_claim == NULL)
        rule->groups_claim = "groups";
    if (gw__cfg_fields(c, node, fields, unsupported) != 0 ||
        gw__cfg_string(c, node, "issuer", GW__CFG_REQUIRED, &rule->issuer) < 0 ||
        check_url(c, node, "issuer", rule->issuer, rule->allow_insecure) < 0 ||
        gw__cfg_string(c, node, "jwksUri", 0, &rule->jwks_uri) < 0 ||
        (rule->jwks_uri != NULL && check_url(c, node, "jwksUri", rule->jwks_uri, rule->allow_insecure) < 0) ||
        gw__cfg_strings(c, node, "audiences", 0, &rule->audiences) < 0 || decode_from_headers(c, node) < 0 ||
        gw__cfg_bool(c, node, "forwardOriginalToken", 0, &rule->forward_original_token) < 0)
        return -1;
    if (rule->audiences.count == 0)
        return gw__cfg_missing(c, node, "audiences"); /* stricter than Istio: a token for anyone is refused */
    return 0;
}

static int decode_selector(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_request_auth_t *ra)
{
    static const char *const fields[] = {"matchLabels", NULL};
    const gw_yaml_node_t *selector = gw__cfg_get(spec, "selector");
    if (selector == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "selector");
    int rc = gw__cfg_fields(c, selector, fields, NULL) != 0 ||
                     gw__cfg_labels(c, selector, "matchLabels", 0, &ra->selector) < 0
                 ? -1
                 : 0;
    gw__cfg_pop(c, saved);
    return rc;
}

int gw__decode_request_auth(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"selector", "jwtRules", NULL};
    static const char *const unsupported[] = {"targetRef", "targetRefs", NULL};
    gw_request_auth_t *ra = out;
    if (spec == NULL)
        return 0; /* no rules: trusts nothing */
    if (gw__cfg_fields(c, spec, fields, unsupported) != 0 || decode_selector(c, spec, ra) < 0)
        return -1;
    const gw_yaml_node_t *rules = gw__cfg_get(spec, "jwtRules");
    if (rules == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "jwtRules");
    int rc = gw__cfg_expect_list(c, rules);
    if (rc == 0 && rules->count > 0) {
        ra->jwt_rules = gw_arena_calloc(c->arena, rules->count, sizeof(*ra->jwt_rules));
        if (ra->jwt_rules == NULL)
            rc = gw__cfg_fail(c, rules, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < rules->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = decode_rule(c, rules->items[i], &ra->meta, &ra->jwt_rules[i]);
        gw__cfg_pop(c, item);
        ra->jwt_rule_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}
