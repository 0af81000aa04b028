#ifndef GW_ADMIN_HANDLER_H
#define GW_ADMIN_HANDLER_H

#include <h2o.h>
#include <stdatomic.h>

/**
 * Registers the admin endpoints on pathconf: GET /healthz (200 while the
 * process serves), GET /readyz (200 once *ready is non-zero, else 503) and
 * GET /metrics (Prometheus text format 0.0.4, metrics.h).
 */
void gw_admin_handler_register(h2o_pathconf_t *pathconf, const atomic_int *ready);

#endif
