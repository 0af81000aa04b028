/* JWKS parsing, key checks, RFC 7638 thumbprints and JWK export. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "jose_fixture.h"
#include "oidc/jwk.h"

#include <openssl/params.h>

static EVP_PKEY *rsa2048, *rsa1024, *p256, *p384, *p521;

static int setup(void **state)
{
    rsa2048 = fx_rsa_key(2048);
    rsa1024 = fx_rsa_key(1024);
    p256 = fx_ec_key("P-256");
    p384 = fx_ec_key("P-384");
    p521 = fx_ec_key("P-521");
    return 0;
}

static int teardown(void **state)
{
    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p521);
    return 0;
}

static oidc_jwks_t *parse_ok(const char *text)
{
    oidc_jwks_t *set = NULL;
    char err[256] = "";
    int rc = oidc_jwks_parse(text, strlen(text), &set, err, sizeof(err));
    if (rc != 0)
        print_error("unexpected parse failure: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(set);
    return set;
}

static void test_parses_rsa_and_ec_keys(void **state)
{
    char *text = fx_jwks_text(fx_jwk(rsa2048, "rsa", "RS256"), fx_jwk(p256, "ec256", NULL),
                              fx_jwk(p384, NULL, "ES384"), fx_jwk(p521, "ec521", "ES512"), NULL);
    oidc_jwks_t *set = parse_ok(text);
    assert_int_equal(oidc_jwks_count(set), 4);
    assert_int_equal(oidc_jwks_skipped_count(set), 0);

    const oidc_jwk_t *key = oidc_jwks_get(set, 0);
    assert_int_equal(oidc_jwk_kty(key), OIDC_JWK_KTY_RSA);
    assert_string_equal(oidc_jwk_kid(key), "rsa");
    assert_string_equal(oidc_jwk_alg(key), "RS256");
    assert_null(oidc_jwk_crv(key));
    assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(key), rsa2048), 1);

    key = oidc_jwks_get(set, 1);
    assert_int_equal(oidc_jwk_kty(key), OIDC_JWK_KTY_EC);
    assert_string_equal(oidc_jwk_crv(key), "P-256");
    assert_null(oidc_jwk_alg(key));
    assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(key), p256), 1);
    assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(key), p384), 0);

    key = oidc_jwks_get(set, 2);
    assert_null(oidc_jwk_kid(key));
    assert_string_equal(oidc_jwk_crv(key), "P-384");
    assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(key), p384), 1);

    key = oidc_jwks_get(set, 3);
    assert_string_equal(oidc_jwk_crv(key), "P-521");
    assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(key), p521), 1);

    assert_null(oidc_jwks_get(set, 4));
    assert_null(oidc_jwks_skipped(set, 0, NULL, NULL));
    oidc_jwks_free(set);
    free(text);
}

static void test_reference_counting(void **state)
{
    char *text = fx_jwks_text(fx_jwk(p256, "k", NULL), NULL);
    oidc_jwks_t *set = parse_ok(text);
    assert_ptr_equal(oidc_jwks_ref(set), set);
    oidc_jwks_free(set);
    /* still alive: the leak checker and ASan would catch a premature or missing free */
    assert_int_equal(oidc_jwks_count(set), 1);
    oidc_jwks_free(set);
    oidc_jwks_free(NULL);
    free(text);
}

/* A JWK that must be skipped, with a piece of the reason it gets. */
struct skip_case {
    const char *name;
    json_t *(*make)(void);
    const char *reason;
};

static json_t *with(json_t *jwk, const char *member, json_t *value)
{
    json_object_set_new(jwk, member, value);
    return jwk;
}

static json_t *without(json_t *jwk, const char *member)
{
    json_object_del(jwk, member);
    return jwk;
}

