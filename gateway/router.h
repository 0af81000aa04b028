#ifndef GW_ROUTER_H
#define GW_ROUTER_H

/*
 * The routing table compiled from every VirtualService: a request path maps
 * to one http route, whose destinations point into the cluster table.
 * Precedence: an exact uri match beats any prefix, a longer prefix beats a
 * shorter one, prefixes beat regexes, regexes beat matches without uri, and
 * among equals the earlier document wins. A candidate whose other conditions
 * (method, headers, withoutHeaders, queryParams) fail gives way to the next.
 */

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "config.h"

typedef struct {
    const gw_route_destination_t *config;
    size_t cluster;           /* index into the router's cluster table */
    size_t slot;              /* index among every destination of the router (per-worker state lives there) */
    unsigned weight;          /* effective weight: 100 for a lone destination */
    unsigned metrics_cluster; /* metric label ids, resolved when the router is built: the cluster, */
    unsigned metrics_namespace; /* and its ServiceEntry's namespace (authorization decisions) */
} gw_route_target_t;

typedef struct {
    const gw_http_route_t *config;
    const gw_virtual_service_t *service;
    gw_route_target_t *targets;
    size_t target_count;
    unsigned total_weight;
    long mirror_cluster; /* index into the cluster table of the mirror destination, -1 for none */
    char *name;          /* "virtualservice/route" (the rule's index when unnamed): metrics and access log */
    unsigned metrics_route, metrics_namespace; /* metric label ids, resolved when the router is built */
} gw_route_t;

typedef struct gw_router gw_router_t;

/**
 * Compiles the routes of config (which must outlive the router). Returns NULL
 * and a message in err when a destination cannot be built (unknown host,
 * unreadable TLS files, unresolvable endpoint).
 */
gw_router_t *gw_router_new(const gw_config_t *config, char *err, size_t err_size);

/** Frees a router (NULL is allowed). */
void gw_router_free(gw_router_t *router);

/** What routing looks at in a request. */
typedef struct {
    const char *method;
    size_t method_len;
    const char *path; /* normalised, without the query */
    size_t path_len;
    const char *query; /* after '?', without it; may be empty */
    size_t query_len;
    /** The value of a header (name in lower case), or NULL when the request has none. */
    const char *(*header)(void *ctx, const char *name, size_t *len);
    void *ctx;
} gw_route_request_t;

/**
 * Finds the route for a request. Returns NULL when none matches;
 * *matched_len gets the length of the matched uri prefix (the whole path for
 * an exact or regex match, 0 for a match without uri).
 */
const gw_route_t *gw_router_match(const gw_router_t *router, const gw_route_request_t *request,
                                  size_t *matched_len);

/**
 * Picks a target of route by weight with smooth weighted round robin: over
 * any run of total_weight picks each target gets exactly its weight, spread
 * evenly. state holds one counter per target of the route (zeroed at start)
 * and belongs to one worker.
 */
const gw_route_target_t *gw_route_pick(const gw_route_t *route, int *state);

/** The clusters the router's targets refer to. */
const gw_cluster_table_t *gw_router_clusters(const gw_router_t *router);

/** How many targets the router holds across all routes (the size of per-worker slot arrays). */
size_t gw_router_slot_count(const gw_router_t *router);

/** The target of a slot, for per-worker setup. */
const gw_route_target_t *gw_router_slot(const gw_router_t *router, size_t slot);

/** The route a slot's target belongs to. */
const gw_route_t *gw_router_slot_route(const gw_router_t *router, size_t slot);

#endif
