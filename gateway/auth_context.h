#ifndef GW_AUTH_CONTEXT_H
#define GW_AUTH_CONTEXT_H

/*
 * Browser login state of the gateway. Process-wide, built with each
 * generation (a reload may change the IdP, client or store): the OpenID
 * provider (discovery and keys shared by every worker), the session cache and
 * the sealing box. Per worker (event loop): the session store handle and the
 * HTTP client for the IdP, made when the worker first uses the generation.
 */

#include <uv.h>

#include "authservice/crypto_box.h"
#include "authservice/session_cache.h"
#include "authservice/store.h"
#include "config.h"
#include "oidc/http_client.h"
#include "oidc/provider.h"

/** Process-wide login objects of one generation; immutable after gw_auth_new. */
typedef struct gw_auth {
    const gw_auth_settings_t *settings; /* in the generation's config */
    oidc_provider_t *provider;
    as_session_cache_t *cache;
    as_box_t *box;
    char *redirect_uri;        /* externalUrl + /authservice/callback */
    char *post_logout_uri;     /* externalUrl + / */
    char *scope;               /* scopes joined by spaces */
    const char **api_prefixes; /* NULL-terminated */
} gw_auth_t;

/** How often a worker checks that the sessions of its websockets still exist. */
#define GW_AUTH_WEBSOCKET_RECHECK_MS 30000u

/** A worker's login objects, used only on that worker's loop. */
typedef struct {
    gw_auth_t *auth;
    as_store_t *store; /* NULL when the store could not be opened (every lookup then answers 503) */
    oidc_http_t *http;
    uv_timer_t *logout_poll; /* reads the ended-session feed (authservice/session_ended.h); NULL when off */
    uv_timer_t *websocket_recheck; /* closes websockets whose session record is gone; NULL without a store */
    struct gw_auth_op *misses;     /* session lookups reading the store now, one per key (auth_lookup.c) */
} gw_auth_worker_t;

/**
 * Builds the login objects for settings (which must outlive them): reads the
 * client secret file (wiped after use) and the key file, creates the
 * provider and the cache. Returns NULL with a message (never a secret) in
 * err when a file cannot be read or an option is refused.
 */
gw_auth_t *gw_auth_new(const gw_auth_settings_t *settings, char *err, size_t err_size);

/** Frees what gw_auth_new made; every worker context must be freed first. NULL is a no-op. */
void gw_auth_free(gw_auth_t *auth);

/** Opens a worker's store handle and IdP client on loop. Returns NULL only when memory is short. */
gw_auth_worker_t *gw_auth_worker_new(gw_auth_t *auth, uv_loop_t *loop);

/** Closes the worker's store and client (pending operations complete as failed). NULL is a no-op. */
void gw_auth_worker_free(gw_auth_worker_t *worker);

#endif
