#ifndef OIDC_VERIFY_STATUS_H
#define OIDC_VERIFY_STATUS_H

/*
 * Why a token was refused. One list for signature (jws.h) and claim
 * (claims.h) checks; the code strings are stable and meant for logs and
 * metrics labels, never for clients (they would tell an attacker which check
 * to work on).
 *
 * X(NAME, "code", "message")
 */
#define OIDC_VERIFY_STATUS_MAP(X)                                                                            \
    X(OK, "ok", "token accepted")                                                                            \
    X(INVALID_ARGUMENT, "invalid_argument", "caller passed no token, key set or required option")            \
    X(INTERNAL, "internal", "out of memory or crypto library failure")                                       \
    X(TOO_LARGE, "too_large", "token longer than the size limit")                                            \
    X(MALFORMED, "malformed", "not a compact JWS with a JSON object header and payload")                     \
    X(ALG_NOT_ALLOWED, "alg_not_allowed", "alg missing, unknown, none, HMAC or not in the allow-list")       \
    X(CRIT, "crit", "crit header present (no extension is understood)")                                      \
    X(UNKNOWN_KID, "unknown_kid", "kid matches no key of the set")                                           \
    X(NO_KEY, "no_key", "token has no kid and the set has no key for its alg")                               \
    X(ALG_KEY_MISMATCH, "alg_key_mismatch", "alg does not fit the type, curve or alg of the key")            \
    X(BAD_SIGNATURE, "bad_signature", "signature does not verify")                                           \
    X(MISSING_CLAIM, "missing_claim", "a required claim is absent")                                          \
    X(INVALID_CLAIM, "invalid_claim", "a claim has the wrong JSON type or an impossible value")              \
    X(WRONG_ISSUER, "wrong_issuer", "iss is not the expected issuer")                                        \
    X(WRONG_AUDIENCE, "wrong_audience", "aud contains none of the expected audiences")                       \
    X(WRONG_AZP, "wrong_azp", "azp is not our client id, or missing where required")                         \
    X(EXPIRED, "expired", "exp is past (beyond the allowed skew)")                                           \
    X(NOT_YET_VALID, "not_yet_valid", "nbf is in the future (beyond the allowed skew)")                      \
    X(ISSUED_IN_FUTURE, "issued_in_future", "iat is in the future (beyond the allowed skew)")                \
    X(TOKEN_TOO_OLD, "token_too_old", "iat is older than the allowed token age")                             \
    X(AUTH_TOO_OLD, "auth_too_old", "auth_time is older than the requested max_age")                         \
    X(WRONG_NONCE, "wrong_nonce", "nonce differs from the one sent in the request")

/** Result of a verification step; OIDC_VERIFY_OK is 0, every failure is non-zero. */
typedef enum {
#define OIDC_VERIFY_STATUS_ENUM(name, code, message) OIDC_VERIFY_##name,
    OIDC_VERIFY_STATUS_MAP(OIDC_VERIFY_STATUS_ENUM)
#undef OIDC_VERIFY_STATUS_ENUM
        OIDC_VERIFY_STATUS_COUNT
} oidc_verify_status_t;

/** Stable short code for logs and metrics ("expired"); "unknown" for a value outside the enum. */
const char *oidc_verify_status_code(oidc_verify_status_t status);

/** One-line English explanation for operators; never send it to a client. */
const char *oidc_verify_status_message(oidc_verify_status_t status);

#endif
