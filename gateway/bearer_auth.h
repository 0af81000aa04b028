#ifndef GW_BEARER_AUTH_H
#define GW_BEARER_AUTH_H

/*
 * Bearer tokens from API clients (docs/internals/bearer.md): the identity
 * step for requests with Authorization: Bearer when RequestAuthentication
 * documents configure trusted issuers. One oidc provider per jwtRule,
 * process-wide per generation; per worker an HTTP client for the key sets
 * and a cache of verified tokens by token hash.
 *
 * Tenant safety: a rule of the root namespace (GW_ROOT_NAMESPACE) is trusted
 * for every route, a rule of namespace N only for routes of N. The token's
 * unverified iss picks the rule among the trusted ones; that rule's issuer
 * then verifies the token for real.
 */

#include <h2o.h>

#include "authservice/identity.h"
#include "config.h"
#include "rctoken_context.h"
#include "request_resume.h"

/** Process-wide bearer state of one generation. */
typedef struct gw_bearer gw_bearer_t;

/** A worker's bearer state, used only on that worker's loop. */
typedef struct gw_bearer_worker gw_bearer_worker_t;

/**
 * Builds a provider per jwtRule of config (which must outlive the result),
 * and, when rctoken is not NULL and login is on, a first rule for the
 * gateway's own issuer: CLI tokens of /authservice/token, verified with
 * rctoken's keys (which must outlive the result too) for every namespace.
 * Returns NULL with err "" when there is no rule, NULL with a message in err
 * when a provider cannot be made.
 */
gw_bearer_t *gw_bearer_new(const gw_config_t *config, const gw_rctoken_t *rctoken, char *err,
                           size_t err_size);

/** Frees what gw_bearer_new made; every worker state must be freed first. NULL is a no-op. */
void gw_bearer_free(gw_bearer_t *bearer);

/** Makes a worker's HTTP client (on loop) and token cache. NULL when memory is short. */
gw_bearer_worker_t *gw_bearer_worker_new(gw_bearer_t *bearer, uv_loop_t *loop);

/** Frees a worker's state; pending verifications end (their requests are gone by then). NULL is a no-op. */
void gw_bearer_worker_free(gw_bearer_worker_t *w);

/**
 * Whether req is a bearer request for bearer (NULL: never): its Authorization
 * header uses the Bearer scheme, and either a RequestAuthentication rule
 * exists or the token's unverified iss is the gateway's own issuer. With
 * only the gateway's own issuer, other bearer headers go on to the session
 * step as before (the cookie decides, or 401 for an API client).
 */
int gw_bearer_present(const gw_bearer_t *bearer, h2o_req_t *req);

/**
 * Identity of a bearer request routed to namespace_ (NULL when no route
 * matched: then only root-namespace rules are trusted). A valid token:
 * returns 0 with *identity (strings in the request pool) and removes the
 * Authorization header unless the rule forwards it. Otherwise the request was
 * answered (401 invalid_token, 503 when the issuer's keys cannot be had) or
 * suspended while keys are fetched, and 1 is returned; a suspended request
 * comes back through resume(handler, req) and this step then finds its answer
 * at once.
 */
int gw_bearer_identify(gw_bearer_worker_t *w, h2o_req_t *req, const char *namespace_, const char *request_id,
                       gw_resume_cb resume, h2o_handler_t *handler, as_identity_t *identity);

/** Counters of a worker, for tests and metrics. */
typedef struct {
    uint64_t cache_hits, cache_misses, verified, refused, unavailable;
} gw_bearer_stats_t;

/** Copies w's counters. */
void gw_bearer_worker_stats(const gw_bearer_worker_t *w, gw_bearer_stats_t *stats);

#endif
