#include "oidc/jwk.h"

#include "oidc/jws.h"
#include "util/base64url.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct oidc_jwk {
    char *kid;
    char *alg;
    oidc_jwk_kty_t kty;
    const char *crv;
    EVP_PKEY *pkey;
};

struct skipped_key {
    size_t index;
    char *kid;
    char *reason;
};

struct oidc_jwks {
    atomic_int refs;
    size_t count;
    size_t skipped_count;
    struct oidc_jwk keys[OIDC_JWKS_MAX_KEYS];
    struct skipped_key skipped[OIDC_JWKS_MAX_KEYS];
};

struct curve {
    const char *jwk_name;
    const char *ossl_name;
    int nid;
    size_t size; /* bytes of one coordinate */
};

static const struct curve curves[] = {
    {"P-256", "prime256v1", NID_X9_62_prime256v1, 32},
    {"P-384", "secp384r1", NID_secp384r1, 48},
    {"P-521", "secp521r1", NID_secp521r1, 66},
};

#define MAX_COORDINATE 66

/* Members that only a private (or symmetric) key carries. */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

typedef enum { KEY_USABLE, KEY_SKIPPED, KEY_ERROR } key_result_t;

static key_result_t skip(char *reason, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static key_result_t skip(char *reason, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, size, fmt, args);
    va_end(args);
    return KEY_SKIPPED;
}

static void set_error(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t size, const char *fmt, ...)
{
    if (err == NULL || size == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);
}

static const struct curve *curve_by_jwk_name(const char *name)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); ++i)
        if (strcmp(curves[i].jwk_name, name) == 0)
            return &curves[i];
    return NULL;
}

static const struct curve *curve_by_nid(int nid)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); ++i)
        if (curves[i].nid == nid)
            return &curves[i];
    return NULL;
}

/* Decodes the base64url string member name (at most max bytes once decoded) into a new buffer. */
static key_result_t decode_member(const json_t *jwk, const char *name, size_t max, uint8_t **out,
                                  size_t *out_len, char *reason, size_t reason_size)
{
    const json_t *value = json_object_get(jwk, name);
    if (!json_is_string(value))
        return skip(reason, reason_size, "member \"%s\" missing or not a string", name);
    size_t len = json_string_length(value);
    if (len == 0)
        return skip(reason, reason_size, "member \"%s\" is empty", name);
    if (len > (max * 4 + 2) / 3)
        return skip(reason, reason_size, "member \"%s\" is longer than %zu bytes", name, max);
    uint8_t *buf = malloc(len * 3 / 4 + 1);
    if (buf == NULL)
        return KEY_ERROR;
    long n = tg_base64url_decode(buf, json_string_value(value), len);
    if (n < 0) {
        free(buf);
        return skip(reason, reason_size, "member \"%s\" is not unpadded base64url", name);
    }
    *out = buf;
    *out_len = (size_t)n;
    return KEY_USABLE;
}

