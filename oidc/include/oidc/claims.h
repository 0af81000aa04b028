#ifndef OIDC_CLAIMS_H
#define OIDC_CLAIMS_H

/*
 * Validation of the registered claims of a verified JWT (RFC 7519 4.1, OIDC
 * Core 3.1.3.7, RFC 9068 4). The clock is a parameter, so results are
 * deterministic; nothing here reads the time.
 */

#include "oidc/verify_status.h"

#include <jansson.h>
#include <stdint.h>

/** Clock skew allowed by oidc_claims_options_init, in seconds. */
#define OIDC_CLAIMS_DEFAULT_SKEW 60
/** Largest skew accepted, in seconds. */
#define OIDC_CLAIMS_MAX_SKEW 3600

/** What to do with azp (authorized party). */
typedef enum {
    /** azp is not looked at (access tokens issued to other clients for our API). */
    OIDC_AZP_IGNORE,
    /** When azp is present it must equal client_id (OIDC Core 3.1.3.7 step 5). */
    OIDC_AZP_CHECK_IF_PRESENT,
    /** As above, and azp must be present when aud has several values (step 4). */
    OIDC_AZP_REQUIRE_IF_MULTIPLE_AUD,
} oidc_azp_policy_t;

/** What a token's claims must satisfy. Strings are borrowed for the duration of the call. */
typedef struct {
    /** Expected iss, compared exactly; required. */
    const char *issuer;
    /** Expected audience; aud (string or array) must contain it or one of extra_audiences. Required. */
    const char *audience;
    /** Further accepted audiences, NULL-terminated, or NULL. */
    const char *const *extra_audiences;
    /** Our client id, for azp; required unless azp is OIDC_AZP_IGNORE. */
    const char *client_id;
    oidc_azp_policy_t azp;
    /** Current time, seconds since the epoch. */
    int64_t now;
    /** Allowed clock difference in seconds, 0 to OIDC_CLAIMS_MAX_SKEW. */
    int64_t skew;
    /** When > 0: iat required and not older than this many seconds. */
    int64_t max_token_age;
    /** When > 0: auth_time required and not older than this many seconds (OIDC max_age). */
    int64_t max_auth_age;
    /** When non-NULL: nonce required and equal to it. */
    const char *nonce;
    /** Claims that must be present (not null), NULL-terminated, or NULL for none. */
    const char *const *required;
} oidc_claims_options_t;

/**
 * Fills opts with the defaults: the given issuer and audience, client_id =
 * audience, azp checked if present, skew OIDC_CLAIMS_DEFAULT_SKEW, no age
 * limits, no nonce, "sub" required.
 */
void oidc_claims_options_init(oidc_claims_options_t *opts, const char *issuer, const char *audience,
                              int64_t now);

/**
 * Validates claims (a JSON object from oidc_jws_verify) against opts, in this
 * order: claim types; iss; aud; azp; exp (required, now < exp + skew); nbf (if
 * present, nbf <= now + skew); iat (if present, iat <= now + skew; age limit);
 * auth_time age; nonce; required claims. Returns the first failure, or
 * OIDC_VERIFY_OK. *failed_claim (may be NULL) gets the name of the claim at
 * fault, or NULL. OIDC_VERIFY_INVALID_ARGUMENT when opts lack a required field
 * or hold values out of range.
 */
oidc_verify_status_t oidc_claims_validate(const json_t *claims, const oidc_claims_options_t *opts,
                                          const char **failed_claim);

#endif
