/*
 * Test-only JOSE helpers for the oidc unit tests: key generation, a JWK
 * exporter and a token signer written straight on OpenSSL, independent of the
 * library under test, so the tests do not check the library against itself.
 */
#ifndef TG_TEST_JOSE_FIXTURE_H
#define TG_TEST_JOSE_FIXTURE_H

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64url.h"

/* RFC 7638 section 3.1 example key and its thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tS"
    "oc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
    "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qN"
    "Lyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awa"
    "pJzKnqDKgw";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* Aborts the test binary on a fixture failure: a broken fixture must not pass silently. */
#define FX_CHECK(cond)                                                                                       \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: fixture failure: %s\n", __FILE__, __LINE__, #cond);                      \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static inline EVP_PKEY *fx_rsa_key(unsigned bits)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    FX_CHECK(key != NULL);
    return key;
}

static inline EVP_PKEY *fx_ec_key(const char *group)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
    FX_CHECK(key != NULL);
    return key;
}

/* base64url of len bytes, malloc'd. */
static inline char *fx_b64(const void *data, size_t len)
{
    char *out = malloc(TG_BASE64URL_ENCODED_SIZE(len));
    FX_CHECK(out != NULL);
    tg_base64url_encode(out, data, len);
    return out;
}

static inline char *fx_bn_b64(const BIGNUM *bn, size_t size)
{
    if (size == 0)
        size = (size_t)BN_num_bytes(bn);
    uint8_t *bytes = malloc(size);
    FX_CHECK(bytes != NULL && BN_bn2binpad(bn, bytes, (int)size) == (int)size);
    char *out = fx_b64(bytes, size);
    free(bytes);
    return out;
}

static inline char *fx_param_b64(const EVP_PKEY *key, const char *name, size_t size)
{
    BIGNUM *bn = NULL;
    FX_CHECK(EVP_PKEY_get_bn_param(key, name, &bn) == 1);
    char *out = fx_bn_b64(bn, size);
    BN_free(bn);
    return out;
}

/* Coordinate size of an EC key (32, 48, 66), 0 for RSA. */
static inline size_t fx_ec_size(const EVP_PKEY *key)
{
    if (!EVP_PKEY_is_a(key, "EC"))
        return 0;
    return ((size_t)EVP_PKEY_get_bits(key) + 7) / 8;
}

static inline const char *fx_crv(const EVP_PKEY *key)
{
    switch (EVP_PKEY_get_bits(key)) {
    case 256:
        return "P-256";
    case 384:
        return "P-384";
    case 521:
        return "P-521";
    }
    return NULL;
}

/* Public JWK of key as a new JSON object; kid and alg added when non-NULL. */
static inline json_t *fx_jwk(const EVP_PKEY *key, const char *kid, const char *alg)
{
    json_t *jwk = json_object();
    if (EVP_PKEY_is_a(key, "RSA")) {
        char *n = fx_param_b64(key, OSSL_PKEY_PARAM_RSA_N, 0);
        char *e = fx_param_b64(key, OSSL_PKEY_PARAM_RSA_E, 0);
        json_object_set_new(jwk, "kty", json_string("RSA"));
        json_object_set_new(jwk, "n", json_string(n));
        json_object_set_new(jwk, "e", json_string(e));
        free(n);
        free(e);
    } else {
        size_t size = fx_ec_size(key);
        char *x = fx_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_X, size);
        char *y = fx_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y, size);
        json_object_set_new(jwk, "kty", json_string("EC"));
        json_object_set_new(jwk, "crv", json_string(fx_crv(key)));
        json_object_set_new(jwk, "x", json_string(x));
        json_object_set_new(jwk, "y", json_string(y));
        free(x);
        free(y);
    }
    if (kid != NULL)
        json_object_set_new(jwk, "kid", json_string(kid));
    if (alg != NULL)
        json_object_set_new(jwk, "alg", json_string(alg));
    return jwk;
}

/* {"keys": [jwk...]} serialised; takes ownership of the NULL-terminated jwk objects. */
static inline char *fx_jwks_text(json_t *first, ...)
{
    json_t *keys = json_array();
    va_list args;
    va_start(args, first);
    for (json_t *jwk = first; jwk != NULL; jwk = va_arg(args, json_t *))
        json_array_append_new(keys, jwk);
    va_end(args);
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *text = json_dumps(doc, JSON_COMPACT);
    FX_CHECK(text != NULL);
    json_decref(doc);
    return text;
}

enum { FX_SIG_JOSE = 0, FX_SIG_DER = 1, FX_SIG_HIGH_S = 2, FX_SIG_PSS_MAX_SALT = 3 };

/* Signature of input with key under a JOSE alg name; ECDSA as R||S unless FX_SIG_DER, PSS salt as long as the
 * hash unless FX_SIG_PSS_MAX_SALT. */
