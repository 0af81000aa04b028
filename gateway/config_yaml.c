#include "config_yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const gw_yaml_limits_t gw_yaml_default_limits = {
    .max_bytes = 4u << 20,
    .max_depth = 64,
    .max_nodes = 1000000,
};

typedef struct {
    gw_yaml_node_t *node;
    size_t first_child; /* index in children of this collection's first item */
} open_t;

typedef struct {
    gw_arena_t *arena;
    const gw_yaml_limits_t *limits;
    gw_yaml_error_t *err;
    size_t nodes;
    /* items of the collections still open, innermost last */
    gw_yaml_node_t **children;
    size_t children_len, children_cap;
    open_t *open;
    size_t depth, open_cap;
    gw_yaml_node_t *root; /* of the current document */
    yaml_mark_t doc_start;
    gw_yaml_node_t **docs;
    size_t doc_count, doc_cap;
} builder_t;

static int fail(builder_t *b, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(builder_t *b, unsigned line, unsigned column, const char *fmt, ...)
{
    b->err->line = line;
    b->err->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err->message, sizeof(b->err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static int grow(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t next = *cap != 0 ? *cap : 16;
    while (next < need)
        next *= 2;
    void *grown = realloc(*array, next * elem);
    if (grown == NULL)
        return -1;
    *array = grown;
    *cap = next;
    return 0;
}

static gw_yaml_node_t *new_node(builder_t *b, gw_yaml_kind_t kind, const yaml_mark_t *mark)
{
    unsigned line = (unsigned)mark->line + 1, column = (unsigned)mark->column + 1;
    if (b->nodes >= b->limits->max_nodes) {
        fail(b, line, column, "more than %zu YAML nodes", b->limits->max_nodes);
        return NULL;
    }
    gw_yaml_node_t *node = gw_arena_alloc(b->arena, sizeof(*node));
    if (node == NULL) {
        fail(b, line, column, "out of memory");
        return NULL;
    }
    ++b->nodes;
    node->kind = kind;
    node->line = line;
    node->column = column;
    return node;
}

/* Hands a finished node to the collection it belongs to, or makes it the document root. */
static int attach(builder_t *b, gw_yaml_node_t *node)
{
    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    if (grow((void **)&b->children, &b->children_cap, b->children_len + 1, sizeof(*b->children)) != 0)
        return fail(b, node->line, node->column, "out of memory");
    b->children[b->children_len++] = node;
    return 0;
}

static int check_properties(builder_t *b, const yaml_mark_t *mark, const yaml_char_t *anchor,
                            const yaml_char_t *tag)
{
    unsigned line = (unsigned)mark->line + 1, column = (unsigned)mark->column + 1;
    if (anchor != NULL)
        return fail(b, line, column, "anchors (&%.40s) are not supported", (const char *)anchor);
    if (tag != NULL)
        return fail(b, line, column, "tags (%.60s) are not supported", (const char *)tag);
    return 0;
}

static int on_scalar(builder_t *b, const yaml_event_t *ev)
{
    if (check_properties(b, &ev->start_mark, ev->data.scalar.anchor, ev->data.scalar.tag) != 0)
        return -1;
    gw_yaml_node_t *node = new_node(b, GW_YAML_SCALAR, &ev->start_mark);
    if (node == NULL)
        return -1;
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(text, '\0', len) != NULL)
        return fail(b, node->line, node->column, "NUL characters are not allowed");
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node->len = len;
    if (b->depth == 0 && node->plain && len == 0) {
        /* an empty document: libyaml places it after the document; point at its start instead */
        node->line = (unsigned)b->doc_start.line + 1;
        node->column = (unsigned)b->doc_start.column + 1;
    }
    if ((node->value = gw_arena_strndup(b->arena, text, len)) == NULL)
        return fail(b, node->line, node->column, "out of memory");
    return attach(b, node);
}

static int on_start(builder_t *b, const yaml_event_t *ev, gw_yaml_kind_t kind)
{
    const yaml_char_t *anchor =
        kind == GW_YAML_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    const yaml_char_t *tag = kind == GW_YAML_MAP ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    if (check_properties(b, &ev->start_mark, anchor, tag) != 0)
        return -1;
    if (b->depth >= b->limits->max_depth)
        return fail(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                    "nested deeper than %zu levels", b->limits->max_depth);
    gw_yaml_node_t *node = new_node(b, kind, &ev->start_mark);
    if (node == NULL)
        return -1;
    if (grow((void **)&b->open, &b->open_cap, b->depth + 1, sizeof(*b->open)) != 0)
        return fail(b, node->line, node->column, "out of memory");
    b->open[b->depth++] = (open_t){.node = node, .first_child = b->children_len};
    return 0;
}

static int node_order(const gw_yaml_node_t *a, const gw_yaml_node_t *b)
{
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->column < b->column ? -1 : a->column > b->column;
}

static int key_order(const void *pa, const void *pb)
{
    const gw_yaml_node_t *a = *(gw_yaml_node_t *const *)pa, *b = *(gw_yaml_node_t *const *)pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->value, b->value, n);
    if (c != 0)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return node_order(a, b);
}

/* Keys must be scalars and unique; a duplicate is reported where it occurs the second time. */
static int check_keys(builder_t *b, gw_yaml_node_t *map)
{
    for (size_t i = 0; i < map->count; ++i) {
        const gw_yaml_node_t *key = map->items[2 * i];
        if (key->kind != GW_YAML_SCALAR)
            return fail(b, key->line, key->column, "map keys must be plain strings, not %s",
                        gw_yaml_kind_name(key));
    }
    if (map->count < 2)
        return 0;
    gw_yaml_node_t **keys = malloc(map->count * sizeof(*keys));
    if (keys == NULL)
        return fail(b, map->line, map->column, "out of memory");
    for (size_t i = 0; i < map->count; ++i)
        keys[i] = map->items[2 * i];
    qsort(keys, map->count, sizeof(*keys), key_order);
    const gw_yaml_node_t *dup = NULL, *first = NULL;
    for (size_t i = 1; i < map->count; ++i) {
        if (keys[i]->len == keys[i - 1]->len &&
            memcmp(keys[i]->value, keys[i - 1]->value, keys[i]->len) == 0 &&
            (dup == NULL || node_order(keys[i], dup) < 0)) {
            dup = keys[i];
            first = keys[i - 1];
        }
    }
    free(keys);
    if (dup != NULL) {
        char shown[64];
        gw_yaml_printable(shown, sizeof(shown), dup->value, dup->len);
        return fail(b, dup->line, dup->column, "duplicate key \"%s\" (first at %u:%u)", shown, first->line,
                    first->column);
    }
    return 0;
}

static int on_end(builder_t *b)
{
    open_t *top = &b->open[--b->depth];
    gw_yaml_node_t *node = top->node;
    size_t n = b->children_len - top->first_child;
    if (n > 0) {
        node->items = gw_arena_calloc(b->arena, n, sizeof(*node->items));
        if (node->items == NULL)
            return fail(b, node->line, node->column, "out of memory");
        memcpy(node->items, b->children + top->first_child, n * sizeof(*node->items));
    }
    b->children_len = top->first_child;
    node->count = node->kind == GW_YAML_MAP ? n / 2 : n;
    if (node->kind == GW_YAML_MAP && check_keys(b, node) != 0)
        return -1;
    return attach(b, node);
}

static int on_document_end(builder_t *b, const yaml_event_t *ev)
{
    if (b->root == NULL)
        return fail(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                    "empty document");
    if (grow((void **)&b->docs, &b->doc_cap, b->doc_count + 1, sizeof(*b->docs)) != 0)
        return fail(b, b->root->line, b->root->column, "out of memory");
    b->docs[b->doc_count++] = b->root;
    b->root = NULL;
    return 0;
}

/* libyaml reports reader errors (bad encoding, control characters) by byte offset. */
static void offset_to_mark(const char *buf, size_t len, size_t offset, unsigned *line, unsigned *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && i < len; ++i) {
        if (buf[i] == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

static void syntax_error(builder_t *b, const yaml_parser_t *parser, const char *buf, size_t len)
{
    const char *problem = parser->problem != NULL ? parser->problem : "cannot parse";
    if (parser->error == YAML_READER_ERROR) {
        unsigned line, column;
        offset_to_mark(buf, len, parser->problem_offset, &line, &column);
        fail(b, line, column, "invalid YAML: %s", problem);
    } else if (parser->context != NULL) {
        fail(b, (unsigned)parser->problem_mark.line + 1, (unsigned)parser->problem_mark.column + 1,
             "invalid YAML: %s (%s at %u:%u)", problem, parser->context,
             (unsigned)parser->context_mark.line + 1, (unsigned)parser->context_mark.column + 1);
    } else {
        fail(b, (unsigned)parser->problem_mark.line + 1, (unsigned)parser->problem_mark.column + 1,
             "invalid YAML: %s", problem);
    }
}

static int on_event(builder_t *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, GW_YAML_LIST);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, GW_YAML_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    case YAML_ALIAS_EVENT:
        return fail(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                    "aliases (*%.40s) are not supported", (const char *)ev->data.alias.anchor);
    case YAML_DOCUMENT_START_EVENT:
        b->root = NULL;
        b->doc_start = ev->start_mark;
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        return on_document_end(b, ev);
    default:
        return 0;
    }
}

gw_yaml_stream_t *gw_yaml_parse(const char *buf, size_t len, const gw_yaml_limits_t *limits,
                                gw_yaml_error_t *err)
{
    builder_t b = {.limits = limits != NULL ? limits : &gw_yaml_default_limits, .err = err};
    memset(err, 0, sizeof(*err));
    if (len > b.limits->max_bytes) {
        fail(&b, 0, 0, "larger than %zu bytes", b.limits->max_bytes);
        return NULL;
    }
    gw_yaml_stream_t *stream = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fail(&b, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(buf != NULL ? buf : ""),
                                 buf != NULL ? len : 0);
    if ((b.arena = gw_arena_new()) == NULL) {
        fail(&b, 0, 0, "out of memory");
        goto out;
    }
    for (int done = 0; !done;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&b, &parser, buf, len);
            goto out;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        int rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (rc != 0)
            goto out;
    }
    if ((stream = gw_arena_alloc(b.arena, sizeof(*stream))) == NULL ||
        (b.doc_count > 0 &&
         (stream->docs = gw_arena_calloc(b.arena, b.doc_count, sizeof(*stream->docs))) == NULL)) {
        stream = NULL;
        fail(&b, 0, 0, "out of memory");
        goto out;
    }
    if (b.doc_count > 0)
        memcpy(stream->docs, b.docs, b.doc_count * sizeof(*stream->docs));
    stream->count = b.doc_count;
    stream->arena = b.arena;
    b.arena = NULL;
out:
    yaml_parser_delete(&parser);
    free(b.children);
    free(b.open);
    free(b.docs);
    gw_arena_free(b.arena);
    return stream;
}

