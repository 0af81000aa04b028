#ifndef OIDC_PKCE_H
#define OIDC_PKCE_H

/*
 * PKCE (RFC 7636) with S256, and the random state and nonce values of an
 * authorization request. Everything is unpadded base64url of 32 random bytes
 * (256 bits), 43 characters.
 */

#include <stddef.h>

/** Buffer size for a generated verifier, state or nonce: 43 characters and a NUL. */
#define OIDC_RANDOM_VALUE_SIZE 44
/** Buffer size for an S256 challenge: 43 characters and a NUL. */
#define OIDC_PKCE_CHALLENGE_SIZE 44
/** Shortest and longest code_verifier RFC 7636 allows. */
#define OIDC_PKCE_VERIFIER_MIN 43
#define OIDC_PKCE_VERIFIER_MAX 128

/** Writes a new code_verifier (32 random bytes, base64url) into out. Returns 0, or -1 (out untouched). */
int oidc_pkce_verifier_new(char *out, size_t out_size);

/**
 * Writes BASE64URL(SHA256(verifier)) into out. The verifier must be 43 to 128
 * characters of [A-Za-z0-9-._~]. Returns 0, or -1 (out untouched).
 */
int oidc_pkce_challenge_s256(const char *verifier, char *out, size_t out_size);

/** Writes a new state value (256 random bits, base64url) into out. Returns 0, or -1 (out untouched). */
int oidc_state_new(char *out, size_t out_size);

/** Writes a new nonce value (256 random bits, base64url) into out. Returns 0, or -1 (out untouched). */
int oidc_nonce_new(char *out, size_t out_size);

#endif