/* Builds a public EVP_PKEY of the given type from params; NULL when OpenSSL refuses them. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static key_result_t parse_rsa(const json_t *jwk, struct oidc_jwk *key, char *reason, size_t reason_size)
{
    uint8_t *n = NULL, *e = NULL;
    size_t n_len = 0, e_len = 0;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    key_result_t result;

    /* one extra byte: some libraries still emit a leading zero on n */
    if ((result = decode_member(jwk, "n", OIDC_JWK_MAX_RSA_BITS / 8 + 1, &n, &n_len, reason, reason_size)) !=
            KEY_USABLE ||
        (result = decode_member(jwk, "e", 8, &e, &e_len, reason, reason_size)) != KEY_USABLE)
        goto out;
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    if (bn_n == NULL || bn_e == NULL) {
        result = KEY_ERROR;
        goto out;
    }
    int bits = BN_num_bits(bn_n);
    if (bits < OIDC_JWK_MIN_RSA_BITS || bits > OIDC_JWK_MAX_RSA_BITS) {
        result = skip(reason, reason_size, "RSA modulus of %d bits (accepted: %d to %d)", bits,
                      OIDC_JWK_MIN_RSA_BITS, OIDC_JWK_MAX_RSA_BITS);
        goto out;
    }
    if (!BN_is_odd(bn_n)) {
        result = skip(reason, reason_size, "RSA modulus is even");
        goto out;
    }
    if (!BN_is_odd(bn_e) || BN_is_one(bn_e)) {
        result = skip(reason, reason_size, "RSA exponent must be odd and greater than 1");
        goto out;
    }
    if ((bld = OSSL_PARAM_BLD_new()) == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        result = KEY_ERROR;
        goto out;
    }
    if ((key->pkey = pkey_from_params("RSA", bld)) == NULL) {
        result = skip(reason, reason_size, "OpenSSL refused the RSA public key");
        goto out;
    }
    key->kty = OIDC_JWK_KTY_RSA;
    result = KEY_USABLE;
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return result;
}

static key_result_t parse_ec(const json_t *jwk, struct oidc_jwk *key, char *reason, size_t reason_size)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (crv == NULL)
        return skip(reason, reason_size, "member \"crv\" missing or not a string");
    const struct curve *curve = curve_by_jwk_name(crv);
    if (curve == NULL)
        return skip(reason, reason_size, "unsupported crv \"%.16s\"", crv);

    uint8_t *x = NULL, *y = NULL;
    size_t x_len = 0, y_len = 0;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY_CTX *check = NULL;
    key_result_t result;
    if ((result = decode_member(jwk, "x", curve->size, &x, &x_len, reason, reason_size)) != KEY_USABLE ||
        (result = decode_member(jwk, "y", curve->size, &y, &y_len, reason, reason_size)) != KEY_USABLE)
        goto out;
    if (x_len != curve->size || y_len != curve->size) {
        result = skip(reason, reason_size, "x and y must be exactly %zu bytes for %s", curve->size,
                      curve->jwk_name);
        goto out;
    }
    uint8_t point[1 + 2 * MAX_COORDINATE];
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, curve->size);
    memcpy(point + 1 + curve->size, y, curve->size);
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve->ossl_name, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * curve->size)) {
        result = KEY_ERROR;
        goto out;
    }
    if ((key->pkey = pkey_from_params("EC", bld)) == NULL) {
        result = skip(reason, reason_size, "EC point is not on %s", curve->jwk_name);
        goto out;
    }
    /* on the curve, not infinity, right order: do not rely on fromdata alone */
    if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) == NULL ||
        EVP_PKEY_public_check(check) != 1) {
        EVP_PKEY_free(key->pkey);
        key->pkey = NULL;
        result = skip(reason, reason_size, "EC public key check failed on %s", curve->jwk_name);
        goto out;
    }
    key->kty = OIDC_JWK_KTY_EC;
    key->crv = curve->jwk_name;
    result = KEY_USABLE;
out:
    EVP_PKEY_CTX_free(check);
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return result;
}

/* Checks the optional members that decide whether a key may verify signatures. */
static key_result_t check_usage(const json_t *jwk, oidc_jws_alg_t *alg, char *reason, size_t reason_size)
{
    const json_t *use = json_object_get(jwk, "use");
    if (use != NULL) {
        if (!json_is_string(use))
            return skip(reason, reason_size, "member \"use\" is not a string");
        if (strcmp(json_string_value(use), "sig") != 0)
            return skip(reason, reason_size, "use \"%.16s\" is not \"sig\"", json_string_value(use));
    }
    const json_t *ops = json_object_get(jwk, "key_ops");
    if (ops != NULL) {
        if (!json_is_array(ops))
            return skip(reason, reason_size, "member \"key_ops\" is not an array");
        int verify = 0;
        size_t i;
        const json_t *op;
        json_array_foreach(ops, i, op)
        {
            if (!json_is_string(op))
                return skip(reason, reason_size, "member \"key_ops\" holds a non-string");
            if (strcmp(json_string_value(op), "verify") == 0)
                verify = 1;
        }
        if (!verify)
            return skip(reason, reason_size, "key_ops does not allow \"verify\"");
    }
    const json_t *alg_value = json_object_get(jwk, "alg");
    *alg = 0;
    if (alg_value != NULL) {
        if (!json_is_string(alg_value))
            return skip(reason, reason_size, "member \"alg\" is not a string");
        if ((*alg = oidc_jws_alg_from_name(json_string_value(alg_value))) == 0)
            return skip(reason, reason_size, "alg \"%.16s\" is not a supported signature algorithm",
                        json_string_value(alg_value));
    }
    return KEY_USABLE;
}

