#ifndef OIDC_PROVIDER_H
#define OIDC_PROVIDER_H

/*
 * One trusted OpenID Provider (issuer): its discovery document and key set,
 * cached and refreshed in the background, token verification against them,
 * the token endpoint, and the URLs a browser is sent to.
 *
 * A provider is one process-wide object shared by every worker thread. Each
 * call names the calling worker's HTTP client (oidc_http_t, bound to that
 * worker's loop); any fetch the call starts runs on that client, and the
 * callback always runs on that client's loop thread, never on another
 * worker's. When another worker is already fetching a document the call
 * needs, the call waits for that fetch instead of starting its own.
 *
 * Caching: the discovery document is refreshed every discovery_refresh_ms
 * and the key set every jwks_refresh_ms, by whichever worker notices it is
 * stale; the previous copy keeps serving meanwhile, and a failed refresh
 * keeps it too. A token naming an unknown kid triggers an on-demand key set
 * fetch, at most one per jwks_refetch_interval_ms for the whole provider, so
 * tokens with made-up kids cannot hammer the IdP. After a failed fetch a
 * document is not fetched again for retry_after_failure_ms (a cold cache then
 * fails fast).
 *
 * Lifetime: free every oidc_http_t used with a provider (that ends every
 * operation still waiting, with OIDC_PROVIDER_SHUTDOWN) before the provider.
 */

#include "oidc/claims.h"
#include "oidc/discovery.h"
#include "oidc/http_client.h"
#include "oidc/jwk.h"
#include "oidc/jws.h"
#include "oidc/provider_status.h"
#include "oidc/token_response.h"
#include "oidc/verify_status.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** Defaults used when an interval option is 0. */
#define OIDC_PROVIDER_DEFAULT_DISCOVERY_REFRESH_MS (60u * 60 * 1000)
#define OIDC_PROVIDER_DEFAULT_JWKS_REFRESH_MS (10u * 60 * 1000)
#define OIDC_PROVIDER_DEFAULT_JWKS_REFETCH_INTERVAL_MS (10u * 1000)
#define OIDC_PROVIDER_DEFAULT_RETRY_AFTER_FAILURE_MS (5u * 1000)
/** Longest client secret accepted, in bytes. */
#define OIDC_PROVIDER_MAX_SECRET 1024

/** How the client authenticates at the token endpoint (RFC 6749 2.3.1). */
typedef enum {
    /** HTTP Basic with the form-encoded client id and secret (the default). */
    OIDC_CLIENT_SECRET_BASIC = 0,
    /** client_id and client_secret in the request body. */
    OIDC_CLIENT_SECRET_POST = 1,
} oidc_client_auth_t;

/** Provider settings; strings and the secret are copied. */
typedef struct {
    /** The issuer identifier, compared exactly with the discovery document and tokens. Required. */
    const char *issuer;
    /** Accept http:// issuer and endpoint URLs on a loopback host (development only). */
    int allow_insecure;
    /** Key set URL to use instead of discovery's jwks_uri, or NULL; verification then needs no discovery. */
    const char *jwks_uri;
    /** Accepted signature algorithms, a mask of oidc_jws_alg_t; 0 for every supported one. */
    unsigned algs;
    /** OAuth client id, or NULL for a provider that only verifies tokens. */
    const char *client_id;
    /** Client secret bytes (read from a file by the caller; 1 to OIDC_PROVIDER_MAX_SECRET, no NUL). */
    const unsigned char *client_secret;
    size_t client_secret_len;
    oidc_client_auth_t client_auth;
    /** Intervals in ms; 0 for the defaults above. */
    uint32_t discovery_refresh_ms;
    uint32_t jwks_refresh_ms;
    uint32_t jwks_refetch_interval_ms;
    uint32_t retry_after_failure_ms;
} oidc_provider_options_t;

/** A trusted issuer. */
typedef struct oidc_provider oidc_provider_t;

