#include "edge_handler.h"

#include <inttypes.h>
#include <string.h>

#include "auth_handler.h"
#include "authorize.h"
#include "bearer_auth.h"
#include "error_page.h"
#include "inflight.h"
#include "mirror.h"
#include "path_normalize.h"
#include "rctoken_cli.h"
#include "rctoken_forward.h"
#include "request_observer.h"
#include "reset_flood_guard.h"
#include "retry_filter.h"
#include "trace_context.h"
#include "well_known_handler.h"
#include "error_filter.h"
#include "worker_upstream.h"
#include "util/log.h"

/* Default upstream I/O timeout for routes that set none. */
#define DEFAULT_UPSTREAM_TIMEOUT_MS 30000

typedef struct {
    h2o_handler_t super;
    gw_generation_slot_t *generations;
} edge_handler_t;

/* A worker's state for one generation of the configuration. */
typedef struct worker_generation {
    gw_generation_t *generation;
    gw_worker_upstream_t *upstream;
    gw_auth_worker_t *auth;     /* browser login on this worker, NULL when off */
    gw_bearer_worker_t *bearer; /* bearer tokens on this worker, made on first use */
    size_t requests;            /* started on this generation and not yet disposed */
    struct worker_generation *next_retired;
    as_rctoken_cache_t *rctokens; /* this worker's RCTokens, NULL when off */
} worker_generation_t;

/* Per worker (event loop) state of the handler. */
typedef struct {
    h2o_context_t *ctx;
    worker_generation_t *current;
    worker_generation_t *retired; /* older generations with requests or connections left */
    h2o_timeout_entry_t reaper;
} edge_context_t;

/* Ties a request to the generation it started on, for as long as its memory lives. */
typedef struct {
    edge_context_t *state;
    worker_generation_t *generation;
    h2o_req_t *req;
    gw_upstream_try_t try; /* where it goes upstream; a retry moves it */
} request_ref_t;

/* Identity headers a client must never be able to set: the gateway asserts them itself. */
static const char *const always_stripped[] = {"kubeflow-userid", "kubeflow-groups", "x-forwarded-for",
                                              "x-request-id"};

static worker_generation_t *worker_generation_new(gw_generation_t *generation, h2o_context_t *ctx)
{
    worker_generation_t *wg = h2o_mem_alloc(sizeof(*wg));
    *wg = (worker_generation_t){.generation = generation};
    wg->upstream = gw_worker_upstream_new(generation->router, ctx, DEFAULT_UPSTREAM_TIMEOUT_MS);
    if (generation->rctoken != NULL) /* a new generation (a reload, maybe new keys) starts with no tokens */
        wg->rctokens = as_rctoken_cache_new(GW_RCTOKEN_CACHE_SIZE);
    return wg;
}

static void worker_generation_free(worker_generation_t *wg)
{
    gw_auth_worker_free(wg->auth); /* ends its pending store and IdP operations */
    gw_bearer_worker_free(wg->bearer);
    gw_worker_upstream_free(wg->upstream);
    as_rctoken_cache_free(wg->rctokens);
    gw_generation_release(wg->generation);
    free(wg);
}

/* Frees retired generations that nothing uses any more; checks again every second while some remain. A
 * websocket tunnel keeps its pool (and so its generation) alive until it closes. */
static void reap(edge_context_t *state)
{
    for (worker_generation_t **link = &state->retired; *link != NULL;) {
        worker_generation_t *wg = *link;
        if (wg->requests == 0) {
            gw_worker_upstream_retire(wg->upstream);
            if (gw_worker_upstream_in_use(wg->upstream) == 0) {
                tg_log_debug("edge", "generation %" PRIu64 " retired on this worker", wg->generation->number);
                *link = wg->next_retired;
                worker_generation_free(wg);
                continue;
            }
        }
        link = &wg->next_retired;
    }
    if (state->retired != NULL && !h2o_timeout_is_linked(&state->reaper))
        h2o_timeout_link(state->ctx->loop, &state->ctx->one_sec_timeout, &state->reaper);
}

