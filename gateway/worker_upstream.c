#include "worker_upstream.h"

#include <stdlib.h>
#include <inttypes.h>
#include <string.h>

#include "load_balancer.h"
#include "metrics.h"
#include "mirror.h"
#include "retry.h"
#include "sticky_split.h"
#include "util/random.h"
#include "util/log.h"

/* Websocket connections (notebook kernels) stay open while either side talks within this time. */
#define WEBSOCKET_IDLE_TIMEOUT_MS (10 * 60 * 1000)

/* Outlier detection state of one endpoint on this worker. */
typedef struct {
    unsigned errors;         /* consecutive 5xx */
    unsigned gateway_errors; /* consecutive 502/503/504 */
    unsigned ejections;      /* how often it was ejected: each ejection lasts longer */
    uint64_t ejected_until;  /* loop time in ms; 0 = in service */
} endpoint_health_t;

typedef struct {
    h2o_socketpool_t *pools; /* one per endpoint */
    endpoint_health_t *health;
    gw_lb_endpoint_t *balance; /* in-flight counts and availability, for the load balancer */
    const gw_cluster_t *cluster;
    size_t count;
    size_t cursor; /* round robin */
} cluster_pools_t;

typedef struct {
    uint64_t ms;
    h2o_timeout_t timeout;
} timeout_entry_t;

struct gw_worker_upstream {
    h2o_context_t *ctx;
    const gw_router_t *router;
    cluster_pools_t *clusters;
    size_t cluster_count;
    h2o_http1client_ctx_t *clients; /* one per router slot */
    int *split_state;               /* weighted round robin counters, one per router slot */
    size_t client_count;
    timeout_entry_t *timeouts; /* distinct I/O timeouts in use */
    size_t timeout_count;
    h2o_timeout_t websocket_timeout;
    h2o_http1client_ctx_t *mirror_clients; /* one per cluster */
    uint64_t *mirror_credit;               /* per route (at its first slot), parts per million */
    size_t mirrors;                        /* mirror requests in flight */
    size_t mirror_bytes;                   /* and their bytes */
    h2o_linklist_t mirror_list;            /* of them, for gw_mirror_cancel_all */
    gw_retry_budget_t retry_budget;
    int retired;
    int pools_disposed;
};

static h2o_timeout_t *timeout_for(gw_worker_upstream_t *upstream, uint64_t ms)
{
    for (size_t i = 0; i < upstream->timeout_count; ++i)
        if (upstream->timeouts[i].ms == ms)
            return &upstream->timeouts[i].timeout;
    timeout_entry_t *entry = &upstream->timeouts[upstream->timeout_count++];
    entry->ms = ms;
    h2o_timeout_init(upstream->ctx->loop, &entry->timeout, ms);
    return &entry->timeout;
}

static void init_cluster_pools(cluster_pools_t *pools, const gw_cluster_t *cluster, h2o_loop_t *loop)
{
    pools->pools = h2o_mem_alloc(sizeof(*pools->pools) * cluster->endpoint_count);
    pools->health = calloc(cluster->endpoint_count, sizeof(*pools->health));
    pools->balance = calloc(cluster->endpoint_count, sizeof(*pools->balance));
    pools->cluster = cluster;
    pools->count = cluster->endpoint_count;
    pools->cursor = 0;
    for (size_t e = 0; e < cluster->endpoint_count; ++e) {
        h2o_socketpool_t *pool = &pools->pools[e];
        const gw_cluster_endpoint_t *endpoint = &cluster->endpoints[e];
        h2o_socketpool_init_by_address(pool, (struct sockaddr *)&endpoint->addr, endpoint->addr_len,
                                       cluster->ssl_ctx != NULL, cluster->policy.max_connections);
        /* for an address pool, peer.host is the TLS server name: use the SNI, not the IP */
        free(pool->peer.host.base);
        pool->peer.host = h2o_strdup(NULL, cluster->sni, SIZE_MAX);
        h2o_socketpool_set_timeout(pool, loop, cluster->policy.idle_timeout_ms);
    }
}

