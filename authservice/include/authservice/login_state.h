#ifndef AS_LOGIN_STATE_H
#define AS_LOGIN_STATE_H

/*
 * A pending login: what the callback needs to finish an authorization-code
 * flow, kept in the session store under the state value between the redirect
 * to the IdP and the callback. The PKCE verifier and nonce are secrets: never
 * log a login state or its JSON.
 *
 * JSON members, in the order they are written:
 *   v (1), state, nonce, pkce_verifier, return_to, provider, created_at
 * Decoding is as strict as for session records (see session_record.h).
 */

#include <stddef.h>
#include <stdint.h>

/** The login-state format this build reads and writes. */
#define AS_LOGIN_STATE_VERSION 1
/** Longest state, nonce and provider name, in bytes. */
#define AS_LOGIN_STATE_MAX_VALUE 256
/** Longest return_to path, in bytes. */
#define AS_LOGIN_STATE_MAX_RETURN_TO 2048
/** Largest JSON document, in bytes. */
#define AS_LOGIN_STATE_MAX_JSON (8 * 1024)

/** A pending login. Every string is owned by the record and required. */
typedef struct {
    char *state;         /* non-empty, URL-safe ([A-Za-z0-9-._~]) */
    char *nonce;         /* non-empty, URL-safe */
    char *pkce_verifier; /* RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~] */
    char *return_to;     /* local path to go back to: starts with one '/', printable ASCII, no '\' */
    char *provider;      /* issuer or configured provider name, non-empty */
    int64_t created_at;  /* unix seconds */
    uint32_t version;    /* format version, set by the decoder */
} as_login_state_t;

/**
 * Encodes state as compact JSON under the decoder's rules. Returns a malloc'd
 * string, or NULL and a reason in err (may be NULL) naming the member.
 */
char *as_login_state_to_json(const as_login_state_t *state, char *err, size_t err_size);

/**
 * Decodes len bytes of JSON into a new login state. Returns 0 and sets *out,
 * or -1 with a reason in err (may be NULL) and *out untouched.
 */
int as_login_state_from_json(const char *json, size_t len, as_login_state_t **out, char *err,
                             size_t err_size);

/** Deep copy of state, or NULL when out of memory (or state is NULL). */
as_login_state_t *as_login_state_dup(const as_login_state_t *state);

/** 1 if both hold the same values, else 0. */
int as_login_state_equal(const as_login_state_t *a, const as_login_state_t *b);

/** Frees a login state, wiping its strings first. NULL is a no-op. */
void as_login_state_free(as_login_state_t *state);

#endif
