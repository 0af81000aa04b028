#ifndef AS_RETURN_PATH_H
#define AS_RETURN_PATH_H

/*
 * Where a user goes back to after login: the rd parameter of
 * /authservice/login comes from the client, so it must never send the
 * browser to another origin. Only a same-origin relative path passes:
 * not //host, /\host, a scheme (https://host, javascript:), nor an encoded
 * form of those (%2F%2Fhost, /%5Chost, %252F...).
 */

#include <stddef.h>

/** Longest return path kept, in bytes (as in the login state). */
#define AS_RETURN_PATH_MAX 2048

/**
 * Turns len bytes of a raw (still percent-encoded) rd query value into a safe
 * local path written NUL-terminated into out (out_size bytes, at least 2).
 * The value is percent-decoded once (the query encoding); the result must
 * start with exactly one '/', hold no '\', no control character, and no
 * percent-encoded '/', '\' or '%' right after the leading '/' (an encoded
 * variant of //host). Bytes that are not printable ASCII or are spaces are
 * percent-encoded again. Anything else, or a result that does not fit in
 * min(out_size, AS_RETURN_PATH_MAX + 1), gives "/".
 * Returns 1 when rd was kept, 0 when out is "/" because rd was refused or
 * empty, -1 when out_size < 2 (out untouched).
 */
int as_return_path_sanitize(const char *rd, size_t len, char *out, size_t out_size);

#endif
