#ifndef GW_CONFIG_DECODE_H
#define GW_CONFIG_DECODE_H

/*
 * Internal to the configuration loader (config_*.c): the decoding context,
 * field paths and error messages, and typed readers that turn YAML nodes into
 * config values with the checks every field shares. Names carry a double
 * underscore: not for use outside the loader.
 */

#include <stdint.h>

#include "config.h"
#include "config_arena.h"
#include "config_yaml.h"

/** A host written in a document, for the host -> document indexes. */
typedef struct {
    const char *host;
    const gw_meta_t *meta; /* the owning document (meta is the first member of every kind) */
    gw_config_mark_t mark; /* where the host is written */
    const char *path;      /* field path of that place */
} gw__host_ref_t;

/** A host index: filled while decoding, then sorted case-insensitively. */
typedef struct {
    gw__host_ref_t *items;
    size_t count, cap;
} gw__host_index_t;

/** The allocation behind every gw_config_t: the public part first, then the indexes. */
typedef struct {
    gw_config_t pub;
    gw__host_index_t services; /* ServiceEntry hosts -> gw_service_entry_t */
    gw__host_index_t rules;    /* DestinationRule hosts -> gw_destination_rule_t */
} gw__config_impl_t;

/** One listening socket, for conflict checks between Gateway servers. */
typedef struct {
    unsigned char addr[16]; /* IPv4 mapped into IPv6 */
    int wildcard;           /* 0.0.0.0 or :: */
    uint16_t port;
    const char *bind; /* as written */
    gw_config_mark_t mark;
    const char *path;
    const gw_meta_t *meta;
} gw__listen_ref_t;

/** Decoding state of one load. The first error wins; later ones are dropped. */
typedef struct gw__cfg {
    gw__config_impl_t *impl;
    gw_config_t *config;
    gw_arena_t *arena; /* the config's arena */
    const char *file;  /* name for messages: config->file */
    char *dir;         /* absolute directory relative paths resolve against; made on first use */
    char *err;         /* GW_CONFIG_ERROR_SIZE bytes, or NULL */
    int failed;
    char path[512]; /* field path of the node being decoded, e.g. spec.http[0].route */
    size_t path_len;
    const gw_meta_t *meta; /* the document being decoded */
    void *docs;            /* document headers, owned by config_load.c */
    size_t doc_count;
    gw__listen_ref_t *listeners;
    size_t listener_count, listener_cap;
} gw__cfg_t;

/* ---- field paths and errors ---- */

/** Appends ".field" (or "field" at the top) to the path; returns the length to pop back to. */
size_t gw__cfg_push(gw__cfg_t *c, const char *field);

/** Appends "[index]" to the path; returns the length to pop back to. */
size_t gw__cfg_push_index(gw__cfg_t *c, size_t index);

/** Cuts the path back to a length push returned. */
void gw__cfg_pop(gw__cfg_t *c, size_t saved);

/** An arena copy of the current path, or NULL when out of memory. */
const char *gw__cfg_path_copy(gw__cfg_t *c);

/** The mark of node in this config's file. */
gw_config_mark_t gw__cfg_mark(const gw__cfg_t *c, const gw_yaml_node_t *node);

