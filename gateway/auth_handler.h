#ifndef GW_AUTH_HANDLER_H
#define GW_AUTH_HANDLER_H

/*
 * Browser login on the request path (docs/internals/identity.md): the
 * identity step every proxied request goes through, and the /authservice/
 * endpoints (login, callback, logout, me). The decisions live in
 * authservice/ (return paths, login cookie, CSRF, API clients); this is the
 * h2o glue: cookies, async store and IdP calls, responses.
 *
 * Async steps keep a malloc'd operation linked to the request through a
 * pool-shared link whose dispose callback clears the back pointer, so a
 * completion for a request that went away only frees its operation.
 */

#include <h2o.h>

#include "auth_context.h"
#include "authservice/identity.h"

/** How a suspended request is resumed: the handler's on_req, called again with the same request. */
typedef int (*gw_auth_resume_cb)(h2o_handler_t *handler, h2o_req_t *req);

/**
 * Identity of a request to be proxied (path normalised, without query at
 * path_len; full target with query up to target_len). w NULL (login off):
 * returns 0 and the anonymous identity. A valid session: returns 0 with *identity
 * set (strings in the request pool).
 * Otherwise the request was answered (302 to the login page, 401 JSON for
 * API clients, 503 when the store is down) or suspended while the store is
 * read, and 1 is returned; a suspended request comes back through
 * resume(handler, req) (h2o_reprocess_request would not find the host of
 * every authority) and this step then finds its answer at once.
 */
int gw_auth_identify(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len,
                     size_t target_len, const char *request_id, gw_auth_resume_cb resume,
                     h2o_handler_t *handler, as_identity_t *identity);

/** Sets kubeflow-userid and kubeflow-groups on the upstream request when identity has a user. */
void gw_auth_set_identity_headers(h2o_req_t *req, const as_identity_t *identity);

/**
 * Removes the gateway's own cookies (the session cookie and the pending-login
 * cookie) from the Cookie header(s) of a request about to be proxied: an
 * upstream never sees them. Other cookies stay, in order; a Cookie header
 * left empty is dropped.
 */
void gw_auth_strip_gateway_cookies(h2o_req_t *req);

/**
 * Serves path (normalised, query from query_at or SIZE_MAX) when it is under
 * /authservice/ and w is not NULL: returns 1 (answered or in progress), else 0.
 */
int gw_auth_handle(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len, size_t query_at,
                   const char *request_id);

/**
 * Whether req comes from an API client (as_request_is_api: 401/403 as JSON, never a redirect or a page);
 * path is normalised, without the query; api_prefixes NULL-terminated or NULL.
 */
int gw_request_is_api(h2o_req_t *req, const char *path, size_t path_len, const char *const *api_prefixes);

#endif