static key_result_t parse_key(const json_t *jwk, struct oidc_jwk *key, char *reason, size_t reason_size)
{
    if (!json_is_object(jwk))
        return skip(reason, reason_size, "entry is not a JSON object");
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); ++i)
        if (json_object_get(jwk, private_members[i]) != NULL)
            return skip(reason, reason_size, "private key member \"%s\" in a published key set",
                        private_members[i]);

    const json_t *kid = json_object_get(jwk, "kid");
    if (kid != NULL && (!json_is_string(kid) || json_string_length(kid) > OIDC_JWK_MAX_KID))
        return skip(reason, reason_size, "kid is not a string of at most %d bytes", OIDC_JWK_MAX_KID);
    oidc_jws_alg_t alg;
    key_result_t result = check_usage(jwk, &alg, reason, reason_size);
    if (result != KEY_USABLE)
        return result;

    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    if (kty == NULL)
        return skip(reason, reason_size, "member \"kty\" missing or not a string");
    if (strcmp(kty, "RSA") == 0)
        result = parse_rsa(jwk, key, reason, reason_size);
    else if (strcmp(kty, "EC") == 0)
        result = parse_ec(jwk, key, reason, reason_size);
    else
        result = skip(reason, reason_size, "unsupported kty \"%.16s\"", kty);
    if (result != KEY_USABLE)
        return result;

    if (alg != 0 && !oidc_jws_alg_fits(alg, key->kty, key->crv)) {
        result = skip(reason, reason_size, "alg %s does not fit this %s key", oidc_jws_alg_name(alg),
                      key->kty == OIDC_JWK_KTY_RSA ? "RSA" : key->crv);
    } else if ((kid != NULL && (key->kid = strdup(json_string_value(kid))) == NULL) ||
               (alg != 0 && (key->alg = strdup(oidc_jws_alg_name(alg))) == NULL)) {
        result = KEY_ERROR;
    }
    if (result != KEY_USABLE) {
        EVP_PKEY_free(key->pkey);
        free(key->kid);
        free(key->alg);
        memset(key, 0, sizeof(*key));
    }
    return result;
}

