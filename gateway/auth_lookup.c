#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "metrics.h"
#include "authservice/session_ended.h"
#include "util/log.h"

static int lookup_key(gw_auth_op_t *op);

/* A record is usable until its absolute end. */
static int record_live(const as_session_record_t *r)
{
    return r->expires_at > (int64_t)time(NULL);
}

void gw__auth_ignore_result(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)data;
    (void)status;
    (void)value;
    (void)len;
}

/* Idle timeout: "seen:<key>" lives idleTimeout after the session's last store read (at most one per cache TTL
 * per process while the user is active). A separate key, so that refreshing it can never bring back a
 * session a logout deleted meanwhile. */
char *gw__auth_seen_key(const char *key)
{
    return gw__auth_prefixed("seen:", key);
}

static void touch_seen(gw_auth_worker_t *w, const char *key)
{
    char *seen = gw__auth_seen_key(key);
    if (seen != NULL && w->store != NULL)
        as_store_set(w->store, seen, "1", 1, w->auth->settings->idle_timeout_ms, gw__auth_ignore_result,
                     NULL);
    free(seen);
}

/* The miss of key this worker is reading from the store now, or NULL. */
static gw_auth_op_t *miss_in_flight(const gw_auth_worker_t *w, const char *key)
{
    for (gw_auth_op_t *m = w->misses; m != NULL; m = m->next_miss)
        if (strcmp(m->key, key) == 0)
            return m;
    return NULL;
}

static void unlink_miss(gw_auth_op_t *op)
{
    for (gw_auth_op_t **p = &op->w->misses; *p != NULL; p = &(*p)->next_miss)
        if (*p == op) {
            *p = op->next_miss;
            break;
        }
    op->next_miss = NULL;
}

/*
 * The lookups that waited for a miss of their key get its answer: the same
 * status and record, so concurrent requests of one session cost one store
 * round trip. When a logout invalidated the key meanwhile (stale), each of
 * them looks the session up again instead.
 */
static void answer_waiters(gw_auth_op_t *waiters, as_store_status_t status, as_cached_session_t *session,
                           int stale)
{
    while (waiters != NULL) {
        gw_auth_op_t *op = waiters;
        waiters = op->next_waiter;
        op->next_waiter = NULL;
        if (stale) { /* again by its key: op->req (and its cookie) may be gone by now */
            if (lookup_key(op) != 0)
                gw__auth_lookup_finish(op);
            continue;
        }
        op->status = status;
        op->session = session != NULL ? as_cached_session_retain(session) : NULL;
        gw__auth_lookup_finish(op);
    }
}

/* Both reads of a miss answered (or could not be started): the session is live when both keys are. */
static void miss_read(gw_auth_op_t *op)
{
    if (--op->reads_pending > 0)
        return;
    unlink_miss(op);
    gw_auth_op_t *waiters = op->waiters;
    op->waiters = NULL;
    as_session_record_t *record = op->pending;
    op->pending = NULL;
    int stale = 0;
    if (op->status == AS_STORE_OK && op->seen_status != AS_STORE_OK)
        op->status = op->seen_status; /* NOT_FOUND: idle for too long */
    if (op->status == AS_STORE_OK) {
        touch_seen(op->w, op->key);
        int rc = as_session_cache_put(op->w->auth->cache, op->key, record, op->epoch, gw__auth_now_ms(),
                                      &op->session);
        if (rc < 0)
            op->status = AS_STORE_ERROR;
        stale = rc == 1;
    } else {
        as_session_record_free(record);
    }
    as_store_status_t status = op->status;
    as_cached_session_t *shared = op->session != NULL ? as_cached_session_retain(op->session) : NULL;
    gw__auth_lookup_done(op); /* may end op */
    answer_waiters(waiters, status, shared, stale);
    as_cached_session_release(shared);
}

static void on_seen_get(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    gw_auth_op_t *op = data;
    op->seen_status = status;
    miss_read(op);
}

static void on_session_get(void *data, as_store_status_t status, const char *value, size_t len)
{
    gw_auth_op_t *op = data;
    op->status = status;
    if (status == AS_STORE_OK) {
        char err[160];
        if (as_session_record_from_json(value, len, &op->pending, err, sizeof(err)) != 0) {
            tg_log_warn("auth", "unreadable session record treated as no session: %s", err);
            op->status = AS_STORE_NOT_FOUND;
        }
    }
    miss_read(op);
}

int gw__auth_end_session(gw_auth_worker_t *w, const char *key, as_store_cb cb, void *data)
{
    as_session_cache_invalidate(w->auth->cache, key);
    as_session_ended_publish(w->store, key, gw__auth_wall_ms()); /* other workers and replicas */
    gw__auth_ws_close(key);
    char *seen = gw__auth_seen_key(key), *stored = gw__auth_prefixed("session:", key);
    if (seen != NULL)
        as_store_del(w->store, seen, gw__auth_ignore_result, NULL);
    int rc = stored != NULL ? as_store_del(w->store, stored, cb, data) : -1;
    free(seen);
    free(stored);
    return rc;
}

