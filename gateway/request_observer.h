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
#include <stdint.h>

#include "generation.h"
#include "jsonl.h"
#include "router.h"

/* What the observer keeps of one request, in storage its caller keeps from gw_observe_begin to
 * gw_observe_end (the edge handler's per-request frame). The fields are the observer's. */
typedef struct gw_observation {
    struct gw_observation *prev, *next; /* the worker's live observations */
    h2o_req_t *req;                     /* NULL: not begun */
    uint64_t started_us;
    const char *request_id; /* the one the gateway uses for req (x-request-id, logs) */
    gw_jsonl_t *access_log; /* a reference, or NULL */
    unsigned route_label, namespace_label, cluster_label;
    /* pool copies for the access log (NULL: not routed) */
    const char *namespace_, *route, *upstream, *userid;
} gw_observation_t;

/**
 * Starts observing req in o, on the request's first pass through the edge
 * handler; request_id (in req's pool) is the one the gateway uses for it.
 */
void gw_observe_begin(gw_observation_t *o, h2o_req_t *req, gw_generation_t *generation,
                      const char *request_id);

/** The observation an earlier pass of req began, on a pass resumed after a session lookup; else NULL. */
gw_observation_t *gw_observe_resumed(h2o_req_t *req);

/**
 * Counts the request in the metrics and writes its access log line: call when
 * req's memory is released. Does nothing for an observation never begun.
 */
void gw_observe_end(gw_observation_t *o);

/** The request was routed to target of route (of generation) for userid (may be NULL). */
void gw_observe_route(gw_observation_t *observation, const gw_generation_t *generation,
                      const gw_route_t *route, const gw_route_target_t *target, const char *userid);

#endif
