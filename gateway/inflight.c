#include "inflight.h"

/* Each worker runs one loop on one thread: a thread-local counter needs no atomics. */
static _Thread_local size_t in_flight;

static void on_request_disposed(void *unused)
{
    --in_flight;
}

void gw_inflight_track(h2o_req_t *req)
{
    h2o_mem_alloc_shared(&req->pool, 1, on_request_disposed);
    ++in_flight;
}

size_t gw_inflight_count(void)
{
    return in_flight;
}
