#include "oidc/jws.h"

#include "util/base64url.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct alg_info {
    oidc_jws_alg_t alg;
    const char *name;
    const char *digest;
    oidc_jwk_kty_t kty;
    int pss;
    const char *crv;        /* EC only */
    size_t coordinate_size; /* EC only: bytes of R and of S */
};

static const struct alg_info algs[] = {
    {OIDC_JWS_RS256, "RS256", "SHA256", OIDC_JWK_KTY_RSA, 0, NULL, 0},
    {OIDC_JWS_RS384, "RS384", "SHA384", OIDC_JWK_KTY_RSA, 0, NULL, 0},
    {OIDC_JWS_RS512, "RS512", "SHA512", OIDC_JWK_KTY_RSA, 0, NULL, 0},
    {OIDC_JWS_PS256, "PS256", "SHA256", OIDC_JWK_KTY_RSA, 1, NULL, 0},
    {OIDC_JWS_PS384, "PS384", "SHA384", OIDC_JWK_KTY_RSA, 1, NULL, 0},
    {OIDC_JWS_PS512, "PS512", "SHA512", OIDC_JWK_KTY_RSA, 1, NULL, 0},
    {OIDC_JWS_ES256, "ES256", "SHA256", OIDC_JWK_KTY_EC, 0, "P-256", 32},
    {OIDC_JWS_ES384, "ES384", "SHA384", OIDC_JWK_KTY_EC, 0, "P-384", 48},
    {OIDC_JWS_ES512, "ES512", "SHA512", OIDC_JWK_KTY_EC, 0, "P-521", 66},
};

#define MAX_SIGNATURE (OIDC_JWK_MAX_RSA_BITS / 8)

static const struct alg_info *alg_info(oidc_jws_alg_t alg)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); ++i)
        if (algs[i].alg == alg)
            return &algs[i];
    return NULL;
}

oidc_jws_alg_t oidc_jws_alg_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); ++i)
        if (strcmp(algs[i].name, name) == 0)
            return algs[i].alg;
    return 0;
}

const char *oidc_jws_alg_name(oidc_jws_alg_t alg)
{
    const struct alg_info *info = alg_info(alg);
    return info != NULL ? info->name : NULL;
}

int oidc_jws_alg_fits(oidc_jws_alg_t alg, oidc_jwk_kty_t kty, const char *crv)
{
    const struct alg_info *info = alg_info(alg);
    if (info == NULL || info->kty != kty)
        return 0;
    if (kty == OIDC_JWK_KTY_EC)
        return crv != NULL && strcmp(info->crv, crv) == 0;
    return 1;
}

/* Decodes one base64url part into a new buffer with a NUL after the bytes. */
static uint8_t *decode_part(const char *src, size_t len, size_t *out_len)
{
    uint8_t *buf = malloc(len * 3 / 4 + 1);
    if (buf == NULL)
        return NULL;
    long n = tg_base64url_decode(buf, src, len);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    *out_len = (size_t)n;
    return buf;
}

/* Decodes one base64url part that must hold a JSON object (duplicate members refused). */
static json_t *decode_object(const char *src, size_t len)
{
    size_t json_len = 0;
    uint8_t *json = decode_part(src, len, &json_len);
    if (json == NULL)
        return NULL;
    json_t *object = json_loadb((const char *)json, json_len, JSON_REJECT_DUPLICATES, NULL);
    free(json);
    if (object != NULL && !json_is_object(object)) {
        json_decref(object);
        object = NULL;
    }
    return object;
}

/* JOSE ECDSA signatures are R || S, each exactly the coordinate size; OpenSSL wants DER. */
static uint8_t *ecdsa_raw_to_der(const uint8_t *raw, size_t coordinate_size, size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)coordinate_size, NULL);
    BIGNUM *s = BN_bin2bn(raw + coordinate_size, (int)coordinate_size, NULL);
    uint8_t *der = NULL;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return NULL;
    }
    int len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (len <= 0)
        return NULL;
    *der_len = (size_t)len;
    return der;
}