static void on_reap_timeout(h2o_timeout_entry_t *entry)
{
    reap(H2O_STRUCT_FROM_MEMBER(edge_context_t, reaper, entry));
}

/* The generation new requests of this worker use: switches when a reload published a newer one. */
static worker_generation_t *current_generation(edge_handler_t *self, edge_context_t *state)
{
    uint64_t published = atomic_load_explicit(&self->generations->number, memory_order_acquire);
    if (published != state->current->generation->number) {
        worker_generation_t *old = state->current;
        state->current = worker_generation_new(gw_generation_slot_acquire(self->generations), state->ctx);
        old->next_retired = state->retired;
        state->retired = old;
        reap(state);
    }
    return state->current;
}

/* The request is gone: it leaves the upstream's in-flight count and its generation. */
static void request_ref_release(request_ref_t *ref)
{
    if (ref->try.endpoint < 0)
        return; /* never sent: no endpoint was available */
    gw_inflight_end();
    /* no longer in flight; the final status (after the error filter) feeds outlier detection */
    gw_worker_upstream_report(ref->generation->upstream, ref->try.target, ref->try.endpoint,
                              ref->req->res.status);
    if (--ref->generation->requests == 0 && ref->generation != ref->state->current)
        reap(ref->state);
}

static void on_context_init(h2o_handler_t *_self, h2o_context_t *ctx)
{
    edge_handler_t *self = (edge_handler_t *)_self;
    edge_context_t *state = h2o_mem_alloc(sizeof(*state));
    *state = (edge_context_t){.ctx = ctx};
    state->reaper.cb = on_reap_timeout;
    state->current = worker_generation_new(gw_generation_slot_acquire(self->generations), ctx);
    h2o_context_set_handler_context(ctx, &self->super, state);
}

static void on_context_dispose(h2o_handler_t *_self, h2o_context_t *ctx)
{
    edge_context_t *state = h2o_context_get_handler_context(ctx, _self);
    if (state == NULL)
        return;
    if (h2o_timeout_is_linked(&state->reaper))
        h2o_timeout_unlink(&state->reaper);
    while (state->retired != NULL) {
        worker_generation_t *wg = state->retired;
        state->retired = wg->next_retired;
        worker_generation_free(wg);
    }
    worker_generation_free(state->current);
    free(state);
}

/* 431 when the request's headers exceed the configured count or size. */
static int headers_within_limits(const gw_settings_t *settings, const h2o_req_t *req)
{
    if (req->headers.size > settings->limits.max_header_count)
        return 0;
    size_t bytes = 0;
    for (size_t i = 0; i < req->headers.size; ++i)
        bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
    return bytes <= settings->limits.max_header_bytes;
}

static int is_stripped(const gw_generation_t *generation, const h2o_iovec_t *name)
{
    const gw_settings_t *settings = &generation->config->settings;
    if (gw_rctoken_strips(generation->rctoken, name))
        return 1;
    for (size_t i = 0; i < sizeof(always_stripped) / sizeof(always_stripped[0]); ++i)
        if (h2o_lcstris(name->base, name->len, always_stripped[i], strlen(always_stripped[i])))
            return 1;
    for (size_t i = 0; i < settings->strip_headers.count; ++i) {
        const char *stripped = settings->strip_headers.items[i];
        if (h2o_lcstris(name->base, name->len, stripped, strlen(stripped)))
            return 1;
    }
    return 0;
}

static void strip_client_identity_headers(const gw_generation_t *generation, h2o_req_t *req)
{
    for (size_t i = 0; i < req->headers.size;) {
        if (is_stripped(generation, req->headers.entries[i].name))
            h2o_delete_header(&req->headers, (ssize_t)i);
        else
            ++i;
    }
}

static void delete_all(h2o_req_t *req, const char *name, size_t name_len)
{
    ssize_t index;
    while ((index = h2o_find_header_by_str(&req->headers, name, name_len, -1)) >= 0)
        h2o_delete_header(&req->headers, index);
}

/* The gateway is a hop of the trace: a valid client traceparent continues as a child (same trace id, our own
 * parent id); an invalid, repeated or missing one starts a new trace, and its tracestate goes with it. */
