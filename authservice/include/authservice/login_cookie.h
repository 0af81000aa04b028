#ifndef AS_LOGIN_COOKIE_H
#define AS_LOGIN_COOKIE_H

/*
 * The pending-login cookie (__Host-tenantgate-login): the state values of the
 * logins this browser started and has not finished, newest first, joined by
 * '.', at most AS_LOGIN_COOKIE_MAX of them, so a page polling while logged
 * out never piles cookies up into a 431. The callback accepts a state only
 * when it is in this list (login CSRF: a state started in another browser is
 * refused). Entries are 43-character base64url values (oidc_state_new);
 * anything else in the cookie is dropped when it is read.
 */

#include <stddef.h>

/** Name of the cookie. */
#define AS_LOGIN_COOKIE_NAME "__Host-tenantgate-login"
/** Most pending logins remembered. */
#define AS_LOGIN_COOKIE_MAX 3
/** Length of one state value. */
#define AS_LOGIN_STATE_LEN 43
/** Buffer size for a cookie value built here (with the NUL). */
#define AS_LOGIN_COOKIE_VALUE_SIZE (AS_LOGIN_COOKIE_MAX * (AS_LOGIN_STATE_LEN + 1))

/** Whether s (len bytes) has the shape of a state value: 43 characters of [A-Za-z0-9_-]. */
int as_login_state_is_well_formed(const char *s, size_t len);

/** Whether state (NUL-terminated) is one of the well-formed entries of value (len bytes). 1 or 0. */
int as_login_cookie_contains(const char *value, size_t len, const char *state);

/**
 * Writes into out (AS_LOGIN_COOKIE_VALUE_SIZE bytes) the list value (len
 * bytes, may be NULL) with state put first, without duplicates or malformed
 * entries, cut to AS_LOGIN_COOKIE_MAX (out must not overlap value). Returns the new entry count, or -1
 * when state is malformed (out untouched).
 */
int as_login_cookie_push(const char *value, size_t len, const char *state, char *out);

/**
 * Writes into out (AS_LOGIN_COOKIE_VALUE_SIZE bytes) the list value without
 * state (and without malformed entries); out must not overlap value. Returns the entry count left.
 */
int as_login_cookie_remove(const char *value, size_t len, const char *state, char *out);

#endif
