#include "inflight.h"

/* Each worker runs one loop on one thread: a thread-local counter needs no atomics. */
static _Thread_local size_t in_flight;

void gw_inflight_begin(void)
{
    ++in_flight;
}

void gw_inflight_end(void)
{
    --in_flight;
}

size_t gw_inflight_count(void)
{
    return in_flight;
}
