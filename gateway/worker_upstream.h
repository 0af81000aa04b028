#ifndef GW_WORKER_UPSTREAM_H
#define GW_WORKER_UPSTREAM_H

/*
 * One worker's view of the upstreams of a router: keep-alive connection
 * pools per endpoint, an HTTP/1.1 client context per route target (so each
 * target gets its own I/O timeout and TLS identity), the split and load
 * balancing state (in-flight counts per endpoint), outlier detection, the
 * mirror copies in flight and the retry budget (docs/internals/traffic.md).
 * Owned by a single event loop: no locking.
 */

#include <h2o.h>

#include "router.h"

typedef struct gw_worker_upstream gw_worker_upstream_t;

/**
 * Builds the pools and client contexts of router for the loop of ctx.
 * default_timeout_ms applies to targets whose route sets no timeout.
 */
gw_worker_upstream_t *gw_worker_upstream_new(const gw_router_t *router, h2o_context_t *ctx,
                                             uint64_t default_timeout_ms);

/**
 * Retires the pools after a reload, once no request uses them any more:
 * closes their idle connections. Connections still open (websocket tunnels)
 * keep the memory alive until gw_worker_upstream_in_use says 0.
 */
void gw_worker_upstream_retire(gw_worker_upstream_t *upstream);

/** Connections of the pools that are still open (in use or idle). */
size_t gw_worker_upstream_in_use(gw_worker_upstream_t *upstream);

/**
 * Frees everything made by gw_worker_upstream_new, retiring the pools first
 * if that was not done. Only when gw_worker_upstream_in_use is 0, or at exit.
 */
void gw_worker_upstream_free(gw_worker_upstream_t *upstream);

/**
 * Picks the target of route for the next request of this worker: by the
 * hash of userid when the route's VirtualService has a sticky split and
 * userid is not NULL (sticky_split.h), else smooth weighted round robin.
 */
const gw_route_target_t *gw_worker_upstream_pick(gw_worker_upstream_t *upstream, const gw_route_t *route,
                                                 const char *userid);

/**
 * Fills overrides with the client context of target and the pool of an
 * endpoint of its cluster, chosen by the cluster's loadBalancer policy
 * (load_balancer.h) among the endpoints not ejected by outlier detection,
 * and counts the request in flight there. Returns the endpoint's index, or
 * -1 when every endpoint is ejected (the caller answers 503).
 */
long gw_worker_upstream_select(gw_worker_upstream_t *upstream, const gw_route_target_t *target,
                               h2o_req_overrides_t *overrides);

/**
 * Moves a request whose try at endpoint failed (failed_status: 502, 503 or
 * 504) to an endpoint of the same cluster, another one when there is one,
 * if this worker's retry budget allows (retry.h). Then reports the failed
 * try as gw_worker_upstream_report does and points overrides at the new
 * endpoint's pool. Returns the new endpoint, or -1 (nothing changed) when
 * the budget is spent or no endpoint is available.
 */
long gw_worker_upstream_retry(gw_worker_upstream_t *upstream, const gw_route_target_t *target, long failed,
                              int failed_status, h2o_req_overrides_t *overrides);

/**
 * Ends a request that gw_worker_upstream_select sent to endpoint of target's
 * cluster (call it exactly once, when the request is disposed): it is no
 * longer in flight, and its final status feeds outlier detection: 5xx counts
 * against the endpoint (502-504 also as gateway errors), anything else
 * clears its count, 0 (the client went away first) counts nothing.
 */
void gw_worker_upstream_report(gw_worker_upstream_t *upstream, const gw_route_target_t *target, long endpoint,
                               int status);

/** Mirror requests a worker keeps in flight per generation at most; more are dropped, never queued. */
#define GW_MIRROR_MAX_IN_FLIGHT 64
/** Bytes of mirror requests (head and body) a worker keeps in flight at most; more are dropped. */
#define GW_MIRROR_MAX_BYTES (16 * 1024 * 1024)

/** Where one mirror request goes: an endpoint of the route's mirror cluster. */
typedef struct {
    h2o_http1client_ctx_t *client_ctx;
    h2o_socketpool_t *pool;
    size_t cluster;
    long endpoint;
    size_t bytes; /* counted against GW_MIRROR_MAX_BYTES */
} gw_mirror_target_t;

/**
 * Whether this request of route is mirrored: the route has a mirror, its
 * mirrorPercentage says so (spread evenly over the worker's requests), fewer
 * than GW_MIRROR_MAX_IN_FLIGHT mirrors and GW_MIRROR_MAX_BYTES bytes (with
 * this copy's bytes) are in flight, and an endpoint is available. On 1
 * *target is filled and the mirror counts in flight (and keeps the pools
 * alive) until gw_worker_upstream_mirror_end.
 */
int gw_worker_upstream_mirror_begin(gw_worker_upstream_t *upstream, const gw_route_t *route, size_t bytes,
                                    gw_mirror_target_t *target);

/** Ends a mirror request that gw_worker_upstream_mirror_begin started. */
void gw_worker_upstream_mirror_end(gw_worker_upstream_t *upstream, const gw_mirror_target_t *target);

/** The list of this worker's mirror requests in flight (owned by mirror.c). */
h2o_linklist_t *gw_worker_upstream_mirror_list(gw_worker_upstream_t *upstream);

#endif
