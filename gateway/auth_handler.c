#include "auth_handler.h"
#include "request_resume.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authservice/cookie.h"
#include "authservice/csrf.h"
#include "authservice/login_cookie.h"
#include "authservice/login_flow.h"
#include "authservice/login_state.h"
#include "authservice/return_path.h"
#include "authservice/session_id.h"
#include "error_page.h"
#include "oidc/pkce.h"
#include "oidc/url.h"
#include "static_assets.h"
#include "template.h"
#include "util/log.h"

#define SESSION_COOKIE "__Host-tenantgate"
#define COOKIE_ATTRS "; Path=/; Secure; HttpOnly; SameSite=Lax"
#define LOGIN_TTL_MS (10u * 60 * 1000)
#define PREFIX "/authservice/"

/* ---- operations that outlive a callback ---- */

typedef enum { OP_IDENTIFY, OP_LOGIN, OP_CALLBACK, OP_ME, OP_LOGOUT_PAGE, OP_LOGOUT } op_kind_t;

typedef struct auth_op auth_op_t;
typedef struct {
    auth_op_t *op;
} op_link_t;

struct auth_op {
    h2o_req_t *req; /* NULL once the request is gone */
    op_link_t *link;
    gw_auth_worker_t *w;
    op_kind_t kind;
    int in_call, done_in_call; /* a completion that ran inside the call that started it (sqlite) */
    char request_id[48];
    char key[AS_SESSION_KEY_LEN + 1];       /* session store key */
    char session_id[AS_SESSION_ID_LEN + 1]; /* the cookie's id (logout) or a new one (callback) */
    uint64_t epoch;
    as_store_status_t status;
    as_cached_session_t *session;
    as_login_state_t *login;
    char state[AS_LOGIN_STATE_LEN + 1];
    char *code;
    char *return_to;
    char *redirect; /* Location of a pending 302 */
    char login_cookie[AS_LOGIN_COOKIE_VALUE_SIZE];
    char *store_key;
    as_session_record_t *pending; /* read from the store, waiting for the idle check */
    gw_auth_resume_cb resume;
    h2o_handler_t *handler;
};

static void on_link_dispose(void *p)
{
    op_link_t *link = p;
    if (link->op != NULL)
        link->op->req = NULL;
}

static auth_op_t *op_new(gw_auth_worker_t *w, h2o_req_t *req, op_kind_t kind, const char *request_id)
{
    auth_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    op->req = req;
    op->w = w;
    op->kind = kind;
    snprintf(op->request_id, sizeof(op->request_id), "%s", request_id != NULL ? request_id : "");
    op->link = h2o_mem_alloc_shared(&req->pool, sizeof(*op->link), on_link_dispose);
    op->link->op = op;
    return op;
}

/* Frees op and returns its request (NULL when it went away), detached: op is gone. */
static h2o_req_t *op_end(auth_op_t *op)
{
    h2o_req_t *req = op->req;
    if (req != NULL)
        op->link->op = NULL;
    as_cached_session_release(op->session);
    as_login_state_free(op->login);
    as_session_record_free(op->pending);
    if (op->code != NULL)
        OPENSSL_cleanse(op->code, strlen(op->code));
    free(op->code);
    free(op->return_to);
    free(op->redirect);
    free(op->store_key);
    OPENSSL_cleanse(op->session_id, sizeof(op->session_id));
    free(op);
    return req;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *prefixed(const char *prefix, const char *s)
{
    size_t a = strlen(prefix), b = strlen(s);
    char *out = malloc(a + b + 1);
    if (out != NULL) {
        memcpy(out, prefix, a);
        memcpy(out + a, s, b + 1);
    }
    return out;
}

/* ---- request helpers ---- */

/* The value of cookie name in any Cookie header of req. */
static int find_cookie(h2o_req_t *req, const char *name, const char **value, size_t *len)
{
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        const h2o_iovec_t *v = &req->headers.entries[i].value;
        if (as_cookie_find(v->base, v->len, name, value, len))
            return 1;
    }
    return 0;
}

static const char *header_value(h2o_req_t *req, const h2o_token_t *token, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    if (i < 0)
        return NULL;
    *len = req->headers.entries[i].value.len;
    return req->headers.entries[i].value.base;
}

