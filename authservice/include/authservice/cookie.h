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

#endif
