#ifndef GW_RETRY_H
#define GW_RETRY_H

/*
 * Retry decisions (VirtualService retries), apart from libh2o so they can be
 * tested alone: which methods may be retried, how a try failed, whether the
 * route's retryOn covers that, and the per-worker retry budget.
 * gateway/retry_filter.c applies them to responses.
 */

#include <stddef.h>
#include <stdint.h>

/** How a try failed. */
typedef enum {
    GW_TRY_CONNECT_FAILURE, /* no connection: refused, TLS failure, connect timeout */
    GW_TRY_RESET,           /* the connection failed after the request went out, or a malformed answer */
    GW_TRY_TIMEOUT,         /* no answer within the I/O timeout (perTryTimeout): a 504 */
    GW_TRY_STATUS           /* the upstream answered with a status */
} gw_try_failure_t;

/** Whether method may be retried: idempotent per RFC 9110 9.2.2 (GET HEAD OPTIONS TRACE PUT DELETE). */
int gw_retry_idempotent(const char *method, size_t len);

/** How a try failed, from the message libh2o's proxy logged for it (http1client and socket errors). */
gw_try_failure_t gw_retry_classify(const char *message, size_t len);

/** Whether retry_on (GW_RETRY_* bits of config.h) covers a try that failed so (status for GW_TRY_STATUS). */
int gw_retry_on_matches(unsigned retry_on, gw_try_failure_t failure, int status);

/** Seconds the budget looks back over. */
#define GW_RETRY_BUDGET_WINDOW_S 10
/** Retries are allowed up to this percentage of the window's requests... */
#define GW_RETRY_BUDGET_PERCENT 20
/** ...or this many per second of the window, whichever is more (Envoy's min_retry_concurrency idea). */
#define GW_RETRY_BUDGET_MIN_PER_S 3

/** One worker's retry budget: requests and retries per second over the last window. Zero it to start. */
typedef struct {
    uint64_t second[GW_RETRY_BUDGET_WINDOW_S]; /* which second (since the epoch of now_ms) a bucket holds */
    unsigned requests[GW_RETRY_BUDGET_WINDOW_S];
    unsigned retries[GW_RETRY_BUDGET_WINDOW_S];
} gw_retry_budget_t;

/** Counts a request (a first try) at now_ms. */
void gw_retry_budget_request(gw_retry_budget_t *budget, uint64_t now_ms);

/** Takes one retry from the budget at now_ms: 1 when allowed (and counted), 0 when spent. */
int gw_retry_budget_take(gw_retry_budget_t *budget, uint64_t now_ms);

#endif
