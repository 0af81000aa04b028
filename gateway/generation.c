#include "generation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_context.h"
#include "authorize.h"
#include "rctoken_context.h"
#include "bearer_auth.h"
#include "jsonl.h"
#include "tls_server.h"

static size_t count_servers(const gw_config_t *config)
{
    size_t count = 0;
    for (size_t g = 0; g < config->gateway_count; ++g)
        count += config->gateways[g].server_count;
    return count;
}

static const gw_server_t *server_at(const gw_config_t *config, size_t index)
{
    for (size_t g = 0; g < config->gateway_count; ++g) {
        if (index < config->gateways[g].server_count)
            return &config->gateways[g].servers[index];
        index -= config->gateways[g].server_count;
    }
    return NULL;
}

gw_generation_t *gw_generation_new(gw_config_t *config, uint64_t number, char *err, size_t err_size)
{
    gw_generation_t *generation = calloc(1, sizeof(*generation));
    if (generation == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    atomic_init(&generation->refcount, 1);
    generation->number = number;
    gw_config_retain(config);
    generation->config = config;
    generation->server_count = count_servers(config);
    generation->server_ssl = calloc(generation->server_count + 1, sizeof(*generation->server_ssl));
    if (generation->server_ssl == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    if ((generation->router = gw_router_new(config, err, err_size)) == NULL)
        goto fail;
    for (size_t i = 0; i < generation->server_count; ++i) {
        const gw_server_t *server = server_at(config, i);
        if (server->protocol != GW_PROTO_HTTPS)
            continue;
        char tls_err[512];
        if ((generation->server_ssl[i] = gw_tls_server_ctx_new(server, tls_err, sizeof(tls_err))) == NULL) {
            snprintf(err, err_size, "%s:%u:%u: Gateway server on port %u: %s", server->mark.file,
                     server->mark.line, server->mark.column, server->port, tls_err);
            goto fail;
        }
    }
    if (config->settings.auth.enabled &&
        (generation->auth = gw_auth_new(&config->settings.auth, err, err_size)) == NULL)
        goto fail;
    if ((generation->authorizer = gw_authorizer_new(config, err, err_size)) == NULL)
        goto fail;
    if (config->settings.rctoken.enabled &&
        (generation->rctoken = gw_rctoken_new(&config->settings.rctoken, err, err_size)) == NULL)
        goto fail;
    if ((generation->bearer = gw_bearer_new(config, generation->rctoken, err, err_size)) == NULL &&
        err[0] != '\0')
        goto fail;
    char log_err[512];
    if (config->settings.access_log_file != NULL &&
        (generation->access_log =
             gw_jsonl_open(config->settings.access_log_file, log_err, sizeof(log_err))) == NULL) {
        snprintf(err, err_size, "accessLog: %s", log_err);
        goto fail;
    }
    return generation;

fail:
    gw_generation_release(generation);
    return NULL;
}

void gw_generation_retain(gw_generation_t *generation)
{
    atomic_fetch_add_explicit(&generation->refcount, 1, memory_order_relaxed);
}

void gw_generation_release(gw_generation_t *generation)
{
    if (generation == NULL || atomic_fetch_sub_explicit(&generation->refcount, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < generation->server_count && generation->server_ssl != NULL; ++i)
        SSL_CTX_free(generation->server_ssl[i]);
    free(generation->server_ssl);
    gw_auth_free(generation->auth);
    gw_authorizer_free(generation->authorizer);
    gw_rctoken_free(generation->rctoken);
    gw_bearer_free(generation->bearer);
    gw_jsonl_release(generation->access_log);
    gw_router_free(generation->router);
    gw_config_release(generation->config);
    free(generation);
}

static int same_text(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

int gw_generation_same_listeners(const gw_generation_t *a, const gw_generation_t *b, char *err,
                                 size_t err_size)
{
    if (a->server_count != b->server_count) {
        snprintf(err, err_size,
                 "the number of Gateway servers changed (%zu to %zu): listeners change only on restart",
                 a->server_count, b->server_count);
        return 0;
    }
    for (size_t i = 0; i < a->server_count; ++i) {
        const gw_server_t *x = server_at(a->config, i), *y = server_at(b->config, i);
        if (x->port != y->port || x->protocol != y->protocol || !same_text(x->bind, y->bind) ||
            x->tls.https_redirect != y->tls.https_redirect) {
            snprintf(err, err_size,
                     "%s:%u:%u: Gateway server %zu changed its port, bind, protocol or redirect: "
                     "listeners change only on restart",
                     y->mark.file, y->mark.line, y->mark.column, i);
            return 0;
        }
    }
    const gw_settings_t *s = &a->config->settings, *t = &b->config->settings;
    if (s->admin.port != t->admin.port || !same_text(s->admin.address, t->admin.address) ||
        s->threads != t->threads || s->limits.max_body_bytes != t->limits.max_body_bytes ||
        s->limits.request_timeout_ms != t->limits.request_timeout_ms ||
        s->limits.idle_timeout_ms != t->limits.idle_timeout_ms) {
        snprintf(err, err_size,
                 "admin listener, threads, maxBodyBytes, requestTimeout or idleTimeout changed: "
                 "these change only on restart");
        return 0;
    }
    return 1;
}

void gw_generation_slot_init(gw_generation_slot_t *slot, gw_generation_t *first)
{
    pthread_mutex_init(&slot->lock, NULL);
    slot->current = first;
    atomic_init(&slot->number, first->number);
}

void gw_generation_slot_publish(gw_generation_slot_t *slot, gw_generation_t *generation)
{
    pthread_mutex_lock(&slot->lock);
    gw_generation_t *old = slot->current;
    slot->current = generation;
    atomic_store_explicit(&slot->number, generation->number, memory_order_release);
    pthread_mutex_unlock(&slot->lock);
    gw_generation_release(old);
}

gw_generation_t *gw_generation_slot_acquire(gw_generation_slot_t *slot)
{
    pthread_mutex_lock(&slot->lock);
    gw_generation_t *generation = slot->current;
    gw_generation_retain(generation);
    pthread_mutex_unlock(&slot->lock);
    return generation;
}

void gw_generation_slot_dispose(gw_generation_slot_t *slot)
{
    gw_generation_release(slot->current);
    slot->current = NULL;
    pthread_mutex_destroy(&slot->lock);
}
