#ifndef GW_WELL_KNOWN_HANDLER_H
#define GW_WELL_KNOWN_HANDLER_H

/*
 * The published RCToken keys: GET /.well-known/jwks.json and
 * /.well-known/openid-configuration, without login, so an Istio
 * RequestAuthentication (issuer + jwksUri) can validate RCTokens.
 */

#include <h2o.h>

#include "rctoken_context.h"

/**
 * Answers req when rctoken is not NULL and path (normalised, without the
 * query) is one of the two documents: 200 with Cache-Control max-age
 * (jwksMaxAge), 405 for methods other than GET and HEAD. Returns 1 when
 * answered, else 0.
 */
int gw_well_known_handle(const gw_rctoken_t *rctoken, h2o_req_t *req, const char *path, size_t path_len,
                         const char *request_id);

#endif
