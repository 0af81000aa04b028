#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TG_VERSION
#define TG_VERSION "dev"
#endif

/* ---- label sets: an append-only table, looked up without locks ---- */

typedef enum { LABEL_ROUTE, LABEL_NAMESPACE, LABEL_CLUSTER } label_kind_t;

typedef struct {
    label_kind_t kind;
    char *namespace_;
    char *name; /* route or cluster; "" for a namespace */
} label_t;

#define INDEX_SIZE (GW_METRICS_MAX_LABELS * 2) /* open addressing, never more than half full */
#define OVERFLOW_LABEL 0u                      /* "_overflow": every kind, once the table is full */

static label_t labels[GW_METRICS_MAX_LABELS] = {{LABEL_ROUTE, "_overflow", "_overflow"}};
static atomic_uint label_count = 1;
static atomic_uint label_index[INDEX_SIZE]; /* label id + 1; 0 = free */
static pthread_mutex_t label_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t label_hash(label_kind_t kind, const char *ns, const char *name)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind;
    for (const char *s = ns; *s != '\0'; ++s)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (const char *s = name; *s != '\0'; ++s)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The id of (kind, ns, name), or with insert the id of a new entry; UINT32_MAX when absent (or no room). */
static unsigned label_find(label_kind_t kind, const char *ns, const char *name, int insert)
{
    for (uint32_t slot = label_hash(kind, ns, name) % INDEX_SIZE;; slot = (slot + 1) % INDEX_SIZE) {
        unsigned entry = atomic_load_explicit(&label_index[slot], memory_order_acquire);
        if (entry == 0) {
            if (!insert)
                return UINT32_MAX;
            unsigned id = atomic_load_explicit(&label_count, memory_order_relaxed);
            char *ns_copy = id < GW_METRICS_MAX_LABELS ? strdup(ns) : NULL;
            char *name_copy = ns_copy != NULL ? strdup(name) : NULL;
            if (name_copy == NULL) {
                free(ns_copy);
                return UINT32_MAX;
            }
            labels[id] = (label_t){kind, ns_copy, name_copy};
            atomic_store_explicit(&label_count, id + 1, memory_order_release);
            atomic_store_explicit(&label_index[slot], id + 1, memory_order_release);
            return id;
        }
        const label_t *l = &labels[entry - 1];
        if (l->kind == kind && strcmp(l->namespace_, ns) == 0 && strcmp(l->name, name) == 0)
            return entry - 1;
    }
}

static unsigned label_id(label_kind_t kind, const char *ns, const char *name)
{
    ns = ns != NULL ? ns : "";
    name = name != NULL ? name : "";
    unsigned id = label_find(kind, ns, name, 0);
    if (id != UINT32_MAX)
        return id;
    pthread_mutex_lock(&label_lock);
    id = label_find(kind, ns, name, 1);
    pthread_mutex_unlock(&label_lock);
    return id != UINT32_MAX ? id : OVERFLOW_LABEL;
}

unsigned gw_metrics_route_label(const char *namespace_, const char *route)
{
    return label_id(LABEL_ROUTE, namespace_, route);
}

unsigned gw_metrics_namespace_label(const char *namespace_)
{
    return label_id(LABEL_NAMESPACE, namespace_, NULL);
}

unsigned gw_metrics_cluster_label(const char *namespace_, const char *cluster)
{
    return label_id(LABEL_CLUSTER, namespace_, cluster);
}

/* ---- per-thread shards ---- */

/* Reasons of a response: the upstream's, or the gateway's own answer named by its status. */
static const struct {
    int status; /* 0: any other status of that kind */
    const char *reason;
} reasons[] = {
    {0, "upstream"},
    {400, "bad_request"},
    {401, "unauthenticated"},
    {403, "forbidden"},
    {404, "no_route"},
    {405, "bad_method"},
    {413, "body_too_large"},
    {414, "uri_too_long"},
    {429, "rate_limited"},
    {431, "headers_too_large"},
    {502, "bad_gateway"},
    {503, "unavailable"},
    {504, "gateway_timeout"},
    {0, "authservice"},
    {0, "other"},
    {0, "client_gone"},
};
#define REASON_COUNT (sizeof(reasons) / sizeof(reasons[0]))
#define REASON_UPSTREAM 0
#define REASON_AUTHSERVICE (REASON_COUNT - 3) /* 2xx/3xx the gateway answered itself (login, redirects) */
#define REASON_OTHER (REASON_COUNT - 2)
#define REASON_CLIENT_GONE (REASON_COUNT - 1)
#define CLASS_COUNT 6 /* 1xx..5xx, and "none" for status 0 */

