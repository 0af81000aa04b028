/*
 * Silent refresh (docs/internals/identity.md, "Silent refresh"): when a
 * request's session has a sealed refresh token and its IdP tokens end within
 * sessions.refreshBefore, the tokens are refreshed in the background while
 * the request goes on with the current session. Single-flight across workers
 * and replicas: a store lock "refresh:<key>" (add, 30 s) is taken first; who
 * does not get it does nothing. The rotated refresh token is sealed into the
 * rewritten record; other processes reread it when their cache entry
 * expires. A refresh the IdP refuses (grant revoked or expired) ends the
 * session.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "util/log.h"

#define LOCK_TTL_MS 30000u
#define DEFAULT_TOKEN_LIFETIME_S 300

typedef struct {
    gw_auth_worker_t *w;
    char key[AS_SESSION_KEY_LEN + 1];
    as_session_record_t *record; /* a copy of the session as the request saw it */
} refresh_t;

static char *lock_key(const char *key)
{
    return gw__auth_prefixed("refresh:", key);
}

/* Frees rf; the lock stays as it is. */
static void refresh_done(refresh_t *rf)
{
    as_session_record_free(rf->record);
    free(rf);
}

/* The record is fresh now, but other processes may serve their cached copy until their cache entry expires
 * (a refresh is not announced on the ended-session feed: that would close the session's websockets). Keeping
 * the lock for cacheTtl makes their requests cost one failed add meanwhile, not a reread each. Frees rf. */
static void hold_lock(refresh_t *rf)
{
    char *lock = lock_key(rf->key);
    if (lock != NULL && as_store_set(rf->w->store, lock, "1", 1, rf->w->auth->settings->cache_ttl_ms,
                                     gw__auth_ignore_result, NULL) != 0)
        as_store_del(rf->w->store, lock, gw__auth_ignore_result, NULL);
    free(lock);
    refresh_done(rf);
}

/* Releases the lock and frees rf. */
static void refresh_end(refresh_t *rf)
{
    char *lock = lock_key(rf->key);
    if (lock != NULL && rf->w->store != NULL)
        as_store_del(rf->w->store, lock, gw__auth_ignore_result, NULL);
    free(lock);
    refresh_done(rf);
}

static void on_seen_checked(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    refresh_t *rf = data;
    if (status == AS_STORE_NOT_FOUND) { /* a logout ran while the record was rewritten: end it again */
        gw__auth_end_session(rf->w, rf->key, gw__auth_ignore_result, NULL);
        refresh_end(rf);
        return;
    }
    tg_log_info("auth", "session tokens refreshed");
    as_session_cache_invalidate(rf->w->auth->cache, rf->key);
    hold_lock(rf);
}

static void on_record_written(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    refresh_t *rf = data;
    char *seen = gw__auth_seen_key(rf->key);
    if (status != AS_STORE_OK)
        tg_log_warn("auth", "refreshed session not stored (%s)", as_store_status_text(status));
    else if (seen != NULL && as_store_get(rf->w->store, seen, on_seen_checked, rf) == 0) {
        free(seen);
        return;
    }
    free(seen);
    refresh_end(rf);
}

static void on_refreshed(oidc_token_result_t *result, void *data)
{
    refresh_t *rf = data;
    as_session_record_t *r = rf->record;
    int64_t now = (int64_t)time(NULL);
    if (result->status == OIDC_PROVIDER_GRANT_REJECTED) {
        tg_log_info("auth", "the identity provider refused a refresh: session ended");
        oidc_tokens_free(result->tokens);
        gw__auth_end_session(rf->w, rf->key, gw__auth_ignore_result, NULL);
        refresh_end(rf);
        return;
    }
    if (result->status != OIDC_PROVIDER_OK || result->tokens == NULL) {
        tg_log_warn("auth", "refresh failed: %s (HTTP %ld); retried after %u s",
                    oidc_provider_status_code(result->status), result->http_status, LOCK_TTL_MS / 1000);
        oidc_tokens_free(result->tokens);
        refresh_done(rf); /* keep the lock: no retry storm while the IdP is down */
        return;
    }
    const oidc_tokens_t *t = result->tokens;
    r->tokens_expire_at = now + (t->expires_in > 0 ? t->expires_in : DEFAULT_TOKEN_LIFETIME_S);
    if (r->tokens_expire_at > r->expires_at)
        r->tokens_expire_at = r->expires_at;
    if (t->refresh_token != NULL) { /* rotated */
        char *sealed = as_seal(rf->w->auth->box, t->refresh_token, strlen(t->refresh_token), rf->key,
                               AS_SESSION_KEY_LEN);
        if (sealed != NULL) {
            free(r->refresh_token_sealed);
            r->refresh_token_sealed = sealed;
        }
    }
    oidc_tokens_free(result->tokens);
    char err[128];
    char *json = as_session_record_to_json(r, err, sizeof(err)),
         *stored = gw__auth_prefixed("session:", rf->key);
    int64_t ttl_ms = (r->expires_at - now) * 1000;
    int rc =
        json != NULL && stored != NULL && ttl_ms > 0
            ? as_store_set(rf->w->store, stored, json, strlen(json), (uint64_t)ttl_ms, on_record_written, rf)
            : -1;
    if (json != NULL)
        as_box_secret_free(json, strlen(json));
    free(stored);
    if (rc != 0)
        refresh_end(rf);
}

