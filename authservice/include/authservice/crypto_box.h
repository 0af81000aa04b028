#ifndef AS_CRYPTO_BOX_H
#define AS_CRYPTO_BOX_H

/*
 * Sealing of secrets at rest (refresh tokens in session records) with
 * AES-256-GCM. A sealed value is unpadded base64url of
 *
 *   version (1 byte, 1) || key id (1 byte) || nonce (12 random bytes)
 *   || ciphertext || tag (16 bytes)
 *
 * and the version and key id bytes are authenticated with the caller's
 * additional data (bind a token to its session by passing the session key).
 *
 * A box holds one to AS_BOX_MAX_KEYS keys: the first seals, all open, so a
 * key can be rotated by putting the new key first and keeping the old one
 * until the values it sealed have expired. A key's id is derived from the
 * key (first byte of SHA-256 over a label and the key); two keys of one box
 * may not share an id. A box is immutable: threads share it freely.
 *
 * Random nonces: one key may seal at most about 2^32 values; rotate well
 * before. Format and rotation: docs/internals/sessions.md.
 */

#include <stddef.h>
#include <stdint.h>

/** Size of one key in bytes. */
#define AS_BOX_KEY_SIZE 32
/** Most keys one box holds. */
#define AS_BOX_MAX_KEYS 8
/** Largest plaintext sealed or opened, in bytes. */
#define AS_BOX_MAX_PLAINTEXT (64 * 1024)
/** The format version byte written and accepted. */
#define AS_BOX_FORMAT_VERSION 1
/** Bytes a sealed value carries besides the ciphertext, before base64url. */
#define AS_BOX_OVERHEAD (1 + 1 + 12 + 16)

/** A set of sealing keys. */
typedef struct as_box as_box_t;

/**
 * Loads a key file. The file must be a regular file that neither group nor
 * others may access (mode 0600 or 0400, checked on the opened file), and hold
 * either exactly 32 raw bytes (one key), or one key per line, each 64 hex
 * digits or base64 / base64url of 32 bytes (padded or not). In the text form
 * blank lines and lines starting with '#' are skipped, and the first key
 * seals. Returns a new box, or NULL and a reason in err (may be NULL). The
 * reason names the file and line, never key material.
 */
as_box_t *as_box_load(const char *key_file, char *err, size_t err_size);

/**
 * Makes a box from count raw keys of AS_BOX_KEY_SIZE bytes laid end to end
 * (keys[0..31] seals). The caller may wipe keys afterwards. Returns NULL and a
 * reason in err when count is 0 or over AS_BOX_MAX_KEYS, or two key ids clash.
 */
as_box_t *as_box_from_keys(const uint8_t *keys, size_t count, char *err, size_t err_size);

/** Wipes and frees the box. NULL is a no-op. */
void as_box_free(as_box_t *box);

/** Number of keys in the box. */
size_t as_box_key_count(const as_box_t *box);

/** Id byte of the i-th key (0 seals); i must be below as_box_key_count(). */
uint8_t as_box_key_id(const as_box_t *box, size_t i);

/**
 * Seals len bytes (at most AS_BOX_MAX_PLAINTEXT) with the first key, binding
 * aad (may be NULL when aad_len is 0; at most AS_BOX_MAX_PLAINTEXT bytes). Returns a malloc'd NUL-terminated
 * base64url string, or NULL when len is over the limit or on an OpenSSL or
 * CSPRNG failure.
 */
char *as_seal(const as_box_t *box, const void *plaintext, size_t len, const void *aad, size_t aad_len);

/**
 * Opens sealed_len characters of as_seal() output with the key its id names
 * and the same aad. Returns the plaintext as a malloc'd buffer with a NUL
 * appended (*out_len, may be NULL, gets its length without the NUL); free it
 * with as_box_secret_free(). Returns NULL on any failure: bad base64url,
 * wrong length, unknown version, unknown key id, wrong key, wrong aad, or any
 * byte changed. No partial plaintext is ever returned.
 */
char *as_open(const as_box_t *box, const char *sealed, size_t sealed_len, const void *aad, size_t aad_len,
              size_t *out_len);

/** Wipes len bytes of secret and frees it. NULL is a no-op. */
void as_box_secret_free(char *secret, size_t len);

#endif
