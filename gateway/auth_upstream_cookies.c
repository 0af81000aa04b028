#include <string.h>

#include "auth_int.h"
#include "authservice/cookie.h"

void gw_auth_strip_gateway_cookies(h2o_req_t *req)
{
    static const char *const names[] = {GW_AUTH_SESSION_COOKIE, AS_LOGIN_COOKIE_NAME, NULL};
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        h2o_iovec_t *value = &req->headers.entries[i].value;
        char *out = h2o_mem_alloc_pool(&req->pool, 2 * value->len + 1);
        size_t out_len;
        if (as_cookie_remove(value->base, value->len, names, out, &out_len) == 0)
            continue;
        if (out_len == 0) {
            h2o_delete_header(&req->headers, i);
            --i; /* the next header moved into slot i */
        } else {
            *value = h2o_iovec_init(out, out_len);
        }
    }
}
