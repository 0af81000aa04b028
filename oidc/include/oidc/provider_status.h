#ifndef OIDC_PROVIDER_STATUS_H
#define OIDC_PROVIDER_STATUS_H

/*
 * Outcome of an operation against an identity provider (discovery, key set,
 * token verification, token endpoint). Each status belongs to a class that
 * tells the gateway how to answer: the user's token or grant is no good
 * (401, or start the login again), the IdP is unavailable (503), our own
 * configuration is wrong, or an internal failure. Codes are stable strings
 * for logs and metrics, never for clients.
 *
 * X(NAME, "code", CLASS, "message")
 */
#define OIDC_PROVIDER_STATUS_MAP(X)                                                                          \
    X(OK, "ok", NONE, "done")                                                                                \
    X(INVALID_ARGUMENT, "invalid_argument", INTERNAL, "caller passed a missing or out-of-range argument")    \
    X(INTERNAL, "internal", INTERNAL, "out of memory or library failure")                                    \
    X(TOKEN_INVALID, "token_invalid", REJECTED, "token refused (the verify status says why)")                \
    X(IDP_UNREACHABLE, "idp_unreachable", UNAVAILABLE,                                                       \
      "no answer from the IdP (DNS, connect, TLS, timeout)")                                                 \
    X(IDP_BAD_STATUS, "idp_bad_status", UNAVAILABLE, "the IdP answered with an unexpected HTTP status")      \
    X(IDP_BAD_RESPONSE, "idp_bad_response", UNAVAILABLE,                                                     \
      "the IdP answered with a malformed or oversized body")                                                 \
    X(DISCOVERY_INVALID, "discovery_invalid", UNAVAILABLE,                                                   \
      "discovery document refused (issuer mismatch, missing or bad endpoint)")                               \
    X(JWKS_INVALID, "jwks_invalid", UNAVAILABLE, "key set refused (malformed or no usable key)")             \
    X(NOT_READY, "not_ready", UNAVAILABLE, "no discovery document cached yet")                               \
    X(GRANT_REJECTED, "grant_rejected", REJECTED, "the token endpoint refused the code or refresh token")    \
    X(CLIENT_REJECTED, "client_rejected", CONFIG, "the token endpoint refused our client credentials")       \
    X(REQUEST_REJECTED, "request_rejected", CONFIG, "the token endpoint refused the request (OAuth error)")  \
    X(TOKEN_RESPONSE_INVALID, "token_response_invalid", UNAVAILABLE,                                         \
      "token response refused (not JSON, token_type not Bearer, id_token missing, bad expires_in)")          \
    X(NO_ENDPOINT, "no_endpoint", CONFIG, "the IdP publishes no endpoint for this")                          \
    X(NO_CLIENT, "no_client", CONFIG, "no client id and secret are configured for this provider")            \
    X(SHUTDOWN, "shutdown", UNAVAILABLE, "the HTTP client was freed while the operation waited")

/** Result of a provider operation; OIDC_PROVIDER_OK is 0, every failure is non-zero. */
typedef enum {
#define OIDC_PROVIDER_STATUS_ENUM(name, code, cls, message) OIDC_PROVIDER_##name,
    OIDC_PROVIDER_STATUS_MAP(OIDC_PROVIDER_STATUS_ENUM)
#undef OIDC_PROVIDER_STATUS_ENUM
        OIDC_PROVIDER_STATUS_COUNT
} oidc_provider_status_t;

/** How a failure should be answered. */
typedef enum {
    /** Not a failure. */
    OIDC_FAILURE_NONE,
    /** What the user presented (token, code, refresh token) is no good: 401, or log in again. */
    OIDC_FAILURE_REJECTED,
    /** The identity provider cannot be used right now: 503 "identity provider unavailable". */
    OIDC_FAILURE_UNAVAILABLE,
    /** Our configuration does not fit the IdP (client credentials, missing endpoint): 503 and an operator
       alert. */
    OIDC_FAILURE_CONFIG,
    /** A bug or resource exhaustion on our side: 500. */
    OIDC_FAILURE_INTERNAL,
} oidc_failure_class_t;

/** Stable short code ("idp_unreachable"); "unknown" outside the enum. */
const char *oidc_provider_status_code(oidc_provider_status_t status);

/** One-line English explanation for operators; "unknown status" outside the enum. */
const char *oidc_provider_status_message(oidc_provider_status_t status);

/** The class of status; OIDC_FAILURE_INTERNAL outside the enum. */
oidc_failure_class_t oidc_provider_status_class(oidc_provider_status_t status);

#endif