static const double duration_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
#define BUCKET_COUNT (sizeof(duration_buckets) / sizeof(duration_buckets[0]))

typedef _Atomic uint64_t counter_t;

typedef struct shard {
    struct shard *next;
    counter_t requests[GW_METRICS_MAX_LABELS][CLASS_COUNT][REASON_COUNT];
    counter_t duration[GW_METRICS_MAX_LABELS][BUCKET_COUNT + 1]; /* the last: +Inf */
    counter_t duration_sum_us[GW_METRICS_MAX_LABELS];
    counter_t authz[GW_METRICS_MAX_LABELS][GW_METRICS_AUTHZ_COUNT];
    counter_t ejections[GW_METRICS_MAX_LABELS];
    counter_t connect_failures[GW_METRICS_MAX_LABELS];
    counter_t sessions_cache[2]; /* miss, hit */
    counter_t login[GW_METRICS_LOGIN_COUNT];
    counter_t started, ended; /* in flight = started - ended */
} shard_t;

static shard_t *_Atomic shards;
static _Thread_local shard_t *my_shard;
static atomic_uint_fast64_t reloads[2]; /* refused, ok */
static atomic_uint_fast64_t generation;

/* The calling thread's shard, made on first use (about 1 MiB of zero pages, touched as labels appear). */
static shard_t *shard(void)
{
    if (my_shard != NULL)
        return my_shard;
    static shard_t spare; /* when calloc fails: shared, so counts may be lost, never corrupt memory */
    shard_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return my_shard = &spare;
    s->next = atomic_load(&shards);
    while (!atomic_compare_exchange_weak(&shards, &s->next, s))
        ;
    return my_shard = s;
}

/* One writer per shard: a relaxed load and store, no locked instruction. */
static void bump(counter_t *counter, uint64_t n)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static size_t reason_of(int status, int proxied)
{
    if (status == 0)
        return REASON_CLIENT_GONE;
    if (proxied)
        return REASON_UPSTREAM;
    if (status < 400)
        return REASON_AUTHSERVICE;
    for (size_t i = 1; i < REASON_AUTHSERVICE; ++i)
        if (reasons[i].status == status)
            return i;
    return REASON_OTHER;
}

void gw_metrics_request(unsigned route_label, unsigned namespace_label, int status, int proxied,
                        uint64_t duration_us)
{
    shard_t *s = shard();
    size_t class = status >= 100 && status < 600 ? (size_t)status / 100 - 1 : CLASS_COUNT - 1;
    if (route_label >= GW_METRICS_MAX_LABELS || namespace_label >= GW_METRICS_MAX_LABELS)
        route_label = namespace_label = OVERFLOW_LABEL;
    bump(&s->requests[route_label][class][reason_of(status, proxied)], 1);
    size_t bucket = 0;
    while (bucket < BUCKET_COUNT && (double)duration_us > duration_buckets[bucket] * 1e6)
        ++bucket;
    bump(&s->duration[namespace_label][bucket], 1);
    bump(&s->duration_sum_us[namespace_label], duration_us);
}

void gw_metrics_inflight(int delta)
{
    shard_t *s = shard();
    bump(delta > 0 ? &s->started : &s->ended, 1);
}

/* The counter slot of a label id from outside: one the table never handed out counts as "_overflow". */
static unsigned label_slot(unsigned label)
{
    return label < GW_METRICS_MAX_LABELS ? label : OVERFLOW_LABEL;
}

void gw_metrics_authz(unsigned namespace_label, gw_metrics_authz_t decision)
{
    if (decision < GW_METRICS_AUTHZ_COUNT)
        bump(&shard()->authz[label_slot(namespace_label)][decision], 1);
}

