#ifndef GW_LOAD_BALANCER_H
#define GW_LOAD_BALANCER_H

/*
 * The choice of an endpoint inside a cluster (DestinationRule
 * loadBalancer.simple), kept apart from the pools so it can be tested alone.
 * Each worker holds its own state: round robin cursors and in-flight counts
 * are per worker, like each Envoy worker's.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/** What the balancer knows of one endpoint. */
typedef struct {
    unsigned inflight; /* requests of this worker sent to it and not yet disposed */
    int available;     /* 0 while outlier detection ejects it */
} gw_lb_endpoint_t;

/** Up to this many available endpoints LEAST_REQUEST takes the true minimum; above it, two random choices. */
#define GW_LB_FULL_SCAN_MAX 16

/**
 * Picks an available endpoint among count by policy; returns its index, or
 * -1 when none is available. cursor is the worker's round robin position for
 * the cluster (advanced here). random is a fresh random value (RANDOM, and
 * LEAST_REQUEST over more than GW_LB_FULL_SCAN_MAX endpoints).
 * ROUND_ROBIN: the next available endpoint after the cursor.
 * LEAST_REQUEST: the fewest in flight; ties go to the first from the cursor,
 * so equal endpoints still take turns.
 * RANDOM: uniform over the available endpoints.
 */
long gw_lb_pick(gw_lb_policy_t policy, const gw_lb_endpoint_t *endpoints, size_t count, size_t *cursor,
                uint64_t random);

#endif
