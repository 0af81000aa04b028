#include "authservice/csrf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "util/base64url.h"

#define LABEL "tenantgate csrf\0"

int as_csrf_token(const char *session_id, size_t id_len, const char *purpose, char *out)
{
    if (session_id == NULL || id_len == 0 || purpose == NULL || out == NULL)
        return -1;
    size_t purpose_len = strlen(purpose);
    unsigned char msg[sizeof(LABEL) + 64];
    if (purpose_len > 64)
        return -1;
    memcpy(msg, LABEL, sizeof(LABEL) - 1);
    memcpy(msg + sizeof(LABEL) - 1, purpose, purpose_len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (HMAC(EVP_sha256(), session_id, (int)id_len, msg, sizeof(LABEL) - 1 + purpose_len, mac, &mac_len) ==
            NULL ||
        mac_len != 32)
        return -1;
    char encoded[TG_BASE64URL_ENCODED_SIZE(32)];
    size_t n = tg_base64url_encode(encoded, mac, 32);
    OPENSSL_cleanse(mac, sizeof(mac));
    if (n != AS_CSRF_TOKEN_LEN)
        return -1;
    memcpy(out, encoded, AS_CSRF_TOKEN_LEN);
    out[AS_CSRF_TOKEN_LEN] = '\0';
    return 0;
}

int as_csrf_check(const char *session_id, size_t id_len, const char *purpose, const char *token, size_t len)
{
    char expected[AS_CSRF_TOKEN_LEN + 1];
    if (token == NULL || len != AS_CSRF_TOKEN_LEN ||
        as_csrf_token(session_id, id_len, purpose, expected) != 0)
        return 0;
    int same = CRYPTO_memcmp(expected, token, AS_CSRF_TOKEN_LEN) == 0;
    OPENSSL_cleanse(expected, sizeof(expected));
    return same;
}
