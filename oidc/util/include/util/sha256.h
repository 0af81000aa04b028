#ifndef TG_UTIL_SHA256_H
#define TG_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TG_SHA256_SIZE 32

/**
 * SHA-256 of len bytes at data into out, for the request path (session and
 * bearer cache keys). OpenSSL 3's one-shot SHA256() fetches the algorithm
 * from the provider and allocates a context on every call; this fetches it
 * once per process and keeps one context per thread. A digest that cannot be
 * computed at all (out of memory when a thread first hashes) ends the
 * process: these digests are lookup keys of sessions, and a wrong one must
 * never be used.
 */
void tg_sha256(const void *data, size_t len, uint8_t out[TG_SHA256_SIZE]);

#endif
