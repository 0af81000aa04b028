#ifndef AS_BEARER_TOKEN_H
#define AS_BEARER_TOKEN_H
/*
 * The bearer token of an Authorization header (RFC 6750 2.1), and the one
 * claim read before verification: iss, to choose which trusted issuer
 * verifies the token. Nothing read here is trusted; the chosen issuer's
 * verifier checks everything again.
 */
#include <stddef.h>

/** Largest token accepted, in bytes (oidc/jws.h OIDC_JWS_MAX_TOKEN). */
#define AS_BEARER_MAX_TOKEN (16 * 1024)

/** Longest iss read before verification, in bytes. */
#define AS_BEARER_MAX_ISSUER 512

/** Why a header or token was refused before verification. */
typedef enum {
    AS_BEARER_TOKEN_OK,
    AS_BEARER_TOKEN_NOT_BEARER, /* another scheme (or none): not a bearer request */
    AS_BEARER_TOKEN_EMPTY,      /* "Bearer" without a token */
    AS_BEARER_TOKEN_TOO_LARGE,  /* over AS_BEARER_MAX_TOKEN */
    AS_BEARER_TOKEN_MALFORMED,  /* not three base64url parts, or a payload without a string iss */
} as_bearer_token_status_t;

/** A short name of status for the log ("malformed"). */
const char *as_bearer_token_status_name(as_bearer_token_status_t status);

/**
 * Finds the token in an Authorization header value of len bytes: scheme
 * "Bearer" (any case), one or more spaces, the token, optional trailing
 * spaces. On OK *token points into value and *token_len is its length.
 */
as_bearer_token_status_t as_bearer_token_from_header(const char *value, size_t len, const char **token,
                                                     size_t *token_len);

/**
 * Reads iss from the payload of a compact JWS (three base64url parts) without
 * verifying anything, into iss (size bytes, NUL-terminated). OK, TOO_LARGE or
 * MALFORMED (also when iss is absent, not a string, holds a NUL or does not fit).
 */
as_bearer_token_status_t as_bearer_token_peek_issuer(const char *token, size_t len, char *iss, size_t size);

#endif