/** Counters since creation, for metrics and tests. */
typedef struct {
    uint64_t discovery_fetches;
    uint64_t discovery_failures;
    uint64_t jwks_fetches;
    uint64_t jwks_failures;
    /** Key set fetches started because a token named an unknown kid (included in jwks_fetches). */
    uint64_t jwks_on_demand;
    /** Unknown-kid tokens refused without a fetch because of the rate limit. */
    uint64_t jwks_rate_limited;
} oidc_provider_stats_t;

/**
 * Creates a provider. Checks: issuer an https URL (or loopback http with
 * allow_insecure) without query or fragment; jwks_uri likewise when given;
 * algs within OIDC_JWS_ALGS_ALL; client id and secret both given or both
 * absent; client_auth known. Returns NULL with a reason in err (may be NULL;
 * it never holds the secret) when an option is wrong or memory is short.
 */
oidc_provider_t *oidc_provider_new(const oidc_provider_options_t *opt, char *err, size_t err_size);

/** Frees the provider and wipes the secret. Every HTTP client used with it must be freed first. NULL is a
 * no-op. */
void oidc_provider_free(oidc_provider_t *provider);

/** The configured issuer. */
const char *oidc_provider_issuer(const oidc_provider_t *provider);

/** The cached discovery document with one more reference (oidc_discovery_free it), or NULL when none yet. */
oidc_discovery_t *oidc_provider_discovery(oidc_provider_t *provider);

/** The cached key set with one more reference (oidc_jwks_free it), or NULL when none yet. */
oidc_jwks_t *oidc_provider_jwks(oidc_provider_t *provider);

/** Copies the counters into *stats. */
void oidc_provider_stats(oidc_provider_t *provider, oidc_provider_stats_t *stats);

/** Completion of oidc_provider_load. */
typedef void (*oidc_provider_done_cb)(oidc_provider_status_t status, void *data);

/**
 * Makes sure the discovery document and the key set are cached, fetching on
 * http what is missing or stale (a provider with jwks_uri and no client needs
 * no discovery document and skips it). With force, each is fetched again and
 * the status is that of the first fetch to end after this call (one in
 * flight counts); a failure keeps the previous copies. For start-up and
 * readiness checks. Returns OIDC_PROVIDER_OK when cb will run (before this
 * returns when everything is cached), another status (cb never runs) on a
 * bad argument or a call from a thread that is not http's.
 */
oidc_provider_status_t oidc_provider_load(oidc_provider_t *provider, oidc_http_t *http, int force,
                                          oidc_provider_done_cb cb, void *data);

/** What oidc_provider_verify produced. */
typedef struct {
    /** OK, TOKEN_INVALID (see verify), or why the keys could not be had (IdP unavailable...). */
    oidc_provider_status_t status;
    /** With TOKEN_INVALID, why the token was refused; OIDC_VERIFY_OK otherwise. */
    oidc_verify_status_t verify;
    /** With TOKEN_INVALID, the claim at fault or NULL; valid during the callback only. */
    const char *failed_claim;
    /** With OK, the verified JOSE header and claims; the callback owns them (json_decref). NULL otherwise. */
    json_t *header;
    json_t *claims;
} oidc_provider_verify_result_t;

/** Completion of oidc_provider_verify. */
typedef void (*oidc_provider_verify_cb)(oidc_provider_verify_result_t *result, void *data);

/**
 * Verifies a compact JWT (ID token, JWT access token, logout token): the
 * signature against the cached key set with the provider's algorithms, then
 * the claims with opts (opts->issuer may be NULL for the provider's issuer,
 * else it must equal it; everything opts points at is copied when the call
 * has to wait). A kid missing from the set makes the provider fetch the key
 * set again (rate limited, see above) and verify once more with the newer
 * set. typ is not checked: the caller reads result->header for that.
 *
 * When the key set is cached and the kid known, the callback runs before this
 * function returns; so it does when the answer is known at once (a cold cache
 * while the IdP is known to be down). Otherwise it runs later on http's
 * loop. Returns
 * OIDC_PROVIDER_OK when cb will run or has run; another status (cb never
 * runs) for a missing argument, a token over OIDC_JWS_MAX_TOKEN bytes, an
 * opts->issuer of another issuer, or a call from a thread that is not http's.
 */
