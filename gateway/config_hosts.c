/* Host -> document indexes: a host in one ServiceEntry and one DestinationRule only,
 * looked up case-insensitively by binary search. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_decode.h"

int gw__host_index_add(gw__cfg_t *c, gw__host_index_t *index, const char *host, const gw_yaml_node_t *node)
{
    if (index->count == index->cap) {
        size_t cap = index->cap != 0 ? index->cap * 2 : 8;
        gw__host_ref_t *items = gw_arena_calloc(c->arena, cap, sizeof(*items));
        if (items == NULL)
            return gw__cfg_fail(c, node, "out of memory");
        if (index->count > 0)
            memcpy(items, index->items, index->count * sizeof(*items));
        index->items = items;
        index->cap = cap;
    }
    const char *path = gw__cfg_path_copy(c);
    if (path == NULL)
        return gw__cfg_fail(c, node, "out of memory");
    index->items[index->count++] =
        (gw__host_ref_t){.host = host, .meta = c->meta, .mark = gw__cfg_mark(c, node), .path = path};
    return 0;
}

static int mark_order(const gw_config_mark_t *a, const gw_config_mark_t *b)
{
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->column < b->column ? -1 : a->column > b->column;
}

static int host_order(const void *pa, const void *pb)
{
    const gw__host_ref_t *a = pa, *b = pb;
    int rc = strcasecmp(a->host, b->host);
    return rc != 0 ? rc : mark_order(&a->mark, &b->mark);
}

int gw__host_index_finish(gw__cfg_t *c, gw__host_index_t *index, const char *what)
{
    if (index->count > 1)
        qsort(index->items, index->count, sizeof(*index->items), host_order);
    const gw__host_ref_t *dup = NULL, *first = NULL;
    for (size_t i = 1; i < index->count; ++i) {
        const gw__host_ref_t *a = &index->items[i - 1], *b = &index->items[i];
        if (strcasecmp(a->host, b->host) == 0 && (dup == NULL || mark_order(&b->mark, &dup->mark) < 0)) {
            dup = b;
            first = a;
        }
    }
    if (dup == NULL)
        return 0;
    char shown[256];
    return gw__cfg_fail_at(c, &dup->mark, dup->path, "host \"%s\" is already listed by %s %s/%s at %s:%u:%u",
                           gw__cfg_show(shown, sizeof(shown), dup->host), what, first->meta->namespace_,
                           first->meta->name, c->file, first->mark.line, first->mark.column);
}

static int host_key_order(const void *key, const void *item)
{
    return strcasecmp(key, ((const gw__host_ref_t *)item)->host);
}

const gw__host_ref_t *gw__host_index_find(const gw__host_index_t *index, const char *host)
{
    if (index->count == 0)
        return NULL;
    return bsearch(host, index->items, index->count, sizeof(*index->items), host_key_order);
}
