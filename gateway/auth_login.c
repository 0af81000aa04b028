#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "metrics.h"
#include "authservice/login_flow.h"
#include "authservice/return_path.h"
#include "oidc/pkce.h"
#include "util/log.h"

/* Whether op may go on after a store write: ends op when its request went away, answers 503 when the store
 * failed. */
static int store_step_ok(gw_auth_op_t *op, as_store_status_t status)
{
    if (op->req == NULL) {
        gw__auth_op_end(op);
        return 0;
    }
    if (status != AS_STORE_OK) {
        gw__auth_op_fail(op, 503, GW_AUTH_STORE_DOWN);
        return 0;
    }
    return 1;
}

/* ---- /authservice/login ---- */

static void on_login_state_added(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    gw_auth_op_t *op = data;
    if (!store_step_ok(op, status))
        return;
    char cookie[AS_LOGIN_COOKIE_VALUE_SIZE];
    memcpy(cookie, op->login_cookie, sizeof(cookie));
    char *location = op->redirect;
    op->redirect = NULL;
    h2o_req_t *req = gw__auth_op_end(op);
    gw__auth_set_cookie(req, AS_LOGIN_COOKIE_NAME, cookie, GW_AUTH_LOGIN_TTL_MS / 1000);
    gw_metrics_login(GW_METRICS_LOGIN_STARTED);
    gw__auth_send_redirect(req, location);
    free(location);
}

static void login_with_discovery(gw_auth_op_t *op)
{
    gw_auth_t *auth = op->w->auth;
    char state[OIDC_RANDOM_VALUE_SIZE], nonce[OIDC_RANDOM_VALUE_SIZE], verifier[OIDC_RANDOM_VALUE_SIZE],
        challenge[OIDC_PKCE_CHALLENGE_SIZE];
    if (oidc_state_new(state, sizeof(state)) != 0 || oidc_nonce_new(nonce, sizeof(nonce)) != 0 ||
        oidc_pkce_verifier_new(verifier, sizeof(verifier)) != 0 ||
        oidc_pkce_challenge_s256(verifier, challenge, sizeof(challenge)) != 0) {
        gw__auth_op_fail(op, 500, "Could not start the login.");
        return;
    }
    oidc_provider_status_t st;
    /* a refresh token needs offline_access and, in OIDC Core 11, prompt=consent */
    const char *const offline[] = {"prompt", "consent", NULL};
    int wants_refresh = 0;
    for (size_t i = 0; i < auth->settings->scopes.count; ++i)
        wants_refresh |= strcmp(auth->settings->scopes.items[i], "offline_access") == 0;
    op->redirect = oidc_provider_authorize_url(auth->provider, NULL, auth->redirect_uri, auth->scope, state,
                                               nonce, challenge, wants_refresh ? offline : NULL, &st);
    as_login_state_t login = {.state = state,
                              .nonce = nonce,
                              .pkce_verifier = verifier,
                              .return_to = op->return_to,
                              .provider = (char *)oidc_provider_issuer(auth->provider),
                              .created_at = (int64_t)time(NULL)};
    char *json = op->redirect != NULL ? as_login_state_to_json(&login, NULL, 0) : NULL;
    OPENSSL_cleanse(verifier, sizeof(verifier));
    OPENSSL_cleanse(nonce, sizeof(nonce));
    const char *old = NULL;
    size_t old_len = 0;
    gw__auth_find_cookie(op->req, AS_LOGIN_COOKIE_NAME, &old, &old_len);
    char *key = gw__auth_prefixed("login:", state);
    if (json == NULL || key == NULL || as_login_cookie_push(old, old_len, state, op->login_cookie) < 0 ||
        op->w->store == NULL) {
        if (json != NULL)
            OPENSSL_cleanse(json, strlen(json));
        free(json);
        free(key);
        gw__auth_op_fail(op, op->w->store == NULL ? 503 : 500, "Could not start the login.");
        return;
    }
    int rc =
        as_store_add(op->w->store, key, json, strlen(json), GW_AUTH_LOGIN_TTL_MS, on_login_state_added, op);
    OPENSSL_cleanse(json, strlen(json));
    free(json);
    free(key);
    if (rc != 0)
        gw__auth_op_fail(op, 503, GW_AUTH_STORE_DOWN);
}

static void on_discovery_loaded(oidc_provider_status_t status, void *data)
{
    gw_auth_op_t *op = data;
    if (op->req == NULL) {
        gw__auth_op_end(op);
        return;
    }
    if (status != OIDC_PROVIDER_OK) {
        tg_log_warn("auth", "identity provider not available: %s", oidc_provider_status_code(status));
        gw__auth_op_fail(op, 503, "The identity provider is not available. Try again shortly.");
        return;
    }
    login_with_discovery(op);
}

