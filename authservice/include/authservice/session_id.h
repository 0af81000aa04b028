#ifndef AS_SESSION_ID_H
#define AS_SESSION_ID_H

/*
 * Session ids: an opaque 256-bit random value is all the browser ever holds.
 * Stores never see the id itself, only its SHA-256, so a leaked store dump
 * cannot be replayed as cookies.
 */

#include <stddef.h>
#include <stdint.h>

/** Length of a session id as sent in the cookie (base64url of 32 bytes). */
#define AS_SESSION_ID_LEN 43
/** Length of a store key (hex SHA-256 of the id). */
#define AS_SESSION_KEY_LEN 64
/** Bytes of the digest a store key spells in hex. */
#define AS_SESSION_KEY_BYTES (AS_SESSION_KEY_LEN / 2)

/** Writes a fresh session id plus a NUL into out[AS_SESSION_ID_LEN + 1]. Returns 0, or -1 if the CSPRNG
 * failed. */
int as_session_id_generate(char *out);

/** Whether value has the exact shape of a session id (length and alphabet); says nothing of its validity. */
int as_session_id_is_well_formed(const char *value, size_t len);

/** Writes the store key of a session id plus a NUL into out[AS_SESSION_KEY_LEN + 1]. */
void as_session_key(const char *id, size_t id_len, char *out);

/**
 * as_session_key that also hands back the digest the key spells in
 * digest[AS_SESSION_KEY_BYTES], for as_session_cache_get_digest.
 */
void as_session_key_digest(const char *id, size_t id_len, char *out, uint8_t *digest);

#endif
