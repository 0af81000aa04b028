#include <stdlib.h>
#include <string.h>

#include "auth_int.h"
#include "authservice/login_flow.h"
#include "error_page.h"
#include "oidc/url.h"
#include "request_resume.h"

/* Tags the session lookup's result handed to a resumed request (request_resume.h). */
static const char identify_tag = 'S';

int gw_request_is_api(h2o_req_t *req, const char *path, size_t path_len, const char *const *api_prefixes)
{
    size_t accept_len = 0, auth_len = 0;
    as_request_kind_t kind = {
        .method = req->method.base,
        .method_len = req->method.len,
        .path = path,
        .path_len = path_len,
        .accept = gw__auth_header_value(req, H2O_TOKEN_ACCEPT, &accept_len),
        .has_x_requested_with =
            h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-requested-with"), -1) >= 0,
        .authorization = gw__auth_header_value(req, H2O_TOKEN_AUTHORIZATION, &auth_len),
        .api_prefixes = api_prefixes,
    };
    kind.accept_len = accept_len;
    kind.authorization_len = auth_len;
    return as_request_is_api(&kind);
}

/* The request being identified, and what its answer needs. */
typedef struct {
    gw_auth_worker_t *w;
    h2o_req_t *req;
    const char *path;
    size_t path_len, target_len;
    const char *request_id;
} identify_req_t;

/* No session: a 401 for API clients, else off to the login page with the way back. */
static void deny(const identify_req_t *q)
{
    if (gw_request_is_api(q->req, q->path, q->path_len, q->w->auth->api_prefixes)) {
        gw__auth_send_401_json(q->req, q->request_id);
        return;
    }
    char *rd = oidc_url_encode(q->path, q->target_len);
    char *location = rd != NULL ? gw__auth_prefixed(GW_AUTH_PREFIX "login?rd=", rd) : NULL;
    if (location == NULL)
        gw_send_error(q->req, 500, "Out of memory.", q->request_id);
    else
        gw__auth_send_redirect(q->req, location);
    free(rd);
    free(location);
}

/*
 * The identity of cached session session (record r, store key key), copied
 * into the request's pool: the cached record may go away before the request
 * does. The strings share one pool block, the groups header among them, as
 * the cache made it: one pool allocation per string, an 8 KiB stack buffer
 * for the header and its copy were most of this function's cost on every hit.
 */
static void identity_from_record(h2o_req_t *req, const as_cached_session_t *session,
                                 const as_session_record_t *r, const char *key, as_identity_t *identity)
{
    enum { SUBJECT, ISSUER, EMAIL, NAME, KEY, GROUPS_HEADER, STRINGS };
    size_t header_len;
    const char *from[STRINGS] = {
        [SUBJECT] = r->subject,
        [ISSUER] = r->issuer,
        [EMAIL] = r->email != NULL && r->email[0] != '\0' ? r->email : NULL,
        [NAME] = r->name,
        [KEY] = key,
        [GROUPS_HEADER] = as_cached_session_groups_header(session, &header_len),
    };
    size_t sizes[STRINGS], total = 0;
    for (size_t i = 0; i < STRINGS; ++i)
        total += sizes[i] = i == GROUPS_HEADER ? header_len + 1 : from[i] != NULL ? strlen(from[i]) + 1 : 0;
    char *at = h2o_mem_alloc_pool(&req->pool, total);
    const char *to[STRINGS];
    for (size_t i = 0; i < STRINGS; ++i) {
        to[i] = from[i] != NULL ? memcpy(at, from[i], sizes[i]) : NULL;
        at += sizes[i];
    }
    const char **groups = h2o_mem_alloc_pool(&req->pool, sizeof(*groups) * (r->group_count + 1));
    for (size_t i = 0; i < r->group_count; ++i)
        groups[i] = gw__auth_pool_strdup(req, r->groups[i]);
    groups[r->group_count] = NULL;
    *identity = (as_identity_t){
        .source = AS_IDENTITY_SESSION,
        .subject = to[SUBJECT],
        .issuer = to[ISSUER],
        .email = to[EMAIL],
        .name = to[NAME],
        .groups = groups,
        .group_count = r->group_count,
        .groups_header = to[GROUPS_HEADER],
        .session_key = to[KEY],
        .expires_at = r->expires_at,
    };
    identity->userid = to[EMAIL] != NULL ? to[EMAIL] : identity->subject;
}

