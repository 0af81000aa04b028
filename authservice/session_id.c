#include "authservice/session_id.h"

#include <stdint.h>

#include "util/base64url.h"
#include "util/random.h"
#include "util/sha256.h"

int as_session_id_generate(char *out)
{
    uint8_t bytes[32];
    if (tg_random_bytes(bytes, sizeof(bytes)) != 0)
        return -1;
    tg_base64url_encode(out, bytes, sizeof(bytes));
    return 0;
}

/* 1 for each of the 64 base64url characters: the check runs on every request with a session cookie, and one
 * load per character (no early exit) costs less than up to five compares and branches on random characters.
 */
static const uint8_t id_char[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 1, ['_'] = 1};

int as_session_id_is_well_formed(const char *value, size_t len)
{
    if (len != AS_SESSION_ID_LEN)
        return 0;
    unsigned ok = 1;
    for (size_t i = 0; i < AS_SESSION_ID_LEN; ++i)
        ok &= id_char[(unsigned char)value[i]];
    return (int)ok;
}

void as_session_key_digest(const char *id, size_t id_len, char *out, uint8_t *digest)
{
    tg_sha256(id, id_len, digest);
    tg_hex_encode(out, digest, AS_SESSION_KEY_BYTES);
}

void as_session_key(const char *id, size_t id_len, char *out)
{
    uint8_t digest[TG_SHA256_SIZE];
    as_session_key_digest(id, id_len, out, digest);
}