void gw__auth_start_login(gw_auth_op_t *op, const char *query, size_t query_len)
{
    const char *rd = NULL;
    size_t rd_len = 0;
    char path[AS_RETURN_PATH_MAX + 1];
    gw__auth_form_param(query, query_len, "rd", &rd, &rd_len);
    as_return_path_sanitize(rd, rd_len, path, sizeof(path));
    op->return_to = strdup(path);
    if (op->return_to == NULL) {
        gw__auth_op_fail(op, 500, "Out of memory.");
        return;
    }
    if (oidc_provider_load(op->w->auth->provider, op->w->http, 0, on_discovery_loaded, op) !=
        OIDC_PROVIDER_OK)
        gw__auth_op_fail(op, 503, "The identity provider is not available. Try again shortly.");
}

/* ---- /authservice/callback ---- */

static void on_seen_stored(void *data, as_store_status_t status, const char *value, size_t len);

static void on_session_stored(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    gw_auth_op_t *op = data;
    if (op->req == NULL || status != AS_STORE_OK) {
        on_seen_stored(op, status, NULL, 0);
        return;
    }
    char *seen = gw__auth_seen_key(op->key);
    int rc = seen != NULL ? as_store_set(op->w->store, seen, "1", 1, op->w->auth->settings->idle_timeout_ms,
                                         on_seen_stored, op)
                          : -1;
    free(seen);
    if (rc != 0)
        on_seen_stored(op, AS_STORE_ERROR, NULL, 0);
}

/* The session and its idle marker are stored: the cookie goes to the browser. */
static void on_seen_stored(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    gw_auth_op_t *op = data;
    if (!store_step_ok(op, status))
        return;
    char id[AS_SESSION_ID_LEN + 1], cookie[AS_LOGIN_COOKIE_VALUE_SIZE], state[AS_LOGIN_STATE_LEN + 1];
    memcpy(id, op->session_id, sizeof(id));
    memcpy(state, op->state, sizeof(state));
    const char *old = NULL;
    size_t old_len = 0;
    gw__auth_find_cookie(op->req, AS_LOGIN_COOKIE_NAME, &old, &old_len);
    int left = as_login_cookie_remove(old, old_len, state, cookie);
    char *location = strdup(op->login->return_to);
    int64_t lifetime = (int64_t)(op->w->auth->settings->absolute_timeout_ms / 1000);
    h2o_req_t *req = gw__auth_op_end(op);
    gw__auth_set_cookie(req, GW_AUTH_SESSION_COOKIE, id, lifetime);
    gw__auth_set_cookie(req, AS_LOGIN_COOKIE_NAME, cookie, left > 0 ? GW_AUTH_LOGIN_TTL_MS / 1000 : 0);
    OPENSSL_cleanse(id, sizeof(id));
    gw_metrics_login(GW_METRICS_LOGIN_SUCCEEDED);
    gw__auth_send_redirect(req, location != NULL ? location : "/");
    free(location);
}

static void on_id_token_verified(oidc_provider_verify_result_t *result, void *data)
{
    gw_auth_op_t *op = data;
    as_session_record_t *record = NULL;
    if (result->status == OIDC_PROVIDER_OK)
        record = as_session_from_claims(result->claims, op->code /* the ID token, see below */,
                                        (int64_t)time(NULL),
                                        (int64_t)(op->w->auth->settings->absolute_timeout_ms / 1000));
    else
        tg_log_info("auth", "ID token refused: %s%s%s", oidc_provider_status_code(result->status),
                    result->failed_claim != NULL ? " claim " : "",
                    result->failed_claim != NULL ? result->failed_claim : "");
    json_decref(result->header);
    json_decref(result->claims);
    if (op->req == NULL) {
        as_session_record_free(record);
        gw__auth_op_end(op);
        return;
    }
    if (record == NULL) {
        gw__auth_op_fail(op, 401, "The login could not be completed. Please sign in again.");
        return;
    }
    char err[128];
    char *json = NULL;
    if (as_session_id_generate(op->session_id) == 0) {
        as_session_key(op->session_id, AS_SESSION_ID_LEN, op->key);
        if (op->refresh_token != NULL) /* bound to this session: the store key is the additional data */
            record->refresh_token_sealed = as_seal(op->w->auth->box, op->refresh_token,
                                                   strlen(op->refresh_token), op->key, AS_SESSION_KEY_LEN);
        json = as_session_record_to_json(record, err, sizeof(err));
    }
    if (json == NULL) {
        as_session_record_free(record);
        gw__auth_op_fail(op, 500, "The login could not be completed.");
        return;
    }
    gw__auth_index_session(op->w, record, op->key, 1);
    as_session_record_free(record);
    char *key = gw__auth_prefixed("session:", op->key);
    int rc = key != NULL ? as_store_set(op->w->store, key, json, strlen(json),
                                        op->w->auth->settings->absolute_timeout_ms, on_session_stored, op)
                         : -1;
    OPENSSL_cleanse(json, strlen(json));
    free(json);
    free(key);
    if (rc != 0)
        gw__auth_op_fail(op, 503, GW_AUTH_STORE_DOWN);
}