static inline uint8_t *fx_signature(const char *alg, EVP_PKEY *key, const char *input, size_t *sig_len,
                                    int mode)
{
    const char *md = strstr(alg, "256") ? "SHA256" : strstr(alg, "384") ? "SHA384" : "SHA512";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    FX_CHECK(ctx != NULL && EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL) == 1);
    if (alg[0] == 'P') {
        FX_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
        int salt = mode == FX_SIG_PSS_MAX_SALT ? RSA_PSS_SALTLEN_MAX : RSA_PSS_SALTLEN_DIGEST;
        FX_CHECK(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) == 1);
    }
    size_t len = 0;
    FX_CHECK(EVP_DigestSign(ctx, NULL, &len, (const uint8_t *)input, strlen(input)) == 1);
    uint8_t *sig = malloc(len);
    FX_CHECK(sig != NULL && EVP_DigestSign(ctx, sig, &len, (const uint8_t *)input, strlen(input)) == 1);
    EVP_MD_CTX_free(ctx);
    if (!EVP_PKEY_is_a(key, "EC") || mode == FX_SIG_DER) {
        *sig_len = len;
        return sig;
    }
    const uint8_t *p = sig;
    ECDSA_SIG *ecdsa = d2i_ECDSA_SIG(NULL, &p, (long)len);
    FX_CHECK(ecdsa != NULL);
    size_t size = fx_ec_size(key);
    uint8_t *raw = malloc(2 * size);
    FX_CHECK(raw != NULL);
    BIGNUM *s = BN_dup(ECDSA_SIG_get0_s(ecdsa));
    if (mode == FX_SIG_HIGH_S) {
        /* (r, n - s) is the other valid signature of the same message */
        char group_name[32];
        FX_CHECK(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group_name,
                                                sizeof(group_name), NULL) == 1);
        EC_GROUP *group = EC_GROUP_new_by_curve_name(OBJ_sn2nid(group_name));
        FX_CHECK(group != NULL && BN_sub(s, EC_GROUP_get0_order(group), s) == 1);
        EC_GROUP_free(group);
    }
    FX_CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), raw, (int)size) == (int)size);
    FX_CHECK(BN_bn2binpad(s, raw + size, (int)size) == (int)size);
    BN_free(s);
    ECDSA_SIG_free(ecdsa);
    free(sig);
    *sig_len = 2 * size;
    return raw;
}

/* header_b64.payload_b64, malloc'd. */
static inline char *fx_signing_input(const char *header_json, const char *payload_json)
{
    char *h = fx_b64(header_json, strlen(header_json));
    char *p = fx_b64(payload_json, strlen(payload_json));
    size_t size = strlen(h) + strlen(p) + 2;
    char *input = malloc(size);
    FX_CHECK(input != NULL);
    snprintf(input, size, "%s.%s", h, p);
    free(h);
    free(p);
    return input;
}

/* input.signature_b64, malloc'd; frees input and sig. */
static inline char *fx_join(char *input, uint8_t *sig, size_t sig_len)
{
    char *s = fx_b64(sig, sig_len);
    size_t size = strlen(input) + strlen(s) + 2;
    char *token = malloc(size);
    FX_CHECK(token != NULL);
    snprintf(token, size, "%s.%s", input, s);
    free(input);
    free(sig);
    free(s);
    return token;
}

/* A compact JWS of the given header and payload JSON, signed with key under alg (JOSE name). */
static inline char *fx_token_mode(const char *header_json, const char *payload_json, const char *alg,
                                  EVP_PKEY *key, int mode)
{
    char *input = fx_signing_input(header_json, payload_json);
    size_t sig_len = 0;
    uint8_t *sig = fx_signature(alg, key, input, &sig_len, mode);
    return fx_join(input, sig, sig_len);
}

static inline char *fx_token(const char *header_json, const char *payload_json, const char *alg,
                             EVP_PKEY *key)
{
    return fx_token_mode(header_json, payload_json, alg, key, FX_SIG_JOSE);
}

/* A compact JWS whose signature is HMAC-SHA256 with secret (the algorithm-confusion attack). */
static inline char *fx_hmac_token(const char *header_json, const char *payload_json, const void *secret,
                                  size_t secret_len)
{
    char *input = fx_signing_input(header_json, payload_json);
    uint8_t *mac = malloc(EVP_MAX_MD_SIZE);
    unsigned int mac_len = 0;
    FX_CHECK(mac != NULL && HMAC(EVP_sha256(), secret, (int)secret_len, (const uint8_t *)input, strlen(input),
                                 mac, &mac_len) != NULL);
    return fx_join(input, mac, mac_len);
}

/* PEM (SubjectPublicKeyInfo) of key's public part, malloc'd, NUL-terminated. */
static inline char *fx_public_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    FX_CHECK(bio != NULL && PEM_write_bio_PUBKEY(bio, key) == 1);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *pem = malloc((size_t)len + 1);
    FX_CHECK(pem != NULL);
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    BIO_free(bio);
    return pem;
}

#endif
