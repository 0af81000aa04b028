#ifndef GW_INFLIGHT_H
#define GW_INFLIGHT_H

/*
 * Requests in flight on the calling worker thread, so a stopping worker
 * waits for work in progress but not for idle keep-alive connections.
 */

#include <h2o.h>
#include <stddef.h>

/** Counts req as in flight on this thread until its memory pool is released. */
void gw_inflight_track(h2o_req_t *req);

/** Requests in flight on the calling thread. */
size_t gw_inflight_count(void);

#endif