static json_t *make_oct(void)
{
    return json_pack("{s:s, s:s, s:s}", "kty", "oct", "k", "c2VjcmV0", "kid", "hmac");
}
static json_t *make_oct_without_k(void)
{
    return json_pack("{s:s}", "kty", "oct");
}
static json_t *make_okp(void)
{
    return json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                     "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
}
static json_t *make_use_enc(void)
{
    return with(fx_jwk(rsa2048, "enc", NULL), "use", json_string("enc"));
}
static json_t *make_key_ops_encrypt(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "key_ops", json_pack("[s]", "encrypt"));
}
static json_t *make_alg_hs256(void)
{
    return fx_jwk(rsa2048, NULL, "HS256");
}
static json_t *make_alg_none(void)
{
    return fx_jwk(p256, NULL, "none");
}
static json_t *make_alg_es256_on_rsa(void)
{
    return fx_jwk(rsa2048, NULL, "ES256");
}
static json_t *make_alg_es384_on_p256(void)
{
    return fx_jwk(p256, NULL, "ES384");
}
static json_t *make_alg_rs256_on_ec(void)
{
    return fx_jwk(p256, NULL, "RS256");
}
static json_t *make_rsa_1024(void)
{
    return fx_jwk(rsa1024, "weak", NULL);
}
static json_t *make_rsa_private(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "d", json_string("AQAB"));
}
static json_t *make_rsa_private_p(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "p", json_string("AQAB"));
}
static json_t *make_ec_private(void)
{
    return with(fx_jwk(p256, NULL, NULL), "d", json_string("AQAB"));
}
static json_t *make_ec_short_x(void)
{
    /* 31 bytes: a coordinate with its leading zero byte dropped */
    return with(fx_jwk(p256, NULL, NULL), "x", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}
static json_t *make_ec_long_y(void)
{
    return with(fx_jwk(p256, NULL, NULL), "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}
static json_t *make_ec_off_curve(void)
{
    /* a valid P-256 x with y of its neighbour point: (x, y + 1) is not on the curve */
    json_t *jwk = fx_jwk(p256, NULL, NULL);
    BIGNUM *y = NULL;
    FX_CHECK(EVP_PKEY_get_bn_param(p256, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 && BN_add_word(y, 1) == 1);
    char *text = fx_bn_b64(y, 32);
    BN_free(y);
    json_object_set_new(jwk, "y", json_string(text));
    free(text);
    return jwk;
}
static json_t *make_ec_p384_coordinates_as_p256(void)
{
    return with(fx_jwk(p384, NULL, NULL), "crv", json_string("P-256"));
}
static json_t *make_ec_secp256k1(void)
{
    return with(fx_jwk(p256, NULL, NULL), "crv", json_string("secp256k1"));
}
static json_t *make_ec_without_crv(void)
{
    return without(fx_jwk(p256, NULL, NULL), "crv");
}
static json_t *make_rsa_n_not_base64url(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "n", json_string("ab+/cd"));
}
static json_t *make_rsa_e_padded(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "e", json_string("AQA="));
}
static json_t *make_rsa_without_n(void)
{
    return without(fx_jwk(rsa2048, NULL, NULL), "n");
}
static json_t *make_rsa_n_number(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "n", json_integer(65537));
}
static json_t *make_rsa_e_even(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "e", json_string("AQAA"));
}
static json_t *make_rsa_e_one(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "e", json_string("AQ"));
}
static json_t *make_kid_number(void)
{
    return with(fx_jwk(rsa2048, NULL, NULL), "kid", json_integer(7));
}
static json_t *make_not_object(void)
{
    return json_string("RSA");
}
static json_t *make_without_kty(void)
{
    return without(fx_jwk(p256, NULL, NULL), "kty");
}
static json_t *make_kty_lowercase(void)
{
    return with(fx_jwk(p256, NULL, NULL), "kty", json_string("ec"));
}

