#include "retry_filter.h"

#include <string.h>

#include "retry.h"
#include "util/log.h"

#define PROXY_MODULE "lib/core/proxy.c"

/* The proxy's failure message for this try, if it logged one. */
static const h2o_req_error_log_t *try_error(h2o_req_t *req, const gw_upstream_try_t *try)
{
    for (size_t i = try->errors_before; i < req->error_logs.size; ++i)
        if (strcmp(req->error_logs.entries[i].module, PROXY_MODULE) == 0)
            return &req->error_logs.entries[i];
    return NULL;
}

/* Swallows the failed try's response until the deferred reprocess closes this stream. */
static void swallow(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                    h2o_send_state_t state)
{
    (void)self, (void)req, (void)bufs, (void)bufcnt, (void)state;
}

static const char *failure_name(gw_try_failure_t failure)
{
    switch (failure) {
    case GW_TRY_CONNECT_FAILURE:
        return "connect failure";
    case GW_TRY_RESET:
        return "reset";
    case GW_TRY_TIMEOUT:
        return "timeout";
    default:
        return "status";
    }
}

/* 1 when req was sent again (the caller swallows this response). */
static int retry(h2o_req_t *req)
{
    if (req->overrides == NULL || req->upgrade.base != NULL)
        return 0;
    gw_upstream_try_t *try = H2O_STRUCT_FROM_MEMBER(gw_upstream_try_t, overrides, req->overrides);
    const gw_retry_policy_t *policy = &try->route->config->retries;
    if (try->retries >= policy->attempts || !gw_retry_idempotent(req->method.base, req->method.len))
        return 0;
    const h2o_req_error_log_t *error = try_error(req, try);
    if (error == NULL && req->res.status < 500)
        return 0;
    gw_try_failure_t failure =
        error != NULL ? gw_retry_classify(error->msg.base, error->msg.len) : GW_TRY_STATUS;
    int status = error == NULL ? req->res.status : failure == GW_TRY_TIMEOUT ? 504 : 502;
    if (!gw_retry_on_matches(policy->retry_on, failure, status))
        return 0;
    long failed = try->endpoint;
    long endpoint = gw_worker_upstream_retry(try->upstream, try->target, failed, status, &try->overrides);
    if (endpoint < 0)
        return 0;
    try->endpoint = endpoint;
    ++try->retries;
    try->errors_before = req->error_logs.size;
    ssize_t id = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    h2o_iovec_t request_id = id >= 0 ? req->headers.entries[id].value : h2o_iovec_init(H2O_STRLIT("-"));
    tg_log_info("retry", "request %.*s: try %u failed (%s, %d), retrying", (int)request_id.len,
                request_id.base, try->retries, failure_name(failure), status);
    h2o_reprocess_request_deferred(req, req->method, req->scheme, req->authority, req->path, &try->overrides,
                                   0);
    return 1;
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    if (retry(req)) {
        h2o_ostream_t *ostream = h2o_add_ostream(req, sizeof(*ostream), slot);
        ostream->do_send = swallow;
        return;
    }
    h2o_setup_next_ostream(req, slot);
}

void gw_retry_filter_register(h2o_pathconf_t *pathconf)
{
    h2o_filter_t *self = h2o_create_filter(pathconf, sizeof(*self));
    self->on_setup_ostream = on_setup_ostream;
}
