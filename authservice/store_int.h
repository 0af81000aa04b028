#ifndef AS_STORE_INT_H
#define AS_STORE_INT_H

/* Private to the store: the handle's common part and the backends' entry points. */

#include "authservice/store.h"

/** Common head of every backend's handle; backends embed it as their first member. */
struct as_store {
    const as_store_ops_t *ops;
    uv_loop_t *loop;
    size_t prefix_len;
    char prefix[AS_STORE_MAX_PREFIX + 1];
};

/** Options with every default filled in (what backends receive). */
typedef struct {
    const char *password_file; /* NULL when not set */
    uint32_t command_timeout_ms;
    uint32_t connect_timeout_ms;
    uint32_t reconnect_min_ms;
    uint32_t reconnect_max_ms;
    uint32_t max_pending;
    uint32_t busy_timeout_ms;
    uint32_t purge_interval_ms;
    uint32_t purge_batch;
} as__store_config_t;

/** Opens the sqlite backend for url->path. Returns 0 and *out, or -1 with err. */
int as__store_sqlite_open(const as_store_url_t *url, const as__store_config_t *config, uv_loop_t *loop,
                          as_store_t **out, char *err, size_t errlen);

/** Opens the Redis backend (direct or Sentinel) for url. Returns 0 and *out, or -1 with err. */
int as__store_redis_open(const as_store_url_t *url, const as__store_config_t *config, uv_loop_t *loop,
                         as_store_t **out, char *err, size_t errlen);

/**
 * Reads a secret (a password) from the first line of path into a fresh
 * buffer: trailing CR/LF removed, 1..4096 bytes, no NUL, CR or LF inside.
 * Returns it (free with as__store_secret_free), or NULL with a message in err
 * that names the file but never quotes its content.
 */
char *as__store_read_secret_file(const char *path, char *err, size_t errlen);

/** Wipes and frees a secret; NULL is a no-op. */
void as__store_secret_free(char *secret);

/** Test hook: runs one sqlite purge pass now; returns the rows deleted, or -1. */
long as__store_sqlite_purge_once(as_store_t *store);

#endif
