#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"
#include "authservice/csrf.h"
#include "error_page.h"
#include "static_assets.h"
#include "template.h"

int gw__auth_logout_check(h2o_req_t *req, const char *request_id)
{
    const char *id, *token;
    size_t id_len, token_len;
    if (!gw__auth_find_cookie(req, GW_AUTH_SESSION_COOKIE, &id, &id_len) ||
        !as_session_id_is_well_formed(id, id_len) ||
        !gw__auth_form_param(req->entity.base != NULL ? req->entity.base : "", req->entity.len, "csrf",
                             &token, &token_len) ||
        !as_csrf_check(id, id_len, "logout", token, token_len)) {
        gw_send_error(req, 403, "The sign-out form has expired. Open the sign-out page again.", request_id);
        return -1;
    }
    return 0;
}

void gw__auth_send_logout_page(gw_auth_op_t *op)
{
    int down;
    const as_session_record_t *r = gw__auth_found_record(op, &down);
    char csrf[AS_CSRF_TOKEN_LEN + 1] = "";
    char user[256] = "";
    int ok = r != NULL && as_csrf_token(op->session_id, strlen(op->session_id), "logout", csrf) == 0;
    if (ok)
        snprintf(user, sizeof(user), "%s", r->email != NULL ? r->email : r->subject);
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    h2o_req_t *req = gw__auth_op_end(op);
    if (req == NULL)
        return;
    if (down) {
        gw_send_error(req, 503, GW_AUTH_STORE_DOWN, request_id);
        return;
    }
    if (!ok) {
        gw__auth_send_redirect(req, "/");
        return;
    }
    const gw_static_asset_t *page = gw_static_asset_find("logout.html");
    gw_template_var_t vars[] = {{"csrf", csrf}, {"user", user}};
    h2o_iovec_t body = gw_template_render(&req->pool, page->data, page->size, vars, 2);
    OPENSSL_cleanse(csrf, sizeof(csrf));
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = body.len;
    gw__auth_add_header(req, H2O_TOKEN_CONTENT_TYPE, "text/html; charset=utf-8");
    gw__auth_add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, body.base, body.len);
}

static void on_session_deleted(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    gw_auth_op_t *op = data;
    op->status = status;
    gw__auth_lookup_done(op);
}

void gw__auth_finish_logout(gw_auth_op_t *op)
{
    int failed = op->status != AS_STORE_OK && op->status != AS_STORE_NOT_FOUND;
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    char *location = op->redirect;
    op->redirect = NULL;
    h2o_req_t *req = gw__auth_op_end(op);
    if (req != NULL) {
        if (failed) {
            gw_send_error(req, 503, GW_AUTH_STORE_DOWN, request_id);
        } else {
            gw__auth_set_cookie(req, GW_AUTH_SESSION_COOKIE, "", 0);
            gw__auth_send_redirect(req, location != NULL ? location : "/");
        }
    }
    free(location);
}

/* Deletes the session everywhere, then off to the IdP. */
void gw__auth_do_logout(gw_auth_op_t *op)
{
    int down;
    const as_session_record_t *r = gw__auth_found_record(op, &down);
    if (r == NULL && down) {
        gw__auth_finish_logout(op);
        return;
    }
    if (r != NULL) {
        oidc_provider_status_t st;
        op->redirect = oidc_provider_end_session_url(op->w->auth->provider, r->id_token,
                                                     op->w->auth->post_logout_uri, NULL, &st);
    }
    if (op->key[0] == '\0' || op->w->store == NULL) {
        op->status = op->key[0] == '\0' ? AS_STORE_NOT_FOUND : AS_STORE_UNAVAILABLE;
        gw__auth_finish_logout(op);
        return;
    }
    if (r != NULL)
        gw__auth_index_session(op->w, r, op->key, 0);
    op->kind = GW_AUTH_OP_LOGOUT_DELETED; /* the next completion finishes */
    op->in_call = 1;
    op->done_in_call = 0;
    int rc = gw__auth_end_session(op->w, op->key, on_session_deleted, op);
    op->in_call = 0;
    if (rc != 0) {
        op->status = AS_STORE_ERROR;
        gw__auth_finish_logout(op);
    } else if (op->done_in_call) {
        gw__auth_finish_logout(op);
    }
}
