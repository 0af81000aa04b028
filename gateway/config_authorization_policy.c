/* kind AuthorizationPolicy (security.istio.io/v1beta1): ALLOW / DENY / AUDIT rules for a namespace. */
#include <stddef.h>

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

/* A source or operation: {NAME: {field: [strings], ...}}, every field a gw_strings_t at its offset. */
typedef struct {
    const char *wrapper;            /* "source" | "operation" */
    const char *const *fields;      /* NULL-terminated, in the order of offsets */
    const size_t *offsets;          /* of each field's gw_strings_t in the output */
    const char *const *unsupported; /* NULL-terminated */
    size_t mark_offset;             /* of the entry's gw_config_mark_t */
} string_lists_t;

static int decode_string_lists(gw__cfg_t *c, const gw_yaml_node_t *node, const string_lists_t *shape,
                               void *out)
{
    unsigned char *base = out;
    *(gw_config_mark_t *)(base + shape->mark_offset) = gw__cfg_mark(c, node);
    const gw_yaml_node_t *inner = wrapped(c, node, shape->wrapper);
    if (inner == NULL)
        return -1;
    size_t saved = gw__cfg_push(c, shape->wrapper);
    int rc = gw__cfg_fields(c, inner, shape->fields, shape->unsupported);
    for (size_t i = 0; rc == 0 && shape->fields[i] != NULL; ++i)
        if (gw__cfg_strings(c, inner, shape->fields[i], 0, (gw_strings_t *)(base + shape->offsets[i])) < 0)
            rc = -1;
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_source(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    static const char *const fields[] = {"requestPrincipals", "notRequestPrincipals", "namespaces",
                                         "notNamespaces", NULL};
    static const size_t offsets[] = {
        offsetof(gw_authz_source_t, request_principals), offsetof(gw_authz_source_t, not_request_principals),
        offsetof(gw_authz_source_t, namespaces), offsetof(gw_authz_source_t, not_namespaces)};
    static const char *const unsupported[] = {"principals",  "notPrincipals",  "ipBlocks",
                                              "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
                                              NULL};
    static const string_lists_t shape = {"source", fields, offsets, unsupported,
                                         offsetof(gw_authz_source_t, mark)};
    return decode_string_lists(c, node, &shape, out);
}

static int decode_operation(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    static const char *const fields[] = {"hosts", "notHosts", "methods", "notMethods",
                                         "paths", "notPaths", NULL};
    static const size_t offsets[] = {
        offsetof(gw_authz_operation_t, hosts),   offsetof(gw_authz_operation_t, not_hosts),
        offsetof(gw_authz_operation_t, methods), offsetof(gw_authz_operation_t, not_methods),
        offsetof(gw_authz_operation_t, paths),   offsetof(gw_authz_operation_t, not_paths)};
    static const char *const unsupported[] = {"ports", "notPorts", NULL};
    static const string_lists_t shape = {"operation", fields, offsets, unsupported,
                                         offsetof(gw_authz_operation_t, mark)};
    return decode_string_lists(c, node, &shape, out);
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
