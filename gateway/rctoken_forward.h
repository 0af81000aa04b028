#ifndef GW_RCTOKEN_FORWARD_H
#define GW_RCTOKEN_FORWARD_H

/*
 * Sets the RCToken on a request about to be proxied. The client's own
 * Authorization (and the configured header) never reach the upstream: the
 * edge handler strips them (gw_rctoken_strips) before this adds ours.
 */

#include <h2o.h>

#include "authservice/identity.h"
#include "rctoken_context.h"
#include "router.h"

/** Tokens one worker keeps per generation. */
#define GW_RCTOKEN_CACHE_SIZE 4096

/** Whether a client-sent header called name must be removed because rctoken (may be NULL) is on. */
int gw_rctoken_strips(const gw_rctoken_t *rctoken, const h2o_iovec_t *name);

/**
 * Adds the token for identity and the route's destination to req (nothing
 * when rctoken is NULL or identity is anonymous): audience the destination
 * host or its namespace as configured, namespace claim the route's
 * namespace, from the worker's cache. Returns 0, or -1 when no token could
 * be minted (the caller answers 503: an upstream that needs one must not
 * get the request without it).
 */
int gw_rctoken_forward(const gw_rctoken_t *rctoken, as_rctoken_cache_t *cache, h2o_req_t *req,
                       const as_identity_t *identity, const gw_route_t *route,
                       const gw_route_target_t *target);

#endif