int oidc_jwks_parse(const char *json, size_t len, oidc_jwks_t **out, char *err, size_t err_size)
{
    if (json == NULL || out == NULL) {
        set_error(err, err_size, "no JWKS document");
        return -1;
    }
    if (len > OIDC_JWKS_MAX_DOCUMENT) {
        set_error(err, err_size, "JWKS document of %zu bytes exceeds the limit of %d", len,
                  OIDC_JWKS_MAX_DOCUMENT);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        set_error(err, err_size, "JWKS is not valid JSON (line %d: %s)", jerr.line, jerr.text);
        return -1;
    }
    const json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        set_error(err, err_size, "JWKS has no \"keys\" array");
        json_decref(root);
        return -1;
    }
    if (json_array_size(keys) > OIDC_JWKS_MAX_KEYS) {
        set_error(err, err_size, "JWKS has %zu keys, the limit is %d", json_array_size(keys),
                  OIDC_JWKS_MAX_KEYS);
        json_decref(root);
        return -1;
    }
    oidc_jwks_t *set = calloc(1, sizeof(*set));
    if (set == NULL) {
        set_error(err, err_size, "out of memory");
        json_decref(root);
        return -1;
    }
    atomic_init(&set->refs, 1);

    size_t i;
    const json_t *jwk;
    json_array_foreach(keys, i, jwk)
    {
        char reason[160];
        key_result_t result = parse_key(jwk, &set->keys[set->count], reason, sizeof(reason));
        if (result == KEY_USABLE) {
            set->count++;
            continue;
        }
        struct skipped_key *skipped = &set->skipped[set->skipped_count];
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        skipped->index = i;
        if (result == KEY_ERROR || (skipped->reason = strdup(reason)) == NULL ||
            (kid != NULL && (skipped->kid = strdup(kid)) == NULL)) {
            free(skipped->reason);
            skipped->reason = NULL;
            set_error(err, err_size, "out of memory");
            goto fail;
        }
        set->skipped_count++;
    }
    if (set->count == 0) {
        if (set->skipped_count == 0)
            set_error(err, err_size, "JWKS holds no key");
        else
            set_error(err, err_size, "JWKS holds no usable signing key (key %zu: %s)", set->skipped[0].index,
                      set->skipped[0].reason);
        goto fail;
    }
    json_decref(root);
    *out = set;
    return 0;
fail:
    json_decref(root);
    oidc_jwks_free(set);
    return -1;
}

oidc_jwks_t *oidc_jwks_ref(oidc_jwks_t *set)
{
    atomic_fetch_add(&set->refs, 1);
    return set;
}

void oidc_jwks_free(oidc_jwks_t *set)
{
    if (set == NULL || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    for (size_t i = 0; i < set->count; ++i) {
        EVP_PKEY_free(set->keys[i].pkey);
        free(set->keys[i].kid);
        free(set->keys[i].alg);
    }
    for (size_t i = 0; i < set->skipped_count; ++i) {
        free(set->skipped[i].kid);
        free(set->skipped[i].reason);
    }
    free(set);
}

size_t oidc_jwks_count(const oidc_jwks_t *set)
{
    return set->count;
}

const oidc_jwk_t *oidc_jwks_get(const oidc_jwks_t *set, size_t i)
{
    return i < set->count ? &set->keys[i] : NULL;
}

size_t oidc_jwks_skipped_count(const oidc_jwks_t *set)
{
    return set->skipped_count;
}

const char *oidc_jwks_skipped(const oidc_jwks_t *set, size_t i, size_t *index, const char **kid)
{
    if (i >= set->skipped_count)
        return NULL;
    if (index != NULL)
        *index = set->skipped[i].index;
    if (kid != NULL)
        *kid = set->skipped[i].kid;
    return set->skipped[i].reason;
}

const char *oidc_jwk_kid(const oidc_jwk_t *key)
{
    return key->kid;
}

oidc_jwk_kty_t oidc_jwk_kty(const oidc_jwk_t *key)
{
    return key->kty;
}

const char *oidc_jwk_alg(const oidc_jwk_t *key)
{
    return key->alg;
}

const char *oidc_jwk_crv(const oidc_jwk_t *key)
{
    return key->crv;
}

EVP_PKEY *oidc_jwk_pkey(const oidc_jwk_t *key)
{
    return key->pkey;
}

/* The public members of a key, base64url-encoded: e and n for RSA, x and y for EC. */
struct public_members {
    oidc_jwk_kty_t kty;
    const struct curve *curve;
    char *first;
    char *second;
};

/* base64url of bn as exactly size bytes (0: its minimal length). */
static char *bn_to_base64url(const BIGNUM *bn, size_t size)
{
    if (size == 0)
        size = (size_t)BN_num_bytes(bn);
    if (size == 0 || (size_t)BN_num_bytes(bn) > size)
        return NULL;
    uint8_t *bytes = malloc(size);
    char *text = malloc(TG_BASE64URL_ENCODED_SIZE(size));
    if (bytes == NULL || text == NULL || BN_bn2binpad(bn, bytes, (int)size) != (int)size) {
        free(bytes);
        free(text);
        return NULL;
    }
    tg_base64url_encode(text, bytes, size);
    free(bytes);
    return text;
}

static int get_public_members(const EVP_PKEY *pkey, struct public_members *pm)
{
    BIGNUM *a = NULL, *b = NULL;
    memset(pm, 0, sizeof(*pm));
    if (pkey == NULL)
        return -1;
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        pm->kty = OIDC_JWK_KTY_RSA;
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &a) == 1 &&
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &b) == 1) {
            pm->first = bn_to_base64url(a, 0);
            pm->second = bn_to_base64url(b, 0);
        }
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64];
        size_t group_len = 0;
        pm->kty = OIDC_JWK_KTY_EC;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &group_len) == 1) {
            int nid = OBJ_sn2nid(group);
            if (nid == NID_undef)
                nid = EC_curve_nist2nid(group);
            pm->curve = curve_by_nid(nid);
        }
        if (pm->curve != NULL && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) == 1 &&
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) == 1) {
            pm->first = bn_to_base64url(a, pm->curve->size);
            pm->second = bn_to_base64url(b, pm->curve->size);
        }
    }
    BN_free(a);
    BN_free(b);
    ERR_clear_error();
    if (pm->first == NULL || pm->second == NULL) {
        free(pm->first);
        free(pm->second);
        memset(pm, 0, sizeof(*pm));
        return -1;
    }
    return 0;
}

