#include "upstream_error_filter.h"

#include <string.h>

#include "error_page.h"
#include "util/log.h"

#define PROXY_MODULE "lib/core/proxy.c"

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
} replacement_body_t;

/* The proxy's own error, if this response is one: h2o logs it on the request before sending its 502. */
static const h2o_req_error_log_t *proxy_error(h2o_req_t *req)
{
    if (req->res.status != 502)
        return NULL;
    for (size_t i = 0; i < req->error_logs.size; ++i)
        if (strcmp(req->error_logs.entries[i].module, PROXY_MODULE) == 0)
            return &req->error_logs.entries[i];
    return NULL;
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

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    const h2o_req_error_log_t *error = proxy_error(req);
    if (error != NULL) {
        int timeout = h2o_strstr(error->msg.base, error->msg.len, H2O_STRLIT("timeout")) != SIZE_MAX;
        ssize_t index = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
        const char *request_id = "";
        if (index >= 0)
            request_id = h2o_strdup(&req->pool, req->headers.entries[index].value.base,
                                    req->headers.entries[index].value.len)
                             .base;
        /* the cause goes to the log, never to the client */
        tg_log_warn("proxy", "request %s: upstream failed: %.*s", request_id, (int)error->msg.len,
                    error->msg.base);
        req->res.headers = (h2o_headers_t){NULL};
        int status = timeout ? 504 : 502;
        h2o_iovec_t body = gw_error_prepare(req, status,
                                            timeout ? "The upstream service did not answer in time."
                                                    : "The upstream service is unavailable.",
                                            request_id);
        replacement_body_t *replacement =
            (replacement_body_t *)h2o_add_ostream(req, sizeof(*replacement), slot);
        replacement->super.do_send = send_replacement;
        replacement->body = body;
        slot = &replacement->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

void gw_upstream_error_filter_register(h2o_pathconf_t *pathconf)
{
    h2o_filter_t *filter = h2o_create_filter(pathconf, sizeof(*filter));
    filter->on_setup_ostream = on_setup_ostream;
}
