#ifndef GW_JSONL_H
#define GW_JSONL_H

/*
 * A JSON-lines file shared by threads (the authorization audit trail, the
 * access log): whole lines appended under a lock, flushed at once, reference
 * counted so requests that started on an old configuration can finish
 * writing after a reload opened a new one.
 */

#include <stddef.h>

typedef struct gw_jsonl gw_jsonl_t;

/** Opens (appends to) path, or standard output for "-"; refcount 1. NULL + err on failure. */
gw_jsonl_t *gw_jsonl_open(const char *path, char *err, size_t err_size);

/** Takes a reference. */
void gw_jsonl_retain(gw_jsonl_t *file);

/** Drops a reference; the last closes the file (NULL is allowed). */
void gw_jsonl_release(gw_jsonl_t *file);

/** Appends len bytes (one or more whole lines). Thread-safe. */
void gw_jsonl_write(gw_jsonl_t *file, const char *line, size_t len);

/**
 * Writes "name":"escaped value" (or "name":null for a NULL value) at p,
 * opening the object with '{' when first, else with a comma; returns the end.
 * p needs room for 8 + strlen(name) + 6 * len bytes.
 */
char *gw_jsonl_put_string(char *p, const char *name, const char *value, size_t len, int first);

/** strlen(s), 0 for NULL. */
size_t gw_jsonl_text_len(const char *s);

/**
 * A malloc'ed line of room bytes plus what it starts with: {"time":when,
 * "request_id":...; *end gets where the next field goes. NULL when out of
 * memory.
 */
char *gw_jsonl_line_start(size_t room, const char *when, const char *request_id, char **end);

#endif
