#ifndef AS_RCTOKEN_H
#define AS_RCTOKEN_H

/*
 * RCTokens: short-lived JWTs that tell an upstream who is calling and for
 * which audience (docs/internals/rctoken.md). Signed with OpenSSL straight
 * from the parsed key (ES256 as raw r||s, or RS256), and cached per worker
 * by (session, audience, namespace) so the request path signs only when a
 * token is new or has less than a tenth of its life left.
 */

#include <stddef.h>
#include <stdint.h>

#include "authservice/identity.h"
#include "authservice/rctoken_keys.h"

/** Largest token minted, in bytes (with the NUL). */
#define AS_RCTOKEN_MAX_SIZE 8192
/** Length of the sid claim (base64url of 16 bytes). */
#define AS_RCTOKEN_SID_LEN 22

/** What every token of a generation shares. */
typedef struct {
    const as_rctoken_keys_t *keys;
    const char *issuer;
    uint64_t ttl_s;              /* exp - iat */
    const char *namespace_claim; /* name of the tenant namespace claim, e.g. "namespace" */
} as_rctoken_params_t;

/**
 * The sid claim of a session: base64url of the first 16 bytes of
 * SHA-256("tenantgate rctoken sid" || 0 || session_key), plus a NUL, into
 * out[AS_RCTOKEN_SID_LEN + 1]. Opaque and not reversible to the session key.
 */
void as_rctoken_sid(const char *session_key, char *out);

/**
 * Mints a token for identity (not anonymous) at now (Unix seconds): claims
 * iss sub aud exp iat nbf jti sid email groups and the namespace claim
 * (namespace_ may be NULL); no sid without a session key, no email without
 * one. Returns a malloc'd compact JWS, or NULL when
 * identity has no subject or signing failed.
 */
char *as_rctoken_mint(const as_rctoken_params_t *params, const as_identity_t *identity, const char *audience,
                      const char *namespace_, int64_t now);

/** Claim that marks a token for the command line, and its value (upstream tokens never carry it). */
#define AS_RCTOKEN_USE_CLAIM "token_use"
#define AS_RCTOKEN_USE_CLI "cli"

/**
 * Mints a command-line token for identity at now: aud = params->issuer (the
 * gateway itself), no namespace claim, token_use "cli", exp = now + ttl_s
 * but never after not_after (the session's absolute end; 0: no bound).
 * Returns a malloc'd compact JWS, or NULL as as_rctoken_mint does (also when
 * not_after is not after now).
 */
char *as_rctoken_mint_cli(const as_rctoken_params_t *params, const as_identity_t *identity, int64_t now,
                          uint64_t ttl_s, int64_t not_after);

/** A bounded per-worker token cache; not thread-safe (one per event loop). */
typedef struct as_rctoken_cache as_rctoken_cache_t;

/** A cache of at most capacity tokens (rounded up to a multiple of 4), or NULL when out of memory. */
as_rctoken_cache_t *as_rctoken_cache_new(size_t capacity);

/** Frees a cache and its tokens (NULL is allowed). */
void as_rctoken_cache_free(as_rctoken_cache_t *cache);

/**
 * The token for (identity->session_key, audience, namespace_) at now (Unix
 * seconds): the cached one while at least a tenth of its life is left,
 * else a fresh one (which replaces it, or the entry closest to expiry when
 * the cache is full). An identity without a session key is never cached:
 * each call mints. Returns a string owned by the cache, valid until the next
 * call, or NULL when identity is anonymous or minting failed.
 */
const char *as_rctoken_cache_get(as_rctoken_cache_t *cache, const as_rctoken_params_t *params,
                                 const as_identity_t *identity, const char *audience, const char *namespace_,
                                 int64_t now);

/** How many tokens the cache minted so far (for tests and metrics). */
uint64_t as_rctoken_cache_mints(const as_rctoken_cache_t *cache);

#endif
