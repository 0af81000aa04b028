#ifndef GW_EDGE_HANDLER_H
#define GW_EDGE_HANDLER_H

/*
 * The request path of an HTTPS (or plain HTTP) listener: header limits,
 * path normalisation, routing, identity-header hygiene, trace context and
 * the hand-off to h2o's proxy with a per-request upstream choice.
 */

#include <h2o.h>

#include "config.h"
#include "router.h"

/**
 * Registers the edge handler and its upstream error filter on pathconf.
 * config and router must outlive the handler.
 */
void gw_edge_handler_register(h2o_pathconf_t *pathconf, const gw_config_t *config, const gw_router_t *router);

#endif
