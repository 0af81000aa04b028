#ifndef AS_BEARER_CACHE_H
#define AS_BEARER_CACHE_H
/*
 * Verified bearer tokens of one worker (event loop), keyed by the SHA-256 of
 * the token (the token itself is never kept): the verified claims and the
 * trusted rule that vouched for them, until min(exp, a bound); refusals for a
 * few seconds only. Bounded: a fixed table where a newer entry replaces the
 * one in its slot. Single-threaded; no locking.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes of a cache key (SHA-256). */
#define AS_BEARER_KEY_SIZE 32

typedef struct as_bearer_cache as_bearer_cache_t;

/** What a lookup found. */
typedef enum { AS_BEARER_MISS, AS_BEARER_VALID, AS_BEARER_REFUSED } as_bearer_hit_t;

/** Makes a cache of slots entries (rounded up to a power of two, at least 16). NULL when memory is short. */
as_bearer_cache_t *as_bearer_cache_new(size_t slots);

/** Frees the cache and drops its claims. NULL is a no-op. */
void as_bearer_cache_free(as_bearer_cache_t *cache);

/** Computes the key of a token. */
void as_bearer_cache_key(const char *token, size_t len, uint8_t key[AS_BEARER_KEY_SIZE]);

/**
 * Looks key up at now_ms. VALID: *claims gets a new reference (json_decref
 * it) and *rule the rule index; REFUSED: *rule and *reason (an
 * oidc_verify_status_t) of the refusal; MISS otherwise (expired entries
 * count as missing).
 */
as_bearer_hit_t as_bearer_cache_get(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE],
                                    int64_t now_ms, json_t **claims, size_t *rule, int *reason);

/** Keeps verified claims (a reference is taken) for rule until expires_ms. */
void as_bearer_cache_put_valid(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE],
                               json_t *claims, size_t rule, int64_t expires_ms);

/** Keeps a refusal (reason, an oidc_verify_status_t) by rule until expires_ms. */
void as_bearer_cache_put_refused(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE], size_t rule,
                                 int reason, int64_t expires_ms);

/** Entries written and lookups answered since creation, for tests and metrics. */
typedef struct {
    uint64_t hits, misses, stores;
} as_bearer_cache_stats_t;

/** Copies the counters. */
void as_bearer_cache_stats(const as_bearer_cache_t *cache, as_bearer_cache_stats_t *stats);

/**
 * The index-th string value of claim name in claims (a JSON object): index 0
 * of a string, or the index-th string of an array; NULL otherwise. Fits
 * as_identity_claim_cb.
 */
const char *as_bearer_claim(const void *claims, const char *name, size_t index);

#endif
