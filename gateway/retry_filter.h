#ifndef GW_RETRY_FILTER_H
#define GW_RETRY_FILTER_H

/*
 * Retries of idempotent requests (VirtualService retries) on libh2o 2.2.5.
 * The proxy hands its failures (and the upstream's 5xx) to the response
 * filters before any byte goes to the client; this filter, registered in
 * front of the error filter, then swallows that response and reprocesses
 * the request towards another endpoint with h2o_reprocess_request_deferred,
 * the same way libh2o's own X-Reproxy-URL filter does an internal redirect.
 */

#include <h2o.h>

#include "router.h"
#include "worker_upstream.h"

/** Where a proxied request goes: the edge handler fills it, a retry moves it to another endpoint. */
typedef struct {
    h2o_req_overrides_t overrides; /* what the request is reprocessed with: the filter finds the try by it */
    gw_worker_upstream_t *upstream;
    const gw_route_t *route;
    const gw_route_target_t *target;
    long endpoint;        /* -1 until one is chosen */
    unsigned retries;     /* done so far */
    size_t errors_before; /* req->error_logs entries from earlier tries */
} gw_upstream_try_t;

/** Registers the retry filter on pathconf; only requests reprocessed with a gw_upstream_try_t's overrides. */
void gw_retry_filter_register(h2o_pathconf_t *pathconf);

#endif
