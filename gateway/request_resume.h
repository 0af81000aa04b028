#ifndef GW_REQUEST_RESUME_H
#define GW_REQUEST_RESUME_H

/*
 * Suspended requests coming back: an identity step (session lookup, bearer
 * verification) that had to wait answers nothing itself; when its work ends
 * it runs the handler's on_req again for the same request, on the same
 * thread, handing its result over as a tagged payload that the step takes on
 * that second pass.
 */

#include <h2o.h>

/** How a suspended request is resumed: the handler's on_req, called again with the same request. */
typedef int (*gw_resume_cb)(h2o_handler_t *handler, h2o_req_t *req);

/**
 * Runs resume(handler, req) now with req marked as resumed and payload (owned
 * by the step of tag, any unique address) waiting to be taken. Returns the
 * payload when nothing took it (the caller frees it), else NULL.
 */
void *gw_request_resume(h2o_req_t *req, gw_resume_cb resume, h2o_handler_t *handler, const void *tag,
                        void *payload);

/** Whether req is on its resumed pass: per-request accounting of the first pass must not run again. */
int gw_request_is_resumed(const h2o_req_t *req);

/** The payload of tag waiting for req, taken (NULL when there is none, or it was taken). */
void *gw_request_take_resumed(const h2o_req_t *req, const void *tag);

/** Ties a pending operation to a request whose memory may go away first (the client left). */
typedef struct gw_request_link gw_request_link_t;

/**
 * Links *slot (the operation's pointer to req, set to req here) to req's
 * memory: when req is disposed, *slot becomes NULL. Allocated from req's pool.
 */
gw_request_link_t *gw_request_link(h2o_req_t *req, h2o_req_t **slot);

/** Detaches a link whose request is still alive (the operation ends first or takes the request over). */
void gw_request_unlink(gw_request_link_t *link);

#endif
