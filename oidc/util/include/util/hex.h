#ifndef TG_UTIL_HEX_H
#define TG_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/** Writes len bytes as 2*len lowercase hex digits plus a NUL into dst. */
void tg_hex_encode(char *dst, const uint8_t *src, size_t len);

/** The value of one hex digit (either case), or -1 when c is not one. */
int tg_hex_digit(int c);

#endif
