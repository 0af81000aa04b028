#ifndef GW_CONFIG_YAML_H
#define GW_CONFIG_YAML_H

/*
 * YAML text -> a small read-only document tree (maps, lists, scalars) that
 * keeps the line and column of every node, built on libyaml. A stream may
 * hold several documents. Anchors, aliases and tags are rejected; so are
 * duplicate map keys, non-scalar keys and NUL characters in scalars. Input
 * size, nesting depth and node count are bounded.
 */

#include <stddef.h>

#include "config_arena.h"

typedef enum { GW_YAML_SCALAR, GW_YAML_MAP, GW_YAML_LIST } gw_yaml_kind_t;

typedef struct gw_yaml_node gw_yaml_node_t;

struct gw_yaml_node {
    gw_yaml_kind_t kind;
    unsigned line;     /* 1-based */
    unsigned column;   /* 1-based */
    int plain;         /* scalar written without quotes or block indicator */
    const char *value; /* scalar text, NUL-terminated (no NUL inside) */
    size_t len;        /* scalar text length */
    /* LIST: count items. MAP: count pairs, stored key0, value0, key1, value1, ... */
    gw_yaml_node_t **items;
    size_t count;
};

typedef struct {
    gw_yaml_node_t **docs; /* root of each document */
    size_t count;
    gw_arena_t *arena; /* owns the tree */
} gw_yaml_stream_t;

typedef struct {
    size_t max_bytes; /* input size */
    size_t max_depth; /* nested maps/lists */
    size_t max_nodes; /* scalars, maps and lists (keys count), all documents */
} gw_yaml_limits_t;

/** Default limits: 4 MiB, 64 levels, 1000000 nodes. */
extern const gw_yaml_limits_t gw_yaml_default_limits;

typedef struct {
    unsigned line;   /* 1-based; 0 when the error has no place (e.g. input too large) */
    unsigned column; /* 1-based */
    char message[256];
} gw_yaml_error_t;

/**
 * Parses len bytes of buf (need not be NUL-terminated). Returns the stream,
 * or NULL with err filled. limits NULL means gw_yaml_default_limits.
 */
gw_yaml_stream_t *gw_yaml_parse(const char *buf, size_t len, const gw_yaml_limits_t *limits,
                                gw_yaml_error_t *err);

/** Frees a stream and its tree. NULL is allowed. */
void gw_yaml_free(gw_yaml_stream_t *stream);

/** Whether node is a null scalar: plain empty, "~", "null", "Null" or "NULL". */
int gw_yaml_is_null(const gw_yaml_node_t *node);

/** The value of key in map (a MAP node), or NULL when map has no such key. */
const gw_yaml_node_t *gw_yaml_map_get(const gw_yaml_node_t *map, const char *key);

/** "a map", "a list", "null" or "a string": for error messages. */
const char *gw_yaml_kind_name(const gw_yaml_node_t *node);

/**
 * Writes len bytes of src into dst (size bytes, size >= 8) for an error message:
 * printable ASCII as is, other bytes, quotes and backslashes as \xNN, cut with "..." when long.
 */
void gw_yaml_printable(char *dst, size_t size, const char *src, size_t len);

#endif
