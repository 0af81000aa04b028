#ifndef OIDC_JWS_H
#define OIDC_JWS_H

/*
 * Compact JWS (RFC 7515) verification against a parsed key set. Only
 * asymmetric algorithms exist here: "none" and HS* are not representable, so
 * no allow-list can let them through. Header members that point at keys
 * (jku, x5u, jwk, x5c) are ignored: keys come from the set only.
 */

#include "oidc/jwk.h"
#include "oidc/verify_status.h"

#include <jansson.h>
#include <stddef.h>

/** Largest compact token accepted, in bytes. */
#define OIDC_JWS_MAX_TOKEN (16 * 1024)
/** Keys tried at most for a token without kid. */
#define OIDC_JWS_MAX_KEY_TRIES 4

/** Signature algorithms (RFC 7518 section 3), as flags for an allow-list. */
typedef enum {
    OIDC_JWS_RS256 = 1u << 0,
    OIDC_JWS_RS384 = 1u << 1,
    OIDC_JWS_RS512 = 1u << 2,
    OIDC_JWS_PS256 = 1u << 3,
    OIDC_JWS_PS384 = 1u << 4,
    OIDC_JWS_PS512 = 1u << 5,
    OIDC_JWS_ES256 = 1u << 6,
    OIDC_JWS_ES384 = 1u << 7,
    OIDC_JWS_ES512 = 1u << 8,
} oidc_jws_alg_t;

/** Every supported algorithm, for callers that trust any of them. */
#define OIDC_JWS_ALGS_ALL 0x1ffu

/** Maps "RS256" and the like to their flag; 0 for anything else ("none", "HS256", "rs256"). */
oidc_jws_alg_t oidc_jws_alg_from_name(const char *name);

/** The JOSE name of one flag ("ES256"), or NULL when alg is not exactly one known flag. */
const char *oidc_jws_alg_name(oidc_jws_alg_t alg);

/**
 * Whether alg can be used with a key of this type and curve: RS and PS need
 * RSA; ES256, ES384 and ES512 need EC on P-256, P-384 and P-521. Returns 1 or 0.
 */
int oidc_jws_alg_fits(oidc_jws_alg_t alg, oidc_jwk_kty_t kty, const char *crv);

/**
 * Verifies a compact JWS of len bytes against keys, accepting only the
 * algorithms in allowed (a mask of oidc_jws_alg_t). Checks in this order:
 * size, three base64url parts, header is a JSON object, alg allowed, no crit,
 * key chosen (by kid when the header has one, else up to
 * OIDC_JWS_MAX_KEY_TRIES keys that fit alg), alg fits the key, signature, and
 * only then decodes the payload, which must be a JSON object. typ is not
 * looked at. On OIDC_VERIFY_OK, *header and *claims (each may be NULL) get new
 * objects the caller frees with json_decref; on any failure they are left
 * untouched. Claims are not validated here (see claims.h).
 */
oidc_verify_status_t oidc_jws_verify(const char *token, size_t len, const oidc_jwks_t *keys, unsigned allowed,
                                     json_t **header, json_t **claims);

#endif