static const struct skip_case skip_cases[] = {
    {"oct key", make_oct, "private key member \"k\""},
    {"oct key without k", make_oct_without_k, "unsupported kty \"oct\""},
    {"OKP key", make_okp, "unsupported kty \"OKP\""},
    {"use enc", make_use_enc, "use \"enc\" is not \"sig\""},
    {"key_ops without verify", make_key_ops_encrypt, "key_ops does not allow \"verify\""},
    {"alg HS256", make_alg_hs256, "alg \"HS256\" is not a supported signature algorithm"},
    {"alg none", make_alg_none, "alg \"none\" is not a supported"},
    {"ES256 on RSA", make_alg_es256_on_rsa, "alg ES256 does not fit this RSA key"},
    {"ES384 on P-256", make_alg_es384_on_p256, "alg ES384 does not fit this P-256 key"},
    {"RS256 on EC", make_alg_rs256_on_ec, "alg RS256 does not fit this P-256 key"},
    {"RSA 1024", make_rsa_1024, "RSA modulus of 1024 bits"},
    {"RSA with d", make_rsa_private, "private key member \"d\""},
    {"RSA with p", make_rsa_private_p, "private key member \"p\""},
    {"EC with d", make_ec_private, "private key member \"d\""},
    {"EC x short", make_ec_short_x, "exactly 32 bytes for P-256"},
    {"EC y long", make_ec_long_y, "\"y\" is longer than 32 bytes"},
    {"EC off curve", make_ec_off_curve, "P-256"},
    {"P-384 point as P-256", make_ec_p384_coordinates_as_p256, "\"x\" is longer than 32 bytes"},
    {"secp256k1", make_ec_secp256k1, "unsupported crv \"secp256k1\""},
    {"EC without crv", make_ec_without_crv, "member \"crv\" missing"},
    {"n not base64url", make_rsa_n_not_base64url, "member \"n\" is not unpadded base64url"},
    {"e padded", make_rsa_e_padded, "member \"e\" is not unpadded base64url"},
    {"RSA without n", make_rsa_without_n, "member \"n\" missing"},
    {"n a number", make_rsa_n_number, "member \"n\" missing or not a string"},
    {"e even", make_rsa_e_even, "exponent must be odd"},
    {"e one", make_rsa_e_one, "exponent must be odd and greater than 1"},
    {"kid a number", make_kid_number, "kid is not a string"},
    {"entry a string", make_not_object, "not a JSON object"},
    {"no kty", make_without_kty, "member \"kty\" missing"},
    {"kty lowercase", make_kty_lowercase, "unsupported kty \"ec\""},
};

static void test_skips_unusable_keys_with_reason(void **state)
{
    for (size_t i = 0; i < sizeof(skip_cases) / sizeof(skip_cases[0]); ++i) {
        const struct skip_case *c = &skip_cases[i];
        /* the bad key sits between two good ones, which must survive it */
        char *text =
            fx_jwks_text(fx_jwk(p256, "good1", NULL), c->make(), fx_jwk(rsa2048, "good2", NULL), NULL);
        oidc_jwks_t *set = NULL;
        char err[256] = "";
        assert_int_equal(oidc_jwks_parse(text, strlen(text), &set, err, sizeof(err)), 0);
        assert_int_equal(oidc_jwks_count(set), 2);
        assert_string_equal(oidc_jwk_kid(oidc_jwks_get(set, 0)), "good1");
        assert_string_equal(oidc_jwk_kid(oidc_jwks_get(set, 1)), "good2");
        assert_int_equal(oidc_jwks_skipped_count(set), 1);
        size_t index = 99;
        const char *reason = oidc_jwks_skipped(set, 0, &index, NULL);
        assert_non_null(reason);
        if (strstr(reason, c->reason) == NULL)
            fail_msg("case \"%s\": reason \"%s\" lacks \"%s\"", c->name, reason, c->reason);
        assert_int_equal(index, 1);
        oidc_jwks_free(set);
        free(text);
    }
}

static void test_skipped_key_keeps_its_kid(void **state)
{
    char *text = fx_jwks_text(fx_jwk(p256, "good", NULL), make_use_enc(), NULL);
    oidc_jwks_t *set = parse_ok(text);
    const char *kid = NULL;
    assert_non_null(oidc_jwks_skipped(set, 0, NULL, &kid));
    assert_string_equal(kid, "enc");
    oidc_jwks_free(set);
    free(text);
}

static void test_rsa_modulus_with_leading_zero_is_accepted(void **state)
{
    BIGNUM *n = NULL;
    FX_CHECK(EVP_PKEY_get_bn_param(rsa2048, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
    char *padded = fx_bn_b64(n, 257);
    BN_free(n);
    char *text = fx_jwks_text(with(fx_jwk(rsa2048, "z", NULL), "n", json_string(padded)), NULL);
    oidc_jwks_t *set = parse_ok(text);
    assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(oidc_jwks_get(set, 0)), rsa2048), 1);
    oidc_jwks_free(set);
    free(text);
    free(padded);
}

