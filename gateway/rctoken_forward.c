#include "rctoken_forward.h"

#include <string.h>

int gw_rctoken_strips(const gw_rctoken_t *rctoken, const h2o_iovec_t *name)
{
    if (rctoken == NULL)
        return 0;
    const char *header = rctoken->settings->header;
    return h2o_lcstris(name->base, name->len, H2O_STRLIT("authorization")) ||
           h2o_lcstris(name->base, name->len, header, strlen(header));
}

int gw_rctoken_forward(const gw_rctoken_t *rctoken, as_rctoken_cache_t *cache, h2o_req_t *req,
                       const as_identity_t *identity, const gw_route_t *route,
                       const gw_route_target_t *target)
{
    if (rctoken == NULL || identity->source == AS_IDENTITY_NONE)
        return 0;
    const char *namespace_ = route->service->meta.namespace_;
    const char *audience = rctoken->settings->audience_namespace ? namespace_ : target->config->host;
    const char *token = cache == NULL
                            ? NULL
                            : as_rctoken_cache_get(cache, &rctoken->params, identity, audience, namespace_,
                                                   (int64_t)req->processed_at.at.tv_sec);
    if (token == NULL)
        return -1;
    const char *header = rctoken->settings->header;
    int bearer = strcmp(header, "authorization") == 0;
    size_t token_len = strlen(token), len = token_len + (bearer ? 7 : 0);
    char *value = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(value, "Bearer ", bearer ? 7 : 0);
    memcpy(value + len - token_len, token, token_len);
    h2o_add_header_by_str(&req->pool, &req->headers, header, strlen(header), 1, NULL, value, len);
    return 0;
}