/* The raw (still encoded) value of name in a query or form body. */
static int form_param(const char *s, size_t len, const char *name, const char **value, size_t *value_len)
{
    size_t n = strlen(name);
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if ((size_t)(stop - p) > n && memcmp(p, name, n) == 0 && p[n] == '=') {
            *value = p + n + 1;
            *value_len = (size_t)(stop - p) - n - 1;
            return 1;
        }
        p = amp != NULL ? amp + 1 : end;
    }
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes a form value into a new string; NULL on a bad escape, NUL or control byte. */
static char *form_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; out != NULL && i < len; ++i) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval(s[i + 1]) : -1, lo = i + 2 < len ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if ((unsigned char)c < 0x20 || c == 0x7f) {
            free(out);
            return NULL;
        }
        out[n++] = c;
    }
    if (out != NULL)
        out[n] = '\0';
    return out;
}

/* ---- responses ---- */

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    size_t len = strlen(value);
    char *copy = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(copy, value, len + 1);
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, copy, len);
}

static void set_cookie(h2o_req_t *req, const char *name, const char *value, int64_t max_age)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s=%s" COOKIE_ATTRS "; Max-Age=%" PRId64, name, value, max_age);
    add_header(req, H2O_TOKEN_SET_COOKIE, buf);
}

/* A 302 that keeps the Set-Cookie headers already on req->res (h2o_send_redirect drops them). */
static void send_redirect(h2o_req_t *req, const char *location)
{
    req->res.status = 302;
    req->res.reason = "Found";
    req->res.content_length = 0;
    add_header(req, H2O_TOKEN_LOCATION, location);
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, "", 0);
}

static void send_json(h2o_req_t *req, int status, const char *json)
{
    size_t len = strlen(json);
    char *body = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(body, json, len);
    req->res.status = status;
    req->res.reason = gw_status_reason(status);
    req->res.content_length = len;
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "application/json");
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, body, len);
}

static void send_401_json(h2o_req_t *req, const char *request_id)
{
    add_header(req, H2O_TOKEN_WWW_AUTHENTICATE, "Bearer realm=\"tenantgate\"");
    char body[160];
    snprintf(body, sizeof(body),
             "{\"error\":\"authentication required\",\"status\":401,\"request_id\":\"%s\"}\n", request_id);
    send_json(req, 401, body);
}

/* ---- session lookup: cache, then store ---- */

static void lookup_finish(auth_op_t *op);

/* A record is usable until its absolute end. */
static int record_live(const as_session_record_t *r)
{
    return r->expires_at > (int64_t)time(NULL);
}

static void ignore_result(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)data;
    (void)status;
    (void)value;
    (void)len;
}

/* Idle timeout: "seen:<key>" lives idleTimeout after the session's last store read (at most one per cache TTL
 * per process while the user is active). A separate key, so that refreshing it can never bring back a
 * session a logout deleted meanwhile. */
static char *seen_key(const char *key)
{
    return prefixed("seen:", key);
}

static void touch_seen(gw_auth_worker_t *w, const char *key)
{
    char *seen = seen_key(key);
    if (seen != NULL && w->store != NULL)
        as_store_set(w->store, seen, "1", 1, w->auth->settings->idle_timeout_ms, ignore_result, NULL);
    free(seen);
}

static void lookup_done(auth_op_t *op)
{
    if (op->in_call) {
        op->done_in_call = 1;
        return;
    }
    lookup_finish(op);
}

static void on_seen_get(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    auth_op_t *op = data;
    as_session_record_t *record = op->pending;
    op->pending = NULL;
    op->status = status;
    if (status == AS_STORE_OK) {
        touch_seen(op->w, op->key);
        if (as_session_cache_put(op->w->auth->cache, op->key, record, op->epoch, now_ms(), &op->session) < 0)
            op->status = AS_STORE_ERROR;
    } else {
        as_session_record_free(record); /* NOT_FOUND: idle for too long */
    }
    lookup_done(op);
}

static void on_session_get(void *data, as_store_status_t status, const char *value, size_t len)
{
    auth_op_t *op = data;
    op->status = status;
    if (status == AS_STORE_OK) {
        as_session_record_t *record = NULL;
        char err[160];
        if (as_session_record_from_json(value, len, &record, err, sizeof(err)) != 0) {
            tg_log_warn("auth", "unreadable session record treated as no session: %s", err);
            op->status = AS_STORE_NOT_FOUND;
        } else {
            char *seen = seen_key(op->key);
            op->pending = record;
            int rc = seen != NULL ? as_store_get(op->w->store, seen, on_seen_get, op) : -1;
            free(seen);
            if (rc == 0)
                return; /* on_seen_get goes on */
            op->status = AS_STORE_ERROR;
        }
    }
    lookup_done(op);
}