static void on_provider_loaded(oidc_provider_status_t status, void *data)
{
    refresh_t *rf = data;
    size_t len = 0;
    char *token = status == OIDC_PROVIDER_OK
                      ? as_open(rf->w->auth->box, rf->record->refresh_token_sealed,
                                strlen(rf->record->refresh_token_sealed), rf->key, AS_SESSION_KEY_LEN, &len)
                      : NULL;
    if (token == NULL) {
        if (status == OIDC_PROVIDER_OK)
            tg_log_warn("auth", "sealed refresh token cannot be opened (key file changed?): not refreshed");
        refresh_end(rf);
        return;
    }
    oidc_provider_status_t st =
        oidc_provider_refresh(rf->w->auth->provider, rf->w->http, token, on_refreshed, rf);
    as_box_secret_free(token, len);
    if (st != OIDC_PROVIDER_OK)
        refresh_end(rf);
}

/* Whether r's tokens end within refreshBefore and it can be refreshed. */
static int needs_refresh(const gw_auth_worker_t *w, const as_session_record_t *r)
{
    uint64_t before_ms = w->auth->settings->refresh_before_ms;
    int64_t now = (int64_t)time(NULL);
    return before_ms > 0 && r->refresh_token_sealed != NULL && r->expires_at > now &&
           r->tokens_expire_at - now <= (int64_t)(before_ms / 1000);
}

/* Under the lock, the record as stored now: a cached copy may hold a refresh token another replica already
 * rotated, and using it again would make the IdP revoke the grant. */
static void on_fresh_record(void *data, as_store_status_t status, const char *value, size_t len)
{
    refresh_t *rf = data;
    as_session_record_t *fresh = NULL;
    if (status != AS_STORE_OK || as_session_record_from_json(value, len, &fresh, NULL, 0) != 0) {
        refresh_end(rf); /* gone */
        return;
    }
    if (!needs_refresh(rf->w, fresh)) { /* refreshed meanwhile: this cache is behind */
        as_session_record_free(fresh);
        as_session_cache_invalidate(rf->w->auth->cache, rf->key);
        hold_lock(rf);
        return;
    }
    as_session_record_free(rf->record);
    rf->record = fresh;
    if (oidc_provider_load(rf->w->auth->provider, rf->w->http, 0, on_provider_loaded, rf) != OIDC_PROVIDER_OK)
        refresh_end(rf);
}

static void on_locked(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    refresh_t *rf = data;
    char *stored = status == AS_STORE_OK ? gw__auth_prefixed("session:", rf->key) : NULL;
    if (status != AS_STORE_OK) { /* EXISTS: another worker or replica is at it */
        refresh_done(rf);
    } else if (stored == NULL || as_store_get(rf->w->store, stored, on_fresh_record, rf) != 0) {
        refresh_end(rf);
    }
    free(stored);
}

void gw__auth_maybe_refresh(gw_auth_worker_t *w, const as_session_record_t *r, const char *key)
{
    if (w->store == NULL || !needs_refresh(w, r))
        return;
    refresh_t *rf = calloc(1, sizeof(*rf));
    char *lock = lock_key(key);
    if (rf == NULL || lock == NULL || (rf->record = as_session_record_dup(r)) == NULL) {
        free(rf);
        free(lock);
        return;
    }
    rf->w = w;
    memcpy(rf->key, key, AS_SESSION_KEY_LEN + 1);
    if (as_store_add(w->store, lock, "1", 1, LOCK_TTL_MS, on_locked, rf) != 0)
        refresh_done(rf);
    free(lock);
}