static void test_key_ops_with_verify_and_use_sig_are_kept(void **state)
{
    json_t *jwk = with(fx_jwk(p256, NULL, "ES256"), "key_ops", json_pack("[s, s]", "sign", "verify"));
    char *text = fx_jwks_text(with(jwk, "use", json_string("sig")), NULL);
    oidc_jwks_t *set = parse_ok(text);
    assert_int_equal(oidc_jwks_count(set), 1);
    oidc_jwks_free(set);
    free(text);
}

/* A document that must be refused as a whole, with a piece of the error. */
struct doc_case {
    const char *name;
    const char *text;
    const char *error;
};

static const struct doc_case doc_cases[] = {
    {"empty", "", "not valid JSON"},
    {"not JSON", "{\"keys\": [", "not valid JSON"},
    {"array", "[]", "no \"keys\" array"},
    {"keys an object", "{\"keys\": {}}", "no \"keys\" array"},
    {"no keys member", "{\"key\": []}", "no \"keys\" array"},
    {"no keys", "{\"keys\": []}", "holds no key"},
    {"only oct", "{\"keys\": [{\"kty\": \"oct\", \"k\": \"AAAA\"}]}",
     "no usable signing key (key 0: private"},
    {"only enc", "{\"keys\": [{\"kty\": \"EC\", \"use\": \"enc\"}]}", "no usable signing key"},
    {"duplicate member", "{\"keys\": [], \"keys\": []}", "not valid JSON"},
    {"trailing garbage", "{\"keys\": []} x", "not valid JSON"},
    {"NUL escape", "{\"keys\": [{\"kty\": \"E\\u0000C\"}]}", "not valid JSON"},
};

static void test_refuses_bad_documents(void **state)
{
    for (size_t i = 0; i < sizeof(doc_cases) / sizeof(doc_cases[0]); ++i) {
        const struct doc_case *c = &doc_cases[i];
        oidc_jwks_t *sentinel = (oidc_jwks_t *)&doc_cases[i], *set = sentinel;
        char err[256] = "";
        assert_int_equal(oidc_jwks_parse(c->text, strlen(c->text), &set, err, sizeof(err)), -1);
        assert_ptr_equal(set, sentinel);
        if (strstr(err, c->error) == NULL)
            fail_msg("case \"%s\": error \"%s\" lacks \"%s\"", c->name, err, c->error);
    }
}

static void test_refuses_too_many_keys(void **state)
{
    json_t *keys = json_array();
    json_t *jwk = fx_jwk(p256, NULL, NULL);
    for (int i = 0; i <= OIDC_JWKS_MAX_KEYS; ++i)
        json_array_append(keys, jwk);
    json_decref(jwk);
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *text = json_dumps(doc, JSON_COMPACT);
    oidc_jwks_t *set = NULL;
    char err[256] = "";
    assert_int_equal(oidc_jwks_parse(text, strlen(text), &set, err, sizeof(err)), -1);
    assert_null(set);
    assert_non_null(strstr(err, "65 keys, the limit is 64"));

    /* exactly the limit is fine */
    json_array_remove(json_object_get(doc, "keys"), 0);
    free(text);
    text = json_dumps(doc, JSON_COMPACT);
    assert_int_equal(oidc_jwks_parse(text, strlen(text), &set, err, sizeof(err)), 0);
    assert_int_equal(oidc_jwks_count(set), 64);
    oidc_jwks_free(set);
    json_decref(doc);
    free(text);
}

static void test_refuses_oversized_document(void **state)
{
    /* valid JSON, padded with whitespace past the limit: refused before parsing */
    char *text = fx_jwks_text(fx_jwk(p256, NULL, NULL), NULL);
    size_t len = strlen(text);
    char *big = malloc(OIDC_JWKS_MAX_DOCUMENT + 1);
    memset(big, ' ', OIDC_JWKS_MAX_DOCUMENT + 1);
    memcpy(big, text, len);
    oidc_jwks_t *set = NULL;
    char err[256] = "";
    assert_int_equal(oidc_jwks_parse(big, OIDC_JWKS_MAX_DOCUMENT + 1, &set, err, sizeof(err)), -1);
    assert_null(set);
    assert_non_null(strstr(err, "exceeds the limit"));
    assert_int_equal(oidc_jwks_parse(big, OIDC_JWKS_MAX_DOCUMENT, &set, err, sizeof(err)), 0);
    oidc_jwks_free(set);
    free(big);
    free(text);
}

