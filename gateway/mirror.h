#ifndef GW_MIRROR_H
#define GW_MIRROR_H

/*
 * Traffic mirroring (VirtualService mirror + mirrorPercentage): a copy of a
 * request (method, upstream path, headers, body; Host suffixed with
 * "-shadow" as Envoy does) goes to the mirror destination over the worker's
 * pools; its response is read and thrown away. The copy owns its memory, so
 * the client's request may finish first; nothing waits for the mirror.
 */

#include <h2o.h>

#include "router.h"
#include "worker_upstream.h"

/**
 * Sends a copy of req to route's mirror when gw_worker_upstream_mirror_begin
 * says so; path is the upstream path (after rewrite). Websocket upgrades are
 * never mirrored. Returns at once.
 */
void gw_mirror_send(gw_worker_upstream_t *upstream, const gw_route_t *route, h2o_req_t *req,
                    h2o_iovec_t path);

/** Cancels every mirror request of list (a worker's, at exit): no callback runs afterwards. */
void gw_mirror_cancel_all(h2o_linklist_t *list);

/**
 * The shadow authority of authority: "-shadow" after the host, before any
 * port ("models.example:8443" -> "models.example-shadow:8443"). Writes at
 * most size bytes with a NUL into out; returns the length, or 0 when it does
 * not fit.
 */
size_t gw_mirror_shadow_authority(const char *authority, size_t len, char *out, size_t size);

#endif
