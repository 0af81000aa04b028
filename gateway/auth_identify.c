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

/* No session: a 401 for API clients, else off to the login page with the way back. */
static void deny(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len, size_t target_len,
                 const char *request_id)
{
    if (gw_request_is_api(req, path, path_len, w->auth->api_prefixes)) {
        gw__auth_send_401_json(req, request_id);
        return;
    }
    char *rd = oidc_url_encode(path, target_len);
    char *location = rd != NULL ? gw__auth_prefixed(GW_AUTH_PREFIX "login?rd=", rd) : NULL;
    if (location == NULL)
        gw_send_error(req, 500, "Out of memory.", request_id);
    else
        gw__auth_send_redirect(req, location);
    free(rd);
    free(location);
}

/* The identity of session record r (store key key), copied into the request's pool: the cached record may
 * go away before the request does. */
static void identity_from_record(h2o_req_t *req, const as_session_record_t *r, const char *key,
                                 as_identity_t *identity)
{
    const char **groups = h2o_mem_alloc_pool(&req->pool, sizeof(*groups) * (r->group_count + 1));
    for (size_t i = 0; i < r->group_count; ++i)
        groups[i] = gw__auth_pool_strdup(req, r->groups[i]);
    groups[r->group_count] = NULL;
    /* built on the stack, then copied at its length: an 8 KiB pool block (larger than a pool chunk) would be
     * a malloc and a free of its own on every request (docs/benchmarks.md) */
    char header[8192];
    as_groups_header(r, header, sizeof(header));
    const char *groups_header = gw__auth_pool_strdup(req, header);
    const char *email = r->email != NULL && r->email[0] != '\0' ? gw__auth_pool_strdup(req, r->email) : NULL;
    *identity = (as_identity_t){
        .source = AS_IDENTITY_SESSION,
        .subject = gw__auth_pool_strdup(req, r->subject),
        .issuer = gw__auth_pool_strdup(req, r->issuer),
        .email = email,
        .name = gw__auth_pool_strdup(req, r->name),
        .groups = groups,
        .group_count = r->group_count,
        .groups_header = groups_header,
        .session_key = gw__auth_pool_strdup(req, key),
        .expires_at = r->expires_at,
    };
    identity->userid = email != NULL ? email : identity->subject;
}

/* Uses what a lookup found for the identity step: 0 with identity, or 1 when the request was answered. */
static int identify_with(gw_auth_op_t *op, h2o_req_t *req, const char *path, size_t path_len,
                         size_t target_len, const char *request_id, as_identity_t *identity)
{
    int down;
    const as_session_record_t *r = gw__auth_found_record(op, &down);
    if (r == NULL) {
        if (down)
            gw_send_error(req, 503, GW_AUTH_STORE_DOWN, request_id);
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
    gw__auth_maybe_refresh(op->w, r, op->key);
    gw__auth_ws_track(req, op->key);
    return 0;
}

int gw_auth_is_resumed(const h2o_req_t *req)
{
    return gw_request_is_resumed(req);
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
    gw_auth_op_t *resumed = gw_request_take_resumed(req, &identify_tag);
    if (resumed != NULL) {
        gw_auth_op_t *op = resumed;
        int rc = identify_with(op, req, path, path_len, target_len, request_id, identity);
        gw__auth_op_end(op);
        return rc;
    }
    gw_auth_op_t *op = gw__auth_op_new(w, req, GW_AUTH_OP_IDENTIFY, request_id);
    if (op == NULL) {
        gw_send_error(req, 500, "Out of memory.", request_id);
        return 1;
    }
    op->resume = resume;
    op->handler = handler;
    int rc = gw__auth_lookup_session(op);
    if (rc == 0)
        return 1; /* suspended */
    rc = identify_with(op, req, path, path_len, target_len, request_id, identity);
    gw__auth_op_end(op);
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
