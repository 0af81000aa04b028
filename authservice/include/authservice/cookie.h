#ifndef AS_COOKIE_H
#define AS_COOKIE_H

#include <stddef.h>

/**
 * Finds the value of cookie name in one Cookie header value ("a=1; b=2").
 * Follows RFC 6265 section 5.4 loosely the way browsers send it: pairs split
 * on ';', optional spaces around them, a value may be double-quoted (quotes
 * are dropped). A pair without '=' is skipped. When the name occurs more than
 * once the first wins (the most specific path, as browsers order them).
 * Returns 1 and sets *value and *value_len (pointing into header) if found, else 0.
 */
int as_cookie_find(const char *header, size_t header_len, const char *name, const char **value,
                   size_t *value_len);

/**
 * Writes header without the pairs whose name is in names (NULL-terminated)
 * into out, which must hold 2 * header_len + 1 bytes: the other pairs,
 * trimmed and otherwise unchanged, in their order, joined by "; " (empty
 * pairs dropped), NUL-terminated, length in *out_len. Returns how many pairs
 * were removed (0: the header can be kept as it was).
 */
size_t as_cookie_remove(const char *header, size_t header_len, const char *const *names, char *out,
                        size_t *out_len);

#endif
