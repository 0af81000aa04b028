#ifndef GW_ERROR_PAGE_H
#define GW_ERROR_PAGE_H

#include <h2o.h>

/** Whether the client is an API client that wants JSON (Accept: application/json or X-Requested-With). */
int gw_client_wants_json(h2o_req_t *req);

/** The standard reason phrase of an HTTP status ("Not Found"). */
const char *gw_status_reason(int status);

/**
 * Puts the error body (JSON or HTML, chosen for the client) and its headers
 * on req->res without sending it, for filters that replace a response.
 * Returns the body, allocated from the request pool.
 */
h2o_iovec_t gw_error_prepare(h2o_req_t *req, int status, const char *message, const char *request_id);

/** Same as gw_error_prepare with the body chosen by the caller: JSON when json, else the HTML page. */
h2o_iovec_t gw_error_prepare_as(h2o_req_t *req, int status, const char *message, const char *request_id,
                                int json);

/**
 * Sends a complete error response: JSON {"error", "status", "request_id"}
 * for API clients, else static/error.html. message must be safe to show to
 * anyone: it never carries library error text, secrets or other tenants'
 * names. request_id may be NULL.
 */
void gw_send_error(h2o_req_t *req, int status, const char *message, const char *request_id);

#endif