/* Looks the session of the request's cookie up. Returns 1 when the answer is in op (status, session), 0 when
 * it will come through lookup_finish, -1 when the store cannot be asked (op->status says why). */
static int lookup_session(auth_op_t *op)
{
    const char *id;
    size_t id_len;
    op->status = AS_STORE_NOT_FOUND;
    if (!find_cookie(op->req, SESSION_COOKIE, &id, &id_len) || !as_session_id_is_well_formed(id, id_len))
        return 1;
    memcpy(op->session_id, id, id_len);
    op->session_id[id_len] = '\0';
    as_session_key(id, id_len, op->key);
    gw_auth_t *auth = op->w->auth;
    if ((op->session = as_session_cache_get(auth->cache, op->key, now_ms())) != NULL) {
        op->status = AS_STORE_OK;
        return 1;
    }
    if (op->w->store == NULL) {
        op->status = AS_STORE_UNAVAILABLE;
        return -1;
    }
    op->epoch = as_session_cache_epoch(auth->cache, op->key);
    op->store_key = prefixed("session:", op->key);
    op->in_call = 1;
    int rc = op->store_key != NULL ? as_store_get(op->w->store, op->store_key, on_session_get, op) : -1;
    op->in_call = 0;
    if (rc != 0) {
        op->status = AS_STORE_ERROR;
        return -1;
    }
    return op->done_in_call ? 1 : 0;
}

/* The session found, or NULL (no session, expired); *down when the store failed. */
static const as_session_record_t *found_record(const auth_op_t *op, int *down)
{
    *down = op->status != AS_STORE_OK && op->status != AS_STORE_NOT_FOUND;
    if (op->status != AS_STORE_OK || op->session == NULL)
        return NULL;
    const as_session_record_t *r = as_cached_session_record(op->session);
    return record_live(r) ? r : NULL;
}

/* ---- identity step ---- */

/* Tags the session lookup's result handed to a resumed request (request_resume.h). */
static const char identify_tag = 'S';

static void deny(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len, size_t target_len,
                 const char *request_id)
{
    size_t accept_len = 0, auth_len = 0;
    as_request_kind_t kind = {
        .method = req->method.base,
        .method_len = req->method.len,
        .path = path,
        .path_len = path_len,
        .accept = header_value(req, H2O_TOKEN_ACCEPT, &accept_len),
        .has_x_requested_with =
            h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-requested-with"), -1) >= 0,
        .authorization = header_value(req, H2O_TOKEN_AUTHORIZATION, &auth_len),
        .api_prefixes = w->auth->api_prefixes,
    };
    kind.accept_len = accept_len;
    kind.authorization_len = auth_len;
    if (as_request_is_api(&kind)) {
        send_401_json(req, request_id);
        return;
    }
    char *rd = oidc_url_encode(path, target_len);
    char *location = rd != NULL ? prefixed(PREFIX "login?rd=", rd) : NULL;
    if (location == NULL)
        gw_send_error(req, 500, "Out of memory.", request_id);
    else
        send_redirect(req, location);
    free(rd);
    free(location);
}

static const char *pool_strdup(h2o_req_t *req, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s);
    char *copy = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(copy, s, len + 1);
    return copy;
}

/* The identity of session record r (store key key), copied into the request's pool: the cached record may
 * go away before the request does. */
static void identity_from_record(h2o_req_t *req, const as_session_record_t *r, const char *key,
                                 as_identity_t *identity)
{
    const char **groups = h2o_mem_alloc_pool(&req->pool, sizeof(*groups) * (r->group_count + 1));
    for (size_t i = 0; i < r->group_count; ++i)
        groups[i] = pool_strdup(req, r->groups[i]);
    groups[r->group_count] = NULL;
    char *groups_header = h2o_mem_alloc_pool(&req->pool, 8192);
    as_groups_header(r, groups_header, 8192);
    const char *email = r->email != NULL && r->email[0] != '\0' ? pool_strdup(req, r->email) : NULL;
    *identity = (as_identity_t){
        .source = AS_IDENTITY_SESSION,
        .subject = pool_strdup(req, r->subject),
        .issuer = pool_strdup(req, r->issuer),
        .email = email,
        .name = pool_strdup(req, r->name),
        .groups = groups,
        .group_count = r->group_count,
        .groups_header = groups_header,
        .session_key = pool_strdup(req, key),
    };
    identity->userid = email != NULL ? email : identity->subject;
}

