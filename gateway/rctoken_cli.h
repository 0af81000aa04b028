#ifndef GW_RCTOKEN_CLI_H
#define GW_RCTOKEN_CLI_H

/*
 * GET /authservice/token: a logged-in browser user's own short-lived token
 * for command-line use (docs/internals/rctoken.md). An RCToken whose audience
 * is the issuer itself, so it is never a token some upstream accepts, shown
 * on a page that is not cached, framed or referred.
 */

#include <h2o.h>

#include "authservice/identity.h"
#include "rctoken_context.h"

/**
 * Answers req when path (normalised, without query) is /authservice/token:
 * 404 when rctoken is NULL or identity is anonymous, 405 for methods other
 * than GET and HEAD, 503 when minting failed, else 200 with the page.
 * Returns 1 when answered, else 0.
 */
int gw_rctoken_cli_handle(const gw_rctoken_t *rctoken, h2o_req_t *req, const char *path, size_t path_len,
                          const as_identity_t *identity, const char *request_id);

#endif
