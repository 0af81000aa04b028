/* Verified bearer tokens by token hash (docs/internals/bearer.md). */
#include "authservice/bearer_cache.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"

typedef struct {
    uint8_t key[AS_BEARER_KEY_SIZE];
    int64_t expires_ms; /* 0: empty */
    json_t *claims;     /* NULL for a refusal */
    size_t rule;
    int reason;
} entry_t;

struct as_bearer_cache {
    entry_t *slots;
    size_t mask;
    as_bearer_cache_stats_t stats;
};

as_bearer_cache_t *as_bearer_cache_new(size_t slots)
{
    size_t n = 16;
    while (n < slots && n < ((size_t)1 << 24))
        n <<= 1;
    as_bearer_cache_t *cache = calloc(1, sizeof(*cache));
    if (cache == NULL || (cache->slots = calloc(n, sizeof(entry_t))) == NULL) {
        free(cache);
        return NULL;
    }
    cache->mask = n - 1;
    return cache;
}

static void entry_clear(entry_t *e)
{
    json_decref(e->claims);
    OPENSSL_cleanse(e, sizeof(*e));
}

void as_bearer_cache_free(as_bearer_cache_t *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i <= cache->mask; ++i)
        entry_clear(&cache->slots[i]);
    free(cache->slots);
    free(cache);
}

void as_bearer_cache_key(const char *token, size_t len, uint8_t key[AS_BEARER_KEY_SIZE])
{
    tg_sha256(token, len, key);
}

static entry_t *slot_of(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE])
{
    size_t index;
    memcpy(&index, key, sizeof(index)); /* a hash already: any bytes spread evenly */
    return &cache->slots[index & cache->mask];
}

as_bearer_hit_t as_bearer_cache_get(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE],
                                    int64_t now_ms, json_t **claims, size_t *rule, int *reason)
{
    entry_t *e = slot_of(cache, key);
    if (e->expires_ms == 0 || CRYPTO_memcmp(e->key, key, AS_BEARER_KEY_SIZE) != 0) {
        ++cache->stats.misses;
        return AS_BEARER_MISS;
    }
    if (now_ms >= e->expires_ms) {
        entry_clear(e);
        ++cache->stats.misses;
        return AS_BEARER_MISS;
    }
    ++cache->stats.hits;
    *rule = e->rule;
    if (e->claims == NULL) {
        *reason = e->reason;
        return AS_BEARER_REFUSED;
    }
    *claims = json_incref(e->claims);
    return AS_BEARER_VALID;
}

static void put(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE], json_t *claims, size_t rule,
                int reason, int64_t expires_ms)
{
    entry_t *e = slot_of(cache, key);
    entry_clear(e);
    memcpy(e->key, key, AS_BEARER_KEY_SIZE);
    e->expires_ms = expires_ms > 0 ? expires_ms : 1;
    e->claims = claims != NULL ? json_incref(claims) : NULL;
    e->rule = rule;
    e->reason = reason;
    ++cache->stats.stores;
}

void as_bearer_cache_put_valid(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE],
                               json_t *claims, size_t rule, int64_t expires_ms)
{
    if (claims != NULL)
        put(cache, key, claims, rule, 0, expires_ms);
}

void as_bearer_cache_put_refused(as_bearer_cache_t *cache, const uint8_t key[AS_BEARER_KEY_SIZE], size_t rule,
                                 int reason, int64_t expires_ms)
{
    put(cache, key, NULL, rule, reason, expires_ms);
}

void as_bearer_cache_stats(const as_bearer_cache_t *cache, as_bearer_cache_stats_t *stats)
{
    *stats = cache->stats;
}

const char *as_bearer_claim(const void *claims, const char *name, size_t index)
{
    const json_t *value = json_object_get((const json_t *)claims, name);
    if (json_is_array(value))
        value = json_array_get(value, index);
    else if (index > 0)
        return NULL;
    return json_string_value(value);
}