static void set_trace_context(h2o_req_t *req)
{
    ssize_t index = h2o_find_header_by_str(&req->headers, H2O_STRLIT("traceparent"), -1);
    gw_trace_context_t trace;
    int valid = 0;
    if (index >= 0) {
        const h2o_iovec_t *value = &req->headers.entries[index].value;
        valid = h2o_find_header_by_str(&req->headers, H2O_STRLIT("traceparent"), index) < 0 &&
                gw_traceparent_parse(value->base, value->len, &trace) == 0;
        delete_all(req, H2O_STRLIT("traceparent"));
        if (!valid)
            delete_all(req, H2O_STRLIT("tracestate"));
    }
    if ((valid ? gw_trace_context_child(&trace, &trace) : gw_trace_context_generate(&trace)) != 0)
        return;
    char *value = h2o_mem_alloc_pool(&req->pool, GW_TRACEPARENT_SIZE);
    gw_traceparent_format(&trace, value);
    h2o_add_header_by_str(&req->pool, &req->headers, H2O_STRLIT("traceparent"), 0, NULL, value,
                          strlen(value));
}

/* The upstream request target: the normalised path, with the matched part replaced by the route's
 * rewrite.uri (plain replacement, as Istio does). */
static h2o_iovec_t upstream_path(h2o_req_t *req, const gw_route_t *route, const char *path, size_t path_len,
                                 size_t matched_len)
{
    const char *rewrite = route->config->rewrite_uri;
    if (rewrite == NULL)
        return h2o_iovec_init(path, path_len);
    size_t rewrite_len = strlen(rewrite), rest_len = path_len - matched_len;
    char *buf = h2o_mem_alloc_pool(&req->pool, rewrite_len + rest_len + 2);
    size_t len = 0;
    if (rewrite_len == 0 || rewrite[0] != '/')
        buf[len++] = '/';
    memcpy(buf + len, rewrite, rewrite_len);
    len += rewrite_len;
    memcpy(buf + len, path + matched_len, rest_len);
    len += rest_len;
    return h2o_iovec_init(buf, len);
}

/* Header lookup for routing conditions; names are lower case, as h2o keeps them. */
static const char *request_header(void *ctx, const char *name, size_t *len)
{
    h2o_req_t *req = ctx;
    ssize_t index = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (index < 0)
        return NULL;
    *len = req->headers.entries[index].value.len;
    return req->headers.entries[index].value.base;
}

/* Keeps a request's generation (and its login objects) alive while login work for it may be in flight. */
typedef struct {
    edge_context_t *state;
    worker_generation_t *generation;
} auth_hold_t;

static void auth_hold_release(auth_hold_t *hold)
{
    gw_inflight_end();
    if (--hold->generation->requests == 0 && hold->generation != hold->state->current)
        reap(hold->state);
}

/* What a request keeps from its first pass through the edge handler until its memory goes: one allocation
 * from its pool, whose parts are released in this order (the generation last). */
typedef struct {
    request_ref_t ref;             /* ref.req is set once the request is sent upstream */
    auth_hold_t hold;              /* hold.generation is set while login may work for the request */
    gw_observation_t observation;  /* metrics and access log */
    gw_reset_flood_ticket_t flood; /* a stream cancelled before its response counts against its connection */
} request_frame_t;

static void on_frame_disposed(void *_frame)
{
    request_frame_t *frame = _frame;
    if (frame->ref.req != NULL)
        request_ref_release(&frame->ref);
    if (frame->hold.generation != NULL)
        auth_hold_release(&frame->hold);
    gw_observe_end(&frame->observation);
    gw_reset_flood_guard_release(&frame->flood);
}

/* The frame of req: an earlier pass's on a pass resumed after a session lookup, else a new (zeroed) one. */
static request_frame_t *request_frame(h2o_req_t *req)
{
    gw_observation_t *o = gw_observe_resumed(req);
    if (o != NULL)
        return H2O_STRUCT_FROM_MEMBER(request_frame_t, observation, o);
    request_frame_t *frame = h2o_mem_alloc_shared(&req->pool, sizeof(*frame), on_frame_disposed);
    *frame = (request_frame_t){0};
    return frame;
}

