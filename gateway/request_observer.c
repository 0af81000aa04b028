#include "request_observer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonl.h"
#include "metrics.h"
#include "request_resume.h"
#include "util/log.h"

/* The longest path written to the access log; longer ones are cut. */
#define MAX_LOGGED_PATH 2048

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void write_access_line(const gw_observation_t *o, int status, uint64_t duration_us)
{
    const h2o_req_t *req = o->req;
    size_t path_len = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    if (path_len > MAX_LOGGED_PATH)
        path_len = MAX_LOGGED_PATH;
    size_t size =
        256 + 6 * (gw_jsonl_text_len(o->namespace_) + gw_jsonl_text_len(o->route) + req->input.method.len +
                   path_len + gw_jsonl_text_len(o->upstream) + gw_jsonl_text_len(o->userid));
    char when[TG_LOG_TIMESTAMP_SIZE];
    tg_log_timestamp(when);
    char *p, *line = gw_jsonl_line_start(size, when, o->request_id, &p);
    if (line == NULL)
        return;
    p = gw_jsonl_put_string(p, "namespace", o->namespace_, gw_jsonl_text_len(o->namespace_), 0);
    p = gw_jsonl_put_string(p, "route", o->route, gw_jsonl_text_len(o->route), 0);
    p = gw_jsonl_put_string(p, "method", req->input.method.base, req->input.method.len, 0);
    p = gw_jsonl_put_string(p, "path", req->input.path.base, path_len, 0);
    p += sprintf(p, ",\"status\":%d,\"duration_ms\":%.3f", status, (double)duration_us / 1000.0);
    p = gw_jsonl_put_string(p, "upstream", o->upstream, gw_jsonl_text_len(o->upstream), 0);
    p += sprintf(p, ",\"bytes\":%zu", req->bytes_sent);
    p = gw_jsonl_put_string(p, "userid", o->userid, gw_jsonl_text_len(o->userid), 0);
    p += sprintf(p, "}\n");
    gw_jsonl_write(o->access_log, line, (size_t)(p - line));
    free(line);
}

/* Observations alive on this worker thread, so a resumed pass finds its own. */
static _Thread_local gw_observation_t *live;

/* The labels of requests answered before routing (namespace="", route=""). */
static _Thread_local struct unrouted_labels {
    unsigned route, namespace_;
    int known;
} unrouted;

/* h2o's proxy logs why it could not reach the upstream before its 502/504: these are the connect phase's. */
static int connect_failed(const h2o_req_t *req)
{
    static const char *const connect_errors[] = {"connection failed",
                                                 "connection failure",
                                                 "connection timeout",
                                                 "invalid certificate",
                                                 "no certificate",
                                                 "certificate name mismatch",
                                                 NULL};
    for (size_t i = 0; i < req->error_logs.size; ++i) {
        const h2o_req_error_log_t *e = &req->error_logs.entries[i];
        if (strcmp(e->module, "lib/core/proxy.c") != 0)
            continue;
        for (const char *const *known = connect_errors; *known != NULL; ++known)
            if (h2o_memis(e->msg.base, e->msg.len, *known, strlen(*known)))
                return 1;
    }
    return 0;
}

void gw_observe_end(gw_observation_t *o)
{
    if (o->req == NULL)
        return; /* never begun */
    if (o->prev != NULL)
        o->prev->next = o->next;
    else
        live = o->next;
    if (o->next != NULL)
        o->next->prev = o->prev;
    int status = o->req->res.status;
    uint64_t duration_us = now_us() - o->started_us;
    /* h2o_reprocess_request attached our overrides: the request went upstream (the answer, or h2o's 502) */
    int proxied = o->req->overrides != NULL;
    gw_metrics_request(o->route_label, o->namespace_label, status, proxied, duration_us);
    if (proxied && status >= 502 && status <= 504 && connect_failed(o->req))
        gw_metrics_upstream_connect_failure(o->cluster_label);
    gw_metrics_inflight(-1);
    if (o->access_log != NULL) {
        write_access_line(o, status, duration_us);
        gw_jsonl_release(o->access_log);
    }
}

/* Only a pass resumed after a session lookup looks: a walk over the requests in flight on this worker, newest
 * first, so it passes only those that started during the lookup (long-lived websockets sit at the end). */
gw_observation_t *gw_observe_resumed(h2o_req_t *req)
{
    if (!gw_request_is_resumed(req))
        return NULL;
    for (gw_observation_t *o = live; o != NULL; o = o->next)
        if (o->req == req)
            return o;
    return NULL;
}

void gw_observe_begin(gw_observation_t *o, h2o_req_t *req, gw_generation_t *generation,
                      const char *request_id)
{
    *o = (gw_observation_t){.next = live,
                            .req = req,
                            .started_us = now_us(),
                            .request_id = request_id,
                            .access_log = generation->access_log};
    if (live != NULL)
        live->prev = o;
    live = o;
    if (unrouted.known == 0) /* looked up once per thread */
        unrouted =
            (struct unrouted_labels){gw_metrics_route_label("", ""), gw_metrics_namespace_label(""), 1};
    o->route_label = unrouted.route;
    o->namespace_label = unrouted.namespace_;
    if (o->access_log != NULL)
        gw_jsonl_retain(o->access_log);
    gw_metrics_inflight(1);
}

void gw_observe_route(gw_observation_t *o, const gw_generation_t *generation, const gw_route_t *route,
                      const gw_route_target_t *target, const char *userid)
{
    const char *ns = route->service->meta.namespace_;
    o->route_label = route->metrics_route;
    o->namespace_label = route->metrics_namespace;
    o->cluster_label = target->metrics_cluster;
    if (o->access_log == NULL)
        return;
    h2o_mem_pool_t *pool = &o->req->pool;
    o->namespace_ = h2o_strdup(pool, ns, SIZE_MAX).base;
    o->route = h2o_strdup(pool, route->name, SIZE_MAX).base;
    const gw_cluster_t *cluster = &gw_router_clusters(generation->router)->clusters[target->cluster];
    o->upstream = h2o_strdup(pool, cluster->name, SIZE_MAX).base;
    if (userid != NULL && userid[0] != '\0')
        o->userid = h2o_strdup(pool, userid, SIZE_MAX).base;
}
