#ifndef GW_CONFIG_ARENA_H
#define GW_CONFIG_ARENA_H

/*
 * A bump allocator: many small allocations, one free. Used for a loaded
 * configuration (everything it points to lives in its arena) and for the
 * short-lived YAML document tree.
 */

#include <stddef.h>

typedef struct gw_arena gw_arena_t;

/** Creates an empty arena, or returns NULL when out of memory. */
gw_arena_t *gw_arena_new(void);

/** Frees the arena and everything allocated from it. NULL is allowed. */
void gw_arena_free(gw_arena_t *arena);

/** Returns size zeroed bytes aligned for any type, or NULL when out of memory. */
void *gw_arena_alloc(gw_arena_t *arena, size_t size);

/** Returns zeroed room for count elements of size bytes (overflow checked), or NULL. */
void *gw_arena_calloc(gw_arena_t *arena, size_t count, size_t size);

/** Copies len bytes of s and adds a NUL, or returns NULL when out of memory. */
char *gw_arena_strndup(gw_arena_t *arena, const char *s, size_t len);

/** Copies the NUL-terminated string s, or returns NULL when out of memory. */
char *gw_arena_strdup(gw_arena_t *arena, const char *s);

/** Bytes handed out so far (for tests and diagnostics). */
size_t gw_arena_used(const gw_arena_t *arena);

#endif
