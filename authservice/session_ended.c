#include "authservice/session_ended.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"

void as_session_ended_bucket(int64_t now_ms, char name[AS_SESSION_ENDED_NAME_SIZE])
{
    uint64_t n = now_ms > 0 ? (uint64_t)now_ms / AS_SESSION_ENDED_BUCKET_MS : 0;
    snprintf(name, AS_SESSION_ENDED_NAME_SIZE, "ended:%" PRIu64, n);
}

static void on_published(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)data;
    (void)value;
    (void)len;
    if (status != AS_STORE_OK)
        tg_log_warn("auth",
                    "ended session not announced to other replicas (%s): they may serve it until their "
                    "cache entry expires",
                    as_store_status_text(status));
}

int as_session_ended_publish(as_store_t *store, const char *key, int64_t now_ms)
{
    char name[AS_SESSION_ENDED_NAME_SIZE];
    as_session_ended_bucket(now_ms, name);
    return as_store_set_add(store, name, key, 3ull * AS_SESSION_ENDED_BUCKET_MS, on_published, NULL);
}

typedef struct {
    as_session_cache_t *cache;
    int64_t cache_now_ms;
    as_session_ended_cb on_ended;
    void *data;
} poll_t;

static void on_members(void *data, as_store_status_t status, const char *const *members, const size_t *lens,
                       size_t count)
{
    (void)lens;
    poll_t *poll = data;
    for (size_t i = 0; status == AS_STORE_OK && i < count; ++i) {
        /* only keys this process holds: an invalidation also advances the shard's epoch, which would make
         * lookups racing the poll skip caching */
        as_cached_session_t *cached = as_session_cache_get(poll->cache, members[i], poll->cache_now_ms);
        if (cached != NULL) {
            as_cached_session_release(cached);
            as_session_cache_invalidate(poll->cache, members[i]);
        }
        if (poll->on_ended != NULL)
            poll->on_ended(poll->data, members[i]);
    }
    free(poll);
}

int as_session_ended_poll(as_store_t *store, as_session_cache_t *cache, int64_t now_ms, int64_t cache_now_ms,
                          as_session_ended_cb on_ended, void *data)
{
    int rc = 0;
    for (int back = 0; back < 2; ++back) {
        char name[AS_SESSION_ENDED_NAME_SIZE];
        as_session_ended_bucket(now_ms - back * (int64_t)AS_SESSION_ENDED_BUCKET_MS, name);
        poll_t *poll = malloc(sizeof(*poll));
        if (poll == NULL)
            return -1;
        *poll = (poll_t){cache, cache_now_ms, on_ended, data};
        if (as_store_set_members(store, name, on_members, poll) != 0) {
            free(poll);
            rc = -1;
        }
    }
    return rc;
}
