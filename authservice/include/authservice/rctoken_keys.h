#ifndef AS_RCTOKEN_KEYS_H
#define AS_RCTOKEN_KEYS_H

/*
 * The RCToken key set: one active signing key and any number of verify-only
 * keys, loaded from PEM files (a Kubernetes Secret), each named by its RFC
 * 7638 thumbprint, and the JWKS document that publishes their public parts.
 * A set is built once (per configuration generation) and never changed, so
 * worker threads sign with it concurrently.
 */

#include <openssl/evp.h>
#include <stddef.h>

/** Signature algorithm of the active key. */
typedef enum { AS_RCTOKEN_ES256 = 1, AS_RCTOKEN_RS256 = 2 } as_rctoken_alg_t;

/** Largest key file read, in bytes. */
#define AS_RCTOKEN_MAX_KEY_FILE (64 * 1024)
/** Most verify-only keys a set holds. */
#define AS_RCTOKEN_MAX_VERIFY_KEYS 16

typedef struct as_rctoken_keys as_rctoken_keys_t;

/**
 * Loads the active key from signing_file (a PEM private key: EC P-256 for
 * ES256, RSA of at least 2048 bits for RS256) and the verify-only keys from
 * verify_files (PEM public or private keys, EC P-256 or RSA >= 2048; only
 * the public part is kept; a key equal to another one is listed once).
 * Returns the set, or NULL with a message in err that names the file and the
 * problem, never the key material.
 */
as_rctoken_keys_t *as_rctoken_keys_load(as_rctoken_alg_t alg, const char *signing_file,
                                        const char *const *verify_files, size_t verify_count, char *err,
                                        size_t err_size);

/** Frees a set (NULL is allowed). */
void as_rctoken_keys_free(as_rctoken_keys_t *keys);

/** Algorithm of the active key. */
as_rctoken_alg_t as_rctoken_keys_alg(const as_rctoken_keys_t *keys);

/** The JOSE name of alg ("ES256", "RS256"), or NULL. */
const char *as_rctoken_alg_name(as_rctoken_alg_t alg);

/** The active key's kid (its RFC 7638 thumbprint). */
const char *as_rctoken_keys_kid(const as_rctoken_keys_t *keys);

/** The active private key, owned by the set. */
EVP_PKEY *as_rctoken_keys_signing_key(const as_rctoken_keys_t *keys);

/** Number of published keys (the active one first, then the verify-only ones). */
size_t as_rctoken_keys_count(const as_rctoken_keys_t *keys);

/** The kid of the i-th published key, or NULL when out of range. */
const char *as_rctoken_keys_kid_at(const as_rctoken_keys_t *keys, size_t i);

/** The JWKS document ({"keys":[...]}, public parts only) of all published keys; *len gets its length. */
const char *as_rctoken_keys_jwks(const as_rctoken_keys_t *keys, size_t *len);

#endif