int oidc_jwk_thumbprint(const EVP_PKEY *pkey, char out[OIDC_JWK_THUMBPRINT_SIZE])
{
    struct public_members pm;
    if (get_public_members(pkey, &pm) != 0)
        return -1;
    /* RFC 7638 section 3.2: required members only, sorted, no whitespace */
    size_t size = strlen(pm.first) + strlen(pm.second) + 64;
    char *canonical = malloc(size);
    int len = -1;
    if (canonical != NULL) {
        if (pm.kty == OIDC_JWK_KTY_RSA)
            len =
                snprintf(canonical, size, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", pm.first, pm.second);
        else
            len = snprintf(canonical, size, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                           pm.curve->jwk_name, pm.first, pm.second);
    }
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    int rc = -1;
    if (len > 0 && (size_t)len < size &&
        EVP_Digest(canonical, (size_t)len, digest, &digest_len, EVP_sha256(), NULL) == 1 &&
        digest_len == 32) {
        tg_base64url_encode(out, digest, digest_len);
        rc = 0;
    }
    free(canonical);
    free(pm.first);
    free(pm.second);
    return rc;
}

json_t *oidc_jwk_from_pkey(const EVP_PKEY *pkey, const char *kid, const char *alg)
{
    struct public_members pm;
    if (get_public_members(pkey, &pm) != 0)
        return NULL;
    json_t *jwk = NULL;
    oidc_jws_alg_t flag = alg != NULL ? oidc_jws_alg_from_name(alg) : 0;
    if (alg == NULL || (flag != 0 && oidc_jws_alg_fits(flag, pm.kty, pm.curve ? pm.curve->jwk_name : NULL))) {
        if (pm.kty == OIDC_JWK_KTY_RSA)
            jwk =
                json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "n", pm.second, "e", pm.first);
        else
            jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "use", "sig", "crv", pm.curve->jwk_name,
                            "x", pm.first, "y", pm.second);
    }
    if (jwk != NULL && ((kid != NULL && json_object_set_new(jwk, "kid", json_string(kid)) != 0) ||
                        (alg != NULL && json_object_set_new(jwk, "alg", json_string(alg)) != 0))) {
        json_decref(jwk);
        jwk = NULL;
    }
    free(pm.first);
    free(pm.second);
    return jwk;
}