oidc_provider_status_t oidc_provider_verify(oidc_provider_t *provider, oidc_http_t *http, const char *token,
                                            const oidc_claims_options_t *opts, oidc_provider_verify_cb cb,
                                            void *data);

/** What a token endpoint call produced; valid during the callback. */
typedef struct {
    oidc_provider_status_t status;
    /** HTTP status of the token endpoint's answer, 0 when there was none. */
    long http_status;
    /** With a token endpoint refusal: its OAuth error and description (sanitised); "" otherwise. */
    const char *error;
    const char *error_description;
    /** Short static explanation for the log; never holds a token, code or secret. */
    const char *error_text;
    /** With OK: the tokens, owned by the callback (oidc_tokens_free). NULL otherwise. */
    oidc_tokens_t *tokens;
} oidc_token_result_t;

/** Completion of a token endpoint call. */
typedef void (*oidc_provider_token_cb)(oidc_token_result_t *result, void *data);

/**
 * Redeems an authorization code (grant_type authorization_code, with the
 * PKCE code_verifier and the redirect_uri of the authorization request),
 * authenticating with the configured client secret. The answer must carry an
 * id_token, which the caller then verifies (nonce!) with
 * oidc_provider_verify. Returns OIDC_PROVIDER_OK when cb will run on http's
 * loop (before this returns only when the discovery document cannot be had,
 * e.g. a cold cache while the IdP is known to be down); otherwise cb never
 * runs: INVALID_ARGUMENT, NO_CLIENT without client credentials.
 */
oidc_provider_status_t oidc_provider_exchange_code(oidc_provider_t *provider, oidc_http_t *http,
                                                   const char *code, const char *code_verifier,
                                                   const char *redirect_uri, oidc_provider_token_cb cb,
                                                   void *data);

/** Redeems a refresh token (grant_type refresh_token); otherwise as oidc_provider_exchange_code, id_token
 * optional. */
oidc_provider_status_t oidc_provider_refresh(oidc_provider_t *provider, oidc_http_t *http,
                                             const char *refresh_token, oidc_provider_token_cb cb,
                                             void *data);

/**
 * Asks for a token for the client itself (grant_type client_credentials),
 * with scope and resource (RFC 8707) when not NULL; as above, id_token optional.
 */
oidc_provider_status_t oidc_provider_client_credentials(oidc_provider_t *provider, oidc_http_t *http,
                                                        const char *scope, const char *resource,
                                                        oidc_provider_token_cb cb, void *data);

/**
 * Builds the authorization request URL (response_type=code, PKCE S256) from
 * the cached authorization_endpoint: client_id (NULL for the configured
 * one), redirect_uri, scope, state, nonce and code_challenge are required;
 * extra is NULL or a NULL-terminated list of name, value pairs (a NULL value
 * skips the pair) that may not repeat one of those names. Every value is
 * percent-encoded. Returns a new string (caller frees), or NULL with *status
 * (may be NULL) set: NOT_READY without a cached discovery document,
 * INVALID_ARGUMENT otherwise.
 */
char *oidc_provider_authorize_url(oidc_provider_t *provider, const char *client_id, const char *redirect_uri,
                                  const char *scope, const char *state, const char *nonce,
                                  const char *code_challenge, const char *const *extra,
                                  oidc_provider_status_t *status);

/**
 * Builds the RP-initiated logout URL from the cached end_session_endpoint,
 * with id_token_hint, post_logout_redirect_uri and state when not NULL (and
 * client_id when configured). Returns a new string (caller frees), or NULL
 * with *status (may be NULL): NOT_READY, NO_ENDPOINT when the IdP has no
 * end_session_endpoint, INVALID_ARGUMENT.
 */
char *oidc_provider_end_session_url(oidc_provider_t *provider, const char *id_token_hint,
                                    const char *post_logout_redirect_uri, const char *state,
                                    oidc_provider_status_t *status);

#endif