/* Uses what a lookup found for the identity step: 0 with identity, or 1 when the request was answered. */
static int identify_with(auth_op_t *op, h2o_req_t *req, const char *path, size_t path_len, size_t target_len,
                         const char *request_id, as_identity_t *identity)
{
    int down;
    const as_session_record_t *r = found_record(op, &down);
    if (r == NULL) {
        if (down)
            gw_send_error(req, 503, "The session store is not available. Try again shortly.", request_id);
        else
            deny(op->w, req, path, path_len, target_len, request_id);
        return 1;
    }
    const char *user = r->email != NULL && r->email[0] != '\0' ? r->email : r->subject;
    for (const char *p = user; *p != '\0'; ++p)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) { /* would split the upstream's header */
            gw_send_error(req, 403, "This account cannot be used here.", request_id);
            return 1;
        }
    identity_from_record(req, r, op->key, identity);
    return 0;
}

int gw_auth_is_resumed(const h2o_req_t *req)
{
    return gw_request_is_resumed(req);
}

static void on_identify_done(auth_op_t *op)
{
    h2o_req_t *req = op->req;
    if (req == NULL) {
        op_end(op);
        return;
    }
    op->link->op = NULL; /* the second pass owns op now */
    op->req = NULL;
    auth_op_t *left = gw_request_resume(req, op->resume, op->handler, &identify_tag, op);
    if (left != NULL) /* not taken (another handler answered) */
        op_end(left);
}

int gw_auth_identify(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len,
                     size_t target_len, const char *request_id, gw_auth_resume_cb resume,
                     h2o_handler_t *handler, as_identity_t *identity)
{
    *identity = AS_IDENTITY_ANONYMOUS;
    if (w == NULL)
        return 0;
    auth_op_t *resumed = gw_request_take_resumed(req, &identify_tag);
    if (resumed != NULL) {
        auth_op_t *op = resumed;
        int rc = identify_with(op, req, path, path_len, target_len, request_id, identity);
        op_end(op);
        return rc;
    }
    auth_op_t *op = op_new(w, req, OP_IDENTIFY, request_id);
    if (op == NULL) {
        gw_send_error(req, 500, "Out of memory.", request_id);
        return 1;
    }
    op->resume = resume;
    op->handler = handler;
    int rc = lookup_session(op);
    if (rc == 0)
        return 1; /* suspended */
    rc = identify_with(op, req, path, path_len, target_len, request_id, identity);
    op_end(op);
    return rc;
}

void gw_auth_set_identity_headers(h2o_req_t *req, const as_identity_t *identity)
{
    if (identity->source == AS_IDENTITY_NONE || identity->userid == NULL)
        return;
    h2o_add_header_by_str(&req->pool, &req->headers, H2O_STRLIT("kubeflow-userid"), 0, NULL, identity->userid,
                          strlen(identity->userid));
    h2o_add_header_by_str(&req->pool, &req->headers, H2O_STRLIT("kubeflow-groups"), 0, NULL,
                          identity->groups_header, strlen(identity->groups_header));
}

/* ---- /authservice/me and /authservice/logout ---- */

static void send_me(auth_op_t *op)
{
    int down;
    const as_session_record_t *r = found_record(op, &down);
    char *json = r != NULL ? as_me_json(r) : NULL;
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    h2o_req_t *req = op_end(op);
    if (req == NULL) {
        free(json);
        return;
    }
    if (down)
        gw_send_error(req, 503, "The session store is not available. Try again shortly.", request_id);
    else if (json == NULL)
        send_401_json(req, request_id);
    else
        send_json(req, 200, json);
    free(json);
}

