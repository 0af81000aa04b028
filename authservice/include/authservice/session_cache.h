#ifndef AS_SESSION_CACHE_H
#define AS_SESSION_CACHE_H

/*
 * A process-wide, bounded, thread-safe cache in front of the session store:
 * store key (64 hex digits, as_session_key()) -> parsed session record, so
 * most requests skip the store round trip and the JSON decode.
 *
 * - Entries are immutable and reference counted: a lookup returns a retained
 *   handle the caller releases; eviction or invalidation never frees a
 *   record a caller still holds. A hit allocates nothing.
 * - Striped: keys are spread over shards (a power of two), each with its own
 *   lock, hash table and LRU list, so workers rarely contend. The entry bound
 *   is split over the shards and never exceeded; eviction (least recently
 *   used of the key's shard) is O(1).
 * - An entry is served for ttl_ms after it was cached, then dropped at the
 *   next lookup: the TTL bounds how stale a record can be. Times are
 *   milliseconds of any monotonic clock, passed in by the caller.
 * - Invalidation is per process. To keep a lookup racing a logout from
 *   putting the old record back, a caller that misses reads the key's epoch
 *   (as_session_cache_epoch) before reading the store and passes it to
 *   as_session_cache_put, which refuses to cache when an invalidation of that
 *   shard happened in between.
 *
 * Semantics and figures: docs/internals/sessions.md.
 */

#include <stddef.h>
#include <stdint.h>

#include "authservice/session_record.h"

/** A cache instance. */
typedef struct as_session_cache as_session_cache_t;

/** A cached record, shared by the cache and the callers holding it. */
typedef struct as_cached_session as_cached_session_t;

/** Settings of a cache. */
typedef struct {
    size_t max_entries; /* total bound, 1 to AS_SESSION_CACHE_MAX_ENTRIES (default 10000) */
    unsigned shards;    /* power of two, 1 to 256 (default 16); lowered to fit max_entries */
    int64_t ttl_ms;     /* 1 to 3600000 (default 5000) */
} as_session_cache_options_t;

/** Largest max_entries accepted. */
#define AS_SESSION_CACHE_MAX_ENTRIES (16u * 1024 * 1024)

/** Counters for metrics; a snapshot, each shard read under its lock. */
typedef struct {
    uint64_t hits;
    uint64_t misses;        /* includes expired */
    uint64_t expired;       /* lookups that found an entry past its TTL (dropped) */
    uint64_t insertions;    /* puts that cached a record */
    uint64_t replacements;  /* puts that replaced an entry of the same key */
    uint64_t stale_puts;    /* puts refused because of an invalidation since their epoch */
    uint64_t evictions;     /* entries dropped to respect the bound */
    uint64_t invalidations; /* entries dropped by as_session_cache_invalidate */
    size_t size;            /* entries held now */
    size_t capacity;        /* the bound */
} as_session_cache_stats_t;

/** Fills opts with the defaults (10000 entries, 16 shards, 5 s). */
void as_session_cache_options_init(as_session_cache_options_t *opts);

/**
 * Makes an empty cache. Returns NULL and a reason in err (may be NULL) when
 * an option is out of range or memory is short.
 */
as_session_cache_t *as_session_cache_new(const as_session_cache_options_t *opts, char *err, size_t err_size);

/**
 * Drops every entry and frees the cache. Handles callers still hold stay
 * valid until released. No other call may run on the cache meanwhile.
 */
void as_session_cache_free(as_session_cache_t *cache);

/**
 * Looks key up at time now_ms. Returns a retained handle (release it with
 * as_cached_session_release) when a fresh entry is cached, else NULL: no
 * entry, an entry cached ttl_ms or more ago (or after now_ms; it is dropped),
 * or a key that is not 64 lowercase hex digits.
 */
as_cached_session_t *as_session_cache_get(as_session_cache_t *cache, const char *key, int64_t now_ms);

/**
 * as_session_cache_get of the key that digest (AS_SESSION_KEY_BYTES bytes)
 * spells in lowercase hex, without parsing that key again: for a caller that
 * has the digest at hand (as_session_key_digest).
 */
as_cached_session_t *as_session_cache_get_digest(as_session_cache_t *cache, const uint8_t *digest,
                                                 int64_t now_ms);

/**
 * The invalidation epoch of key's shard: read it before reading the store
 * after a miss, and pass it to as_session_cache_put. Lock-free.
 */
uint64_t as_session_cache_epoch(as_session_cache_t *cache, const char *key);

/**
 * Caches record under key as of now_ms, replacing any entry of that key and
 * evicting the shard's least recently used entry when the shard is full.
 * Takes ownership of record in every case (it is freed on error). The record
 * must not be changed afterwards. When out is not NULL and the return value
 * is 0 or 1, *out gets a retained handle on the record.
 * Returns 0 when cached, 1 when not cached because key's shard was
 * invalidated since epoch, -1 on a bad key, a NULL record or no memory.
 */
int as_session_cache_put(as_session_cache_t *cache, const char *key, as_session_record_t *record,
                         uint64_t epoch, int64_t now_ms, as_cached_session_t **out);

/**
 * Drops key's entry (logout, record changed) and advances its shard's epoch.
 * Returns 1 if an entry was dropped, 0 if none was cached, -1 on a bad key.
 */
int as_session_cache_invalidate(as_session_cache_t *cache, const char *key);

/** Writes a snapshot of the counters into stats. */
void as_session_cache_stats(as_session_cache_t *cache, as_session_cache_stats_t *stats);

/** The cached record; valid while the handle is held. */
const as_session_record_t *as_cached_session_record(const as_cached_session_t *session);

/** The kubeflow-groups header of the record (as_groups_header), made when it was cached; *len its length. */
const char *as_cached_session_groups_header(const as_cached_session_t *session, size_t *len);

/** When the record was cached (the now_ms passed to put). */
int64_t as_cached_session_cached_at(const as_cached_session_t *session);

/** Takes one more reference on session; returns session. */
as_cached_session_t *as_cached_session_retain(as_cached_session_t *session);

/** Drops one reference; the last frees the record. NULL is a no-op. */
void as_cached_session_release(as_cached_session_t *session);

#endif
