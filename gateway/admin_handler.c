#include "admin_handler.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"

typedef struct {
    h2o_handler_t super;
    const atomic_int *ready;
} admin_handler_t;

static void send_text(h2o_req_t *req, int status, const char *reason, const char *body)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, strlen(body));
}

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    admin_handler_t *self = (admin_handler_t *)_self;
    int is_get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
                 h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/healthz"))) {
        if (is_get)
            send_text(req, 200, "OK", "ok\n");
        else
            send_text(req, 405, "Method Not Allowed", "method not allowed\n");
        return 0;
    }
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/readyz"))) {
        if (!is_get)
            send_text(req, 405, "Method Not Allowed", "method not allowed\n");
        else if (atomic_load(self->ready))
            send_text(req, 200, "OK", "ready\n");
        else
            send_text(req, 503, "Service Unavailable", "not ready\n");
        return 0;
    }
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/metrics"))) {
        if (!is_get) {
            send_text(req, 405, "Method Not Allowed", "method not allowed\n");
            return 0;
        }
        size_t len;
        char *body = gw_metrics_render(&len);
        if (body == NULL) {
            send_text(req, 503, "Service Unavailable", "out of memory\n");
            return 0;
        }
        h2o_iovec_t copy = h2o_strdup(&req->pool, body, len);
        free(body);
        req->res.status = 200;
        req->res.reason = "OK";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
        h2o_send_inline(req, copy.base, copy.len);
        return 0;
    }
    send_text(req, 404, "Not Found", "not found\n");
    return 0;
}

void gw_admin_handler_register(h2o_pathconf_t *pathconf, const atomic_int *ready)
{
    admin_handler_t *self = (admin_handler_t *)h2o_create_handler(pathconf, sizeof(*self));
    self->super.on_req = on_req;
    self->ready = ready;
}