/*
 * Uses what a lookup found (status, session, store key key), from the cache
 * at once or from the store after a miss: 0 with identity, or 1 when the
 * request was answered.
 */
static int identify_with(const identify_req_t *q, as_store_status_t status,
                         const as_cached_session_t *session, const char *key, as_identity_t *identity)
{
    int down;
    const as_session_record_t *r = gw__auth_live_record(status, session, &down);
    if (r == NULL) {
        if (down)
            gw_send_error(q->req, 503, GW_AUTH_STORE_DOWN, q->request_id);
        else
            deny(q);
        return 1;
    }
    const char *user = r->email != NULL && r->email[0] != '\0' ? r->email : r->subject;
    for (const char *p = user; *p != '\0'; ++p)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) { /* would split the upstream's header */
            gw_send_error(q->req, 403, "This account cannot be used here.", q->request_id);
            return 1;
        }
    identity_from_record(q->req, session, r, key, identity);
    gw__auth_maybe_refresh(q->w, r, key);
    gw__auth_ws_track(q->req, key);
    return 0;
}

/* identify_with the answer op's lookup got, then the end of op. */
static int identify_with_op(const identify_req_t *q, gw_auth_op_t *op, as_identity_t *identity)
{
    int rc = identify_with(q, op->status, op->session, op->key, identity);
    gw__auth_op_end(op);
    return rc;
}

void gw__auth_identify_done(gw_auth_op_t *op)
{
    h2o_req_t *req = op->req;
    if (req == NULL) {
        gw__auth_op_end(op);
        return;
    }
    op->link->op = NULL; /* the second pass owns op now */
    op->req = NULL;
    gw_auth_op_t *left = gw_request_resume(req, op->resume, op->handler, &identify_tag, op);
    if (left != NULL) /* not taken (another handler answered) */
        gw__auth_op_end(left);
}

int gw_auth_identify(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len,
                     size_t target_len, const char *request_id, gw_auth_resume_cb resume,
                     h2o_handler_t *handler, as_identity_t *identity)
{
    *identity = AS_IDENTITY_ANONYMOUS;
    if (w == NULL)
        return 0;
    const identify_req_t q = {.w = w,
                              .req = req,
                              .path = path,
                              .path_len = path_len,
                              .target_len = target_len,
                              .request_id = request_id};
    gw_auth_op_t *resumed = gw_request_take_resumed(req, &identify_tag);
    if (resumed != NULL)
        return identify_with_op(&q, resumed, identity);
    /* the cache first, without an operation: a hit (most requests) never suspends */
    char key[AS_SESSION_KEY_LEN + 1];
    as_store_status_t status;
    as_cached_session_t *session;
    if (gw__auth_probe_session(w, req, key, &status, &session) != 0) {
        int rc = identify_with(&q, status, session, key, identity);
        as_cached_session_release(session);
        return rc;
    }
    /* a miss: the store is read by an operation that outlives this call when the read suspends */
    gw_auth_op_t *op = gw__auth_op_new(w, req, GW_AUTH_OP_IDENTIFY, request_id);
    if (op == NULL) {
        gw_send_error(req, 500, "Out of memory.", request_id);
        return 1;
    }
    memcpy(op->key, key, sizeof(op->key));
    op->resume = resume;
    op->handler = handler;
    if (gw__auth_read_session(op) == 0)
        return 1; /* suspended */
    return identify_with_op(&q, op, identity);
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