static void send_logout_page(auth_op_t *op)
{
    int down;
    const as_session_record_t *r = found_record(op, &down);
    char csrf[AS_CSRF_TOKEN_LEN + 1] = "";
    char user[256] = "";
    int ok = r != NULL && as_csrf_token(op->session_id, strlen(op->session_id), "logout", csrf) == 0;
    if (ok)
        snprintf(user, sizeof(user), "%s", r->email != NULL ? r->email : r->subject);
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    h2o_req_t *req = op_end(op);
    if (req == NULL)
        return;
    if (down) {
        gw_send_error(req, 503, "The session store is not available. Try again shortly.", request_id);
        return;
    }
    if (!ok) {
        send_redirect(req, "/");
        return;
    }
    const gw_static_asset_t *page = gw_static_asset_find("logout.html");
    gw_template_var_t vars[] = {{"csrf", csrf}, {"user", user}};
    h2o_iovec_t body = gw_template_render(&req->pool, page->data, page->size, vars, 2);
    OPENSSL_cleanse(csrf, sizeof(csrf));
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = body.len;
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "text/html; charset=utf-8");
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, body.base, body.len);
}

static void on_session_deleted(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    auth_op_t *op = data;
    op->status = status;
    lookup_done(op);
}

static void finish_logout(auth_op_t *op)
{
    int failed = op->status != AS_STORE_OK && op->status != AS_STORE_NOT_FOUND;
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    char *location = op->redirect;
    op->redirect = NULL;
    h2o_req_t *req = op_end(op);
    if (req != NULL) {
        if (failed) {
            gw_send_error(req, 503, "The session store is not available. Try again shortly.", request_id);
        } else {
            set_cookie(req, SESSION_COOKIE, "", 0);
            send_redirect(req, location != NULL ? location : "/");
        }
    }
    free(location);
}

/* POST /authservice/logout after the lookup: delete the session everywhere, then off to the IdP. */
static void do_logout(auth_op_t *op)
{
    int down;
    const as_session_record_t *r = found_record(op, &down);
    if (r == NULL && down) {
        finish_logout(op);
        return;
    }
    if (r != NULL) {
        oidc_provider_status_t st;
        op->redirect = oidc_provider_end_session_url(op->w->auth->provider, r->id_token,
                                                     op->w->auth->post_logout_uri, NULL, &st);
    }
    if (op->key[0] == '\0' || op->w->store == NULL) {
        op->status = op->key[0] == '\0' ? AS_STORE_NOT_FOUND : AS_STORE_UNAVAILABLE;
        finish_logout(op);
        return;
    }
    if (op->store_key == NULL && (op->store_key = prefixed("session:", op->key)) == NULL) {
        op->status = AS_STORE_ERROR;
        finish_logout(op);
        return;
    }
    as_session_cache_invalidate(op->w->auth->cache, op->key);
    char *seen = seen_key(op->key);
    if (seen != NULL)
        as_store_del(op->w->store, seen, ignore_result, NULL);
    free(seen);
    op->kind = OP_LOGOUT + 100; /* next completion finishes */
    op->in_call = 1;
    op->done_in_call = 0;
    int rc = as_store_del(op->w->store, op->store_key, on_session_deleted, op);
    op->in_call = 0;
    if (rc != 0) {
        op->status = AS_STORE_ERROR;
        finish_logout(op);
    } else if (op->done_in_call) {
        finish_logout(op);
    }
}

static void lookup_finish(auth_op_t *op)
{
    switch ((int)op->kind) {
    case OP_IDENTIFY:
        on_identify_done(op);
        break;
    case OP_ME:
        send_me(op);
        break;
    case OP_LOGOUT_PAGE:
        send_logout_page(op);
        break;
    case OP_LOGOUT:
        if (op->req == NULL)
            op_end(op);
        else
            do_logout(op);
        break;
    case OP_LOGOUT + 100:
        finish_logout(op);
        break;
    default:
        op_end(op);
    }
}

static void start_lookup(auth_op_t *op)
{
    int rc = lookup_session(op);
    if (rc != 0)
        lookup_finish(op); /* answered now (or the store cannot be asked: status says so) */
}

/* ---- /authservice/login ---- */

static void login_fail(auth_op_t *op, int status, const char *message)
{
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    h2o_req_t *req = op_end(op);
    if (req != NULL)
        gw_send_error(req, status, message, request_id);
}

