/* kind AuthorizationPolicy (security.istio.io/v1beta1): ALLOW / DENY / AUDIT rules for a namespace. */
#include "config_kinds.h"

static const gw__cfg_choice_t actions[] = {
    {"ALLOW", GW_AUTHZ_ALLOW, NULL},
    {"DENY", GW_AUTHZ_DENY, NULL},
    {"AUDIT", GW_AUTHZ_AUDIT, NULL},
    {"CUSTOM", 0, "is not supported (tenantgate has no external authorizer)"},
    {NULL, 0, NULL},
};

/* A from/to entry: {NAME: {...}} with NAME's map decoded by fields. */
static const gw_yaml_node_t *wrapped(gw__cfg_t *c, const gw_yaml_node_t *node, const char *name)
{
    const char *const fields[] = {name, NULL};
    if (gw__cfg_fields(c, node, fields, NULL) != 0)
        return NULL;
    const gw_yaml_node_t *inner = gw__cfg_get(node, name);
    if (inner == NULL) {
        gw__cfg_missing(c, node, name);
        return NULL;
    }
    if (gw__cfg_expect_map(c, inner) != 0)
        return NULL;
    if (inner->count == 0) {
        size_t saved = gw__cfg_push(c, name);
        gw__cfg_fail(c, inner, "must set at least one field");
        gw__cfg_pop(c, saved);
        return NULL;
    }
    return inner;
}

static int decode_source(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    static const char *const fields[] = {"requestPrincipals", "notRequestPrincipals", "namespaces",
                                         "notNamespaces", NULL};
    static const char *const unsupported[] = {"principals",  "notPrincipals",  "ipBlocks",
                                              "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
                                              NULL};
    gw_authz_source_t *source = out;
    source->mark = gw__cfg_mark(c, node);
    const gw_yaml_node_t *inner = wrapped(c, node, "source");
    if (inner == NULL)
        return -1;
    size_t saved = gw__cfg_push(c, "source");
    int rc =
        gw__cfg_fields(c, inner, fields, unsupported) != 0 ||
                gw__cfg_strings(c, inner, "requestPrincipals", 0, &source->request_principals) < 0 ||
                gw__cfg_strings(c, inner, "notRequestPrincipals", 0, &source->not_request_principals) < 0 ||
                gw__cfg_strings(c, inner, "namespaces", 0, &source->namespaces) < 0 ||
                gw__cfg_strings(c, inner, "notNamespaces", 0, &source->not_namespaces) < 0
            ? -1
            : 0;
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_operation(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    static const char *const fields[] = {"hosts", "notHosts", "methods", "notMethods",
                                         "paths", "notPaths", NULL};
    static const char *const unsupported[] = {"ports", "notPorts", NULL};
    gw_authz_operation_t *op = out;
    op->mark = gw__cfg_mark(c, node);
    const gw_yaml_node_t *inner = wrapped(c, node, "operation");
    if (inner == NULL)
        return -1;
    size_t saved = gw__cfg_push(c, "operation");
    int rc = gw__cfg_fields(c, inner, fields, unsupported) != 0 ||
                     gw__cfg_strings(c, inner, "hosts", 0, &op->hosts) < 0 ||
                     gw__cfg_strings(c, inner, "notHosts", 0, &op->not_hosts) < 0 ||
                     gw__cfg_strings(c, inner, "methods", 0, &op->methods) < 0 ||
                     gw__cfg_strings(c, inner, "notMethods", 0, &op->not_methods) < 0 ||
                     gw__cfg_strings(c, inner, "paths", 0, &op->paths) < 0 ||
                     gw__cfg_strings(c, inner, "notPaths", 0, &op->not_paths) < 0
                 ? -1
                 : 0;
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_rule(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    static const char *const fields[] = {"from", "to", "when", NULL};
    gw_authz_rule_t *rule = out;
    rule->mark = gw__cfg_mark(c, node);
    return gw__cfg_fields(c, node, fields, NULL) != 0 ||
                   gw__cfg_map_list(c, node, "from", 0, sizeof(gw_authz_source_t), (void **)&rule->from,
                                    &rule->from_count, decode_source) < 0 ||
                   gw__cfg_map_list(c, node, "to", 0, sizeof(gw_authz_operation_t), (void **)&rule->to,
                                    &rule->to_count, decode_operation) < 0 ||
                   gw__cfg_map_list(c, node, "when", 0, sizeof(gw_authz_condition_t), (void **)&rule->when,
                                    &rule->when_count, gw__decode_authz_when) < 0
               ? -1
               : 0;
}

int gw__decode_authorization_policy(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"action", "rules", NULL};
    static const char *const unsupported[] = {"selector", "targetRef", "targetRefs", "provider", NULL};
    gw_authorization_policy_t *policy = out;
    policy->action = GW_AUTHZ_ALLOW;
    if (spec == NULL || gw_yaml_is_null(spec))
        return 0; /* spec: {} - an ALLOW policy that matches nothing */
    int action = GW_AUTHZ_ALLOW;
    if (gw__cfg_fields(c, spec, fields, unsupported) != 0 ||
        gw__cfg_choice(c, spec, "action", 0, actions, 0, &action) < 0)
        return -1;
    policy->action = (gw_authz_action_t)action;
    return gw__cfg_map_list(c, spec, "rules", 0, sizeof(gw_authz_rule_t), (void **)&policy->rules,
                            &policy->rule_count, decode_rule) < 0
               ? -1
               : 0;
}
