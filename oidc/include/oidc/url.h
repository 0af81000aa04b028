#ifndef OIDC_URL_H
#define OIDC_URL_H

/*
 * URLs an OIDC relying party sends or trusts: checking IdP URLs (https, or
 * http on loopback for development), and building query strings and form
 * bodies with RFC 3986 percent-encoding (every byte but ALPHA DIGIT - . _ ~
 * becomes %XX, which is also a valid application/x-www-form-urlencoded).
 */

#include <stddef.h>

/** Longest URL accepted or built, in bytes. */
#define OIDC_URL_MAX 4096

/** Flags of oidc_url_check. */
enum {
    /** Accept http:// when the host is loopback (127.0.0.0/8, ::1, localhost). */
    OIDC_URL_ALLOW_INSECURE_LOOPBACK = 1u << 0,
    /** Refuse a query (an issuer identifier has none). */
    OIDC_URL_NO_QUERY = 1u << 1,
};

/**
 * Checks that url is an absolute https URL (or loopback http, see flags) of
 * printable ASCII, at most OIDC_URL_MAX bytes, with a host, without user
 * info or fragment (and without query with OIDC_URL_NO_QUERY). Returns 0, or
 * -1 with a short static reason in *reason (may be NULL).
 */
int oidc_url_check(const char *url, unsigned flags, const char **reason);

/** Whether host (as in a URL, IPv6 in brackets) is 127.0.0.0/8, [::1] or localhost. Returns 1 or 0. */
int oidc_url_host_is_loopback(const char *host);

/**
 * Percent-encodes len bytes of s into a new NUL-terminated string (ALPHA
 * DIGIT - . _ ~ kept, everything else %XX, upper-case hex). Returns NULL when
 * memory is short.
 */
char *oidc_url_encode(const char *s, size_t len);

/**
 * Returns base with the parameters appended as a query ('?' or, when base
 * already has a query, '&'). params is a NULL-terminated list of name, value
 * pairs; a pair whose value is NULL is left out. Names and values are
 * percent-encoded. NULL when base has a fragment, the result would exceed
 * OIDC_URL_MAX, or memory is short. The caller frees the result.
 */
char *oidc_url_with_params(const char *base, const char *const *params);

/**
 * Encodes name, value pairs (as above) as an application/x-www-form-urlencoded
 * body, written with its length into *len. Returns a new string the caller
 * wipes and frees (it may carry credentials), or NULL when memory is short.
 */
char *oidc_form_encode(const char *const *params, size_t *len);

#endif