gw_worker_upstream_t *gw_worker_upstream_new(const gw_router_t *router, h2o_context_t *ctx,
                                             uint64_t default_timeout_ms)
{
    const gw_cluster_table_t *table = gw_router_clusters(router);
    size_t slots = gw_router_slot_count(router);
    gw_worker_upstream_t *upstream = h2o_mem_alloc(sizeof(*upstream));
    *upstream = (gw_worker_upstream_t){.ctx = ctx, .router = router};
    upstream->clusters = h2o_mem_alloc(sizeof(*upstream->clusters) * (table->count + 1));
    upstream->cluster_count = table->count;
    upstream->clients = h2o_mem_alloc(sizeof(*upstream->clients) * (slots + 1));
    upstream->client_count = slots;
    upstream->split_state = calloc(slots + 1, sizeof(*upstream->split_state));
    upstream->timeouts = h2o_mem_alloc(sizeof(*upstream->timeouts) * (slots + 2)); /* + the mirrors' */
    h2o_timeout_init(ctx->loop, &upstream->websocket_timeout, WEBSOCKET_IDLE_TIMEOUT_MS);
    upstream->mirror_clients = h2o_mem_alloc(sizeof(*upstream->mirror_clients) * (table->count + 1));
    upstream->mirror_credit = calloc(slots + 1, sizeof(*upstream->mirror_credit));
    h2o_linklist_init_anchor(&upstream->mirror_list);

    for (size_t c = 0; c < table->count; ++c) {
        init_cluster_pools(&upstream->clusters[c], &table->clusters[c], ctx->loop);
        upstream->mirror_clients[c] = (h2o_http1client_ctx_t){
            .loop = ctx->loop,
            .getaddr_receiver = &ctx->receivers.hostinfo_getaddr,
            .io_timeout = timeout_for(upstream, default_timeout_ms),
            .ssl_ctx = table->clusters[c].ssl_ctx,
        };
    }
    for (size_t s = 0; s < slots; ++s) {
        const gw_route_target_t *target = gw_router_slot(router, s);
        const gw_route_t *route = gw_router_slot_route(router, s);
        uint64_t ms = route->config->timeout_ms != 0 ? route->config->timeout_ms : default_timeout_ms;
        uint64_t per_try = route->config->retries.per_try_timeout_ms;
        if (route->config->retries.attempts > 0 && per_try != 0 && per_try < ms)
            ms = per_try; /* each try waits at most this long for each read */
        upstream->clients[s] = (h2o_http1client_ctx_t){
            .loop = ctx->loop,
            .getaddr_receiver = &ctx->receivers.hostinfo_getaddr,
            .io_timeout = timeout_for(upstream, ms),
            .websocket_timeout = &upstream->websocket_timeout,
            .ssl_ctx = table->clusters[target->cluster].ssl_ctx,
        };
    }
    return upstream;
}

/* A retired generation's pools are disposed once no mirror request can return a socket to them any more;
 * the edge handler's reaper calls gw_worker_upstream_retire again every second until they are. */
static void dispose_pools_when_idle(gw_worker_upstream_t *upstream)
{
    if (!upstream->retired || upstream->mirrors > 0 || upstream->pools_disposed)
        return;
    upstream->pools_disposed = 1;
    for (size_t c = 0; c < upstream->cluster_count; ++c)
        for (size_t e = 0; e < upstream->clusters[c].count; ++e)
            h2o_socketpool_dispose(&upstream->clusters[c].pools[e]);
}

void gw_worker_upstream_retire(gw_worker_upstream_t *upstream)
{
    upstream->retired = 1;
    dispose_pools_when_idle(upstream);
}

size_t gw_worker_upstream_in_use(gw_worker_upstream_t *upstream)
{
    size_t open = upstream->mirrors;
    for (size_t c = 0; c < upstream->cluster_count; ++c)
        for (size_t e = 0; e < upstream->clusters[c].count; ++e)
            /* a stolen websocket socket still decrements this counter when it closes, even after dispose */
            open += __sync_fetch_and_add(&upstream->clusters[c].pools[e]._shared.count, 0);
    return open;
}