static void test_null_arguments(void **state)
{
    oidc_jwks_t *set = NULL;
    assert_int_equal(oidc_jwks_parse(NULL, 0, &set, NULL, 0), -1);
    assert_int_equal(oidc_jwks_parse("{}", 2, NULL, NULL, 0), -1);
    assert_null(set);
}

static void test_rfc7638_thumbprint(void **state)
{
    char text[1024];
    snprintf(
        text, sizeof(text),
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}]}",
        rfc7638_n);
    oidc_jwks_t *set = parse_ok(text);
    char thumbprint[OIDC_JWK_THUMBPRINT_SIZE];
    assert_int_equal(oidc_jwk_thumbprint(oidc_jwk_pkey(oidc_jwks_get(set, 0)), thumbprint), 0);
    assert_string_equal(thumbprint, rfc7638_thumbprint);
    oidc_jwks_free(set);
}

/* Thumbprint computed here from the key's own numbers, as RFC 7638 3.2 describes. */
static void expected_ec_thumbprint(EVP_PKEY *key, const char *crv, char *out)
{
    size_t size = fx_ec_size(key);
    char *x = fx_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_X, size);
    char *y = fx_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y, size);
    char canonical[512];
    int len = snprintf(canonical, sizeof(canonical),
                       "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, x, y);
    uint8_t digest[32];
    FX_CHECK(EVP_Digest(canonical, (size_t)len, digest, NULL, EVP_sha256(), NULL) == 1);
    tg_base64url_encode(out, digest, sizeof(digest));
    free(x);
    free(y);
}

static void test_ec_thumbprint(void **state)
{
    struct {
        EVP_PKEY *key;
        const char *crv;
    } cases[] = {{p256, "P-256"}, {p384, "P-384"}, {p521, "P-521"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char expected[OIDC_JWK_THUMBPRINT_SIZE], actual[OIDC_JWK_THUMBPRINT_SIZE];
        expected_ec_thumbprint(cases[i].key, cases[i].crv, expected);
        /* from the private key, and from the public key parsed out of a JWKS: same value */
        assert_int_equal(oidc_jwk_thumbprint(cases[i].key, actual), 0);
        assert_string_equal(actual, expected);
        char *text = fx_jwks_text(fx_jwk(cases[i].key, "k", NULL), NULL);
        oidc_jwks_t *set = parse_ok(text);
        memset(actual, 0, sizeof(actual));
        assert_int_equal(oidc_jwk_thumbprint(oidc_jwk_pkey(oidc_jwks_get(set, 0)), actual), 0);
        assert_string_equal(actual, expected);
        assert_int_equal(strlen(actual), 43);
        oidc_jwks_free(set);
        free(text);
    }
}

static void test_thumbprint_refuses_other_keys(void **state)
{
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *k1 = fx_ec_key("secp256k1");
    char out[OIDC_JWK_THUMBPRINT_SIZE] = "untouched";
    assert_int_equal(oidc_jwk_thumbprint(ed, out), -1);
    assert_int_equal(oidc_jwk_thumbprint(k1, out), -1);
    assert_int_equal(oidc_jwk_thumbprint(NULL, out), -1);
    assert_string_equal(out, "untouched");
    assert_null(oidc_jwk_from_pkey(ed, NULL, NULL));
    assert_null(oidc_jwk_from_pkey(k1, NULL, NULL));
    EVP_PKEY_free(ed);
    EVP_PKEY_free(k1);
}

static void test_export_is_public_and_round_trips(void **state)
{
    struct {
        EVP_PKEY *key;
        const char *alg;
        const char *const *members;
    } cases[] = {
        {rsa2048, "RS256", (const char *const[]){"kty", "use", "n", "e", "kid", "alg", NULL}},
        {p256, "ES256", (const char *const[]){"kty", "use", "crv", "x", "y", "kid", "alg", NULL}},
        {p384, NULL, (const char *const[]){"kty", "use", "crv", "x", "y", "kid", NULL}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        json_t *jwk = oidc_jwk_from_pkey(cases[i].key, "mine", cases[i].alg);
        assert_non_null(jwk);
        /* exactly the public members: nothing private leaks into a published set */
        size_t count = 0;
        for (const char *const *m = cases[i].members; *m != NULL; ++m, ++count)
            assert_non_null(json_object_get(jwk, *m));
        assert_int_equal(json_object_size(jwk), count);
        assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");

        /* same members as the independent exporter of the fixture */
        json_t *reference = fx_jwk(cases[i].key, "mine", cases[i].alg);
        json_object_set_new(reference, "use", json_string("sig"));
        assert_true(json_equal(jwk, reference));
        json_decref(reference);

        json_t *doc = json_pack("{s:[o]}", "keys", jwk);
        char *text = json_dumps(doc, JSON_COMPACT);
        oidc_jwks_t *set = parse_ok(text);
        assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(oidc_jwks_get(set, 0)), cases[i].key), 1);
        oidc_jwks_free(set);
        free(text);
        json_decref(doc);
    }
}

