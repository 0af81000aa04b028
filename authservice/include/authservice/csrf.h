#ifndef AS_CSRF_H
#define AS_CSRF_H

/*
 * CSRF tokens for the logout form: HMAC-SHA256 keyed with the session id
 * (the cookie value, which only the browser and this request hold) over a
 * purpose label. Stateless, so any replica checks what another issued, and
 * useless to a page of another origin, which cannot read the HttpOnly
 * cookie. The token reveals nothing of the id.
 */

#include <stddef.h>

/** Length of a token (unpadded base64url of 32 bytes). */
#define AS_CSRF_TOKEN_LEN 43

/**
 * Writes the token of session_id (id_len bytes) for purpose (e.g. "logout")
 * plus a NUL into out[AS_CSRF_TOKEN_LEN + 1]. Returns 0, or -1 on a missing
 * argument or an OpenSSL failure.
 */
int as_csrf_token(const char *session_id, size_t id_len, const char *purpose, char *out);

/** Whether token (len bytes) is the token of session_id for purpose; constant-time compare. 1 or 0. */
int as_csrf_check(const char *session_id, size_t id_len, const char *purpose, const char *token, size_t len);

#endif
