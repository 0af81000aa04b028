/* Condition keys shared by AuthorizationPolicy `when`, ServiceRole `constraints` and ServiceRoleBinding
 * `properties`: what part of a request a condition reads. */
#include <ctype.h>
#include <string.h>

#include "config_kinds.h"

/* "PREFIX[NAME]" -> an arena copy of NAME (quotes around it allowed), or NULL when key has another shape. */
static char *bracketed(gw__cfg_t *c, const char *key, const char *prefix)
{
    size_t plen = strlen(prefix), len = strlen(key);
    if (strncmp(key, prefix, plen) != 0 || len < plen + 3 || key[plen] != '[' || key[len - 1] != ']')
        return NULL;
    const char *name = key + plen + 1;
    size_t name_len = len - plen - 2;
    if (name_len >= 2 && (name[0] == '"' || name[0] == '\'') && name[name_len - 1] == name[0]) {
        ++name;
        name_len -= 2;
    }
    if (name_len == 0 || memchr(name, '[', name_len) != NULL || memchr(name, ']', name_len) != NULL ||
        memchr(name, '"', name_len) != NULL)
        return NULL;
    return gw_arena_strndup(c->arena, name, name_len);
}

int gw__decode_authz_key(gw__cfg_t *c, const gw_yaml_node_t *node, const char *key, gw_authz_condition_t *out)
{
    char shown[160];
    out->key = (char *)key;
    out->mark = gw__cfg_mark(c, node);
    if (strcmp(key, "request.auth.principal") == 0) {
        out->kind = GW_AUTHZ_KEY_PRINCIPAL;
        return 0;
    }
    if (strcmp(key, "source.namespace") == 0) {
        out->kind = GW_AUTHZ_KEY_SOURCE_NAMESPACE;
        return 0;
    }
    if ((out->name = bracketed(c, key, "request.auth.claims")) != NULL) {
        out->kind = GW_AUTHZ_KEY_CLAIM;
        return 0;
    }
    if ((out->name = bracketed(c, key, "request.headers")) != NULL) {
        out->kind = GW_AUTHZ_KEY_HEADER;
        for (char *p = out->name; *p != '\0'; ++p)
            *p = (char)tolower((unsigned char)*p);
        return 0;
    }
    return gw__cfg_fail(c, node,
                        "key \"%s\" is not one tenantgate can enforce (request.auth.claims[NAME], "
                        "request.headers[NAME], request.auth.principal or source.namespace; nested claims "
                        "are not supported)",
                        gw__cfg_show(shown, sizeof(shown), key));
}

int gw__cfg_map_list(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, size_t size,
                     void **items, size_t *count, gw__cfg_item_decoder_t decode)
{
    const gw_yaml_node_t *list = gw__cfg_get(map, key);
    if (list == NULL)
        return (flags & GW__CFG_REQUIRED) != 0 ? gw__cfg_missing(c, map, key) : 0;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_expect_list(c, list);
    if (rc == 0 && list->count == 0 && (flags & GW__CFG_REQUIRED) != 0)
        rc = gw__cfg_fail(c, list, "must list at least one entry");
    unsigned char *array = NULL;
    if (rc == 0 && list->count > 0 && (array = gw_arena_calloc(c->arena, list->count, size)) == NULL)
        rc = gw__cfg_fail(c, list, "out of memory");
    for (size_t i = 0; rc == 0 && i < list->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = gw__cfg_expect_map(c, list->items[i]);
        if (rc == 0)
            rc = decode(c, list->items[i], array + i * size);
        gw__cfg_pop(c, item);
    }
    gw__cfg_pop(c, saved);
    if (rc != 0)
        return -1;
    *items = array;
    *count = list->count;
    return 1;
}

/* {key, values[, notValues]}: with_not allows notValues and needs one of the two, else values is required. */
static int decode_condition(gw__cfg_t *c, const gw_yaml_node_t *node, gw_authz_condition_t *cond,
                            int with_not)
{
    static const char *const when_fields[] = {"key", "values", "notValues", NULL};
    static const char *const constraint_fields[] = {"key", "values", NULL};
    char *key;
    if (gw__cfg_fields(c, node, with_not ? when_fields : constraint_fields, NULL) != 0 ||
        gw__cfg_string(c, node, "key", GW__CFG_REQUIRED, &key) < 0)
        return -1;
    size_t saved = gw__cfg_push(c, "key");
    int rc = gw__decode_authz_key(c, gw__cfg_get(node, "key"), key, cond);
    gw__cfg_pop(c, saved);
    if (rc != 0 || gw__cfg_strings(c, node, "values", with_not ? 0 : GW__CFG_REQUIRED, &cond->values) < 0 ||
        (with_not && gw__cfg_strings(c, node, "notValues", 0, &cond->not_values) < 0))
        return -1;
    if (cond->values.count == 0 && cond->not_values.count == 0)
        return gw__cfg_fail(c, node, "needs values or notValues");
    return 0;
}

int gw__decode_authz_when(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    return decode_condition(c, node, out, 1);
}

int gw__decode_authz_constraint(gw__cfg_t *c, const gw_yaml_node_t *node, void *out)
{
    return decode_condition(c, node, out, 0);
}
