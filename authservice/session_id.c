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

int as_session_id_is_well_formed(const char *value, size_t len)
{
    if (len != AS_SESSION_ID_LEN)
        return 0;
    for (size_t i = 0; i < len; ++i) {
        char c = value[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return 0;
    }
    return 1;
}

void as_session_key(const char *id, size_t id_len, char *out)
{
    uint8_t digest[TG_SHA256_SIZE];
    tg_sha256(id, id_len, digest);
    tg_hex_encode(out, digest, sizeof(digest));
}
