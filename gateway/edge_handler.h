#ifndef GW_EDGE_HANDLER_H
#define GW_EDGE_HANDLER_H

/*
 * The request path of an HTTPS (or plain HTTP) listener: header limits,
 * path normalisation, routing, identity-header hygiene, trace context and
 * the hand-off to h2o's proxy with a per-request upstream choice.
 */

#include <h2o.h>

#include "generation.h"

/**
 * Registers the edge handler and its upstream error filter on pathconf. The
 * handler serves each request with the generation published in generations
 * when the request arrived (which must outlive the handler); requests that
 * started on an older generation finish on it.
 */
void gw_edge_handler_register(h2o_pathconf_t *pathconf, gw_generation_slot_t *generations);

#endif
