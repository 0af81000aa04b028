#include "error_filter.h"

#include <string.h>

#include "error_page.h"
#include "trace_context.h"
#include "util/log.h"

#define PROXY_MODULE "lib/core/proxy.c"

typedef struct {
    h2o_filter_t super;
    int all_errors;
} error_filter_t;

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
} replacement_body_t;

/* The proxy's own failure, if this response is one: h2o logs it on the request before sending its 502. */
static const h2o_req_error_log_t *proxy_error(h2o_req_t *req)
{
    if (req->res.status != 502)
        return NULL;
    for (size_t i = 0; i < req->error_logs.size; ++i)
        if (strcmp(req->error_logs.entries[i].module, PROXY_MODULE) == 0)
            return &req->error_logs.entries[i];
    return NULL;
}

/* A client-safe sentence for an error h2o produced without a handler. */
static const char *message_for(int status)
{
    switch (status) {
    case 400:
        return "The request is malformed.";
    case 404:
        return "No route matches this path.";
    case 408:
        return "The request took too long to arrive.";
    case 413:
        return "The request body is larger than this gateway accepts.";
    case 417:
        return "The expectation in the request cannot be met.";
    default:
        return status >= 500 ? "The gateway could not complete the request."
                             : "The request cannot be served.";
    }
}

static void send_replacement(h2o_ostream_t *_self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                             h2o_send_state_t state)
{
    replacement_body_t *self = (replacement_body_t *)_self;
    if (h2o_send_state_is_in_progress(state)) {
        h2o_ostream_send_next(&self->super, req, NULL, 0, state);
        return;
    }
    h2o_ostream_send_next(&self->super, req, &self->body, 1, H2O_SEND_STATE_FINAL);
}

/* The request id the edge handler set, or a fresh one for requests that never reached it. */
static const char *request_id_of(h2o_req_t *req)
{
    ssize_t index = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (index >= 0)
        return h2o_strdup(&req->pool, req->headers.entries[index].value.base,
                          req->headers.entries[index].value.len)
            .base;
    char *id = h2o_mem_alloc_pool(&req->pool, GW_REQUEST_ID_SIZE);
    if (gw_request_id_generate(id) != 0)
        id[0] = '\0';
    return id;
}

static void on_setup_ostream(h2o_filter_t *_self, h2o_req_t *req, h2o_ostream_t **slot)
{
    error_filter_t *self = (error_filter_t *)_self;
    const h2o_req_error_log_t *error = proxy_error(req);
    int status = req->res.status;
    const char *message = NULL;
    if (error != NULL) {
        int timeout = h2o_strstr(error->msg.base, error->msg.len, H2O_STRLIT("timeout")) != SIZE_MAX;
        status = timeout ? 504 : 502;
        message =
            timeout ? "The upstream service did not answer in time." : "The upstream service is unavailable.";
    } else if (self->all_errors && status >= 400) {
        message = message_for(status);
    }
    if (message != NULL) {
        const char *request_id = request_id_of(req);
        if (error != NULL)
            tg_log_warn("proxy", "request %s: upstream failed: %.*s", request_id, (int)error->msg.len,
                        error->msg.base);
        memset(&req->res.headers, 0, sizeof(req->res.headers));
        h2o_iovec_t body = gw_error_prepare(req, status, message, request_id);
        replacement_body_t *replacement =
            (replacement_body_t *)h2o_add_ostream(req, sizeof(*replacement), slot);
        replacement->super.do_send = send_replacement;
        replacement->body = body;
        slot = &replacement->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

void gw_error_filter_register(h2o_pathconf_t *pathconf, int all_errors)
{
    error_filter_t *self = (error_filter_t *)h2o_create_filter(pathconf, sizeof(*self));
    self->super.on_setup_ostream = on_setup_ostream;
    self->all_errors = all_errors;
}