void gw_metrics_session_cache(int hit)
{
    bump(&shard()->sessions_cache[hit != 0], 1);
}

void gw_metrics_login(gw_metrics_login_t result)
{
    if (result < GW_METRICS_LOGIN_COUNT)
        bump(&shard()->login[result], 1);
}

void gw_metrics_ejection(const char *namespace_, const char *cluster)
{
    bump(&shard()->ejections[gw_metrics_cluster_label(namespace_, cluster)], 1);
}

void gw_metrics_upstream_connect_failure(unsigned cluster_label)
{
    bump(&shard()->connect_failures[label_slot(cluster_label)], 1);
}

void gw_metrics_config_generation(uint64_t number)
{
    atomic_store(&generation, number);
}

void gw_metrics_config_reload(int ok, uint64_t number)
{
    atomic_fetch_add(&reloads[ok != 0], 1);
    if (ok)
        gw_metrics_config_generation(number);
}

/* ---- session caches: read at scrape time ---- */

typedef struct cache_source {
    struct cache_source *next;
    as_session_cache_t *cache;
} cache_source_t;

static cache_source_t *cache_sources; /* under cache_lock */
static uint64_t detached_evictions;   /* of caches freed since: the counter never goes back */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

int gw_metrics_session_cache_attach(as_session_cache_t *cache)
{
    cache_source_t *source = malloc(sizeof(*source));
    if (source == NULL)
        return -1;
    source->cache = cache;
    pthread_mutex_lock(&cache_lock);
    source->next = cache_sources;
    cache_sources = source;
    pthread_mutex_unlock(&cache_lock);
    return 0;
}

void gw_metrics_session_cache_detach(as_session_cache_t *cache)
{
    cache_source_t *gone = NULL;
    pthread_mutex_lock(&cache_lock);
    for (cache_source_t **p = &cache_sources; *p != NULL; p = &(*p)->next)
        if ((*p)->cache == cache) {
            gone = *p;
            *p = gone->next;
            as_session_cache_stats_t stats;
            as_session_cache_stats(cache, &stats);
            detached_evictions += stats.evictions;
            break;
        }
    pthread_mutex_unlock(&cache_lock);
    free(gone);
}

/* ---- exposition ---- */

size_t gw_metrics_escape_label(char *dst, const char *src)
{
    char *p = dst;
    for (; *src != '\0'; ++src) {
        if (*src == '\\' || *src == '"') {
            *p++ = '\\';
            *p++ = *src;
        } else if (*src == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else {
            *p++ = *src;
        }
    }
    *p = '\0';
    return (size_t)(p - dst);
}

typedef struct {
    char *base;
    size_t len, cap;
    int failed;
} out_t;

static void put(out_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out_t *out, const char *fmt, ...)
{
    for (int tries = 0; !out->failed && tries < 2; ++tries) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(out->base + out->len, out->cap - out->len, fmt, args);
        va_end(args);
        if (n < 0) {
            out->failed = 1;
        } else if ((size_t)n < out->cap - out->len) {
            out->len += (size_t)n;
            return;
        } else {
            size_t cap = (out->cap + (size_t)n) * 2;
            char *grown = realloc(out->base, cap);
            if (grown == NULL)
                out->failed = 1;
            else
                out->base = grown, out->cap = cap;
        }
    }
}

