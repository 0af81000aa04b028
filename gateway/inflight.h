#ifndef GW_INFLIGHT_H
#define GW_INFLIGHT_H

/*
 * Requests in flight on the calling worker thread, so a stopping worker
 * waits for work in progress but not for idle keep-alive connections.
 */

#include <stddef.h>

/** A request started on this thread. */
void gw_inflight_begin(void);

/** A request of this thread was disposed. */
void gw_inflight_end(void);

/** Requests in flight on the calling thread. */
size_t gw_inflight_count(void);

#endif