/** Records "FILE:LINE:COL: PATH: message" at node with the current path; returns -1. */
int gw__cfg_fail(gw__cfg_t *c, const gw_yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Same at an explicit place and path (path may be NULL or empty); returns -1. */
int gw__cfg_fail_at(gw__cfg_t *c, const gw_config_mark_t *mark, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Records message at map's key with the current path extended by key; returns -1. */
int gw__cfg_fail_field(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, const char *message);

/** Records "PATH.field: missing required field" at map; returns -1. */
int gw__cfg_missing(gw__cfg_t *c, const gw_yaml_node_t *map, const char *field);

/** Copies s into dst (size bytes) made safe for a message (escaped, cut when long); returns dst. */
const char *gw__cfg_show(char *dst, size_t size, const char *s);

/* ---- shapes ---- */

/** Fails unless node is a map. */
int gw__cfg_expect_map(gw__cfg_t *c, const gw_yaml_node_t *node);

/** Fails unless node is a list. */
int gw__cfg_expect_list(gw__cfg_t *c, const gw_yaml_node_t *node);

/**
 * Fails unless node is a map whose keys are all in known (NULL-terminated).
 * A key in unsupported (NULL-terminated, may be NULL) fails as "not supported
 * yet"; any other key as unknown field.
 */
int gw__cfg_fields(gw__cfg_t *c, const gw_yaml_node_t *node, const char *const *known,
                   const char *const *unsupported);

/** The value of key in map, or NULL when absent or null. */
const gw_yaml_node_t *gw__cfg_get(const gw_yaml_node_t *map, const char *key);

/* ---- typed readers ----
 * Node readers use the current path. Field readers look key up in map, add it
 * to the path, and return -1 on error, 0 when the field is absent (out is not
 * touched: it keeps its default), 1 when it was read. */

enum {
    GW__CFG_REQUIRED = 1,    /* absent is an error */
    GW__CFG_ALLOW_EMPTY = 2, /* strings: "" is allowed */
    GW__CFG_ALLOW_ZERO = 4,  /* durations: 0 is allowed */
};

/** A string scalar without control characters (non-empty unless GW__CFG_ALLOW_EMPTY). */
int gw__cfg_node_string(gw__cfg_t *c, const gw_yaml_node_t *node, unsigned flags, char **out);

/** A decimal integer in min..max. */
int gw__cfg_node_uint(gw__cfg_t *c, const gw_yaml_node_t *node, uint64_t min, uint64_t max, uint64_t *out);

/** A port number 1..65535. */
int gw__cfg_node_port(gw__cfg_t *c, const gw_yaml_node_t *node, uint16_t *out);

int gw__cfg_string(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, char **out);
int gw__cfg_uint(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, uint64_t min,
                 uint64_t max, uint64_t *out);
int gw__cfg_port(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, uint16_t *out);

/** A duration ("250ms", "2s", "1m30s") in milliseconds; positive unless GW__CFG_ALLOW_ZERO. */
int gw__cfg_duration(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, uint64_t *ms);

/** true or false. */
int gw__cfg_bool(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, int *out);

/** A list of non-empty strings; GW__CFG_REQUIRED also means at least one. */
int gw__cfg_strings(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags,
                    gw_strings_t *out);

/** A map of string keys to string values, in document order. */
int gw__cfg_labels(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags,
                   gw_labels_t *out);

/** A file path node: resolved and checked as gw__cfg_file says. */
int gw__cfg_node_file(gw__cfg_t *c, const gw_yaml_node_t *node, char **out);

/**
 * A file path: a relative one resolves against the config file's directory;
 * the file must be a readable regular file. It is not read.
 */
int gw__cfg_file(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, char **out);

/** One allowed spelling of an enumerated field: error non-NULL rejects it with that message. */
typedef struct {
    const char *name;
    int value;
    const char *error;
} gw__cfg_choice_t;

/** One of choices (terminated by a NULL name), compared exactly unless nocase. */
int gw__cfg_choice(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags,
                   const gw__cfg_choice_t *choices, int nocase, int *out);

/* ---- values ---- */

/** Parses a Go/Istio duration ("250ms", "1.5s", "1h30m", "0"); NULL on success, else why not. */
const char *gw__cfg_parse_duration(const char *text, uint64_t *ms);

/** Parses an IPv4 or IPv6 literal into 16 bytes (IPv4 mapped); 0 on success. */
int gw__cfg_parse_ip(const char *text, unsigned char addr[16], int *wildcard);

/** Whether s is a header name as it travels in HTTP/2: an RFC 9110 token in lower case. */
int gw__cfg_is_header_name(const char *s);

/* ---- host indexes ---- */

/** Adds host (written at node, under the current path) owned by the document c->meta. */
int gw__host_index_add(gw__cfg_t *c, gw__host_index_t *index, const char *host, const gw_yaml_node_t *node);

/** Sorts the index; a host listed twice fails at its second place, naming the first and what. */
int gw__host_index_finish(gw__cfg_t *c, gw__host_index_t *index, const char *what);

/** The entry for host (case-insensitive) in a finished index, or NULL. */
const gw__host_ref_t *gw__host_index_find(const gw__host_index_t *index, const char *host);

#endif
