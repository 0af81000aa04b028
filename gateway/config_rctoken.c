/* kind TenantGate, spec.rctoken: the token forwarded to upstreams and its published keys. */
#include "config_rctoken.h"

#include <string.h>

#include "authservice/rctoken_keys.h"
#include "oidc/url.h"

#define MIN_TTL_MS 10000ull
#define MAX_TTL_MS 3600000ull
#define MIN_CLI_TTL_MS 5000ull
#define MAX_CLI_TTL_MS (12 * 3600000ull)

void gw__rctoken_defaults(gw_rctoken_settings_t *rctoken)
{
    memset(rctoken, 0, sizeof(*rctoken));
    rctoken->ttl_ms = 5 * 60 * 1000;
    rctoken->header = "authorization";
    rctoken->algorithm = AS_RCTOKEN_ES256;
    rctoken->namespace_claim = "namespace";
    rctoken->jwks_max_age_ms = 5 * 60 * 1000;
    rctoken->cli_token_ttl_ms = 60 * 60 * 1000;
}

static int decode_issuer(gw__cfg_t *c, const gw_yaml_node_t *map, gw_settings_t *s)
{
    gw_rctoken_settings_t *r = &s->rctoken;
    int found = gw__cfg_string(c, map, "issuer", 0, &r->issuer);
    if (found < 0)
        return -1;
    if (found == 0) {
        if (s->auth.external_url == NULL)
            return gw__cfg_missing(c, map, "issuer");
        r->issuer = s->auth.external_url;
        return 0;
    }
    size_t len = strlen(r->issuer);
    if (len > 1 && r->issuer[len - 1] == '/')
        r->issuer[len - 1] = '\0';
    const char *reason = NULL;
    if (oidc_url_check(r->issuer, OIDC_URL_ALLOW_INSECURE_LOOPBACK | OIDC_URL_NO_QUERY, &reason) != 0)
        return gw__cfg_fail_field(c, map, "issuer", reason != NULL ? reason : "not a valid URL");
    return 0;
}

static int decode_verify_key_files(gw__cfg_t *c, const gw_yaml_node_t *map, gw_rctoken_settings_t *r)
{
    const gw_yaml_node_t *list = gw__cfg_get(map, "verifyKeyFiles");
    if (list == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "verifyKeyFiles");
    int rc = gw__cfg_expect_list(c, list);
    if (rc == 0 && list->count > AS_RCTOKEN_MAX_VERIFY_KEYS)
        rc = gw__cfg_fail(c, list, "at most %d verify-only keys", AS_RCTOKEN_MAX_VERIFY_KEYS);
    if (rc == 0 &&
        (r->verify_key_files.items = gw_arena_alloc(c->arena, (list->count + 1) * sizeof(char *))) == NULL)
        rc = gw__cfg_fail(c, list, "out of memory");
    for (size_t i = 0; rc == 0 && i < list->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = gw__cfg_node_file(c, list->items[i], &r->verify_key_files.items[i]);
        gw__cfg_pop(c, item);
        r->verify_key_files.count += rc == 0;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_rctoken(gw__cfg_t *c, const gw_yaml_node_t *map, gw_settings_t *s)
{
    static const char *const fields[] = {"issuer",
                                         "ttl",
                                         "audience",
                                         "header",
                                         "algorithm",
                                         "signingKeyFile",
                                         "verifyKeyFiles",
                                         "namespaceClaim",
                                         "jwksMaxAge",
                                         "cliTokenTtl",
                                         NULL};
    static const gw__cfg_choice_t audiences[] = {{"host", 0, NULL}, {"namespace", 1, NULL}, {NULL, 0, NULL}};
    static const gw__cfg_choice_t algorithms[] = {
        {"ES256", AS_RCTOKEN_ES256, NULL}, {"RS256", AS_RCTOKEN_RS256, NULL}, {NULL, 0, NULL}};
    gw_rctoken_settings_t *r = &s->rctoken;
    if (gw__cfg_fields(c, map, fields, NULL) != 0 || decode_issuer(c, map, s) != 0 ||
        gw__cfg_duration(c, map, "ttl", 0, &r->ttl_ms) < 0 ||
        gw__cfg_choice(c, map, "audience", 0, audiences, 0, &r->audience_namespace) < 0 ||
        gw__cfg_string(c, map, "header", 0, &r->header) < 0 ||
        gw__cfg_choice(c, map, "algorithm", 0, algorithms, 0, &r->algorithm) < 0 ||
        gw__cfg_file(c, map, "signingKeyFile", GW__CFG_REQUIRED, &r->signing_key_file) < 0 ||
        decode_verify_key_files(c, map, r) != 0 ||
        gw__cfg_string(c, map, "namespaceClaim", 0, &r->namespace_claim) < 0 ||
        gw__cfg_duration(c, map, "jwksMaxAge", GW__CFG_ALLOW_ZERO, &r->jwks_max_age_ms) < 0 ||
        gw__cfg_duration(c, map, "cliTokenTtl", 0, &r->cli_token_ttl_ms) < 0)
        return -1;
    if (r->ttl_ms < MIN_TTL_MS || r->ttl_ms > MAX_TTL_MS || r->ttl_ms % 1000 != 0)
        return gw__cfg_fail_field(c, map, "ttl", "must be whole seconds from 10s to 1h");
    if (r->cli_token_ttl_ms < MIN_CLI_TTL_MS || r->cli_token_ttl_ms > MAX_CLI_TTL_MS ||
        r->cli_token_ttl_ms % 1000 != 0)
        return gw__cfg_fail_field(c, map, "cliTokenTtl", "must be whole seconds from 5s to 12h");
    if (!gw__cfg_is_header_name(r->header))
        return gw__cfg_fail_field(c, map, "header", "must be a lower-case header name");
    static const char *const reserved[] = {"iss", "sub", "aud",   "exp",    "iat",      "nbf",
                                           "jti", "sid", "email", "groups", "token_use"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); ++i)
        if (strcmp(r->namespace_claim, reserved[i]) == 0)
            return gw__cfg_fail_field(c, map, "namespaceClaim",
                                      "must not be the name of another claim of the token");
    if (r->jwks_max_age_ms > MAX_TTL_MS)
        return gw__cfg_fail_field(c, map, "jwksMaxAge",
                                  "must be at most 1h (sidecars must see a rotation in time)");
    r->enabled = 1;
    return 0;
}

int gw__decode_rctoken(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *s)
{
    const gw_yaml_node_t *map = gw__cfg_get(spec, "rctoken");
    if (map == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "rctoken");
    int rc = decode_rctoken(c, map, s);
    gw__cfg_pop(c, saved);
    return rc;
}