void gw_worker_upstream_free(gw_worker_upstream_t *upstream)
{
    if (upstream == NULL)
        return;
    gw_mirror_cancel_all(&upstream->mirror_list); /* at exit: their sockets go back before the pools go */
    gw_worker_upstream_retire(upstream);
    for (size_t c = 0; c < upstream->cluster_count; ++c) {
        free(upstream->clusters[c].pools);
        free(upstream->clusters[c].health);
        free(upstream->clusters[c].balance);
    }
    for (size_t t = 0; t < upstream->timeout_count; ++t)
        h2o_timeout_dispose(upstream->ctx->loop, &upstream->timeouts[t].timeout);
    h2o_timeout_dispose(upstream->ctx->loop, &upstream->websocket_timeout);
    free(upstream->clusters);
    free(upstream->clients);
    free(upstream->split_state);
    free(upstream->mirror_clients);
    free(upstream->mirror_credit);
    free(upstream->timeouts);
    free(upstream);
}

const gw_route_target_t *gw_worker_upstream_pick(gw_worker_upstream_t *upstream, const gw_route_t *route,
                                                 const char *userid)
{
    if (route->service->sticky_split == GW_STICKY_USER && userid != NULL && userid[0] != '\0')
        return gw_sticky_split_pick(route, userid, strlen(userid));
    /* a route's targets have consecutive slots */
    return gw_route_pick(route, &upstream->split_state[route->targets[0].slot]);
}

/* An endpoint of pools by the cluster's policy among those not ejected, counted in flight; -1 when none. */
static long choose_endpoint(gw_worker_upstream_t *upstream, cluster_pools_t *pools)
{
    uint64_t now = h2o_now(upstream->ctx->loop);
    for (size_t i = 0; i < pools->count; ++i)
        pools->balance[i].available = pools->health[i].ejected_until <= now;
    gw_lb_policy_t policy = pools->cluster->policy.load_balancer;
    uint64_t random = 0;
    if (policy != GW_LB_ROUND_ROBIN && tg_random_buffered((uint8_t *)&random, sizeof(random)) != 0)
        random = now; /* never fails in practice; any value keeps the choice valid */
    long index = gw_lb_pick(policy, pools->balance, pools->count, &pools->cursor, random);
    if (index < 0)
        return -1;
    pools->health[index].ejected_until = 0;
    ++pools->balance[index].inflight;
    return index;
}

static void end_in_flight(cluster_pools_t *pools, long endpoint)
{
    if (pools->balance[endpoint].inflight > 0)
        --pools->balance[endpoint].inflight;
}

long gw_worker_upstream_select(gw_worker_upstream_t *upstream, const gw_route_target_t *target,
                               h2o_req_overrides_t *overrides)
{
    cluster_pools_t *pools = &upstream->clusters[target->cluster];
    gw_retry_budget_request(&upstream->retry_budget, h2o_now(upstream->ctx->loop));
    long index = choose_endpoint(upstream, pools);
    if (index < 0)
        return -1;
    overrides->client_ctx = &upstream->clients[target->slot];
    overrides->socketpool = &pools->pools[index];
    return index;
}

long gw_worker_upstream_retry(gw_worker_upstream_t *upstream, const gw_route_target_t *target, long failed,
                              int failed_status, h2o_req_overrides_t *overrides)
{
    cluster_pools_t *pools = &upstream->clusters[target->cluster];
    if (!gw_retry_budget_take(&upstream->retry_budget, h2o_now(upstream->ctx->loop))) {
        tg_log_warn("upstream", "retry budget of %s spent: no retry", pools->cluster->name);
        return -1;
    }
    long index = choose_endpoint(upstream, pools);
    if (index == failed && pools->count > 1) { /* another endpoint when there is one */
        long other = choose_endpoint(upstream, pools);
        end_in_flight(pools, index);
        index = other;
    }
    if (index < 0)
        return -1;
    gw_worker_upstream_report(upstream, target, failed, failed_status);
    overrides->socketpool = &pools->pools[index];
    return index;
}