/* Identity before routing: /authservice/ endpoints, bearer tokens and browser sessions. 1 when req was
 * answered (or is in progress), 0 to route it with *identity (empty when login is off). */
static int on_req(h2o_handler_t *_self, h2o_req_t *req);

static int authenticate(h2o_handler_t *self, edge_context_t *state, worker_generation_t *generation,
                        request_frame_t *frame, h2o_req_t *req, const char *path, size_t path_len,
                        size_t query_at, const gw_route_t *route, const char *request_id,
                        as_identity_t *identity)
{
    *identity = AS_IDENTITY_ANONYMOUS;
    gw_generation_t *g = generation->generation;
    int bearer = gw_bearer_present(g->bearer, req);
    if (g->auth == NULL && !bearer)
        return 0;
    /* made on first use, on this worker's thread: an IdP client belongs to the thread that runs its loop */
    if ((g->auth != NULL && generation->auth == NULL &&
         (generation->auth = gw_auth_worker_new(g->auth, state->ctx->loop)) == NULL) ||
        (bearer && generation->bearer == NULL &&
         (generation->bearer = gw_bearer_worker_new(g->bearer, state->ctx->loop)) == NULL)) {
        gw_send_error(req, 503, "Sign-in is not available right now.", request_id); /* fail closed */
        return 1;
    }
    if (frame->hold.generation == NULL) { /* an earlier pass already holds the generation */
        frame->hold = (auth_hold_t){state, generation};
        ++generation->requests;
        gw_inflight_begin();
    }
    if (g->auth != NULL && gw_auth_handle(generation->auth, req, path, path_len, query_at, request_id))
        return 1;
    if (bearer) /* the route's namespace decides which issuers are trusted */
        return gw_bearer_identify(generation->bearer, req,
                                  route != NULL ? route->service->meta.namespace_ : NULL, request_id, on_req,
                                  self, identity);
    return gw_auth_identify(generation->auth, req, path, query_at != SIZE_MAX ? query_at : path_len, path_len,
                            request_id, on_req, self, identity);
}

