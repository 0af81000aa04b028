#ifndef GW_PATH_NORMALIZE_H
#define GW_PATH_NORMALIZE_H

/*
 * Canonical form of a request target's path, computed before routing and
 * authorization so that every later match sees one spelling of a resource.
 * Pure functions: no allocation, no global state. The rules and the reasons
 * for them are in docs/internals/request-hygiene.md.
 */

#include <stddef.h>

/** Longest raw path (the bytes before the first '?') that is accepted. */
#define GW_PATH_MAX 8192

/** Why a request target was rejected (anything but GW_PATH_OK means answer 400). */
typedef enum {
    GW_PATH_OK = 0,
    GW_PATH_EMPTY,             /* no bytes at all */
    GW_PATH_NOT_ABSOLUTE,      /* does not start with '/' */
    GW_PATH_BAD_ESCAPE,        /* '%' not followed by two hex digits */
    GW_PATH_ENCODED_SLASH,     /* %2F in the path */
    GW_PATH_ENCODED_BACKSLASH, /* %5C in the path */
    GW_PATH_BACKSLASH,         /* raw '\' in the path */
    GW_PATH_NUL,               /* raw NUL anywhere, or %00 in the path */
    GW_PATH_CONTROL_CHAR,      /* raw byte below 0x20 or 0x7f anywhere */
    GW_PATH_INVALID_CHAR,      /* raw space or '#' anywhere */
    GW_PATH_TOO_LONG,          /* path longer than GW_PATH_MAX */
} gw_path_status_t;

/**
 * Normalises the path part of an origin-form request target; the query (from
 * the first '?') is kept verbatim. out must hold len+1 bytes and must not
 * overlap in; it receives the result and a NUL. *out_len gets the result
 * length, *query_at (may be NULL) the offset of '?' in out or SIZE_MAX.
 * Returns GW_PATH_OK, or the reason the target must be rejected with 400; on
 * rejection out, *out_len and *query_at are left untouched.
 */
gw_path_status_t gw_path_normalize(const char *in, size_t len, char *out, size_t *out_len, size_t *query_at);

/** Short, client-safe text for a status (e.g. "encoded slash in path"); never NULL. */
const char *gw_path_status_text(gw_path_status_t status);

#endif
