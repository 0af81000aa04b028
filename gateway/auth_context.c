#include "auth_context.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_int.h"
#include "metrics.h"
#include "authservice/session_ended.h"
#include "util/log.h"

/* Reads the client secret: the file's first line, without its line end. */
static int read_secret(const char *path, unsigned char *buf, size_t size, size_t *len, char *err,
                       size_t err_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, err_size, "oidc.clientSecretFile %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, size);
    close(fd);
    if (n < 0) {
        snprintf(err, err_size, "oidc.clientSecretFile %s: %s", path, strerror(errno));
        return -1;
    }
    size_t used = 0;
    while (used < (size_t)n && buf[used] != '\n' && buf[used] != '\r')
        ++used;
    if (used == 0 || (size_t)n == size) {
        OPENSSL_cleanse(buf, size);
        snprintf(err, err_size, "oidc.clientSecretFile %s: %s", path,
                 used == 0 ? "empty" : "longer than 1024 bytes");
        return -1;
    }
    *len = used;
    return 0;
}

gw_auth_t *gw_auth_new(const gw_auth_settings_t *settings, char *err, size_t err_size)
{
    gw_auth_t *auth = calloc(1, sizeof(*auth));
    if (auth == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    auth->settings = settings;
    unsigned char secret[OIDC_PROVIDER_MAX_SECRET + 1];
    size_t secret_len = 0;
    if (read_secret(settings->client_secret_file, secret, sizeof(secret), &secret_len, err, err_size) != 0)
        goto fail;
    oidc_provider_options_t opt = {
        .issuer = settings->issuer,
        .allow_insecure = settings->allow_insecure_issuer,
        .client_id = settings->client_id,
        .client_secret = secret,
        .client_secret_len = secret_len,
        .client_auth = settings->client_auth == 1 ? OIDC_CLIENT_SECRET_POST : OIDC_CLIENT_SECRET_BASIC,
    };
    char why[256] = "";
    auth->provider = oidc_provider_new(&opt, why, sizeof(why));
    OPENSSL_cleanse(secret, sizeof(secret));
    if (auth->provider == NULL) {
        snprintf(err, err_size, "oidc: %s", why);
        goto fail;
    }
    if ((auth->box = as_box_load(settings->key_file, why, sizeof(why))) == NULL) {
        snprintf(err, err_size, "sessions.keyFile: %s", why);
        goto fail;
    }
    as_session_cache_options_t cache_opt;
    as_session_cache_options_init(&cache_opt);
    cache_opt.ttl_ms = (int64_t)settings->cache_ttl_ms;
    cache_opt.max_entries = (size_t)settings->cache_max_entries;
    if ((auth->cache = as_session_cache_new(&cache_opt, why, sizeof(why))) == NULL) {
        snprintf(err, err_size, "sessions: %s", why);
        goto fail;
    }
    if (gw_metrics_session_cache_attach(auth->cache) != 0)
        tg_log_warn("auth", "out of memory: the session cache is left out of /metrics");
    auth->redirect_uri = gw__auth_prefixed(settings->external_url, "/authservice/callback");
    auth->post_logout_uri = gw__auth_prefixed(settings->external_url, "/");
    size_t scope_len = 0;
    for (size_t i = 0; i < settings->scopes.count; ++i)
        scope_len += strlen(settings->scopes.items[i]) + 1;
    auth->scope = calloc(1, scope_len + 1);
    auth->api_prefixes = calloc(settings->api_prefixes.count + 1, sizeof(char *));
    if (auth->redirect_uri == NULL || auth->post_logout_uri == NULL || auth->scope == NULL ||
        auth->api_prefixes == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < settings->scopes.count; ++i) {
        if (i > 0)
            strcat(auth->scope, " ");
        strcat(auth->scope, settings->scopes.items[i]);
    }
    for (size_t i = 0; i < settings->api_prefixes.count; ++i)
        auth->api_prefixes[i] = settings->api_prefixes.items[i];
    return auth;
fail:
    gw_auth_free(auth);
    return NULL;
}

void gw_auth_free(gw_auth_t *auth)
{
    if (auth == NULL)
        return;
    oidc_provider_free(auth->provider);
    gw_metrics_session_cache_detach(auth->cache);
    as_session_cache_free(auth->cache);
    as_box_free(auth->box);
    free(auth->redirect_uri);
    free(auth->post_logout_uri);
    free(auth->scope);
    free(auth->api_prefixes);
    free(auth);
}

static void close_websockets(void *data, const char *key)
{
    (void)data;
    gw__auth_ws_close(key);
}

static void on_logout_poll(uv_timer_t *timer)
{
    gw_auth_worker_t *w = timer->data;
    as_session_ended_poll(w->store, w->auth->cache, gw__auth_wall_ms(), gw__auth_now_ms(), close_websockets,
                          NULL);
}

static void on_websocket_recheck(uv_timer_t *timer)
{
    gw__auth_ws_recheck(timer->data);
}

/* A repeating timer that never keeps the loop alive; NULL when memory is short. */
static uv_timer_t *start_timer(gw_auth_worker_t *w, uv_loop_t *loop, uv_timer_cb cb, uint64_t every)
{
    uv_timer_t *timer = malloc(sizeof(*timer));
    if (timer == NULL)
        return NULL;
    uv_timer_init(loop, timer);
    timer->data = w;
    uv_timer_start(timer, cb, every, every);
    uv_unref((uv_handle_t *)timer);
    return timer;
}

/* Polls the ended-session feed (a logout on another worker or replica: cache entries, websockets), and
 * re-checks the sessions of this worker's websockets. */
static void start_timers(gw_auth_worker_t *w, uv_loop_t *loop)
{
    if (w->store == NULL)
        return;
    if (w->auth->settings->logout_poll_ms != 0)
        w->logout_poll = start_timer(w, loop, on_logout_poll, w->auth->settings->logout_poll_ms);
    w->websocket_recheck = start_timer(w, loop, on_websocket_recheck, GW_AUTH_WEBSOCKET_RECHECK_MS);
}

static void free_handle(uv_handle_t *handle)
{
    free(handle);
}

gw_auth_worker_t *gw_auth_worker_new(gw_auth_t *auth, uv_loop_t *loop)
{
    gw_auth_worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->auth = auth;
    char err[256];
    if (as_store_open(auth->settings->store, NULL, loop, &w->store, err, sizeof(err)) != 0) {
        tg_log_error("auth", "session store: %s", err);
        w->store = NULL;
    }
    if ((w->http = oidc_http_new(loop, NULL)) == NULL) {
        as_store_close(w->store);
        free(w);
        return NULL;
    }
    start_timers(w, loop);
    return w;
}

void gw_auth_worker_free(gw_auth_worker_t *w)
{
    if (w == NULL)
        return;
    if (w->logout_poll != NULL)
        uv_close((uv_handle_t *)w->logout_poll, free_handle);
    if (w->websocket_recheck != NULL)
        uv_close((uv_handle_t *)w->websocket_recheck, free_handle);
    oidc_http_free(w->http);
    as_store_close(w->store); /* runs the callbacks of a poll in flight: the cache is still there */
    free(w);
}
