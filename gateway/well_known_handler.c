#include "well_known_handler.h"

#include <string.h>

#include "error_page.h"

int gw_well_known_handle(const gw_rctoken_t *rctoken, h2o_req_t *req, const char *path, size_t path_len,
                         const char *request_id)
{
    if (rctoken == NULL)
        return 0;
    const char *body;
    size_t body_len;
    if (h2o_memis(path, path_len, H2O_STRLIT("/.well-known/jwks.json"))) {
        body = as_rctoken_keys_jwks(rctoken->keys, &body_len);
    } else if (h2o_memis(path, path_len, H2O_STRLIT("/.well-known/openid-configuration"))) {
        body = rctoken->discovery;
        body_len = rctoken->discovery_len;
    } else {
        return 0;
    }
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        gw_send_error(req, 405, "Only GET and HEAD are allowed here.", request_id);
        return 1;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = body_len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, rctoken->cache_control,
                   strlen(rctoken->cache_control));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL,
                   H2O_STRLIT("*"));
    h2o_send_inline(req, body, body_len);
    return 1;
}
