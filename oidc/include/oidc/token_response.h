#ifndef OIDC_TOKEN_RESPONSE_H
#define OIDC_TOKEN_RESPONSE_H

/*
 * Token endpoint responses (RFC 6749 5.1 and 5.2, OIDC Core 3.1.3.3): a
 * successful answer parsed into malloc'd strings that are wiped when freed,
 * or an error answer classified so the caller can tell a dead grant (log in
 * again) from a misconfigured client or an IdP that is down.
 */

#include "oidc/provider_status.h"

#include <stddef.h>
#include <stdint.h>

/** Largest token response accepted, in bytes. */
#define OIDC_TOKEN_RESPONSE_MAX (64 * 1024)
/** Room for the OAuth error code and description kept from an error answer (with the NUL). */
#define OIDC_TOKEN_ERROR_SIZE 65
#define OIDC_TOKEN_DESCRIPTION_SIZE 201

/** Tokens of a successful response; every string is the caller's. */
typedef struct {
    char *access_token;
    /** "Bearer" (compared without regard to case, stored as "Bearer"). */
    char *token_type;
    /** NULL when absent (it is required for the authorization code grant). */
    char *id_token;
    /** NULL when absent. */
    char *refresh_token;
    /** Granted scope, NULL when absent (then the requested scope was granted). */
    char *scope;
    /** Lifetime of the access token in seconds, -1 when the response has none. */
    int64_t expires_in;
} oidc_tokens_t;

/** Why a response was refused; filled by oidc_token_response_parse. */
typedef struct {
    /** OAuth "error" of an error answer ("invalid_grant"), restricted to RFC 6749's characters; "" otherwise.
     */
    char error[OIDC_TOKEN_ERROR_SIZE];
    /** Its "error_description", same characters, cut to 200; "" when none. Written by the IdP: log, never
     * trust. */
    char description[OIDC_TOKEN_DESCRIPTION_SIZE];
    /** Short static explanation of our own; never holds a token, code or secret. */
    const char *reason;
} oidc_token_error_t;

/**
 * Classifies the answer of a token endpoint (status, body of len bytes).
 * 200 with a JSON object holding a non-empty access_token, token_type Bearer,
 * expires_in a non-negative number when present, string id_token,
 * refresh_token and scope when present, and an id_token when
 * require_id_token: returns OIDC_PROVIDER_OK and sets *out. An error answer
 * (400/401 with an "error" member) gives GRANT_REJECTED for invalid_grant,
 * CLIENT_REJECTED for invalid_client and unauthorized_client,
 * REQUEST_REJECTED for any other error; other statuses IDP_BAD_STATUS; a
 * malformed 200 TOKEN_RESPONSE_INVALID. On failure *out is untouched and
 * error (may be NULL) says why.
 */
oidc_provider_status_t oidc_token_response_parse(long status, const char *body, size_t len,
                                                 int require_id_token, oidc_tokens_t **out,
                                                 oidc_token_error_t *error);

/** Wipes every token with OPENSSL_cleanse and frees the struct. NULL is a no-op. */
void oidc_tokens_free(oidc_tokens_t *tokens);

#endif
