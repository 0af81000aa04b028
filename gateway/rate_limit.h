#ifndef GW_RATE_LIMIT_H
#define GW_RATE_LIMIT_H

/*
 * Token buckets per user and per tenant namespace, process-wide (one table
 * behind a mutex, shared by every worker). A bucket holds up to burst tokens
 * and refills at rate per second; a request takes one from its user's bucket
 * and one from its namespace's. Idle buckets are evicted when the table is full.
 */

typedef struct gw_rate_limit gw_rate_limit_t;

/** A limiter; a rate of 0 turns that limit off. NULL when out of memory. */
gw_rate_limit_t *gw_rate_limit_new(double user_rate, double user_burst, double ns_rate, double ns_burst);

/** Frees a limiter (NULL is allowed). */
void gw_rate_limit_free(gw_rate_limit_t *limit);

/**
 * Takes a token for user (NULL: anonymous, no per-user limit) and namespace. Returns 1 when the request may
 * pass, 0 when a bucket is empty (nothing is taken then) with *retry_after the seconds until it may.
 */
int gw_rate_limit_take(gw_rate_limit_t *limit, const char *user, const char *namespace_, double *retry_after);

/** Same with an explicit clock (seconds, monotonic), for tests. */
int gw_rate_limit_take_at(gw_rate_limit_t *limit, const char *user, const char *namespace_, double now,
                          double *retry_after);

#endif
