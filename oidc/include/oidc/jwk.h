#ifndef OIDC_JWK_H
#define OIDC_JWK_H

/*
 * JSON Web Keys (RFC 7517, 7518, 7638) for signature verification: a JWKS
 * document is parsed once into EVP_PKEYs, and our own public keys are
 * exported as JWKs. Only public RSA (>= 2048 bits) and EC P-256/P-384/P-521
 * signing keys are kept; every other key is skipped with a reason.
 *
 * A parsed set is immutable and reference counted: threads may verify with
 * it concurrently, and a cache may swap in a fresh set while verifications
 * still hold the old one.
 */

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

/** Largest JWKS document accepted, in bytes. */
#define OIDC_JWKS_MAX_DOCUMENT (256 * 1024)
/** Most entries a JWKS "keys" array may have (usable or not). */
#define OIDC_JWKS_MAX_KEYS 64
/** Smallest and largest RSA modulus accepted, in bits. */
#define OIDC_JWK_MIN_RSA_BITS 2048
#define OIDC_JWK_MAX_RSA_BITS 8192
/** Longest kid kept, in bytes; a key with a longer kid is skipped. */
#define OIDC_JWK_MAX_KID 256
/** Buffer size for a thumbprint: 43 base64url characters and a NUL. */
#define OIDC_JWK_THUMBPRINT_SIZE 44

/** Key type of a usable key. */
typedef enum { OIDC_JWK_KTY_RSA = 1, OIDC_JWK_KTY_EC = 2 } oidc_jwk_kty_t;

/** One usable public key of a set; owned by the set. */
typedef struct oidc_jwk oidc_jwk_t;

/** A parsed key set. */
typedef struct oidc_jwks oidc_jwks_t;

/**
 * Parses a JWKS document ({"keys": [...]}, at most OIDC_JWKS_MAX_DOCUMENT
 * bytes and OIDC_JWKS_MAX_KEYS entries). Keys that cannot be used for
 * signature verification (other kty, use other than "sig", key_ops without
 * "verify", unknown or unfitting alg, weak or invalid key material, private
 * members present) are skipped and their reasons kept (oidc_jwks_skipped).
 * Returns 0 and sets *out (refcount 1) on success. Returns -1, writes a
 * reason into err (may be NULL) and leaves *out untouched when the document
 * is malformed, too large, or holds no usable key.
 */
int oidc_jwks_parse(const char *json, size_t len, oidc_jwks_t **out, char *err, size_t err_size);

/** Takes one more reference on set; returns set. */
oidc_jwks_t *oidc_jwks_ref(oidc_jwks_t *set);

/** Drops one reference; the last one frees the set and its keys. NULL is a no-op. */
void oidc_jwks_free(oidc_jwks_t *set);

/** Number of usable keys. */
size_t oidc_jwks_count(const oidc_jwks_t *set);

/** The i-th usable key (in document order), or NULL when i is out of range. */
const oidc_jwk_t *oidc_jwks_get(const oidc_jwks_t *set, size_t i);

/** Number of entries of the document that were skipped. */
size_t oidc_jwks_skipped_count(const oidc_jwks_t *set);

/**
 * Reason the i-th skipped entry was not kept ("unsupported kty \"oct\""), or
 * NULL when i is out of range. *index (may be NULL) gets its position in the
 * document's "keys" array and *kid (may be NULL) its kid or NULL.
 */
const char *oidc_jwks_skipped(const oidc_jwks_t *set, size_t i, size_t *index, const char **kid);

/** The key's kid, or NULL when the JWK had none. */
const char *oidc_jwk_kid(const oidc_jwk_t *key);

/** The key's type. */
oidc_jwk_kty_t oidc_jwk_kty(const oidc_jwk_t *key);

/** The JWK's "alg" member ("ES256"), or NULL when it had none. */
const char *oidc_jwk_alg(const oidc_jwk_t *key);

/** The curve name of an EC key ("P-256", "P-384", "P-521"), NULL for RSA. */
const char *oidc_jwk_crv(const oidc_jwk_t *key);

/** The public key, owned by the set (up-ref it to keep it longer). */
EVP_PKEY *oidc_jwk_pkey(const oidc_jwk_t *key);

/**
 * RFC 7638 thumbprint of a public RSA or EC (P-256/384/521) key: SHA-256 of
 * its canonical JWK members, base64url, written with a NUL into out
 * (OIDC_JWK_THUMBPRINT_SIZE bytes). Only public parts are read. Returns 0, or
 * -1 (out untouched) for another key type or curve.
 */
int oidc_jwk_thumbprint(const EVP_PKEY *pkey, char out[OIDC_JWK_THUMBPRINT_SIZE]);

/**
 * Exports the public part of an RSA or EC (P-256/384/521) key as a JWK
 * object with "use": "sig", and "kid" and "alg" when given (alg is not
 * checked against the key here). Never includes private members. Returns a
 * new object the caller owns (json_decref), or NULL for another key type.
 */
json_t *oidc_jwk_from_pkey(const EVP_PKEY *pkey, const char *kid, const char *alg);

#endif
