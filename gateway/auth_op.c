#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"
#include "error_page.h"
#include "metrics.h"

static void on_link_dispose(void *p)
{
    gw_auth_op_link_t *link = p;
    if (link->op != NULL)
        link->op->req = NULL;
}

gw_auth_op_t *gw__auth_op_new(gw_auth_worker_t *w, h2o_req_t *req, gw_auth_op_kind_t kind,
                              const char *request_id)
{
    gw_auth_op_t *op = calloc(1, sizeof(*op));
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

h2o_req_t *gw__auth_op_end(gw_auth_op_t *op)
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
    if (op->refresh_token != NULL)
        as_box_secret_free(op->refresh_token, strlen(op->refresh_token));
    free(op->return_to);
    free(op->redirect);
    free(op->store_key);
    OPENSSL_cleanse(op->session_id, sizeof(op->session_id));
    free(op);
    return req;
}

void gw__auth_op_fail(gw_auth_op_t *op, int status, const char *message)
{
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    if (op->kind == GW_AUTH_OP_LOGIN || op->kind == GW_AUTH_OP_CALLBACK)
        gw_metrics_login(GW_METRICS_LOGIN_FAILED);
    h2o_req_t *req = gw__auth_op_end(op);
    if (req != NULL)
        gw_send_error(req, status, message, request_id);
}

void gw__auth_lookup_done(gw_auth_op_t *op)
{
    if (op->in_call) {
        op->done_in_call = 1;
        return;
    }
    gw__auth_lookup_finish(op);
}

void gw__auth_lookup_finish(gw_auth_op_t *op)
{
    switch (op->kind) {
    case GW_AUTH_OP_IDENTIFY:
        gw__auth_identify_done(op);
        break;
    case GW_AUTH_OP_ME:
        gw__auth_send_me(op);
        break;
    case GW_AUTH_OP_LOGOUT_PAGE:
        gw__auth_send_logout_page(op);
        break;
    case GW_AUTH_OP_LOGOUT:
        if (op->req == NULL)
            gw__auth_op_end(op);
        else
            gw__auth_do_logout(op);
        break;
    case GW_AUTH_OP_LOGOUT_DELETED:
        gw__auth_finish_logout(op);
        break;
    case GW_AUTH_OP_BACKCHANNEL: /* not a lookup: never comes here */
    default:
        gw__auth_op_end(op);
    }
}
