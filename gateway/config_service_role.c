/* kind ServiceRole (rbac.istio.io/v1alpha1): what a role may do, in its own namespace. */
#include "config_kinds.h"

static int decode_rule(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    static const char *const fields[] = {"services", "methods", "paths", "constraints", NULL};
    static const char *const unsupported[] = {"hosts", "notHosts", "notPaths", "notMethods",
                                              "ports", "notPorts", NULL};
    gw_role_rule_t *rule = out;
    rule->mark = gw__cfg_mark(c, node);
    if (gw__cfg_fields(c, node, fields, unsupported) != 0 ||
        gw__cfg_strings(c, node, "services", GW__CFG_REQUIRED, &rule->services) < 0 ||
        gw__cfg_strings(c, node, "methods", 0, &rule->methods) < 0 ||
        gw__cfg_strings(c, node, "paths", 0, &rule->paths) < 0)
        return -1;
    return gw__cfg_map_list(c, node, "constraints", 0, sizeof(gw_authz_condition_t),
                            (void **)&rule->constraints, &rule->constraint_count,
                            gw__decode_authz_constraint) < 0
               ? -1
               : 0;
}

int gw__decode_service_role(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"rules", NULL};
    gw_service_role_t *role = out;
    if (gw__cfg_fields(c, spec, fields, NULL) != 0)
        return -1;
    return gw__cfg_map_list(c, spec, "rules", GW__CFG_REQUIRED, sizeof(gw_role_rule_t), (void **)&role->rules,
                            &role->rule_count, decode_rule) < 0
               ? -1
               : 0;
}
