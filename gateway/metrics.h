#ifndef GW_METRICS_H
#define GW_METRICS_H

/*
 * Prometheus metrics of the gateway. Every worker thread counts into a shard
 * of its own (no locks; single-writer relaxed atomics so a scrape can read
 * them) and a scrape sums the shards. Labels come from the configuration
 * only (namespace, route, cluster names), plus fixed words (code class,
 * reason, decision, result): never a user, a token, a cookie or a path.
 * Label sets are interned once in a bounded process-wide table, so a reload
 * that adds a tenant gets new series and the series of removed ones are kept;
 * past GW_METRICS_MAX_LABELS sets, new ones count under "_overflow".
 * See docs/internals/observability.md.
 */

#include <stddef.h>
#include <stdint.h>

#include "authservice/session_cache.h"

/** How many (namespace, route|cluster) label sets the table holds. */
#define GW_METRICS_MAX_LABELS 1024

/** Authorization outcomes of authorize.c. */
typedef enum {
    GW_METRICS_AUTHZ_ALLOW,
    GW_METRICS_AUTHZ_DENY,
    GW_METRICS_AUTHZ_RATELIMIT,
    GW_METRICS_AUTHZ_COUNT
} gw_metrics_authz_t;

/** Browser login steps (auth_login.c). */
typedef enum {
    GW_METRICS_LOGIN_STARTED,   /* redirected to the IdP */
    GW_METRICS_LOGIN_SUCCEEDED, /* callback made a session */
    GW_METRICS_LOGIN_FAILED,    /* callback refused (state, code exchange, ID token, store) */
    GW_METRICS_LOGIN_COUNT
} gw_metrics_login_t;

/**
 * Label id of a route (namespace + route name); ids are stable for the life
 * of the process. Thread-safe; lock-free once the set is known.
 */
unsigned gw_metrics_route_label(const char *namespace_, const char *route);

/** Label id of a namespace alone. */
unsigned gw_metrics_namespace_label(const char *namespace_);

/** Label id of an upstream cluster of a namespace. */
unsigned gw_metrics_cluster_label(const char *namespace_, const char *cluster);

/**
 * One finished request on the calling thread: route_label from
 * gw_metrics_route_label, namespace_label for the duration histogram;
 * proxied when the upstream answered (else the reason is the gateway's, by
 * status). status 0: the client left before an answer.
 */
void gw_metrics_request(unsigned route_label, unsigned namespace_label, int status, int proxied,
                        uint64_t duration_us);

/** A request started (+1) or ended (-1) on the calling thread: tenantgate_inflight_requests. */
void gw_metrics_inflight(int delta);

/** An authorization decision for a namespace (its gw_metrics_namespace_label id). */
void gw_metrics_authz(unsigned namespace_label, gw_metrics_authz_t decision);

/** A session lookup answered by the worker's cache (hit) or sent to the store (miss). */
void gw_metrics_session_cache(int hit);

/** A login step. */
void gw_metrics_login(gw_metrics_login_t result);

/** An upstream endpoint of a cluster was ejected by outlier detection. */
void gw_metrics_ejection(const char *namespace_, const char *cluster);

/** The generation new requests use (the first one at start; reloads set it too). */
void gw_metrics_config_generation(uint64_t generation);

/** A request could not connect (TCP, TLS handshake, peer identity) to an endpoint of a cluster label. */
void gw_metrics_upstream_connect_failure(unsigned cluster_label);

/** A configuration (re)load: ok with the generation now served, or refused. Any thread. */
void gw_metrics_config_reload(int ok, uint64_t generation);

/**
 * Adds a session cache to the scrape: its entries, bound and evictions are
 * summed into tenantgate_session_cache_entries, _max_entries and
 * _evictions_total (several caches live at once while a reload replaces a
 * generation). Any thread. Returns 0, or -1 when out of memory (the cache is
 * then not shown).
 */
int gw_metrics_session_cache_attach(as_session_cache_t *cache);

/**
 * Removes cache from the scrape (before freeing it); its evictions stay in the
 * counter. A cache never attached is ignored.
 */
void gw_metrics_session_cache_detach(as_session_cache_t *cache);

/**
 * The exposition (Prometheus text format 0.0.4) of every metric, summed over
 * all threads, in a malloc'ed NUL-terminated buffer (*len its length).
 * NULL when out of memory.
 */
char *gw_metrics_render(size_t *len);

/**
 * Writes src as the inside of a quoted label value (backslash, double quote
 * and newline escaped) into dst, which holds 2 * strlen(src) + 1 bytes;
 * returns the length written (without the NUL).
 */
size_t gw_metrics_escape_label(char *dst, const char *src);

#endif
