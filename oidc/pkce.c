#include "oidc/pkce.h"

#include "util/base64url.h"
#include "util/random.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#define RANDOM_BYTES 32

static int random_value(char *out, size_t out_size)
{
    uint8_t bytes[RANDOM_BYTES];
    if (out == NULL || out_size < OIDC_RANDOM_VALUE_SIZE || tg_random_bytes(bytes, sizeof(bytes)) != 0)
        return -1;
    tg_base64url_encode(out, bytes, sizeof(bytes));
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return 0;
}

int oidc_pkce_verifier_new(char *out, size_t out_size)
{
    return random_value(out, out_size);
}

int oidc_state_new(char *out, size_t out_size)
{
    return random_value(out, out_size);
}

int oidc_nonce_new(char *out, size_t out_size)
{
    return random_value(out, out_size);
}

/* RFC 7636 4.1: unreserved characters only */
static int verifier_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int oidc_pkce_challenge_s256(const char *verifier, char *out, size_t out_size)
{
    if (verifier == NULL || out == NULL || out_size < OIDC_PKCE_CHALLENGE_SIZE)
        return -1;
    size_t len = strnlen(verifier, OIDC_PKCE_VERIFIER_MAX + 1);
    if (len < OIDC_PKCE_VERIFIER_MIN || len > OIDC_PKCE_VERIFIER_MAX)
        return -1;
    for (size_t i = 0; i < len; ++i)
        if (!verifier_char(verifier[i]))
            return -1;
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(verifier, len, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len != 32)
        return -1;
    tg_base64url_encode(out, digest, digest_len);
    return 0;
}