int gw_worker_upstream_mirror_begin(gw_worker_upstream_t *upstream, const gw_route_t *route, size_t bytes,
                                    gw_mirror_target_t *target)
{
    if (route->mirror_cluster < 0 || upstream->retired)
        return 0;
    /* the percentage, spread evenly: a credit grows by it per request, a mirror spends 100% */
    uint64_t *credit = &upstream->mirror_credit[route->targets[0].slot];
    *credit += route->config->mirror_per_million;
    if (*credit < 1000000)
        return 0;
    *credit -= 1000000;
    if (upstream->mirrors >= GW_MIRROR_MAX_IN_FLIGHT || bytes > GW_MIRROR_MAX_BYTES - upstream->mirror_bytes)
        return 0; /* dropped, never queued */
    cluster_pools_t *pools = &upstream->clusters[route->mirror_cluster];
    long index = choose_endpoint(upstream, pools);
    if (index < 0)
        return 0;
    ++upstream->mirrors;
    upstream->mirror_bytes += bytes;
    *target = (gw_mirror_target_t){.client_ctx = &upstream->mirror_clients[route->mirror_cluster],
                                   .pool = &pools->pools[index],
                                   .cluster = (size_t)route->mirror_cluster,
                                   .endpoint = index,
                                   .bytes = bytes};
    return 1;
}

void gw_worker_upstream_mirror_end(gw_worker_upstream_t *upstream, const gw_mirror_target_t *target)
{
    end_in_flight(&upstream->clusters[target->cluster], target->endpoint);
    /* the pools of a retired generation are disposed by the reaper's next gw_worker_upstream_retire, not
     * here: this runs inside an http1client callback that still returns its socket to the pool */
    --upstream->mirrors;
    upstream->mirror_bytes -= target->bytes;
}

h2o_linklist_t *gw_worker_upstream_mirror_list(gw_worker_upstream_t *upstream)
{
    return &upstream->mirror_list;
}

static size_t ejected_count(const cluster_pools_t *pools, uint64_t now)
{
    size_t ejected = 0;
    for (size_t i = 0; i < pools->count; ++i)
        ejected += pools->health[i].ejected_until > now;
    return ejected;
}

void gw_worker_upstream_report(gw_worker_upstream_t *upstream, const gw_route_target_t *target, long endpoint,
                               int status)
{
    cluster_pools_t *pools = &upstream->clusters[target->cluster];
    const gw_traffic_policy_t *policy = &pools->cluster->policy;
    if (endpoint < 0 || (size_t)endpoint >= pools->count)
        return;
    end_in_flight(pools, endpoint);
    if (!policy->outlier.set || status == 0)
        return;
    endpoint_health_t *health = &pools->health[endpoint];
    if (status < 500) {
        health->errors = health->gateway_errors = 0;
        return;
    }
    ++health->errors;
    if (status >= 502 && status <= 504)
        ++health->gateway_errors;
    int over = (policy->outlier.consecutive_5xx != 0 && health->errors >= policy->outlier.consecutive_5xx) ||
               (policy->outlier.consecutive_gateway != 0 &&
                health->gateway_errors >= policy->outlier.consecutive_gateway);
    uint64_t now = h2o_now(upstream->ctx->loop);
    if (!over || health->ejected_until > now)
        return;
    /* like Envoy: max_ejection_percent caps ejections, but one endpoint may always be ejected */
    size_t allowed = pools->count * policy->outlier.max_ejection_percent / 100;
    if (allowed == 0)
        allowed = 1;
    if (ejected_count(pools, now) >= allowed)
        return;
    ++health->ejections;
    gw_metrics_ejection(pools->cluster->namespace_, pools->cluster->name);
    unsigned factor = health->ejections < 10 ? health->ejections : 10;
    health->ejected_until = now + policy->outlier.base_ejection_ms * factor;
    health->errors = health->gateway_errors = 0;
    tg_log_warn("upstream", "endpoint %s of %s ejected for %" PRIu64 " ms after consecutive errors",
                pools->cluster->endpoints[endpoint].label, pools->cluster->name,
                policy->outlier.base_ejection_ms * factor);
}
