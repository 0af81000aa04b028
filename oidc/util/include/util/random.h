#ifndef TG_UTIL_RANDOM_H
#define TG_UTIL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "util/hex.h" /* tg_hex_encode, once declared here */

/** Fills buf with len bytes from the OS-seeded CSPRNG. Returns 0, or -1 on failure. */
int tg_random_bytes(uint8_t *buf, size_t len);

/**
 * Fills buf with len bytes (at most 256) of CSPRNG output drawn from a
 * per-thread buffer refilled 4 KiB at a time: about a hundred times cheaper
 * than tg_random_bytes per call. For ids that must be unique and
 * unpredictable on the hot path (request and trace ids); keys, session ids
 * and nonces use tg_random_bytes. Not for processes that fork after use.
 * Returns 0, or -1 on failure.
 */
int tg_random_buffered(uint8_t *buf, size_t len);

/** Writes len random bytes as 2*len lowercase hex digits plus a NUL into dst. Returns 0 or -1. */
int tg_random_hex(char *dst, size_t len);

#endif