static void test_export_refuses_unfitting_alg(void **state)
{
    assert_null(oidc_jwk_from_pkey(rsa2048, NULL, "ES256"));
    assert_null(oidc_jwk_from_pkey(p256, NULL, "ES384"));
    assert_null(oidc_jwk_from_pkey(p256, NULL, "HS256"));
    json_t *jwk = oidc_jwk_from_pkey(rsa2048, NULL, "PS256");
    assert_non_null(jwk);
    assert_null(json_object_get(jwk, "kid"));
    json_decref(jwk);
}

/* The first multiple k*G of the P-256 generator whose x starts with a zero byte, as a public key. */
static EVP_PKEY *p256_key_with_short_x(void)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *point = EC_POINT_new(group);
    BIGNUM *k = BN_new();
    uint8_t octets[65];
    FX_CHECK(group != NULL && point != NULL && k != NULL);
    for (BN_ULONG i = 1;; ++i) {
        FX_CHECK(i < 100000 && BN_set_word(k, i) == 1 &&
                 EC_POINT_mul(group, point, k, NULL, NULL, NULL) == 1);
        FX_CHECK(EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, octets, sizeof(octets),
                                    NULL) == 65);
        if (octets[1] == 0)
            break;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, octets, sizeof(octets)),
        OSSL_PARAM_END,
    };
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    FX_CHECK(ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1);
    EVP_PKEY_CTX_free(ctx);
    BN_free(k);
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return key;
}

static void test_export_pads_ec_coordinates(void **state)
{
    /* x with a leading zero byte must still be exported as 32 bytes (RFC 7518 6.2.1.2) */
    EVP_PKEY *key = p256_key_with_short_x();
    json_t *jwk = oidc_jwk_from_pkey(key, NULL, NULL);
    const char *x = json_string_value(json_object_get(jwk, "x"));
    uint8_t bytes[33];
    assert_int_equal(strlen(x), 43);
    assert_int_equal(tg_base64url_decode(bytes, x, 43), 32);
    assert_int_equal(bytes[0], 0);
    /* and it parses back, as the exact length check demands */
    json_t *doc = json_pack("{s:[O]}", "keys", jwk);
    char *text = json_dumps(doc, JSON_COMPACT);
    oidc_jwks_t *set = parse_ok(text);
    assert_int_equal(EVP_PKEY_eq(oidc_jwk_pkey(oidc_jwks_get(set, 0)), key), 1);
    oidc_jwks_free(set);
    free(text);
    json_decref(doc);
    json_decref(jwk);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_rsa_and_ec_keys),
        cmocka_unit_test(test_reference_counting),
        cmocka_unit_test(test_skips_unusable_keys_with_reason),
        cmocka_unit_test(test_skipped_key_keeps_its_kid),
        cmocka_unit_test(test_rsa_modulus_with_leading_zero_is_accepted),
        cmocka_unit_test(test_key_ops_with_verify_and_use_sig_are_kept),
        cmocka_unit_test(test_refuses_bad_documents),
        cmocka_unit_test(test_refuses_too_many_keys),
        cmocka_unit_test(test_refuses_oversized_document),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_rfc7638_thumbprint),
        cmocka_unit_test(test_ec_thumbprint),
        cmocka_unit_test(test_thumbprint_refuses_other_keys),
        cmocka_unit_test(test_export_is_public_and_round_trips),
        cmocka_unit_test(test_export_refuses_unfitting_alg),
        cmocka_unit_test(test_export_pads_ec_coordinates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