static void on_login_state_added(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    auth_op_t *op = data;
    if (op->req == NULL) {
        op_end(op);
        return;
    }
    if (status != AS_STORE_OK) {
        login_fail(op, 503, "The session store is not available. Try again shortly.");
        return;
    }
    char cookie[AS_LOGIN_COOKIE_VALUE_SIZE];
    memcpy(cookie, op->login_cookie, sizeof(cookie));
    char *location = op->redirect;
    op->redirect = NULL;
    h2o_req_t *req = op_end(op);
    set_cookie(req, AS_LOGIN_COOKIE_NAME, cookie, LOGIN_TTL_MS / 1000);
    send_redirect(req, location);
    free(location);
}

static void login_with_discovery(auth_op_t *op)
{
    gw_auth_t *auth = op->w->auth;
    char state[OIDC_RANDOM_VALUE_SIZE], nonce[OIDC_RANDOM_VALUE_SIZE], verifier[OIDC_RANDOM_VALUE_SIZE],
        challenge[OIDC_PKCE_CHALLENGE_SIZE];
    if (oidc_state_new(state, sizeof(state)) != 0 || oidc_nonce_new(nonce, sizeof(nonce)) != 0 ||
        oidc_pkce_verifier_new(verifier, sizeof(verifier)) != 0 ||
        oidc_pkce_challenge_s256(verifier, challenge, sizeof(challenge)) != 0) {
        login_fail(op, 500, "Could not start the login.");
        return;
    }
    oidc_provider_status_t st;
    op->redirect = oidc_provider_authorize_url(auth->provider, NULL, auth->redirect_uri, auth->scope, state,
                                               nonce, challenge, NULL, &st);
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
    find_cookie(op->req, AS_LOGIN_COOKIE_NAME, &old, &old_len);
    char *key = prefixed("login:", state);
    if (json == NULL || key == NULL || as_login_cookie_push(old, old_len, state, op->login_cookie) < 0 ||
        op->w->store == NULL) {
        if (json != NULL)
            OPENSSL_cleanse(json, strlen(json));
        free(json);
        free(key);
        login_fail(op, op->w->store == NULL ? 503 : 500, "Could not start the login.");
        return;
    }
    int rc = as_store_add(op->w->store, key, json, strlen(json), LOGIN_TTL_MS, on_login_state_added, op);
    OPENSSL_cleanse(json, strlen(json));
    free(json);
    free(key);
    if (rc != 0)
        login_fail(op, 503, "The session store is not available. Try again shortly.");
}

static void on_discovery_loaded(oidc_provider_status_t status, void *data)
{
    auth_op_t *op = data;
    if (op->req == NULL) {
        op_end(op);
        return;
    }
    if (status != OIDC_PROVIDER_OK) {
        tg_log_warn("auth", "identity provider not available: %s", oidc_provider_status_code(status));
        login_fail(op, 503, "The identity provider is not available. Try again shortly.");
        return;
    }
    login_with_discovery(op);
}

static void start_login(auth_op_t *op, const char *query, size_t query_len)
{
    const char *rd = NULL;
    size_t rd_len = 0;
    char path[AS_RETURN_PATH_MAX + 1];
    form_param(query, query_len, "rd", &rd, &rd_len);
    as_return_path_sanitize(rd, rd_len, path, sizeof(path));
    op->return_to = strdup(path);
    if (op->return_to == NULL) {
        login_fail(op, 500, "Out of memory.");
        return;
    }
    if (oidc_provider_load(op->w->auth->provider, op->w->http, 0, on_discovery_loaded, op) !=
        OIDC_PROVIDER_OK)
        login_fail(op, 503, "The identity provider is not available. Try again shortly.");
}

/* ---- /authservice/callback ---- */

static void on_seen_stored(void *data, as_store_status_t status, const char *value, size_t len);

