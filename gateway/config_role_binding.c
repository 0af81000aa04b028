/* kind ServiceRoleBinding (rbac.istio.io/v1alpha1): who holds a ServiceRole of the same namespace. */
#include <string.h>

#include "config_kinds.h"

/* properties: a map of condition key -> the one value it must have. */
static int decode_properties(gw__cfg_t *c, const gw_yaml_node_t *node, gw_role_subject_t *subject)
{
    gw_labels_t props = {0};
    int found = gw__cfg_labels(c, node, "properties", 0, &props);
    if (found <= 0)
        return found;
    const gw_yaml_node_t *map = gw__cfg_get(node, "properties");
    subject->properties = gw_arena_calloc(c->arena, props.count, sizeof(*subject->properties));
    if (subject->properties == NULL)
        return gw__cfg_fail(c, map, "out of memory");
    size_t saved = gw__cfg_push(c, "properties");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < props.count; ++i) {
        gw_authz_condition_t *cond = &subject->properties[i];
        size_t field = gw__cfg_push(c, props.keys[i]);
        rc = gw__decode_authz_key(c, map->items[2 * i], props.keys[i], cond);
        cond->values.items = &props.values[i];
        cond->values.count = 1;
        gw__cfg_pop(c, field);
        subject->property_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_subject(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    static const char *const fields[] = {"user", "group", "properties", NULL};
    static const char *const unsupported[] = {
        "names", "notNames", "groups", "notGroups", "namespaces", "notNamespaces", "ips", "notIps", NULL};
    gw_role_subject_t *subject = out;
    subject->mark = gw__cfg_mark(c, node);
    if (gw__cfg_fields(c, node, fields, unsupported) != 0 ||
        gw__cfg_string(c, node, "user", 0, &subject->user) < 0 ||
        gw__cfg_string(c, node, "group", 0, &subject->group) < 0 || decode_properties(c, node, subject) != 0)
        return -1;
    if (subject->user == NULL && subject->group == NULL && subject->property_count == 0)
        return gw__cfg_fail(c, node, "a subject needs user, group or properties");
    return 0;
}

static int decode_role_ref(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_service_role_binding_t *binding)
{
    static const char *const fields[] = {"kind", "name", NULL};
    const gw_yaml_node_t *ref = gw__cfg_get(spec, "roleRef");
    if (ref == NULL)
        return gw__cfg_missing(c, spec, "roleRef");
    size_t saved = gw__cfg_push(c, "roleRef");
    char *kind = NULL, shown[160];
    int rc = gw__cfg_fields(c, ref, fields, NULL) != 0 ||
                     gw__cfg_string(c, ref, "kind", GW__CFG_REQUIRED, &kind) < 0 ||
                     gw__cfg_string(c, ref, "name", GW__CFG_REQUIRED, &binding->role) < 0
                 ? -1
                 : 0;
    if (rc == 0 && strcmp(kind, "ServiceRole") != 0) {
        gw__cfg_push(c, "kind");
        rc = gw__cfg_fail(c, gw__cfg_get(ref, "kind"), "must be ServiceRole (got \"%s\")",
                          gw__cfg_show(shown, sizeof(shown), kind));
    } else if (rc == 0 &&
               gw__cfg_find_document(c, "ServiceRole", binding->meta.namespace_, binding->role) == NULL) {
        gw__cfg_push(c, "name");
        rc = gw__cfg_fail(c, gw__cfg_get(ref, "name"),
                          "no ServiceRole %s/%s in this file (a binding can only "
                          "refer to a role of its own namespace)",
                          binding->meta.namespace_, gw__cfg_show(shown, sizeof(shown), binding->role));
    }
    gw__cfg_pop(c, saved);
    return rc;
}

int gw__decode_service_role_binding(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"subjects", "roleRef", NULL};
    static const char *const unsupported[] = {"actions", "role", "mode", NULL};
    gw_service_role_binding_t *binding = out;
    if (gw__cfg_fields(c, spec, fields, unsupported) != 0 ||
        gw__cfg_map_list(c, spec, "subjects", GW__CFG_REQUIRED, sizeof(gw_role_subject_t),
                         (void **)&binding->subjects, &binding->subject_count, decode_subject) < 0)
        return -1;
    return decode_role_ref(c, spec, binding);
}
