#include "runtime.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>
#include <uv.h>

#include "admin_handler.h"
#include "edge_handler.h"
#include "error_filter.h"
#include "inflight.h"
#include "memory_tuning.h"
#include "metrics.h"
#include "redirect_handler.h"
#include "control.h"
#include "tls_files.h"
#include "generation.h"
#include "util/log.h"

/* How long open connections may finish their requests after a stop signal. */
#define DRAIN_TIMEOUT_MS 5000
#define DRAIN_POLL_MS 50
#define LISTEN_BACKLOG 1024

typedef struct {
    char name[160];      /* "https 127.0.0.1:8443", for logs */
    size_t server_index; /* its Gateway server in config order (its TLS context lives in the generation) */
    int tls;             /* whether it speaks TLS */
    h2o_hostconf_t *hosts[2]; /* the listener's own host config, NULL-terminated */
    int *fds;                 /* bound sockets: one per worker, or one for the admin listener */
    size_t fd_count;
} listener_t;

typedef struct {
    gw_runtime_t *runtime;
    size_t index;
    pthread_t thread;
    uv_loop_t loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t *accept_ctxs; /* per listener */
    uv_tcp_t *sockets;             /* per listener; data == NULL when this worker does not serve it */
    uv_async_t stop_async;
    uv_async_t reload_async;
    gw_generation_t *tls_generation; /* whose server certificates the worker's listeners present */
    uv_timer_t drain_timer;
    uint64_t drain_deadline;
} worker_t;

struct gw_runtime {
    gw_config_t *config; /* the first one: listeners and libh2o limits come from it */
    gw_generation_slot_t generations;
    int generations_ready;
    h2o_globalconf_t globalconf;
    int globalconf_ready;
    listener_t *listeners;
    size_t listener_count;
    worker_t *workers;
    size_t worker_count;
    size_t workers_started;
    atomic_int ready;
};

/* ---- listening sockets ---- */

static int bind_socket(const char *address, uint16_t port, int reuse_port, const char *name, char *err,
                       size_t err_size)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    int rc = getaddrinfo(address, service, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, err_size, "cannot resolve bind address %s: %s", address, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        snprintf(err, err_size, "cannot listen on %s: %s", name, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int open_listener(listener_t *listener, const char *address, uint16_t port, size_t fd_count, char *err,
                         size_t err_size)
{
    if ((listener->fds = malloc(sizeof(int) * fd_count)) == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < fd_count; ++i) {
        int fd = bind_socket(address, port, fd_count > 1, listener->name, err, err_size);
        if (fd < 0)
            return -1;
        listener->fds[listener->fd_count++] = fd;
    }
    return 0;
}

/* ---- host configs ---- */

static h2o_pathconf_t *register_listener_host(gw_runtime_t *runtime, listener_t *listener, uint16_t port)
{
    char host[32];
    snprintf(host, sizeof(host), "listener-%zu", runtime->listener_count);
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&runtime->globalconf, h2o_iovec_init(host, strlen(host)), port);
    listener->hosts[0] = hostconf;
    listener->hosts[1] = NULL;
    /* requests h2o refuses before any handler runs (e.g. 413) are answered on the fallback path */
    gw_error_filter_register(&hostconf->fallback_path, 1);
    /* h2o would print each request error to stderr itself; tenantgate logs them in its own format */
    hostconf->fallback_path.error_log.emit_request_errors = 0;
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    pathconf->error_log.emit_request_errors = 0;
    return pathconf;
}

static uint16_t first_https_port(const gw_config_t *config)
{
    for (size_t g = 0; g < config->gateway_count; ++g)
        for (size_t s = 0; s < config->gateways[g].server_count; ++s)
            if (config->gateways[g].servers[s].protocol == GW_PROTO_HTTPS)
                return config->gateways[g].servers[s].port;
    return 443;
}

static int setup_gateway_server(gw_runtime_t *runtime, const gw_server_t *server, size_t server_index,
                                char *err, size_t err_size)
{
    listener_t *listener = &runtime->listeners[runtime->listener_count];
    int https = server->protocol == GW_PROTO_HTTPS;
    snprintf(listener->name, sizeof(listener->name), "%s %s:%u", https ? "https" : "http", server->bind,
             server->port);
    listener->server_index = server_index;
    listener->tls = https;
    h2o_pathconf_t *pathconf = register_listener_host(runtime, listener, server->port);
    if (!https && server->tls.https_redirect)
        gw_redirect_handler_register(pathconf, first_https_port(runtime->config));
    else
        gw_edge_handler_register(pathconf, &runtime->generations);
    ++runtime->listener_count;
    return open_listener(listener, server->bind, server->port, runtime->worker_count, err, err_size);
}

static int setup_admin(gw_runtime_t *runtime, char *err, size_t err_size)
{
    const gw_settings_t *settings = &runtime->config->settings;
    if (settings->admin.port == 0)
        return 0;
    listener_t *listener = &runtime->listeners[runtime->listener_count];
    snprintf(listener->name, sizeof(listener->name), "admin %s:%u", settings->admin.address,
             settings->admin.port);
    gw_admin_handler_register(register_listener_host(runtime, listener, settings->admin.port),
                              &runtime->ready);
    ++runtime->listener_count;
    return open_listener(listener, settings->admin.address, settings->admin.port, 1, err, err_size);
}

static void configure_globalconf(gw_runtime_t *runtime)
{
    const gw_settings_t *settings = &runtime->config->settings;
    h2o_config_init(&runtime->globalconf);
    runtime->globalconf_ready = 1;
    runtime->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("tenantgate"));
    runtime->globalconf.max_request_entity_size = settings->limits.max_body_bytes;
    runtime->globalconf.http1.req_timeout = settings->limits.request_timeout_ms;
    runtime->globalconf.http2.idle_timeout = settings->limits.idle_timeout_ms;
    runtime->globalconf.http2.graceful_shutdown_timeout = DRAIN_TIMEOUT_MS;
    runtime->globalconf.proxy.emit_x_forwarded_headers = 1;
    runtime->globalconf.proxy.preserve_x_forwarded_proto = 0;
}