/* The session cookie of req when it is well formed: 1 with its id (in the request's headers). */
static int session_cookie(h2o_req_t *req, const char **id, size_t *id_len)
{
    return gw__auth_find_cookie(req, GW_AUTH_SESSION_COOKIE, id, id_len) &&
           as_session_id_is_well_formed(*id, *id_len);
}

/* What the cache found (found, counted as a hit or a miss): 1 when that is the answer (a hit, or a miss
 * without a store), 0 when the store must be read. */
static int probe_answer(gw_auth_worker_t *w, as_cached_session_t *found, as_store_status_t *status,
                        as_cached_session_t **session)
{
    *session = found;
    gw_metrics_session_cache(found != NULL);
    if (found != NULL) {
        *status = AS_STORE_OK;
        return 1;
    }
    if (w->store == NULL) {
        *status = AS_STORE_UNAVAILABLE;
        return 1;
    }
    return 0;
}

/* Asks this process's cache for store key key: probe_answer. */
static int probe_key(gw_auth_worker_t *w, const char *key, as_store_status_t *status,
                     as_cached_session_t **session)
{
    return probe_answer(w, as_session_cache_get(w->auth->cache, key, gw__auth_now_ms()), status, session);
}

int gw__auth_probe_session(gw_auth_worker_t *w, h2o_req_t *req, char *key, as_store_status_t *status,
                           as_cached_session_t **session)
{
    const char *id;
    size_t id_len;
    *status = AS_STORE_NOT_FOUND;
    *session = NULL;
    if (!session_cookie(req, &id, &id_len))
        return 1;
    uint8_t digest[AS_SESSION_KEY_BYTES]; /* what key spells: the cache need not parse it back */
    as_session_key_digest(id, id_len, key, digest);
    return probe_answer(w, as_session_cache_get_digest(w->auth->cache, digest, gw__auth_now_ms()), status,
                        session);
}

int gw__auth_read_session(gw_auth_op_t *op)
{
    gw_auth_op_t *leader = miss_in_flight(op->w, op->key);
    if (leader != NULL) { /* the same session is being read already: wait for that answer */
        op->next_waiter = leader->waiters;
        leader->waiters = op;
        return 0;
    }
    op->next_miss = op->w->misses;
    op->w->misses = op;
    /* the record and its idle marker, read at once: one round trip (pipelined on one Redis connection) */
    op->epoch = as_session_cache_epoch(op->w->auth->cache, op->key);
    op->store_key = gw__auth_prefixed("session:", op->key);
    char *seen = gw__auth_seen_key(op->key);
    op->status = op->seen_status = AS_STORE_ERROR; /* for a read that cannot be started */
    op->reads_pending = 3;                         /* the two reads and this call */
    op->in_call = 1;
    if (op->store_key == NULL || as_store_get(op->w->store, op->store_key, on_session_get, op) != 0)
        --op->reads_pending;
    if (seen == NULL || as_store_get(op->w->store, seen, on_seen_get, op) != 0)
        --op->reads_pending;
    free(seen);
    miss_read(op);
    op->in_call = 0;
    return op->done_in_call ? 1 : 0;
}

/* The lookup of op->key: cache, then store. */
static int lookup_key(gw_auth_op_t *op)
{
    return probe_key(op->w, op->key, &op->status, &op->session) ? 1 : gw__auth_read_session(op);
}

int gw__auth_lookup_session(gw_auth_op_t *op)
{
    const char *id;
    size_t id_len;
    op->status = AS_STORE_NOT_FOUND;
    if (!session_cookie(op->req, &id, &id_len))
        return 1;
    memcpy(op->session_id, id, id_len);
    op->session_id[id_len] = '\0';
    as_session_key(id, id_len, op->key);
    return lookup_key(op);
}

void gw__auth_start_lookup(gw_auth_op_t *op)
{
    int rc = gw__auth_lookup_session(op);
    if (rc != 0)
        gw__auth_lookup_finish(op); /* answered now (or the store cannot be asked: status says so) */
}

const as_session_record_t *gw__auth_live_record(as_store_status_t status, const as_cached_session_t *session,
                                                int *down)
{
    *down = status != AS_STORE_OK && status != AS_STORE_NOT_FOUND;
    if (status != AS_STORE_OK || session == NULL)
        return NULL;
    const as_session_record_t *r = as_cached_session_record(session);
    return record_live(r) ? r : NULL;
}

const as_session_record_t *gw__auth_found_record(const gw_auth_op_t *op, int *down)
{
    return gw__auth_live_record(op->status, op->session, down);
}