static void on_session_stored(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    auth_op_t *op = data;
    if (op->req == NULL || status != AS_STORE_OK) {
        on_seen_stored(op, status, NULL, 0);
        return;
    }
    char *seen = seen_key(op->key);
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
    auth_op_t *op = data;
    if (op->req == NULL) {
        op_end(op);
        return;
    }
    if (status != AS_STORE_OK) {
        login_fail(op, 503, "The session store is not available. Try again shortly.");
        return;
    }
    char id[AS_SESSION_ID_LEN + 1], cookie[AS_LOGIN_COOKIE_VALUE_SIZE], state[AS_LOGIN_STATE_LEN + 1];
    memcpy(id, op->session_id, sizeof(id));
    memcpy(state, op->state, sizeof(state));
    const char *old = NULL;
    size_t old_len = 0;
    find_cookie(op->req, AS_LOGIN_COOKIE_NAME, &old, &old_len);
    int left = as_login_cookie_remove(old, old_len, state, cookie);
    char *location = strdup(op->login->return_to);
    int64_t lifetime = (int64_t)(op->w->auth->settings->absolute_timeout_ms / 1000);
    h2o_req_t *req = op_end(op);
    set_cookie(req, SESSION_COOKIE, id, lifetime);
    set_cookie(req, AS_LOGIN_COOKIE_NAME, cookie, left > 0 ? LOGIN_TTL_MS / 1000 : 0);
    OPENSSL_cleanse(id, sizeof(id));
    send_redirect(req, location != NULL ? location : "/");
    free(location);
}

static void on_id_token_verified(oidc_provider_verify_result_t *result, void *data)
{
    auth_op_t *op = data;
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
        op_end(op);
        return;
    }
    if (record == NULL) {
        login_fail(op, 401, "The login could not be completed. Please sign in again.");
        return;
    }
    char err[128];
    char *json = as_session_record_to_json(record, err, sizeof(err));
    as_session_record_free(record);
    if (json == NULL || as_session_id_generate(op->session_id) != 0) {
        free(json);
        login_fail(op, 500, "The login could not be completed.");
        return;
    }
    as_session_key(op->session_id, AS_SESSION_ID_LEN, op->key);
    char *key = prefixed("session:", op->key);
    int rc = key != NULL ? as_store_set(op->w->store, key, json, strlen(json),
                                        op->w->auth->settings->absolute_timeout_ms, on_session_stored, op)
                         : -1;
    OPENSSL_cleanse(json, strlen(json));
    free(json);
    free(key);
    if (rc != 0)
        login_fail(op, 503, "The session store is not available. Try again shortly.");
}

static void on_code_exchanged(oidc_token_result_t *result, void *data)
{
    auth_op_t *op = data;
    if (op->req == NULL) {
        oidc_tokens_free(result->tokens);
        op_end(op);
        return;
    }
    if (result->status != OIDC_PROVIDER_OK || result->tokens == NULL || result->tokens->id_token == NULL) {
        tg_log_info("auth", "code exchange failed: %s (HTTP %ld)", oidc_provider_status_code(result->status),
                    result->http_status);
        oidc_tokens_free(result->tokens);
        int idp_down = result->status != OIDC_PROVIDER_GRANT_REJECTED &&
                       result->status != OIDC_PROVIDER_REQUEST_REJECTED;
        login_fail(op, idp_down ? 502 : 400, "The login could not be completed. Please sign in again.");
        return;
    }
    /* the code is spent: keep the ID token in its place until the record is built */
    OPENSSL_cleanse(op->code, strlen(op->code));
    free(op->code);
    op->code = strdup(result->tokens->id_token);
    oidc_tokens_free(result->tokens);
    if (op->code == NULL) {
        login_fail(op, 500, "Out of memory.");
        return;
    }
    gw_auth_t *auth = op->w->auth;
    oidc_claims_options_t claims;
    oidc_claims_options_init(&claims, NULL, auth->settings->client_id, (int64_t)time(NULL));
    claims.issuer = oidc_provider_issuer(auth->provider);
    claims.nonce = op->login->nonce;
    if (oidc_provider_verify(auth->provider, op->w->http, op->code, &claims, on_id_token_verified, op) !=
        OIDC_PROVIDER_OK)
        login_fail(op, 401, "The login could not be completed. Please sign in again.");
}

static void on_state_taken(void *data, as_store_status_t status, const char *value, size_t len)
{
    auth_op_t *op = data;
    as_login_state_t *login = NULL;
    if (status == AS_STORE_OK && as_login_state_from_json(value, len, &login, NULL, 0) != 0)
        status = AS_STORE_NOT_FOUND;
    if (op->req == NULL) {
        as_login_state_free(login);
        op_end(op);
        return;
    }
    if (status == AS_STORE_NOT_FOUND) {
        login_fail(op, 400, "This login link is unknown or was already used. Please sign in again.");
        return;
    }
    if (status != AS_STORE_OK) {
        login_fail(op, 503, "The session store is not available. Try again shortly.");
        return;
    }
    op->login = login;
    if (strcmp(login->state, op->state) != 0) {
        login_fail(op, 400, "This login link is unknown. Please sign in again.");
        return;
    }
    gw_auth_t *auth = op->w->auth;
    if (oidc_provider_exchange_code(auth->provider, op->w->http, op->code, login->pkce_verifier,
                                    auth->redirect_uri, on_code_exchanged, op) != OIDC_PROVIDER_OK)
        login_fail(op, 502, "The login could not be completed. Please sign in again.");
}

