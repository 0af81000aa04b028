#ifndef TG_UTIL_BASE64URL_H
#define TG_UTIL_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

/** Bytes needed to encode len bytes as unpadded base64url, plus a NUL. */
#define TG_BASE64URL_ENCODED_SIZE(len) ((((len) + 2) / 3) * 4 + 1)

/**
 * Encodes src as unpadded base64url (RFC 4648 section 5) into dst, which must
 * hold TG_BASE64URL_ENCODED_SIZE(len) bytes. Returns the length written
 * (without the NUL).
 */
size_t tg_base64url_encode(char *dst, const uint8_t *src, size_t len);

/**
 * Decodes unpadded base64url. dst must hold len * 3 / 4 + 1 bytes. Rejects
 * padding, characters outside the alphabet, impossible lengths and non-zero
 * trailing bits. Returns the decoded length or -1.
 */
long tg_base64url_decode(uint8_t *dst, const char *src, size_t len);

#endif
