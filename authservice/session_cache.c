#include "authservice/session_cache.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/login_flow.h"
#include "authservice/session_id.h"
#include "util/random.h"

#define KEY_BYTES AS_SESSION_KEY_BYTES
#define MAX_SHARDS 256u
#define MAX_TTL_MS INT64_C(3600000)

struct as_cached_session {
    atomic_size_t refs;
    int64_t cached_at;
    as_session_record_t *record;
    /* owned by the shard, touched only under its lock while the entry is cached */
    struct as_cached_session *chain_next, *lru_prev, *lru_next;
    uint64_t hash;
    uint8_t key[KEY_BYTES];
    size_t groups_header_len;
    char groups_header[]; /* as_groups_header of record, made once when cached instead of on every hit */
};

/* One stripe; aligned so that two shards never share a cache line. */
typedef struct {
    alignas(64) pthread_mutex_t lock;
    _Atomic uint64_t epoch;
    as_cached_session_t **buckets;
    size_t bucket_mask;
    size_t capacity, size;
    as_cached_session_t *lru_head, *lru_tail; /* most / least recently used */
    uint64_t hits, misses, expired, insertions, replacements, stale_puts, evictions, invalidations;
} shard_t;

struct as_session_cache {
    shard_t *shards;
    unsigned shard_mask;
    int64_t ttl_ms;
    size_t capacity;
    uint64_t seed;
};

static void set_error(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t size, const char *fmt, ...)
{
    if (err == NULL || size == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);
}

void as_session_cache_options_init(as_session_cache_options_t *opts)
{
    opts->max_entries = 10000;
    opts->shards = 16;
    opts->ttl_ms = 5000;
}

/* Hex digit -> value + 1; 0 for anything else. A table, not branches: digits and letters come in random
 * order, and mispredicted branches made parsing most of the cost of a hit. */
