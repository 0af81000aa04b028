#ifndef GW_REQUEST_OBSERVER_H
#define GW_REQUEST_OBSERVER_H

/*
 * Watches one edge request from its start to the end of its memory, then
 * counts it in the metrics (metrics.h: route, status class, reason, duration)
 * and, when the generation has one, writes its access log line (JSON: time,
 * request_id, namespace, route, method, path without the query, status,
 * duration, upstream cluster, bytes, userid). Never headers, cookies, tokens
 * or the query string.
 */

#include <h2o.h>

#include "generation.h"
#include "router.h"

typedef struct gw_observation gw_observation_t;

/**
 * The observation of req: made on the request's first pass through the edge
 * handler (from the request pool), found again on a pass resumed after a
 * session lookup. request_id is the one the gateway uses from now on.
 */
gw_observation_t *gw_observe_begin(h2o_req_t *req, gw_generation_t *generation, const char *request_id);

/** The request was routed to target of route (of generation) for userid (may be NULL). */
void gw_observe_route(gw_observation_t *observation, const gw_generation_t *generation,
                      const gw_route_t *route, const gw_route_target_t *target, const char *userid);

#endif
