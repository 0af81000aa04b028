/*
 * OpenID Connect Back-Channel Logout 1.0: POST /authservice/backchannel-logout
 * with logout_token=<JWT>. The token is verified like an ID token (keys of
 * the provider, iss, aud = client id, exp, iat at most five minutes old) and
 * then checked by as_logout_token_check (events, no nonce, sid/sub, jti).
 * A jti is accepted once. Every session of the named IdP session (sid) or,
 * without sid, of the user (sub) at that issuer is deleted from the store,
 * dropped from this cache and announced on the ended-session feed.
 * Answers: 200 (even when no session matched), 400 with a JSON error.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "util/log.h"

#define TOKEN_MAX_AGE_S 300
#define JTI_TTL_MS (2u * TOKEN_MAX_AGE_S * 1000)

static void on_index_written(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)data;
    (void)value;
    (void)len;
    if (status != AS_STORE_OK && status != AS_STORE_NOT_FOUND)
        tg_log_warn("auth", "back-channel logout index not updated (%s)", as_store_status_text(status));
}

void gw__auth_index_session(gw_auth_worker_t *w, const as_session_record_t *r, const char *key, int add)
{
    if (w->store == NULL)
        return;
    const char *kinds[] = {"sid", "sub"}, *values[] = {r->idp_session_id, r->subject};
    for (size_t i = 0; i < 2; ++i) {
        if (values[i] == NULL || values[i][0] == '\0')
            continue;
        char name[AS_BACKCHANNEL_NAME_SIZE];
        as_backchannel_name(kinds[i], r->issuer, values[i], name);
        if (add)
            as_store_set_add(w->store, name, key, w->auth->settings->absolute_timeout_ms, on_index_written,
                             NULL);
        else
            as_store_set_remove(w->store, name, key, on_index_written, NULL);
    }
}

/* Ends op with 400 and a JSON error (OAuth style); description is a fixed text, never a claim value. */
static void reject(gw_auth_op_t *op, const char *description)
{
    h2o_req_t *req = gw__auth_op_end(op);
    if (req == NULL)
        return;
    char body[256];
    snprintf(body, sizeof(body), "{\"error\":\"invalid_request\",\"error_description\":\"%s\"}\n",
             description);
    gw__auth_send_json(req, 400, body);
}

static void finish(gw_auth_op_t *op)
{
    if (op->failed) {
        reject(op, "the session store is not available");
        return;
    }
    as_store_del(op->w->store, op->index, gw__auth_ignore_result, NULL);
    h2o_req_t *req = gw__auth_op_end(op);
    if (req == NULL)
        return;
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = 0;
    gw__auth_add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, "", 0);
}

static void on_session_deleted(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    gw_auth_op_t *op = data;
    if (status != AS_STORE_OK && status != AS_STORE_NOT_FOUND)
        op->failed = 1;
    if (--op->deletes_pending == 0)
        finish(op);
}

static void end_session(gw_auth_op_t *op, const char *key)
{
    ++op->deletes_pending;
    if (gw__auth_end_session(op->w, key, on_session_deleted, op) != 0) {
        op->failed = 1;
        --op->deletes_pending;
    }
}

static void on_members(void *data, as_store_status_t status, const char *const *members, const size_t *lens,
                       size_t count)
{
    gw_auth_op_t *op = data;
    if (status != AS_STORE_OK) {
        reject(op, "the session store is not available");
        return;
    }
    op->deletes_pending = 1; /* held until every delete is started: sqlite answers inside the call */
    size_t ended = 0;
    for (size_t i = 0; i < count; ++i) {
        if (lens[i] != AS_SESSION_KEY_LEN) /* not a key this gateway wrote */
            continue;
        end_session(op, members[i]);
        ++ended;
    }
    tg_log_info("auth", "back-channel logout ends %zu session(s)", ended);
    if (--op->deletes_pending == 0)
        finish(op);
}

static void on_jti_recorded(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    gw_auth_op_t *op = data;
    if (status == AS_STORE_EXISTS) {
        reject(op, "logout token replayed");
        return;
    }
    if (status != AS_STORE_OK || as_store_set_members(op->w->store, op->index, on_members, op) != 0)
        reject(op, "the session store is not available");
}

static void on_token_verified(oidc_provider_verify_result_t *result, void *data)
{
    gw_auth_op_t *op = data;
    as_logout_token_t token;
    const char *why = NULL;
    if (result->status != OIDC_PROVIDER_OK)
        why = result->failed_claim != NULL ? result->failed_claim : oidc_provider_status_code(result->status);
    else
        why = as_logout_token_check(result->header, result->claims, &token);
    char jti[AS_BACKCHANNEL_NAME_SIZE];
    if (why == NULL) {
        as_backchannel_name("jti", token.issuer, token.jti, jti);
        if (token.sid != NULL)
            as_backchannel_name("sid", token.issuer, token.sid, op->index);
        else
            as_backchannel_name("sub", token.issuer, token.sub, op->index);
    }
    json_decref(result->header);
    json_decref(result->claims);
    if (why != NULL) {
        tg_log_info("auth", "logout token refused: %s", why);
        reject(op, "invalid logout token");
        return;
    }
    if (op->w->store == NULL || as_store_add(op->w->store, jti, "1", 1, JTI_TTL_MS, on_jti_recorded, op) != 0)
        reject(op, "the session store is not available");
}

static void on_provider_loaded(oidc_provider_status_t status, void *data)
{
    gw_auth_op_t *op = data;
    gw_auth_t *auth = op->w->auth;
    if (status != OIDC_PROVIDER_OK) {
        tg_log_warn("auth", "identity provider not available: %s", oidc_provider_status_code(status));
        reject(op, "the identity provider is not available");
        return;
    }
    static const char *const required[] = {"iat", "jti", "events", NULL};
    oidc_claims_options_t claims;
    oidc_claims_options_init(&claims, oidc_provider_issuer(auth->provider), auth->settings->client_id,
                             (int64_t)time(NULL));
    claims.required = required;
    claims.max_token_age = TOKEN_MAX_AGE_S;
    if (oidc_provider_verify(auth->provider, op->w->http, op->code, &claims, on_token_verified, op) !=
        OIDC_PROVIDER_OK)
        reject(op, "invalid logout token");
}

void gw__auth_start_backchannel(gw_auth_op_t *op)
{
    h2o_req_t *req = op->req;
    const char *token;
    size_t token_len;
    if (!gw__auth_form_param(req->entity.base != NULL ? req->entity.base : "", req->entity.len,
                             "logout_token", &token, &token_len) ||
        token_len == 0 || (op->code = gw__auth_form_decode(token, token_len)) == NULL) {
        reject(op, "logout_token is missing");
        return;
    }
    if (oidc_provider_load(op->w->auth->provider, op->w->http, 0, on_provider_loaded, op) != OIDC_PROVIDER_OK)
        reject(op, "the identity provider is not available");
}