static const uint8_t hex_digit[256] = {
    ['0'] = 1, ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int parse_key(const char *key, uint8_t *out)
{
    if (key == NULL)
        return -1;
    const unsigned char *p = (const unsigned char *)key;
    for (size_t i = 0; i < KEY_BYTES; ++i) {
        /* the high digit is checked before the low one is read: a NUL ends a short string in time */
        unsigned hi = hex_digit[p[2 * i]];
        if (hi == 0)
            return -1;
        unsigned lo = hex_digit[p[2 * i + 1]];
        if (lo == 0)
            return -1;
        out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    return 0;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 31;
    return h;
}

/* Keys are SHA-256 outputs already; the seeded mix keeps the spread even if a caller's keys are not. */
static uint64_t hash_key(const as_session_cache_t *cache, const uint8_t *key)
{
    uint64_t h = cache->seed;
    for (size_t i = 0; i < KEY_BYTES; i += 8) {
        uint64_t word;
        memcpy(&word, key + i, sizeof(word));
        h = mix(h ^ word);
    }
    return h;
}

static shard_t *shard_of(as_session_cache_t *cache, uint64_t hash)
{
    return &cache->shards[(hash >> 40) & cache->shard_mask];
}

static as_cached_session_t **bucket_of(shard_t *shard, uint64_t hash)
{
    return &shard->buckets[hash & shard->bucket_mask];
}

static as_cached_session_t *find(shard_t *shard, uint64_t hash, const uint8_t *key)
{
    for (as_cached_session_t *e = *bucket_of(shard, hash); e != NULL; e = e->chain_next)
        if (e->hash == hash && memcmp(e->key, key, KEY_BYTES) == 0)
            return e;
    return NULL;
}

static void lru_unlink(shard_t *shard, as_cached_session_t *e)
{
    if (e->lru_prev != NULL)
        e->lru_prev->lru_next = e->lru_next;
    else
        shard->lru_head = e->lru_next;
    if (e->lru_next != NULL)
        e->lru_next->lru_prev = e->lru_prev;
    else
        shard->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(shard_t *shard, as_cached_session_t *e)
{
    e->lru_prev = NULL;
    e->lru_next = shard->lru_head;
    if (shard->lru_head != NULL)
        shard->lru_head->lru_prev = e;
    else
        shard->lru_tail = e;
    shard->lru_head = e;
}

/* Takes e out of the shard's table and list; the shard's reference is the caller's to drop. */
static void detach(shard_t *shard, as_cached_session_t *e)
{
    as_cached_session_t **p = bucket_of(shard, e->hash);
    while (*p != e)
        p = &(*p)->chain_next;
    *p = e->chain_next;
    e->chain_next = NULL;
    lru_unlink(shard, e);
    --shard->size;
}

static void attach(shard_t *shard, as_cached_session_t *e)
{
    as_cached_session_t **bucket = bucket_of(shard, e->hash);
    e->chain_next = *bucket;
    *bucket = e;
    lru_push_front(shard, e);
    ++shard->size;
}

as_cached_session_t *as_cached_session_retain(as_cached_session_t *session)
{
    atomic_fetch_add_explicit(&session->refs, 1, memory_order_relaxed);
    return session;
}

void as_cached_session_release(as_cached_session_t *session)
{
    if (session == NULL)
        return;
    if (atomic_fetch_sub_explicit(&session->refs, 1, memory_order_acq_rel) == 1) {
        as_session_record_free(session->record);
        free(session);
    }
}

const as_session_record_t *as_cached_session_record(const as_cached_session_t *session)
{
    return session->record;
}

const char *as_cached_session_groups_header(const as_cached_session_t *session, size_t *len)
{
    *len = session->groups_header_len;
    return session->groups_header;
}

int64_t as_cached_session_cached_at(const as_cached_session_t *session)
{
    return session->cached_at;
}

static size_t next_power_of_two(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

as_session_cache_t *as_session_cache_new(const as_session_cache_options_t *opts, char *err, size_t err_size)
{
    if (opts == NULL) {
        set_error(err, err_size, "no cache options");
        return NULL;
    }
    if (opts->max_entries == 0 || opts->max_entries > AS_SESSION_CACHE_MAX_ENTRIES) {
        set_error(err, err_size, "session cache: max_entries %zu is outside 1..%u", opts->max_entries,
                  AS_SESSION_CACHE_MAX_ENTRIES);
        return NULL;
    }
    if (opts->shards == 0 || opts->shards > MAX_SHARDS || (opts->shards & (opts->shards - 1)) != 0) {
        set_error(err, err_size, "session cache: shards %u is not a power of two in 1..%u", opts->shards,
                  MAX_SHARDS);
        return NULL;
    }
    if (opts->ttl_ms < 1 || opts->ttl_ms > MAX_TTL_MS) {
        set_error(err, err_size, "session cache: ttl %lld ms is outside 1..%lld", (long long)opts->ttl_ms,
                  (long long)MAX_TTL_MS);
        return NULL;
    }
    unsigned shards = opts->shards;
    while (shards > opts->max_entries)
        shards /= 2;

    as_session_cache_t *cache = calloc(1, sizeof(*cache));
    if (cache == NULL)
        goto oom;
    cache->ttl_ms = opts->ttl_ms;
    cache->capacity = opts->max_entries;
    cache->shard_mask = shards - 1;
    if (tg_random_bytes((uint8_t *)&cache->seed, sizeof(cache->seed)) != 0) {
        free(cache);
        set_error(err, err_size, "session cache: CSPRNG failure");
        return NULL;
    }
    cache->shards = aligned_alloc(alignof(shard_t), shards * sizeof(shard_t));
    if (cache->shards == NULL) {
        free(cache);
        goto oom;
    }
    memset(cache->shards, 0, shards * sizeof(shard_t));
    for (unsigned i = 0; i < shards; ++i) {
        shard_t *shard = &cache->shards[i];
        shard->capacity = opts->max_entries / shards + (i < opts->max_entries % shards ? 1 : 0);
        size_t buckets = next_power_of_two(shard->capacity);
        shard->bucket_mask = buckets - 1;
        atomic_init(&shard->epoch, 0);
        pthread_mutex_init(&shard->lock, NULL);
        if ((shard->buckets = calloc(buckets, sizeof(*shard->buckets))) == NULL) {
            /* the shards after i are zeroed: freeing them is a no-op apart from the mutex */
            for (unsigned j = i + 1; j < shards; ++j)
                pthread_mutex_init(&cache->shards[j].lock, NULL);
            as_session_cache_free(cache);
            goto oom;
        }
    }
    return cache;
oom:
    set_error(err, err_size, "session cache: out of memory");
    return NULL;
}

void as_session_cache_free(as_session_cache_t *cache)
{
    if (cache == NULL)
        return;
    for (unsigned i = 0; i <= cache->shard_mask; ++i) {
        shard_t *shard = &cache->shards[i];
        as_cached_session_t *e = shard->lru_head;
        while (e != NULL) {
            as_cached_session_t *next = e->lru_next;
            e->lru_prev = e->lru_next = e->chain_next = NULL;
            as_cached_session_release(e);
            e = next;
        }
        free(shard->buckets);
        pthread_mutex_destroy(&shard->lock);
    }
    free(cache->shards);
    free(cache);
}

as_cached_session_t *as_session_cache_get(as_session_cache_t *cache, const char *key, int64_t now_ms)
{
    uint8_t raw[KEY_BYTES];
    if (parse_key(key, raw) != 0)
        return NULL;
    return as_session_cache_get_digest(cache, raw, now_ms);
}

as_cached_session_t *as_session_cache_get_digest(as_session_cache_t *cache, const uint8_t *raw,
                                                 int64_t now_ms)
{
    uint64_t hash = hash_key(cache, raw);
    shard_t *shard = shard_of(cache, hash);
    as_cached_session_t *stale = NULL;

    pthread_mutex_lock(&shard->lock);
    as_cached_session_t *e = find(shard, hash, raw);
    /* unsigned difference: no overflow whatever the clock values */
    if (e != NULL &&
        (now_ms < e->cached_at || (uint64_t)now_ms - (uint64_t)e->cached_at >= (uint64_t)cache->ttl_ms)) {
        detach(shard, e);
        ++shard->expired;
        stale = e;
        e = NULL;
    }
    if (e != NULL) {
        if (shard->lru_head != e) {
            lru_unlink(shard, e);
            lru_push_front(shard, e);
        }
        as_cached_session_retain(e);
        ++shard->hits;
    } else {
        ++shard->misses;
    }
    pthread_mutex_unlock(&shard->lock);

    as_cached_session_release(stale);
    return e;
}

uint64_t as_session_cache_epoch(as_session_cache_t *cache, const char *key)
{
    uint8_t raw[KEY_BYTES];
    if (parse_key(key, raw) != 0)
        return 0;
    shard_t *shard = shard_of(cache, hash_key(cache, raw));
    return atomic_load_explicit(&shard->epoch, memory_order_acquire);
}

int as_session_cache_put(as_session_cache_t *cache, const char *key, as_session_record_t *record,
                         uint64_t epoch, int64_t now_ms, as_cached_session_t **out)
{
    uint8_t raw[KEY_BYTES];
    if (record == NULL)
        return -1;
    as_cached_session_t *e = NULL;
    size_t header_size = as_groups_header_size(record);
    if (parse_key(key, raw) != 0 || (e = malloc(sizeof(*e) + header_size)) == NULL) {
        as_session_record_free(record);
        return -1;
    }
    e->groups_header_len = as_groups_header(record, e->groups_header, header_size);
    atomic_init(&e->refs, out != NULL ? 2 : 1); /* the cache's, and the caller's */
    e->cached_at = now_ms;
    e->record = record;
    e->chain_next = e->lru_prev = e->lru_next = NULL;
    memcpy(e->key, raw, KEY_BYTES);
    e->hash = hash_key(cache, raw);
    shard_t *shard = shard_of(cache, e->hash);
    as_cached_session_t *replaced = NULL, *evicted = NULL, *refused = NULL;
    int rc = 0;

    pthread_mutex_lock(&shard->lock);
    if (atomic_load_explicit(&shard->epoch, memory_order_relaxed) != epoch) {
        ++shard->stale_puts;
        refused = e;
        rc = 1;
    } else {
        if ((replaced = find(shard, e->hash, raw)) != NULL) {
            detach(shard, replaced);
            ++shard->replacements;
        } else if (shard->size == shard->capacity) {
            evicted = shard->lru_tail;
            detach(shard, evicted);
            ++shard->evictions;
        }
        attach(shard, e);
        ++shard->insertions;
    }
    pthread_mutex_unlock(&shard->lock);

    as_cached_session_release(replaced);
    as_cached_session_release(evicted);
    if (out != NULL)
        *out = e;
    as_cached_session_release(refused); /* after *out is set: e stays alive through the caller's reference */
    return rc;
}

int as_session_cache_invalidate(as_session_cache_t *cache, const char *key)
{
    uint8_t raw[KEY_BYTES];
    if (parse_key(key, raw) != 0)
        return -1;
    uint64_t hash = hash_key(cache, raw);
    shard_t *shard = shard_of(cache, hash);

    pthread_mutex_lock(&shard->lock);
    atomic_fetch_add_explicit(&shard->epoch, 1, memory_order_release);
    as_cached_session_t *e = find(shard, hash, raw);
    if (e != NULL) {
        detach(shard, e);
        ++shard->invalidations;
    }
    pthread_mutex_unlock(&shard->lock);

    as_cached_session_release(e);
    return e != NULL ? 1 : 0;
}

void as_session_cache_stats(as_session_cache_t *cache, as_session_cache_stats_t *stats)
{
    memset(stats, 0, sizeof(*stats));
    stats->capacity = cache->capacity;
    for (unsigned i = 0; i <= cache->shard_mask; ++i) {
        shard_t *shard = &cache->shards[i];
        pthread_mutex_lock(&shard->lock);
        stats->hits += shard->hits;
        stats->misses += shard->misses;
        stats->expired += shard->expired;
        stats->insertions += shard->insertions;
        stats->replacements += shard->replacements;
        stats->stale_puts += shard->stale_puts;
        stats->evictions += shard->evictions;
        stats->invalidations += shard->invalidations;
        stats->size += shard->size;
        pthread_mutex_unlock(&shard->lock);
    }
}
