#include "config_arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK_SIZE = 16384, ALIGN = alignof(max_align_t) };

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    alignas(max_align_t) unsigned char data[];
} chunk_t;

struct gw_arena {
    chunk_t *head; /* the chunk being filled; big allocations go behind it */
    size_t used;
};

gw_arena_t *gw_arena_new(void)
{
    return calloc(1, sizeof(gw_arena_t));
}

void gw_arena_free(gw_arena_t *arena)
{
    if (arena == NULL)
        return;
    chunk_t *chunk = arena->head;
    while (chunk != NULL) {
        chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    free(arena);
}

static chunk_t *chunk_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(chunk_t))
        return NULL;
    chunk_t *chunk = malloc(sizeof(chunk_t) + size);
    if (chunk == NULL)
        return NULL;
    chunk->next = NULL;
    chunk->size = size;
    chunk->used = 0;
    return chunk;
}

void *gw_arena_alloc(gw_arena_t *arena, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - ALIGN)
        return NULL;
    size_t rounded = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    chunk_t *head = arena->head;
    void *p;
    if (head != NULL && head->size - head->used >= rounded) {
        p = head->data + head->used;
        head->used += rounded;
    } else if (rounded > CHUNK_SIZE / 4) {
        /* A big block gets a chunk of its own, linked behind the current one. */
        chunk_t *chunk = chunk_new(rounded);
        if (chunk == NULL)
            return NULL;
        chunk->used = rounded;
        if (head != NULL) {
            chunk->next = head->next;
            head->next = chunk;
        } else {
            arena->head = chunk;
        }
        p = chunk->data;
    } else {
        chunk_t *chunk = chunk_new(CHUNK_SIZE);
        if (chunk == NULL)
            return NULL;
        chunk->next = head;
        arena->head = chunk;
        chunk->used = rounded;
        p = chunk->data;
    }
    arena->used += rounded;
    memset(p, 0, size);
    return p;
}

void *gw_arena_calloc(gw_arena_t *arena, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    return gw_arena_alloc(arena, count * size);
}

char *gw_arena_strndup(gw_arena_t *arena, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *copy = gw_arena_alloc(arena, len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *gw_arena_strdup(gw_arena_t *arena, const char *s)
{
    return gw_arena_strndup(arena, s, strlen(s));
}

size_t gw_arena_used(const gw_arena_t *arena)
{
    return arena->used;
}
