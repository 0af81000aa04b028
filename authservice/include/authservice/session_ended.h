#ifndef AS_SESSION_ENDED_H
#define AS_SESSION_ENDED_H

/*
 * Ended-session feed: how a logout on one replica reaches the session caches
 * of the others (docs/internals/sessions.md, "Logout across replicas").
 *
 * Whoever ends a session (logout, back-channel logout) adds its store key to
 * the set "ended:<n>" of the current time bucket (n = wall-clock ms /
 * AS_SESSION_ENDED_BUCKET_MS); the set lives for three buckets. Every worker
 * polls the current and the previous bucket's sets every pollInterval and
 * drops the keys it has cached, so a replica stops serving an ended session
 * from its cache within one poll interval instead of cacheTtl. A poll costs
 * two set reads, whatever the request rate; a request never waits for it.
 * Works with every store backend: it uses only set_add and set_members.
 */

#include <stdint.h>

#include "authservice/session_cache.h"
#include "authservice/store.h"

/** Width of a bucket: a marker stays visible to polls for at least this long (replica clock skew must stay
 * below). */
#define AS_SESSION_ENDED_BUCKET_MS 30000u

/** Longest set name of a bucket ("ended:" + a 64-bit number), with the NUL. */
#define AS_SESSION_ENDED_NAME_SIZE 32

/** Writes the set name of the bucket holding wall-clock time now_ms into name. */
void as_session_ended_bucket(int64_t now_ms, char name[AS_SESSION_ENDED_NAME_SIZE]);

/**
 * Announces that the session of store key key ended at wall-clock now_ms.
 * Fire and forget: returns 0 when the write was started (its result is only
 * logged when it fails), -1 when it could not be.
 */
int as_session_ended_publish(as_store_t *store, const char *key, int64_t now_ms);

/** Called by a poll with each ended session's store key (NUL-terminated, valid during the call). */
typedef void (*as_session_ended_cb)(void *data, const char *key);

/**
 * Reads the sets of the bucket of wall-clock now_ms and of the one before,
 * drops from cache every key in them that it holds (cache clock
 * cache_now_ms), and calls on_ended (may be NULL) with every key in them.
 * Returns 0 when both reads were started, -1 when one could not be. The
 * cache and data must outlive the reads (store callbacks run at the latest
 * when the store closes).
 */
int as_session_ended_poll(as_store_t *store, as_session_cache_t *cache, int64_t now_ms, int64_t cache_now_ms,
                          as_session_ended_cb on_ended, void *data);

#endif
