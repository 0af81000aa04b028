#ifndef GW_AUTHORIZE_H
#define GW_AUTHORIZE_H

/*
 * Authorization on the request path (docs/internals/authorization.md): the
 * policy decision for a routed request, the 403 answer (page for browsers,
 * JSON for API clients), the audit trail and the rate limits. One per
 * generation; the edge handler calls gw_authorize after routing and before
 * forwarding.
 */

#include <h2o.h>

#include "authservice/identity.h"
#include "config.h"
#include "policy.h"

typedef struct gw_authorizer gw_authorizer_t;

/** Builds the authorizer of config (which must outlive it): policies, audit file, rate limits. NULL + err. */
gw_authorizer_t *gw_authorizer_new(const gw_config_t *config, char *err, size_t err_size);

/** Frees an authorizer (NULL is allowed). */
void gw_authorizer_free(gw_authorizer_t *authorizer);

/** The compiled policies (for tests and benchmarks). */
const gw_policy_t *gw_authorizer_policy(const gw_authorizer_t *authorizer);

/** What gw_authorize needs besides the h2o request. */
typedef struct {
    const gw_service_entry_t *service; /* the routed destination */
    unsigned namespace_label;          /* its namespace's metric label id (gw_metrics_namespace_label) */
    const char *path;                  /* as asked: normalised, without the query (403 page, audit) */
    size_t path_len;
    const char *upstream_path; /* as the destination sees it (after rewrite.uri), without the query: what
                                  policies match, as a sidecar would */
    size_t upstream_path_len;
    const as_identity_t *identity;
    const char *request_id;
    const char *const *api_prefixes; /* for the API-client test, NULL-terminated or NULL */
    /** The value of a header of req (name in lower case), or NULL: for request.headers[...] conditions. */
    const char *(*header)(void *req, const char *name, size_t *len);
} gw_authorize_request_t;

/**
 * Decides whether req may go to its destination. Returns 0 to forward it;
 * otherwise req was answered (403 or 429) and 1 is returned. Every deny and a
 * sample of allows are written to the audit trail.
 */
int gw_authorize(gw_authorizer_t *authorizer, h2o_req_t *req, const gw_authorize_request_t *request);

#endif