void gw_yaml_free(gw_yaml_stream_t *stream)
{
    if (stream != NULL)
        gw_arena_free(stream->arena);
}

int gw_yaml_is_null(const gw_yaml_node_t *node)
{
    if (node->kind != GW_YAML_SCALAR || !node->plain)
        return 0;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); ++i)
        if (strcmp(node->value, nulls[i]) == 0)
            return 1;
    return 0;
}

const gw_yaml_node_t *gw_yaml_map_get(const gw_yaml_node_t *map, const char *key)
{
    if (map == NULL || map->kind != GW_YAML_MAP)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < map->count; ++i) {
        const gw_yaml_node_t *k = map->items[2 * i];
        if (k->len == len && memcmp(k->value, key, len) == 0)
            return map->items[2 * i + 1];
    }
    return NULL;
}

void gw_yaml_printable(char *dst, size_t size, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && size > 0; ++i) {
        unsigned char ch = (unsigned char)src[i];
        char piece[8];
        int n = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\'
                    ? snprintf(piece, sizeof(piece), "%c", ch)
                    : snprintf(piece, sizeof(piece), "\\x%02x", ch);
        if (o + (size_t)n + 4 > size) { /* room for "..." and the NUL */
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(dst + o, piece, (size_t)n);
        o += (size_t)n;
    }
    if (size > 0)
        dst[o < size ? o : size - 1] = '\0';
}

const char *gw_yaml_kind_name(const gw_yaml_node_t *node)
{
    switch (node->kind) {
    case GW_YAML_MAP:
        return "a map";
    case GW_YAML_LIST:
        return "a list";
    default:
        return gw_yaml_is_null(node) ? "null" : "a string";
    }
}
