#include "authservice/backchannel.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/hex.h"

static const char *optional_string(const json_t *claims, const char *name, int *bad)
{
    const json_t *v = json_object_get(claims, name);
    if (v == NULL)
        return NULL;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

const char *as_logout_token_check(const json_t *header, const json_t *claims, as_logout_token_t *out)
{
    const json_t *typ = json_object_get(header, "typ");
    if (typ != NULL &&
        (!json_is_string(typ) || (strcasecmp(json_string_value(typ), "JWT") != 0 &&
                                  strcasecmp(json_string_value(typ), "logout+jwt") != 0 &&
                                  strcasecmp(json_string_value(typ), "application/logout+jwt") != 0)))
        return "typ";
    const json_t *events = json_object_get(claims, "events");
    if (!json_is_object(events) || !json_is_object(json_object_get(events, AS_BACKCHANNEL_EVENT)))
        return "events";
    if (json_object_get(claims, "nonce") != NULL)
        return "nonce";
    int bad = 0;
    const char *sid = optional_string(claims, "sid", &bad);
    if (bad)
        return "sid";
    const char *sub = optional_string(claims, "sub", &bad);
    if (bad)
        return "sub";
    if (sid == NULL && sub == NULL)
        return "sid";
    const char *jti = optional_string(claims, "jti", &bad);
    if (jti == NULL)
        return "jti";
    const char *iss = optional_string(claims, "iss", &bad);
    if (iss == NULL)
        return "iss";
    *out = (as_logout_token_t){.issuer = iss, .sid = sid, .sub = sub, .jti = jti};
    return NULL;
}

void as_backchannel_name(const char *kind, const char *issuer, const char *value,
                         char name[AS_BACKCHANNEL_NAME_SIZE])
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned len = 0;
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, issuer, strlen(issuer) + 1) &&
             EVP_DigestUpdate(ctx, value, strlen(value)) && EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    if (!ok) /* out of memory: a name that matches nothing rather than a wrong one */
        memset(digest, 0, sizeof(digest));
    tg_hex_encode(hex, digest, sizeof(digest));
    snprintf(name, AS_BACKCHANNEL_NAME_SIZE, "bcl-%s:%s", kind, ok ? hex : "unavailable");
}