/* Policy decision for the routed destination (authorize.c): 1 when req was answered (403, 429). */
static int authorize(gw_generation_t *generation, h2o_req_t *req, const gw_route_target_t *target,
                     const char *path, size_t path_len, const char *upstream, size_t upstream_len,
                     const as_identity_t *identity, const char *request_id)
{
    gw_authorize_request_t request = {
        .service =
            gw_router_clusters(generation->router)->clusters[target->cluster].service, /* resolved at load */
        .namespace_label = target->metrics_namespace,
        .path = path,
        .path_len = path_len,
        .upstream_path = upstream,
        .upstream_path_len = upstream_len,
        .identity = identity,
        .request_id = request_id,
        .api_prefixes = generation->auth != NULL ? generation->auth->api_prefixes : NULL,
        .header = request_header,
    };
    return gw_authorize(generation->authorizer, req, &request);
}

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    edge_handler_t *self = (edge_handler_t *)_self;
    edge_context_t *state = h2o_context_get_handler_context(req->conn->ctx, &self->super);
    worker_generation_t *generation = current_generation(self, state);
    const gw_settings_t *settings = &generation->generation->config->settings;

    /* a request resumed after its session lookup was counted, and given its id, on its first pass */
    int resumed = gw_request_is_resumed(req);
    request_frame_t *frame = request_frame(req);
    const char *request_id = frame->observation.request_id;
    if (frame->observation.req == NULL) {
        if (!resumed && gw_reset_flood_guard_check(req, &frame->flood)) {
            gw_send_error(req, 429, "Too many cancelled requests on this connection.", NULL);
            return 0;
        }
        char *id = h2o_mem_alloc_pool(&req->pool, GW_REQUEST_ID_SIZE);
        if (gw_request_id_generate(id) != 0)
            id[0] = '\0';
        request_id = id;
        gw_observe_begin(&frame->observation, req, generation->generation, request_id);
    }

    if (!headers_within_limits(settings, req)) {
        gw_send_error(req, 431, "The request headers are too large.", request_id);
        return 0;
    }

    char *path = h2o_mem_alloc_pool(&req->pool, req->path.len + 1);
    size_t path_len, query_at;
    gw_path_status_t status = gw_path_normalize(req->path.base, req->path.len, path, &path_len, &query_at);
    if (status != GW_PATH_OK) {
        gw_send_error(req, status == GW_PATH_TOO_LONG ? 414 : 400, gw_path_status_text(status), request_id);
        return 0;
    }
    size_t path_only = query_at != SIZE_MAX ? query_at : path_len;
    if (gw_well_known_handle(generation->generation->rctoken, req, path, path_only, request_id))
        return 0;
    gw_route_request_t route_request = {
        .method = req->method.base,
        .method_len = req->method.len,
        .path = path,
        .path_len = path_only,
        .query = path + path_only + (query_at != SIZE_MAX),
        .query_len = query_at != SIZE_MAX ? path_len - query_at - 1 : 0,
        .header = request_header,
        .ctx = req,
    };
    /* matched once, before the identity step changes any header: the route whose namespace chose the
     * trusted issuers is the route the request takes */
    size_t matched_len;
    const gw_route_t *route = gw_router_match(generation->generation->router, &route_request, &matched_len);
    as_identity_t identity;
    if (authenticate(&self->super, state, generation, frame, req, path, path_len, query_at, route, request_id,
                     &identity))
        return 0;
    if (gw_rctoken_cli_handle(generation->generation->rctoken, req, path, path_only, &identity, request_id))
        return 0;
    if (route == NULL || route->total_weight == 0) {
        gw_send_error(req, 404, "No route matches this path.", request_id);
        return 0;
    }
    const gw_route_target_t *target = gw_worker_upstream_pick(generation->upstream, route, identity.userid);
    gw_observe_route(&frame->observation, generation->generation, route, target, identity.userid);
    h2o_iovec_t target_path = upstream_path(req, route, path, path_len, matched_len);
    if (authorize(generation->generation, req, target, path, path_only, target_path.base,
                  target_path.len - (path_len - path_only), &identity, request_id))
        return 0;

    strip_client_identity_headers(generation->generation, req);
    gw_auth_strip_gateway_cookies(req);
    h2o_add_header_by_str(&req->pool, &req->headers, H2O_STRLIT("x-request-id"), 0, NULL, request_id,
                          strlen(request_id));
    set_trace_context(req);
    gw_auth_set_identity_headers(req, &identity);
    if (gw_rctoken_forward(generation->generation->rctoken, generation->rctokens, req, &identity, route,
                           target) != 0) {
        gw_send_error(req, 503, "The upstream token could not be issued right now.", request_id);
        return 0;
    }

    request_ref_t *ref = &frame->ref;
    *ref = (request_ref_t){
        state, generation, req, {.upstream = generation->upstream, .route = route, .target = target}};
    if ((ref->try.endpoint = gw_worker_upstream_select(generation->upstream, target, &ref->try.overrides)) <
        0) {
        gw_send_error(req, 503, "No healthy upstream is available right now.", request_id);
        return 0;
    }
    ++generation->requests;
    gw_inflight_begin();
    gw_mirror_send(generation->upstream, route, req, target_path); /* when the route mirrors: a copy */
    h2o_reprocess_request(req, req->method, req->scheme, req->authority, target_path, &ref->try.overrides, 0);
    return 0;
}

void gw_edge_handler_register(h2o_pathconf_t *pathconf, gw_generation_slot_t *generations)
{
    edge_handler_t *self = (edge_handler_t *)h2o_create_handler(pathconf, sizeof(*self));
    self->super.on_context_init = on_context_init;
    self->super.on_context_dispose = on_context_dispose;
    self->super.on_req = on_req;
    self->generations = generations;
    gw_error_filter_register(pathconf, 0);
    /* libh2o runs the filter created last first: a retried failure never becomes an error page */
    gw_retry_filter_register(pathconf);
}