static void on_code_exchanged(oidc_token_result_t *result, void *data)
{
    gw_auth_op_t *op = data;
    if (op->req == NULL) {
        oidc_tokens_free(result->tokens);
        gw__auth_op_end(op);
        return;
    }
    if (result->status != OIDC_PROVIDER_OK || result->tokens == NULL || result->tokens->id_token == NULL) {
        tg_log_info("auth", "code exchange failed: %s (HTTP %ld)", oidc_provider_status_code(result->status),
                    result->http_status);
        oidc_tokens_free(result->tokens);
        int idp_down = result->status != OIDC_PROVIDER_GRANT_REJECTED &&
                       result->status != OIDC_PROVIDER_REQUEST_REJECTED;
        gw__auth_op_fail(op, idp_down ? 502 : 400, "The login could not be completed. Please sign in again.");
        return;
    }
    /* the code is spent: keep the ID token in its place until the record is built */
    OPENSSL_cleanse(op->code, strlen(op->code));
    free(op->code);
    op->code = strdup(result->tokens->id_token);
    if (result->tokens->refresh_token != NULL && op->w->auth->settings->refresh_before_ms > 0)
        op->refresh_token = strdup(result->tokens->refresh_token);
    oidc_tokens_free(result->tokens);
    if (op->code == NULL) {
        gw__auth_op_fail(op, 500, "Out of memory.");
        return;
    }
    gw_auth_t *auth = op->w->auth;
    oidc_claims_options_t claims;
    oidc_claims_options_init(&claims, NULL, auth->settings->client_id, (int64_t)time(NULL));
    claims.issuer = oidc_provider_issuer(auth->provider);
    claims.nonce = op->login->nonce;
    if (oidc_provider_verify(auth->provider, op->w->http, op->code, &claims, on_id_token_verified, op) !=
        OIDC_PROVIDER_OK)
        gw__auth_op_fail(op, 401, "The login could not be completed. Please sign in again.");
}

static void on_state_taken(void *data, as_store_status_t status, const char *value, size_t len)
{
    gw_auth_op_t *op = data;
    as_login_state_t *login = NULL;
    if (status == AS_STORE_OK && as_login_state_from_json(value, len, &login, NULL, 0) != 0)
        status = AS_STORE_NOT_FOUND;
    if (op->req == NULL) {
        as_login_state_free(login);
        gw__auth_op_end(op);
        return;
    }
    if (status == AS_STORE_NOT_FOUND) {
        gw__auth_op_fail(op, 400, "This login link is unknown or was already used. Please sign in again.");
        return;
    }
    if (status != AS_STORE_OK) {
        gw__auth_op_fail(op, 503, GW_AUTH_STORE_DOWN);
        return;
    }
    op->login = login;
    if (strcmp(login->state, op->state) != 0) {
        gw__auth_op_fail(op, 400, "This login link is unknown. Please sign in again.");
        return;
    }
    gw_auth_t *auth = op->w->auth;
    if (oidc_provider_exchange_code(auth->provider, op->w->http, op->code, login->pkce_verifier,
                                    auth->redirect_uri, on_code_exchanged, op) != OIDC_PROVIDER_OK)
        gw__auth_op_fail(op, 502, "The login could not be completed. Please sign in again.");
}

void gw__auth_start_callback(gw_auth_op_t *op, const char *query, size_t query_len)
{
    const char *state = NULL, *code = NULL, *cookie = NULL;
    size_t state_len = 0, code_len = 0, cookie_len = 0;
    if (!gw__auth_form_param(query, query_len, "state", &state, &state_len) ||
        !as_login_state_is_well_formed(state, state_len)) {
        gw__auth_op_fail(op, 400, "The login response is incomplete. Please sign in again.");
        return;
    }
    memcpy(op->state, state, state_len);
    op->state[state_len] = '\0';
    if (!gw__auth_find_cookie(op->req, AS_LOGIN_COOKIE_NAME, &cookie, &cookie_len) ||
        !as_login_cookie_contains(cookie, cookie_len, op->state)) {
        gw__auth_op_fail(op, 400, "This login was not started in this browser. Please sign in again.");
        return;
    }
    if (!gw__auth_form_param(query, query_len, "code", &code, &code_len) || code_len == 0 ||
        (op->code = gw__auth_form_decode(code, code_len)) == NULL) {
        /* an IdP error (access_denied...) lands here too: its text is never shown */
        gw__auth_op_fail(op, 400, "The login was not completed. Please sign in again.");
        return;
    }
    char *key = gw__auth_prefixed("login:", op->state);
    int rc = key != NULL && op->w->store != NULL ? as_store_take(op->w->store, key, on_state_taken, op) : -1;
    free(key);
    if (rc != 0)
        gw__auth_op_fail(op, 503, GW_AUTH_STORE_DOWN);
}