/* Returns 1 when signature verifies over input with key, 0 when it does not, -1 on an internal failure. */
static int verify_with_key(const struct alg_info *info, EVP_PKEY *pkey, const char *input, size_t input_len,
                           const uint8_t *signature, size_t signature_len)
{
    uint8_t *der = NULL;
    if (info->kty == OIDC_JWK_KTY_EC) {
        if ((der = ecdsa_raw_to_der(signature, info->coordinate_size, &signature_len)) == NULL)
            return -1;
        signature = der;
    }
    int result = -1;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL && EVP_DigestVerifyInit_ex(ctx, &pctx, info->digest, NULL, NULL, pkey, NULL) == 1 &&
        (!info->pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1))) {
        /* RFC 7518 3.5: PSS salt as long as the hash, MGF1 with the same hash (OpenSSL's default) */
        result =
            EVP_DigestVerify(ctx, signature, signature_len, (const unsigned char *)input, input_len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    /* a refused signature leaves errors queued; they must not leak into the next caller's checks */
    ERR_clear_error();
    return result;
}

static int kid_equals(const oidc_jwk_t *key, const char *kid)
{
    const char *key_kid = oidc_jwk_kid(key);
    return key_kid != NULL && strcmp(key_kid, kid) == 0;
}

static int key_fits(const struct alg_info *info, const oidc_jwk_t *key)
{
    const char *key_alg = oidc_jwk_alg(key);
    if (key_alg != NULL && strcmp(key_alg, info->name) != 0)
        return 0;
    return oidc_jws_alg_fits(info->alg, oidc_jwk_kty(key), oidc_jwk_crv(key));
}

/* Tries the keys the header points at; the signature has its JOSE form. */
static oidc_verify_status_t verify_signature(const struct alg_info *info, const char *kid,
                                             const oidc_jwks_t *keys, const char *input, size_t input_len,
                                             const uint8_t *signature, size_t signature_len)
{
    size_t matched = 0, tried = 0;
    for (size_t i = 0; i < oidc_jwks_count(keys); ++i) {
        const oidc_jwk_t *key = oidc_jwks_get(keys, i);
        if (kid != NULL) {
            if (!kid_equals(key, kid))
                continue;
            matched++;
        }
        if (!key_fits(info, key))
            continue;
        if (kid == NULL && tried == OIDC_JWS_MAX_KEY_TRIES)
            break;
        tried++;
        int result = verify_with_key(info, oidc_jwk_pkey(key), input, input_len, signature, signature_len);
        if (result == 1)
            return OIDC_VERIFY_OK;
        if (result < 0)
            return OIDC_VERIFY_INTERNAL;
    }
    if (kid != NULL && matched == 0)
        return OIDC_VERIFY_UNKNOWN_KID;
    if (tried == 0)
        return kid != NULL ? OIDC_VERIFY_ALG_KEY_MISMATCH : OIDC_VERIFY_NO_KEY;
    return OIDC_VERIFY_BAD_SIGNATURE;
}

oidc_verify_status_t oidc_jws_verify(const char *token, size_t len, const oidc_jwks_t *keys, unsigned allowed,
                                     json_t **header_out, json_t **claims_out)
{
    if (token == NULL || keys == NULL)
        return OIDC_VERIFY_INVALID_ARGUMENT;
    if (len > OIDC_JWS_MAX_TOKEN)
        return OIDC_VERIFY_TOO_LARGE;

    /* header.payload.signature: exactly two dots, no part empty */
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return OIDC_VERIFY_MALFORMED;
    size_t header_len = (size_t)(dot1 - token);
    size_t payload_len = (size_t)(dot2 - dot1 - 1);
    size_t signature_len = len - (size_t)(dot2 + 1 - token);
    /* an empty signature (alg "none") is refused once alg has been read, for a clearer reason */
    if (header_len == 0 || payload_len == 0)
        return OIDC_VERIFY_MALFORMED;

    oidc_verify_status_t status;
    json_t *header = decode_object(token, header_len);
    json_t *claims = NULL;
    uint8_t *signature = NULL;
    size_t signature_bytes = 0;
    if (header == NULL) {
        status = OIDC_VERIFY_MALFORMED;
        goto out;
    }
    const json_t *alg_value = json_object_get(header, "alg");
    if (!json_is_string(alg_value)) {
        status = OIDC_VERIFY_ALG_NOT_ALLOWED;
        goto out;
    }
    oidc_jws_alg_t alg = oidc_jws_alg_from_name(json_string_value(alg_value));
    if (alg == 0 || (alg & allowed) == 0) {
        status = OIDC_VERIFY_ALG_NOT_ALLOWED;
        goto out;
    }
    const struct alg_info *info = alg_info(alg);
    /* no extension is understood, so any crit makes the token unusable (RFC 7515 4.1.11) */
    if (json_object_get(header, "crit") != NULL) {
        status = OIDC_VERIFY_CRIT;
        goto out;
    }
    const json_t *kid = json_object_get(header, "kid");
    if (kid != NULL && !json_is_string(kid)) {
        status = OIDC_VERIFY_MALFORMED;
        goto out;
    }
    /* jku, x5u, jwk, x5c: deliberately never read */

    if (signature_len > (MAX_SIGNATURE * 4 + 2) / 3 ||
        (signature = decode_part(dot2 + 1, signature_len, &signature_bytes)) == NULL) {
        status = OIDC_VERIFY_MALFORMED;
        goto out;
    }
    if (signature_bytes == 0 ||
        (info->kty == OIDC_JWK_KTY_EC && signature_bytes != 2 * info->coordinate_size)) {
        status = OIDC_VERIFY_BAD_SIGNATURE;
        goto out;
    }
    status = verify_signature(info, json_string_value(kid), keys, token, (size_t)(dot2 - token), signature,
                              signature_bytes);
    if (status != OIDC_VERIFY_OK)
        goto out;

    /* the payload is decoded only once its signature holds */
    if ((claims = decode_object(dot1 + 1, payload_len)) == NULL) {
        status = OIDC_VERIFY_MALFORMED;
        goto out;
    }
    if (header_out != NULL) {
        *header_out = header;
        header = NULL;
    }
    if (claims_out != NULL) {
        *claims_out = claims;
        claims = NULL;
    }
out:
    free(signature);
    json_decref(header);
    json_decref(claims);
    return status;
}
