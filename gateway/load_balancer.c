#include "load_balancer.h"

static long round_robin(const gw_lb_endpoint_t *endpoints, size_t count, size_t *cursor)
{
    for (size_t tries = 0; tries < count; ++tries) {
        size_t index = (*cursor)++ % count;
        if (endpoints[index].available)
            return (long)index;
    }
    return -1;
}

/* The nth available endpoint (0-based), or -1. */
static long nth_available(const gw_lb_endpoint_t *endpoints, size_t count, size_t nth)
{
    for (size_t i = 0; i < count; ++i)
        if (endpoints[i].available && nth-- == 0)
            return (long)i;
    return -1;
}

static long least_request(const gw_lb_endpoint_t *endpoints, size_t count, size_t available, size_t *cursor,
                          uint64_t random)
{
    if (available > GW_LB_FULL_SCAN_MAX) { /* Envoy's power of two choices: O(1) for large sets */
        long a = nth_available(endpoints, count, (size_t)((uint32_t)random % available));
        long b = nth_available(endpoints, count, (size_t)((random >> 32) % available));
        return endpoints[b].inflight < endpoints[a].inflight ? b : a;
    }
    size_t start = (*cursor)++ % count;
    long best = -1;
    for (size_t i = 0; i < count; ++i) {
        size_t index = (start + i) % count;
        if (endpoints[index].available && (best < 0 || endpoints[index].inflight < endpoints[best].inflight))
            best = (long)index;
    }
    return best;
}

long gw_lb_pick(gw_lb_policy_t policy, const gw_lb_endpoint_t *endpoints, size_t count, size_t *cursor,
                uint64_t random)
{
    size_t available = 0;
    for (size_t i = 0; i < count; ++i)
        available += endpoints[i].available != 0;
    if (available == 0)
        return -1;
    switch (policy) {
    case GW_LB_LEAST_REQUEST:
        return least_request(endpoints, count, available, cursor, random);
    case GW_LB_RANDOM:
        return nth_available(endpoints, count, (size_t)(random % available));
    case GW_LB_ROUND_ROBIN:
    default:
        return round_robin(endpoints, count, cursor);
    }
}