static void header(out_t *out, const char *name, const char *type, const char *help)
{
    put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* namespace="..",<second>=".." of a label, escaped. */
static void put_labels(out_t *out, unsigned id, const char *second)
{
    const label_t *l = &labels[id];
    char ns[2 * strlen(l->namespace_) + 1], name[2 * strlen(l->name) + 1];
    gw_metrics_escape_label(ns, l->namespace_);
    gw_metrics_escape_label(name, l->name);
    if (second != NULL)
        put(out, "namespace=\"%s\",%s=\"%s\"", ns, second, name);
    else
        put(out, "namespace=\"%s\"", ns);
}

#define SUM(total, field)                                                                                    \
    do {                                                                                                     \
        total = 0;                                                                                           \
        for (shard_t *s_ = atomic_load(&shards); s_ != NULL; s_ = s_->next)                                  \
            total += atomic_load_explicit(&s_->field, memory_order_relaxed);                                 \
    } while (0)

static int is_kind(unsigned id, label_kind_t kind)
{
    return id == OVERFLOW_LABEL || labels[id].kind == kind;
}

static void render_requests(out_t *out, unsigned count)
{
    static const char *const classes[CLASS_COUNT] = {"1xx", "2xx", "3xx", "4xx", "5xx", "none"};
    header(
        out, "tenantgate_requests_total", "counter",
        "Requests by route and status class; reason upstream when the upstream answered, else the gateway's");
    for (unsigned id = 0; id < count; ++id) {
        if (!is_kind(id, LABEL_ROUTE))
            continue;
        for (size_t c = 0; c < CLASS_COUNT; ++c)
            for (size_t r = 0; r < REASON_COUNT; ++r) {
                uint64_t n;
                SUM(n, requests[id][c][r]);
                if (n == 0)
                    continue;
                put(out, "tenantgate_requests_total{");
                put_labels(out, id, "route");
                put(out, ",code_class=\"%s\",reason=\"%s\"} %llu\n", classes[c], reasons[r].reason,
                    (unsigned long long)n);
            }
    }
}

static void render_durations(out_t *out, unsigned count)
{
    header(out, "tenantgate_request_duration_seconds", "histogram",
           "Time from request to its end, by namespace");
    for (unsigned id = 0; id < count; ++id) {
        if (!is_kind(id, LABEL_NAMESPACE))
            continue;
        uint64_t cumulative = 0, n, sum_us;
        for (size_t b = 0; b <= BUCKET_COUNT; ++b) {
            SUM(n, duration[id][b]);
            cumulative += n;
        }
        if (cumulative == 0)
            continue;
        cumulative = 0;
        for (size_t b = 0; b <= BUCKET_COUNT; ++b) {
            SUM(n, duration[id][b]);
            cumulative += n;
            put(out, "tenantgate_request_duration_seconds_bucket{");
            put_labels(out, id, NULL);
            if (b < BUCKET_COUNT)
                put(out, ",le=\"%g\"} %llu\n", duration_buckets[b], (unsigned long long)cumulative);
            else
                put(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
        }
        SUM(sum_us, duration_sum_us[id]);
        put(out, "tenantgate_request_duration_seconds_sum{");
        put_labels(out, id, NULL);
        put(out, "} %.6f\ntenantgate_request_duration_seconds_count{", (double)sum_us / 1e6);
        put_labels(out, id, NULL);
        put(out, "} %llu\n", (unsigned long long)cumulative);
    }
}

/* A counter per cluster label, at offset (an array of GW_METRICS_MAX_LABELS counters) in the shards. */
static void render_cluster_counter(out_t *out, unsigned count, const char *name, const char *help,
                                   size_t offset)
{
    header(out, name, "counter", help);
    for (unsigned id = 0; id < count; ++id) {
        if (!is_kind(id, LABEL_CLUSTER))
            continue;
        uint64_t n = 0;
        for (shard_t *s = atomic_load(&shards); s != NULL; s = s->next)
            n += atomic_load_explicit(&((counter_t *)((char *)s + offset))[id], memory_order_relaxed);
        if (n == 0)
            continue;
        put(out, "%s{", name);
        put_labels(out, id, "cluster");
        put(out, "} %llu\n", (unsigned long long)n);
    }
}

static void render_authz_and_ejections(out_t *out, unsigned count)
{
    static const char *const decisions[GW_METRICS_AUTHZ_COUNT] = {"allow", "deny", "ratelimit"};
    header(out, "tenantgate_authz_decisions_total", "counter", "Authorization decisions by namespace");
    for (unsigned id = 0; id < count; ++id)
        for (size_t d = 0; is_kind(id, LABEL_NAMESPACE) && d < GW_METRICS_AUTHZ_COUNT; ++d) {
            uint64_t n;
            SUM(n, authz[id][d]);
            if (n == 0)
                continue;
            put(out, "tenantgate_authz_decisions_total{");
            put_labels(out, id, NULL);
            put(out, ",decision=\"%s\"} %llu\n", decisions[d], (unsigned long long)n);
        }
    render_cluster_counter(out, count, "tenantgate_upstream_ejections_total",
                           "Upstream endpoints ejected by outlier detection, by namespace and cluster",
                           offsetof(shard_t, ejections));
    render_cluster_counter(
        out, count, "tenantgate_upstream_connect_failures_total",
        "Requests that could not connect to an upstream endpoint, by namespace and cluster",
        offsetof(shard_t, connect_failures));
}

static void render_process(out_t *out)
{
    static const char *const logins[GW_METRICS_LOGIN_COUNT] = {"started", "succeeded", "failed"};
    uint64_t n, m;
    header(out, "tenantgate_sessions_cache_total", "counter", "Session lookups by the worker cache result");
    SUM(n, sessions_cache[1]);
    SUM(m, sessions_cache[0]);
    put(out, "tenantgate_sessions_cache_total{result=\"hit\"} %llu\n", (unsigned long long)n);
    put(out, "tenantgate_sessions_cache_total{result=\"miss\"} %llu\n", (unsigned long long)m);
    as_session_cache_stats_t sum = {0};
    pthread_mutex_lock(&cache_lock);
    sum.evictions = detached_evictions;
    for (const cache_source_t *source = cache_sources; source != NULL; source = source->next) {
        as_session_cache_stats_t one;
        as_session_cache_stats(source->cache, &one);
        sum.size += one.size;
        sum.capacity += one.capacity;
        sum.evictions += one.evictions;
    }
    pthread_mutex_unlock(&cache_lock);
    header(out, "tenantgate_session_cache_entries", "gauge", "Sessions held by the in-process session cache");
    put(out, "tenantgate_session_cache_entries %zu\n", sum.size);
    header(out, "tenantgate_session_cache_max_entries", "gauge",
           "Bound of the in-process session cache (sessions.cacheMaxEntries)");
    put(out, "tenantgate_session_cache_max_entries %zu\n", sum.capacity);
    header(out, "tenantgate_session_cache_evictions_total", "counter",
           "Sessions dropped from the in-process cache to keep it within its bound");
    put(out, "tenantgate_session_cache_evictions_total %llu\n", (unsigned long long)sum.evictions);
    header(out, "tenantgate_login_total", "counter", "Browser login steps by result");
    for (size_t i = 0; i < GW_METRICS_LOGIN_COUNT; ++i) {
        SUM(n, login[i]);
        put(out, "tenantgate_login_total{result=\"%s\"} %llu\n", logins[i], (unsigned long long)n);
    }
    header(out, "tenantgate_config_reloads_total", "counter", "Configuration reloads by result");
    put(out, "tenantgate_config_reloads_total{result=\"ok\"} %llu\n",
        (unsigned long long)atomic_load(&reloads[1]));
    put(out, "tenantgate_config_reloads_total{result=\"refused\"} %llu\n",
        (unsigned long long)atomic_load(&reloads[0]));
    header(out, "tenantgate_config_generation", "gauge",
           "Number of the configuration generation new requests use");
    put(out, "tenantgate_config_generation %llu\n", (unsigned long long)atomic_load(&generation));
    header(out, "tenantgate_inflight_requests", "gauge", "Requests in progress");
    SUM(n, started);
    SUM(m, ended);
    put(out, "tenantgate_inflight_requests %llu\n", (unsigned long long)(n > m ? n - m : 0));
    header(out, "tenantgate_build_info", "gauge", "Build of the running gateway");
    put(out, "tenantgate_build_info{version=\"%s\"} 1\n", TG_VERSION);
}

char *gw_metrics_render(size_t *len)
{
    out_t out = {.base = malloc(16384), .cap = 16384};
    if (out.base == NULL)
        return NULL;
    unsigned count = atomic_load_explicit(&label_count, memory_order_acquire);
    render_requests(&out, count);
    render_durations(&out, count);
    render_authz_and_ejections(&out, count);
    render_process(&out);
    if (out.failed) {
        free(out.base);
        return NULL;
    }
    *len = out.len;
    return out.base;
}