static void start_callback(auth_op_t *op, const char *query, size_t query_len)
{
    const char *state = NULL, *code = NULL, *cookie = NULL;
    size_t state_len = 0, code_len = 0, cookie_len = 0;
    if (!form_param(query, query_len, "state", &state, &state_len) ||
        !as_login_state_is_well_formed(state, state_len)) {
        login_fail(op, 400, "The login response is incomplete. Please sign in again.");
        return;
    }
    memcpy(op->state, state, state_len);
    op->state[state_len] = '\0';
    if (!find_cookie(op->req, AS_LOGIN_COOKIE_NAME, &cookie, &cookie_len) ||
        !as_login_cookie_contains(cookie, cookie_len, op->state)) {
        login_fail(op, 400, "This login was not started in this browser. Please sign in again.");
        return;
    }
    if (!form_param(query, query_len, "code", &code, &code_len) || code_len == 0 ||
        (op->code = form_decode(code, code_len)) == NULL) {
        /* an IdP error (access_denied...) lands here too: its text is never shown */
        login_fail(op, 400, "The login was not completed. Please sign in again.");
        return;
    }
    char *key = prefixed("login:", op->state);
    int rc = key != NULL && op->w->store != NULL ? as_store_take(op->w->store, key, on_state_taken, op) : -1;
    free(key);
    if (rc != 0)
        login_fail(op, 503, "The session store is not available. Try again shortly.");
}

/* ---- dispatch ---- */

int gw_auth_handle(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len, size_t query_at,
                   const char *request_id)
{
    size_t plen = query_at != SIZE_MAX ? query_at : path_len;
    if (w == NULL || plen < sizeof(PREFIX) - 1 || memcmp(path, PREFIX, sizeof(PREFIX) - 1) != 0)
        return 0;
    const char *name = path + sizeof(PREFIX) - 1;
    size_t name_len = plen - (sizeof(PREFIX) - 1);
    const char *query = query_at != SIZE_MAX ? path + query_at + 1 : "";
    size_t query_len = query_at != SIZE_MAX ? path_len - query_at - 1 : 0;
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    int post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
#define IS(lit) (name_len == sizeof(lit) - 1 && memcmp(name, lit, name_len) == 0)
    op_kind_t kind;
    if (IS("login") && get)
        kind = OP_LOGIN;
    else if (IS("callback") && get)
        kind = OP_CALLBACK;
    else if (IS("me") && get)
        kind = OP_ME;
    else if (IS("logout") && get)
        kind = OP_LOGOUT_PAGE;
    else if (IS("logout") && post)
        kind = OP_LOGOUT;
    else if (IS("login") || IS("callback") || IS("me") || IS("logout")) {
        gw_send_error(req, 405, "This method is not allowed here.", request_id);
        return 1;
    } else {
        gw_send_error(req, 404, "No such page.", request_id);
        return 1;
    }
#undef IS
    if (kind == OP_LOGOUT) {
        const char *id, *token;
        size_t id_len, token_len;
        if (!find_cookie(req, SESSION_COOKIE, &id, &id_len) || !as_session_id_is_well_formed(id, id_len) ||
            !form_param(req->entity.base != NULL ? req->entity.base : "", req->entity.len, "csrf", &token,
                        &token_len) ||
            !as_csrf_check(id, id_len, "logout", token, token_len)) {
            gw_send_error(req, 403, "The sign-out form has expired. Open the sign-out page again.",
                          request_id);
            return 1;
        }
    }
    auth_op_t *op = op_new(w, req, kind, request_id);
    if (op == NULL) {
        gw_send_error(req, 500, "Out of memory.", request_id);
        return 1;
    }
    switch (kind) {
    case OP_LOGIN:
        start_login(op, query, query_len);
        break;
    case OP_CALLBACK:
        start_callback(op, query, query_len);
        break;
    default:
        start_lookup(op);
        break;
    }
    return 1;
}