static size_t worker_count(const gw_settings_t *settings)
{
    if (settings->threads > 0)
        return settings->threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (size_t)cores : 1;
}

gw_runtime_t *gw_runtime_new(gw_config_t *config, char *err, size_t err_size)
{
    gw_runtime_t *runtime = calloc(1, sizeof(*runtime));
    if (runtime == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    gw_config_retain(config);
    runtime->config = config;
    runtime->worker_count = worker_count(&config->settings);
    gw_generation_t *first = gw_generation_new(config, 1, err, err_size);
    if (first == NULL)
        goto fail;
    gw_generation_slot_init(&runtime->generations, first);
    gw_metrics_config_generation(1);
    runtime->generations_ready = 1;
    size_t listener_max = 1;
    for (size_t g = 0; g < config->gateway_count; ++g)
        listener_max += config->gateways[g].server_count;
    if ((runtime->listeners = calloc(listener_max, sizeof(*runtime->listeners))) == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    configure_globalconf(runtime);
    size_t server_index = 0;
    for (size_t g = 0; g < config->gateway_count; ++g)
        for (size_t s = 0; s < config->gateways[g].server_count; ++s)
            if (setup_gateway_server(runtime, &config->gateways[g].servers[s], server_index++, err,
                                     err_size) != 0)
                goto fail;
    if (setup_admin(runtime, err, err_size) != 0)
        goto fail;
    return runtime;

fail:
    gw_runtime_free(runtime);
    return NULL;
}

/* ---- workers ---- */

static void on_accept(uv_stream_t *listener, int status)
{
    if (status != 0)
        return;
    h2o_accept_ctx_t *accept_ctx = listener->data;
    uv_tcp_t *conn = h2o_mem_alloc(sizeof(*conn));
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    h2o_accept(accept_ctx, h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free));
}

/* A stopping worker waits for requests in progress (up to the deadline), not for idle keep-alive connections;
 * open websockets are cut when it stops. */
static void on_drain_tick(uv_timer_t *timer)
{
    worker_t *worker = timer->data;
    size_t in_flight = gw_inflight_count();
    if (in_flight == 0) {
        uv_stop(&worker->loop);
    } else if (uv_now(&worker->loop) >= worker->drain_deadline) {
        tg_log_warn("runtime", "worker %zu: drain deadline reached with %zu request(s) in flight",
                    worker->index, in_flight);
        uv_stop(&worker->loop);
    }
}

static void on_stop(uv_async_t *async)
{
    worker_t *worker = async->data;
    for (size_t i = 0; i < worker->runtime->listener_count; ++i)
        if (worker->sockets[i].data != NULL)
            uv_close((uv_handle_t *)&worker->sockets[i], NULL);
    h2o_context_request_shutdown(&worker->ctx);
    worker->drain_deadline = uv_now(&worker->loop) + DRAIN_TIMEOUT_MS;
    uv_timer_start(&worker->drain_timer, on_drain_tick, 0, DRAIN_POLL_MS);
}

/* A new generation was published: the worker's listeners present its certificates from now on. Handshakes
 * already made keep their SSL_CTX (OpenSSL holds a reference per connection). Routes switch lazily, on each
 * worker's next request. */
static void on_reload(uv_async_t *async)
{
    worker_t *worker = async->data;
    gw_generation_t *generation = gw_generation_slot_acquire(&worker->runtime->generations);
    for (size_t i = 0; i < worker->runtime->listener_count; ++i) {
        const listener_t *listener = &worker->runtime->listeners[i];
        if (worker->sockets[i].data != NULL && listener->tls)
            worker->accept_ctxs[i].ssl_ctx = generation->server_ssl[listener->server_index];
    }
    gw_generation_release(worker->tls_generation);
    worker->tls_generation = generation;
}

static int worker_init(gw_runtime_t *runtime, worker_t *worker, size_t index, char *err, size_t err_size)
{
    worker->runtime = runtime;
    worker->index = index;
    worker->tls_generation = gw_generation_slot_acquire(&runtime->generations);
    uv_loop_init(&worker->loop);
    h2o_context_init(&worker->ctx, &worker->loop, &runtime->globalconf);
    worker->accept_ctxs = calloc(runtime->listener_count, sizeof(*worker->accept_ctxs));
    worker->sockets = calloc(runtime->listener_count, sizeof(*worker->sockets));
    if (worker->accept_ctxs == NULL || worker->sockets == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < runtime->listener_count; ++i) {
        listener_t *listener = &runtime->listeners[i];
        if (index >= listener->fd_count)
            continue;
        worker->accept_ctxs[i] = (h2o_accept_ctx_t){
            .ctx = &worker->ctx,
            .hosts = listener->hosts,
            .ssl_ctx = listener->tls ? worker->tls_generation->server_ssl[listener->server_index] : NULL,
        };
        uv_tcp_t *socket = &worker->sockets[i];
        uv_tcp_init(&worker->loop, socket);
        int rc = uv_tcp_open(socket, listener->fds[index]);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)socket, LISTEN_BACKLOG, on_accept);
        if (rc != 0) {
            snprintf(err, err_size, "cannot accept on %s: %s", listener->name, uv_strerror(rc));
            return -1;
        }
        listener->fds[index] = -1; /* owned by the loop now */
        socket->data = &worker->accept_ctxs[i];
    }
    uv_async_init(&worker->loop, &worker->stop_async, on_stop);
    worker->stop_async.data = worker;
    uv_async_init(&worker->loop, &worker->reload_async, on_reload);
    worker->reload_async.data = worker;
    uv_timer_init(&worker->loop, &worker->drain_timer);
    worker->drain_timer.data = worker;
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *worker = arg;
    uv_run(&worker->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void log_listeners(const gw_runtime_t *runtime)
{
    for (size_t i = 0; i < runtime->listener_count; ++i)
        tg_log_info("runtime", "listening: %s", runtime->listeners[i].name);
    tg_log_info("runtime", "ready with %zu worker thread(s)", runtime->worker_count);
}

/* Builds a generation from the config file as it is now and publishes it; a file that does not load, or that
 * changes what only a restart can change, is refused and the current generation keeps serving. */
/* Watches the certificate files of config too. */
static void watch_tls_files(gw_control_t *control, const gw_config_t *config)
{
    const char *paths[256];
    size_t count = gw_tls_files(config, paths, sizeof(paths) / sizeof(paths[0]));
    if (count > sizeof(paths) / sizeof(paths[0])) {
        tg_log_warn("runtime", "%zu certificate files: only the first %zu are watched", count,
                    sizeof(paths) / sizeof(paths[0]));
        count = sizeof(paths) / sizeof(paths[0]);
    }
    gw_control_watch_files(control, paths, count);
}

static void reload(gw_runtime_t *runtime, gw_control_t *control, const char *why)
{
    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = gw_config_load(runtime->config->file, err);
    if (config == NULL) {
        tg_log_error("runtime", "%s: reload refused, still serving the previous configuration: %s", why, err);
        gw_metrics_config_reload(0, 0);
        return;
    }
    gw_generation_t *current = gw_generation_slot_acquire(&runtime->generations);
    gw_generation_t *next = gw_generation_new(config, current->number + 1, err, sizeof(err));
    gw_config_release(config);
    if (next != NULL && !gw_generation_same_listeners(current, next, err, sizeof(err))) {
        gw_generation_release(next);
        next = NULL;
    }
    gw_generation_release(current);
    if (next == NULL) {
        tg_log_error("runtime", "%s: reload refused, still serving the previous configuration: %s", why, err);
        gw_metrics_config_reload(0, 0);
        return;
    }
    uint64_t number = next->number;
    watch_tls_files(control, next->config);
    gw_generation_slot_publish(&runtime->generations, next);
    gw_metrics_config_reload(1, number);
    for (size_t i = 0; i < runtime->workers_started; ++i)
        uv_async_send(&runtime->workers[i].reload_async);
    tg_log_info("runtime", "%s: configuration reloaded (generation %" PRIu64 ")", why, number);
}

int gw_runtime_run(gw_runtime_t *runtime)
{
    char err[512];
    gw_control_t control;
    /* before any thread starts: workers inherit the blocked signals, only the control fd sees them */
    if (gw_control_open(&control, runtime->config->file, err, sizeof(err)) != 0) {
        tg_log_error("runtime", "%s", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    int status = 0;
    if ((runtime->workers = calloc(runtime->worker_count, sizeof(*runtime->workers))) == NULL)
        status = 1;
    for (size_t i = 0; status == 0 && i < runtime->worker_count; ++i) {
        if (worker_init(runtime, &runtime->workers[i], i, err, sizeof(err)) != 0) {
            tg_log_error("runtime", "%s", err);
            status = 1;
        }
    }
    for (size_t i = 0; status == 0 && i < runtime->worker_count; ++i) {
        if (pthread_create(&runtime->workers[i].thread, NULL, worker_main, &runtime->workers[i]) != 0) {
            tg_log_error("runtime", "cannot start worker thread %zu", i);
            status = 1;
            break;
        }
        ++runtime->workers_started;
    }
    /* idle connections' freed heap pages go back to the kernel (docs/internals/memory.md) */
    gw_memory_trimmer_t *trimmer = status == 0 ? gw_memory_trimmer_start(GW_MEMORY_TRIM_INTERVAL_MS) : NULL;
    if (status == 0 && trimmer == NULL)
        tg_log_warn("runtime", "cannot start the memory trimmer thread: freed heap pages stay resident");
    if (status == 0) {
        atomic_store(&runtime->ready, 1);
        log_listeners(runtime);
        watch_tls_files(&control, runtime->config);
        gw_control_event_t event;
        while ((event = gw_control_next(&control)) != GW_CONTROL_STOP)
            reload(runtime, &control,
                   event == GW_CONTROL_RELOAD_SIGNAL ? "SIGHUP"
                   : event == GW_CONTROL_RELOAD_FILE ? "config file changed"
                                                     : "certificate file changed");
        tg_log_info("runtime", "%s: draining and stopping",
                    control.stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    atomic_store(&runtime->ready, 0);
    for (size_t i = 0; i < runtime->workers_started; ++i)
        uv_async_send(&runtime->workers[i].stop_async);
    for (size_t i = 0; i < runtime->workers_started; ++i)
        pthread_join(runtime->workers[i].thread, NULL);
    gw_memory_trimmer_stop(trimmer);
    gw_control_close(&control);
    tg_log_info("runtime", "stopped");
    return status;
}

void gw_runtime_free(gw_runtime_t *runtime)
{
    if (runtime == NULL)
        return;
    /* Worker loops are not torn down: after a stop the process exits and the OS reclaims them. */
    for (size_t i = 0; i < runtime->listener_count; ++i) {
        listener_t *listener = &runtime->listeners[i];
        for (size_t f = 0; f < listener->fd_count; ++f)
            if (listener->fds[f] >= 0)
                close(listener->fds[f]);
        free(listener->fds);
    }
    free(runtime->listeners);
    if (runtime->generations_ready)
        gw_generation_slot_dispose(&runtime->generations);
    gw_config_release(runtime->config);
    free(runtime);
}
