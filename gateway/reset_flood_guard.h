#ifndef GW_RESET_FLOOD_GUARD_H
#define GW_RESET_FLOOD_GUARD_H

/*
 * HTTP/2 rapid-reset defence (CVE-2023-44487), which libh2o 2.2.5 does not
 * carry: a client that opens streams and cancels them before any response
 * makes the gateway start upstream work for nothing, at no cost to itself.
 * The guard counts, per connection and time window, the requests that
 * reached the edge handler and those disposed before a response began; a
 * connection over the limit is closed when it next sends a request.
 */

#include <h2o.h>

/** Cancelled streams in one window that mark a connection abusive (when also at least half its streams). */
#define GW_RESET_FLOOD_LIMIT 200
/** Length of the counting window. */
#define GW_RESET_FLOOD_WINDOW_MS 10000

/** What the guard keeps of a request it let through, in zeroed storage the caller keeps until req is
 * disposed. */
typedef struct {
    uint64_t conn_id;
    h2o_req_t *req; /* NULL: nothing to release */
} gw_reset_flood_ticket_t;

/**
 * Counts req (HTTP/2 only; other versions return 0 at once). Returns 1 when
 * req's connection is abusive: the guard has then shut the connection down
 * and the caller must not start work for req. Otherwise fills *ticket, which
 * the caller hands to gw_reset_flood_guard_release when req's memory goes.
 * Call from the worker's loop.
 */
int gw_reset_flood_guard_check(h2o_req_t *req, gw_reset_flood_ticket_t *ticket);

/** Ends the count of a disposed request: a cancelled stream when no response began (worker's loop). */
void gw_reset_flood_guard_release(const gw_reset_flood_ticket_t *ticket);

#endif
