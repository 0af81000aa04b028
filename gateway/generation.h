#ifndef GW_GENERATION_H
#define GW_GENERATION_H

/*
 * A generation is everything built from one loaded config: the config, its
 * routes and upstream clusters, and the listeners' server TLS contexts.
 * Immutable and reference counted; a reload publishes a new one while
 * requests that started on the old one finish on it.
 */

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "router.h"

typedef struct {
    atomic_int refcount;
    uint64_t number;
    gw_config_t *config;
    gw_router_t *router;
    SSL_CTX **server_ssl; /* one per Gateway server in config order; NULL for plain HTTP */
    size_t server_count;
    struct gw_auth *auth; /* browser login (auth_context.h), NULL when the config has no oidc section */
    struct gw_authorizer *authorizer; /* policies, audit trail, rate limits (authorize.h) */
    struct gw_rctoken *rctoken;       /* RCToken keys and documents (rctoken_context.h), NULL when off */
    struct gw_bearer *bearer;    /* bearer tokens (bearer_auth.h), NULL without RequestAuthentication rules */
    struct gw_jsonl *access_log; /* spec.accessLog (jsonl.h), NULL when off */
} gw_generation_t;

/**
 * Builds a generation from config (taking a reference): routes, clusters
 * with their client TLS contexts, and server TLS contexts. Returns NULL with
 * a message in err. Call off the event loops: it reads certificate files.
 */
gw_generation_t *gw_generation_new(gw_config_t *config, uint64_t number, char *err, size_t err_size);

/** Takes a reference. */
void gw_generation_retain(gw_generation_t *generation);

/** Drops a reference; the last frees the generation (NULL is allowed). */
void gw_generation_release(gw_generation_t *generation);

/** Whether two generations listen on the same (protocol, bind, port) list; else a message in err. */
int gw_generation_same_listeners(const gw_generation_t *a, const gw_generation_t *b, char *err,
                                 size_t err_size);

/**
 * Where the current generation is published. Readers compare `number` (one
 * relaxed atomic load per request) with the generation they hold and call
 * gw_generation_slot_acquire only when it changed.
 */
typedef struct {
    pthread_mutex_t lock;
    gw_generation_t *current;
    atomic_uint_fast64_t number;
} gw_generation_slot_t;

/** Initialises the slot with a first generation (the slot takes the caller's reference). */
void gw_generation_slot_init(gw_generation_slot_t *slot, gw_generation_t *first);

/** Publishes generation (the slot takes the caller's reference and drops its old one). */
void gw_generation_slot_publish(gw_generation_slot_t *slot, gw_generation_t *generation);

/** Returns the current generation with a reference the caller releases. */
gw_generation_t *gw_generation_slot_acquire(gw_generation_slot_t *slot);

/** Releases the slot's generation. */
void gw_generation_slot_dispose(gw_generation_slot_t *slot);

#endif
