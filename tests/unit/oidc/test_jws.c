/* Compact JWS verification: algorithms, key choice, attacks, encodings, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "jose_fixture.h"
#include "oidc/claims.h"
#include "oidc/jws.h"

static EVP_PKEY *rsa, *rsa_ps, *p256, *p384, *p521, *evil_rsa, *evil_p256;
static oidc_jwks_t *keys;

static const char claims_json[] = "{\"iss\":\"https://idp.example\",\"sub\":\"alice\",\"aud\":\"tenantgate\","
                                  "\"exp\":2000000000,\"iat\":1700000000}";

static int setup(void **state)
{
    rsa = fx_rsa_key(2048);
    rsa_ps = fx_rsa_key(2048);
    evil_rsa = fx_rsa_key(2048);
    p256 = fx_ec_key("P-256");
    p384 = fx_ec_key("P-384");
    p521 = fx_ec_key("P-521");
    evil_p256 = fx_ec_key("P-256");
    char *text =
        fx_jwks_text(fx_jwk(rsa, "rsa1", NULL), fx_jwk(p256, "ec256", NULL), fx_jwk(p384, "ec384", "ES384"),
                     fx_jwk(p521, "ec521", NULL), fx_jwk(rsa_ps, "rsa-ps", "PS256"), NULL);
    char err[256];
    FX_CHECK(oidc_jwks_parse(text, strlen(text), &keys, err, sizeof(err)) == 0);
    FX_CHECK(oidc_jwks_count(keys) == 5);
    free(text);
    return 0;
}

static int teardown(void **state)
{
    oidc_jwks_free(keys);
    EVP_PKEY *all[] = {rsa, rsa_ps, p256, p384, p521, evil_rsa, evil_p256};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); ++i)
        EVP_PKEY_free(all[i]);
    return 0;
}

/* Verifies against set, checking the outputs are set exactly on success; frees them. */
static oidc_verify_status_t verify_with(const oidc_jwks_t *set, const char *token, unsigned allowed)
{
    json_t *header = NULL, *claims = NULL;
    oidc_verify_status_t status = oidc_jws_verify(token, strlen(token), set, allowed, &header, &claims);
    if (status == OIDC_VERIFY_OK) {
        assert_true(json_is_object(header));
        assert_true(json_is_object(claims));
    } else {
        assert_null(header);
        assert_null(claims);
    }
    json_decref(header);
    json_decref(claims);
    return status;
}

static oidc_verify_status_t verify(const char *token)
{
    return verify_with(keys, token, OIDC_JWS_ALGS_ALL);
}

/* Signs claims_json with header_json, verifies with every alg allowed, returns the status. */
static oidc_verify_status_t sign_and_verify(const char *header_json, const char *alg, EVP_PKEY *key)
{
    char *token = fx_token(header_json, claims_json, alg, key);
    oidc_verify_status_t status = verify(token);
    free(token);
    return status;
}

#define assert_status(actual, expected)                                                                      \
    assert_string_equal(oidc_verify_status_code(actual), oidc_verify_status_code(expected))

static void test_valid_rs256(void **state)
{
    assert_status(sign_and_verify("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "RS256", rsa), OIDC_VERIFY_OK);
}

static void test_valid_ps256(void **state)
{
    assert_status(sign_and_verify("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", "PS256", rsa), OIDC_VERIFY_OK);
    assert_status(sign_and_verify("{\"alg\":\"PS256\",\"kid\":\"rsa-ps\"}", "PS256", rsa_ps), OIDC_VERIFY_OK);
}

static void test_pss_salt_must_be_hash_length(void **state)
{
    /* RFC 7518 3.5 fixes the salt at the hash length; a longer salt still verifies under "auto" but not here
     */
    char *token =
        fx_token_mode("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", claims_json, "PS256", rsa, FX_SIG_PSS_MAX_SALT);
    assert_status(verify(token), OIDC_VERIFY_BAD_SIGNATURE);
    free(token);
}

static void test_valid_es256(void **state)
{
    assert_status(sign_and_verify("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", "ES256", p256), OIDC_VERIFY_OK);
}

static void test_valid_es384(void **state)
{
    assert_status(sign_and_verify("{\"alg\":\"ES384\",\"kid\":\"ec384\"}", "ES384", p384), OIDC_VERIFY_OK);
}

static void test_valid_other_algorithms(void **state)
{
    struct {
        const char *alg, *kid;
        EVP_PKEY **key;
    } cases[] = {{"RS384", "rsa1", &rsa},
                 {"RS512", "rsa1", &rsa},
                 {"PS384", "rsa1", &rsa},
                 {"PS512", "rsa1", &rsa},
                 {"ES512", "ec521", &p521}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char header[128];
        snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\"}", cases[i].alg, cases[i].kid);
        assert_status(sign_and_verify(header, cases[i].alg, *cases[i].key), OIDC_VERIFY_OK);
        /* the same token is refused when the caller does not allow its alg */
        char *token = fx_token(header, claims_json, cases[i].alg, *cases[i].key);
        assert_status(verify_with(keys, token, OIDC_JWS_ALGS_ALL & ~oidc_jws_alg_from_name(cases[i].alg)),
                      OIDC_VERIFY_ALG_NOT_ALLOWED);
        free(token);
    }
}

static void test_returns_decoded_header_and_claims(void **state)
{
    char *token =
        fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\",\"typ\":\"JWT\"}", claims_json, "ES256", p256);
    json_t *header = NULL, *claims = NULL;
    assert_status(oidc_jws_verify(token, strlen(token), keys, OIDC_JWS_ES256, &header, &claims),
                  OIDC_VERIFY_OK);
    assert_string_equal(json_string_value(json_object_get(header, "typ")), "JWT");
    assert_string_equal(json_string_value(json_object_get(header, "kid")), "ec256");
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), "alice");
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), 2000000000);
    json_decref(header);
    json_decref(claims);
    /* outputs are optional */
    assert_status(oidc_jws_verify(token, strlen(token), keys, OIDC_JWS_ES256, NULL, NULL), OIDC_VERIFY_OK);
    free(token);
}

static void test_typ_is_left_to_the_caller(void **state)
{
    const char *types[] = {"JWT", "at+jwt", "application/at+jwt", "logout+jwt", "anything"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
        char header[128];
        snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"%s\"}", types[i]);
        assert_status(sign_and_verify(header, "RS256", rsa), OIDC_VERIFY_OK);
    }
}

static void test_alg_none_is_refused(void **state)
{
    const char *headers[] = {"{\"alg\":\"none\"}", "{\"alg\":\"none\",\"kid\":\"rsa1\"}",
                             "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}",
                             "{\"alg\":\"\"}",     "{\"alg\":null}",
                             "{\"typ\":\"JWT\"}"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); ++i) {
        /* unsecured JWS: empty signature, and with some signature bytes */
        char *input = fx_signing_input(headers[i], claims_json);
        char token[1024];
        snprintf(token, sizeof(token), "%s.", input);
        assert_status(verify_with(keys, token, ~0u), OIDC_VERIFY_ALG_NOT_ALLOWED);
        snprintf(token, sizeof(token), "%s.c2ln", input);
        assert_status(verify_with(keys, token, ~0u), OIDC_VERIFY_ALG_NOT_ALLOWED);
        free(input);
    }
}

static void test_hs256_with_rsa_public_key_as_secret_is_refused(void **state)
{
    /* the classic confusion: the verifier's RSA public key, as PEM and as JWK text, used as HMAC secret */
    char *pem = fx_public_pem(rsa);
    json_t *jwk = fx_jwk(rsa, "rsa1", NULL);
    char *jwk_text = json_dumps(jwk, JSON_COMPACT);
    const char *secrets[] = {pem, jwk_text};
    const char *headers[] = {"{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", "{\"alg\":\"HS256\"}",
                             "{\"alg\":\"HS384\",\"kid\":\"rsa1\"}", "{\"alg\":\"HS512\"}"};
    for (size_t s = 0; s < 2; ++s) {
        for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); ++h) {
            char *token = fx_hmac_token(headers[h], claims_json, secrets[s], strlen(secrets[s]));
            assert_status(verify_with(keys, token, ~0u), OIDC_VERIFY_ALG_NOT_ALLOWED);
            free(token);
        }
    }
    assert_int_equal(oidc_jws_alg_from_name("HS256"), 0);
    free(pem);
    free(jwk_text);
    json_decref(jwk);
}

static void test_rs256_header_on_ec_key_is_refused(void **state)
{
    /* signed by the EC key's owner, but claims an RSA algorithm */
    char *token = fx_token("{\"alg\":\"RS256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256);
    assert_status(verify(token), OIDC_VERIFY_ALG_KEY_MISMATCH);
    free(token);
}

static void test_es256_header_on_rsa_key_is_refused(void **state)
{
    char *token = fx_token("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", claims_json, "RS256", rsa);
    /* an RSA-2048 signature is 256 bytes, not the 64 of ES256: refused before any key is tried */
    assert_status(verify(token), OIDC_VERIFY_BAD_SIGNATURE);
    free(token);
    /* a well-formed ES256 signature against the RSA kid: the key does not fit the alg */
    token = fx_token("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", claims_json, "ES256", p256);
    assert_status(verify(token), OIDC_VERIFY_ALG_KEY_MISMATCH);
    free(token);
}

static void test_es_curve_must_match(void **state)
{
    /* ES384 signed with P-384 but pointing at the P-256 key, and ES256 at the P-384 key */
    char *token = fx_token("{\"alg\":\"ES384\",\"kid\":\"ec256\"}", claims_json, "ES384", p384);
    assert_status(verify(token), OIDC_VERIFY_ALG_KEY_MISMATCH);
    free(token);
    token = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec384\"}", claims_json, "ES256", p256);
    assert_status(verify(token), OIDC_VERIFY_ALG_KEY_MISMATCH);
    free(token);
}

static void test_alg_outside_allow_list_is_refused(void **state)
{
    char *token = fx_token("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", claims_json, "RS256", rsa);
    assert_status(verify_with(keys, token, OIDC_JWS_ES256 | OIDC_JWS_PS256), OIDC_VERIFY_ALG_NOT_ALLOWED);
    assert_status(verify_with(keys, token, 0), OIDC_VERIFY_ALG_NOT_ALLOWED);
    assert_status(verify_with(keys, token, OIDC_JWS_RS256), OIDC_VERIFY_OK);
    free(token);
}

static void test_key_alg_member_must_match(void **state)
{
    /* rsa-ps is published with "alg": "PS256": an RS256 token for it is refused */
    assert_status(sign_and_verify("{\"alg\":\"RS256\",\"kid\":\"rsa-ps\"}", "RS256", rsa_ps),
                  OIDC_VERIFY_ALG_KEY_MISMATCH);
}

/* Replaces part index (0 header, 1 payload, 2 signature) of token with text. */
static char *replace_part(const char *token, int index, const char *text)
{
    const char *dot1 = strchr(token, '.'), *dot2 = strchr(dot1 + 1, '.');
    const char *start[] = {token, dot1 + 1, dot2 + 1};
    const char *end[] = {dot1, dot2, token + strlen(token)};
    size_t size = strlen(token) + strlen(text) + 1;
    char *out = malloc(size);
    snprintf(out, size, "%.*s%s%s", (int)(start[index] - token), token, text, end[index]);
    return out;
}

static void test_tampered_payload_is_refused(void **state)
{
    const char *evil =
        "{\"iss\":\"https://idp.example\",\"sub\":\"admin\",\"aud\":\"tenantgate\",\"exp\":2000000000}";
    char *evil_b64 = fx_b64(evil, strlen(evil));
    struct {
        const char *header, *alg;
        EVP_PKEY **key;
    } cases[] = {{"{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "RS256", &rsa},
                 {"{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", "PS256", &rsa},
                 {"{\"alg\":\"ES256\",\"kid\":\"ec256\"}", "ES256", &p256}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char *token = fx_token(cases[i].header, claims_json, cases[i].alg, *cases[i].key);
        char *tampered = replace_part(token, 1, evil_b64);
        assert_status(verify(tampered), OIDC_VERIFY_BAD_SIGNATURE);
        free(tampered);
        /* the header is signed too: one extra member breaks the signature */
        char header[128];
        snprintf(header, sizeof(header), "{\"x\":1,%s", cases[i].header + 1);
        char *header_b64 = fx_b64(header, strlen(header));
        tampered = replace_part(token, 0, header_b64);
        assert_status(verify(tampered), OIDC_VERIFY_BAD_SIGNATURE);
        free(header_b64);
        free(tampered);
        free(token);
    }
    free(evil_b64);
}

static void test_tampered_signature_is_refused(void **state)
{
    struct {
        const char *header, *alg;
        EVP_PKEY **key;
    } cases[] = {{"{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "RS256", &rsa},
                 {"{\"alg\":\"PS512\",\"kid\":\"rsa1\"}", "PS512", &rsa},
                 {"{\"alg\":\"ES256\",\"kid\":\"ec256\"}", "ES256", &p256},
                 {"{\"alg\":\"ES384\",\"kid\":\"ec384\"}", "ES384", &p384}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char *token = fx_token(cases[i].header, claims_json, cases[i].alg, *cases[i].key);
        char *sig = strrchr(token, '.') + 1;
        /* change one character in the middle and one at the start (R for ECDSA) */
        for (size_t at = 0; at < 2; ++at) {
            size_t pos = at == 0 ? strlen(sig) / 2 : 0;
            char saved = sig[pos];
            sig[pos] = saved == 'A' ? 'B' : 'A';
            assert_status(verify(token), OIDC_VERIFY_BAD_SIGNATURE);
            sig[pos] = saved;
        }
        assert_status(verify(token), OIDC_VERIFY_OK);
        free(token);
    }
}

static void test_signature_from_another_key_is_refused(void **state)
{
    assert_status(sign_and_verify("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "RS256", evil_rsa),
                  OIDC_VERIFY_BAD_SIGNATURE);
    assert_status(sign_and_verify("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", "ES256", evil_p256),
                  OIDC_VERIFY_BAD_SIGNATURE);
    assert_status(sign_and_verify("{\"alg\":\"ES256\"}", "ES256", evil_p256), OIDC_VERIFY_BAD_SIGNATURE);
}

static void test_unknown_kid_is_refused(void **state)
{
    assert_status(sign_and_verify("{\"alg\":\"RS256\",\"kid\":\"rotated-away\"}", "RS256", rsa),
                  OIDC_VERIFY_UNKNOWN_KID);
    assert_status(sign_and_verify("{\"alg\":\"RS256\",\"kid\":\"\"}", "RS256", rsa), OIDC_VERIFY_UNKNOWN_KID);
    assert_status(sign_and_verify("{\"alg\":\"RS256\",\"kid\":\"RSA1\"}", "RS256", rsa),
                  OIDC_VERIFY_UNKNOWN_KID);
    assert_status(sign_and_verify("{\"alg\":\"RS256\",\"kid\":7}", "RS256", rsa), OIDC_VERIFY_MALFORMED);
}

static void test_token_without_kid_uses_fitting_keys(void **state)
{
    assert_status(sign_and_verify("{\"alg\":\"ES256\"}", "ES256", p256), OIDC_VERIFY_OK);
    assert_status(sign_and_verify("{\"alg\":\"RS256\"}", "RS256", rsa), OIDC_VERIFY_OK);
    /* rsa1 is tried first and fails; rsa-ps (alg PS256) is the one */
    assert_status(sign_and_verify("{\"alg\":\"PS256\"}", "PS256", rsa_ps), OIDC_VERIFY_OK);
    /* rsa-ps is published for PS256 only, so an RS256 token without kid never reaches it */
    assert_status(sign_and_verify("{\"alg\":\"RS256\"}", "RS256", rsa_ps), OIDC_VERIFY_BAD_SIGNATURE);
}

static void test_token_without_kid_and_no_fitting_key(void **state)
{
    char *text = fx_jwks_text(fx_jwk(p256, "only-ec", NULL), NULL);
    oidc_jwks_t *set = NULL;
    FX_CHECK(oidc_jwks_parse(text, strlen(text), &set, NULL, 0) == 0);
    char *token = fx_token("{\"alg\":\"RS256\"}", claims_json, "RS256", rsa);
    assert_status(verify_with(set, token, OIDC_JWS_ALGS_ALL), OIDC_VERIFY_NO_KEY);
    free(token);
    token = fx_token("{\"alg\":\"ES384\"}", claims_json, "ES384", p384);
    assert_status(verify_with(set, token, OIDC_JWS_ALGS_ALL), OIDC_VERIFY_NO_KEY);
    free(token);
    oidc_jwks_free(set);
    free(text);
}

static void test_token_without_kid_tries_a_bounded_number_of_keys(void **state)
{
    /* six P-256 keys; the signer sits at a position within, then beyond, the try limit */
    EVP_PKEY *others[6];
    for (int i = 0; i < 6; ++i)
        others[i] = fx_ec_key("P-256");
    for (int signer = 0; signer < 6; ++signer) {
        json_t *list = json_array();
        for (int i = 0; i < 6; ++i)
            json_array_append_new(list, fx_jwk(i == signer ? p256 : others[i], NULL, NULL));
        json_t *doc = json_pack("{s:o}", "keys", list);
        char *text = json_dumps(doc, JSON_COMPACT);
        oidc_jwks_t *set = NULL;
        FX_CHECK(oidc_jwks_parse(text, strlen(text), &set, NULL, 0) == 0);
        char *token = fx_token("{\"alg\":\"ES256\"}", claims_json, "ES256", p256);
        assert_status(verify_with(set, token, OIDC_JWS_ALGS_ALL),
                      signer < OIDC_JWS_MAX_KEY_TRIES ? OIDC_VERIFY_OK : OIDC_VERIFY_BAD_SIGNATURE);
        free(token);
        oidc_jwks_free(set);
        free(text);
        json_decref(doc);
    }
    for (int i = 0; i < 6; ++i)
        EVP_PKEY_free(others[i]);
}

static void test_crit_is_refused(void **state)
{
    assert_status(
        sign_and_verify("{\"alg\":\"ES256\",\"kid\":\"ec256\",\"crit\":[\"exp\"],\"exp\":1}", "ES256", p256),
        OIDC_VERIFY_CRIT);
    assert_status(sign_and_verify("{\"alg\":\"ES256\",\"kid\":\"ec256\",\"crit\":[\"b64\"],\"b64\":false}",
                                  "ES256", p256),
                  OIDC_VERIFY_CRIT);
    assert_status(sign_and_verify("{\"alg\":\"ES256\",\"kid\":\"ec256\",\"crit\":[]}", "ES256", p256),
                  OIDC_VERIFY_CRIT);
}

static void test_key_url_headers_are_ignored(void **state)
{
    assert_status(
        sign_and_verify("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jku\":\"https://evil.example/jwks.json\","
                        "\"x5u\":\"https://evil.example/cert.pem\",\"x5c\":[\"MIIBIjANBgkq\"]}",
                        "RS256", rsa),
        OIDC_VERIFY_OK);
    /* and they do not bring in keys: the evil signer stays refused */
    assert_status(
        sign_and_verify("{\"alg\":\"RS256\",\"jku\":\"https://evil.example/jwks.json\"}", "RS256", evil_rsa),
        OIDC_VERIFY_BAD_SIGNATURE);
}

/* A header carrying evil_p256 as an embedded jwk, plus extra members. */
static char *header_with_embedded_jwk(const char *extra)
{
    json_t *jwk = fx_jwk(evil_p256, NULL, NULL);
    char *jwk_text = json_dumps(jwk, JSON_COMPACT);
    char *header = malloc(1024);
    snprintf(header, 1024, "{\"alg\":\"ES256\",\"jwk\":%s%s}", jwk_text, extra);
    free(jwk_text);
    json_decref(jwk);
    return header;
}

static void test_embedded_jwk_header_is_ignored(void **state)
{
    /* the set's own key still verifies a token that carries some other jwk */
    char *header = header_with_embedded_jwk(",\"kid\":\"ec256\"");
    assert_status(sign_and_verify(header, "ES256", p256), OIDC_VERIFY_OK);
    free(header);

    /* the attacker signs with the key in the header: never accepted */
    header = header_with_embedded_jwk("");
    assert_status(sign_and_verify(header, "ES256", evil_p256), OIDC_VERIFY_BAD_SIGNATURE);
    free(header);
    header = header_with_embedded_jwk(",\"kid\":\"ec256\"");
    assert_status(sign_and_verify(header, "ES256", evil_p256), OIDC_VERIFY_BAD_SIGNATURE);
    free(header);
    char thumbprint[OIDC_JWK_THUMBPRINT_SIZE], extra[128];
    FX_CHECK(oidc_jwk_thumbprint(evil_p256, thumbprint) == 0);
    snprintf(extra, sizeof(extra), ",\"kid\":\"%s\"", thumbprint);
    header = header_with_embedded_jwk(extra);
    assert_status(sign_and_verify(header, "ES256", evil_p256), OIDC_VERIFY_UNKNOWN_KID);
    free(header);
}

static void test_size_limit(void **state)
{
    /* a genuine token just under the limit verifies */
    size_t pad = OIDC_JWS_MAX_TOKEN * 3 / 4 - 400;
    char *claims = malloc(pad + 64);
    int n = snprintf(claims, pad + 64, "{\"sub\":\"alice\",\"pad\":\"");
    memset(claims + n, 'x', pad);
    strcpy(claims + n + pad, "\"}");
    char *token = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims, "ES256", p256);
    size_t len = strlen(token);
    assert_true(len <= OIDC_JWS_MAX_TOKEN && len > OIDC_JWS_MAX_TOKEN - 600);
    assert_status(verify(token), OIDC_VERIFY_OK);
    free(token);

    free(claims);

    /* one byte more than the limit is refused before anything is decoded */
    char *big = malloc(OIDC_JWS_MAX_TOKEN + 2);
    memset(big, 'A', OIDC_JWS_MAX_TOKEN + 1);
    big[OIDC_JWS_MAX_TOKEN + 1] = '\0';
    big[10] = big[20] = '.';
    assert_status(verify(big), OIDC_VERIFY_TOO_LARGE);
    free(big);
}

static void test_garbage_base64_is_refused(void **state)
{
    char *token = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256);
    char *header_b64 = strndup(token, (size_t)(strchr(token, '.') - token));
    struct {
        int part;
        const char *text;
    } cases[] = {
        {0, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0="}, /* padded */
        {0, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0=="},
        {0, "eyJhbGciOiJFUzI1NiIs ImtpZCI6ImVjMjU2In0"}, /* space */
        {0, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0\n"},
        {0, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In1"},   /* non-zero trailing bits */
        {0, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0xy"}, /* impossible length */
        {0, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0%"},
        {0, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0\xc3\xa9"},
        {0, "e+JhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0"}, /* standard alphabet */
        {1, "e30="},
        {1, "e3/9"},
        {1, "!!!!"},
        {2, "not*base64"},
        {2, "AAAA="},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char *bad = replace_part(token, cases[i].part, cases[i].text);
        oidc_verify_status_t status = verify(bad);
        /* a damaged payload is caught by the signature, which covers its exact characters */
        oidc_verify_status_t expected =
            cases[i].part == 1 ? OIDC_VERIFY_BAD_SIGNATURE : OIDC_VERIFY_MALFORMED;
        if (status != expected)
            fail_msg("case %zu: %s, expected %s", i, oidc_verify_status_code(status),
                     oidc_verify_status_code(expected));
        free(bad);
    }
    assert_string_equal(header_b64, "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2In0");
    free(header_b64);
    free(token);
}

static void test_structure_is_checked(void **state)
{
    char *good = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256);
    char *sig = strrchr(good, '.') + 1;
    struct {
        const char *header;
        oidc_verify_status_t expected;
    } headers[] = {
        {"not json", OIDC_VERIFY_MALFORMED},
        {"[\"alg\",\"ES256\"]", OIDC_VERIFY_MALFORMED},
        {"\"ES256\"", OIDC_VERIFY_MALFORMED},
        {"{\"alg\":\"ES256\",\"alg\":\"ES256\"}", OIDC_VERIFY_MALFORMED}, /* duplicate member */
        {"{\"alg\":\"ES256\"} trailing", OIDC_VERIFY_MALFORMED},
        {"{\"alg\":\"ES256\",\"kid\":\"ec256\",\"x\":\"\\u0000\"}", OIDC_VERIFY_MALFORMED},
        {"{}", OIDC_VERIFY_ALG_NOT_ALLOWED},
        {"{\"alg\":[\"ES256\"]}", OIDC_VERIFY_ALG_NOT_ALLOWED},
        {"{\"alg\":\"ES256\",\"kid\":null}", OIDC_VERIFY_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); ++i) {
        char *input = fx_signing_input(headers[i].header, claims_json);
        char token[2048];
        snprintf(token, sizeof(token), "%s.%s", input, sig);
        oidc_verify_status_t status = verify(token);
        if (status != headers[i].expected)
            fail_msg("header %s: %s, expected %s", headers[i].header, oidc_verify_status_code(status),
                     oidc_verify_status_code(headers[i].expected));
        free(input);
    }
    const char *shapes[] = {"",
                            ".",
                            "..",
                            "...",
                            "abc",
                            "eyJhbGciOiJFUzI1NiJ9",
                            "eyJhbGciOiJFUzI1NiJ9.e30",
                            "eyJhbGciOiJFUzI1NiJ9..AAAA",
                            ".e30.AAAA",
                            "eyJhbGciOiJFUzI1NiJ9.e30.AAAA.AAAA"};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); ++i) {
        if (verify(shapes[i]) != OIDC_VERIFY_MALFORMED)
            fail_msg("shape \"%s\" not refused as malformed", shapes[i]);
    }
    /* a NUL inside the given length is not a terminator */
    char with_nul[1024];
    size_t len = strlen(good);
    memcpy(with_nul, good, len);
    with_nul[5] = '\0';
    assert_status(oidc_jws_verify(with_nul, len, keys, OIDC_JWS_ALGS_ALL, NULL, NULL), OIDC_VERIFY_MALFORMED);
    /* and only len bytes are read: what follows in the buffer does not count */
    memcpy(with_nul, good, len);
    strcpy(with_nul + len, ".AAAA");
    assert_status(oidc_jws_verify(with_nul, len, keys, OIDC_JWS_ALGS_ALL, NULL, NULL), OIDC_VERIFY_OK);
    assert_status(oidc_jws_verify(with_nul, len + 5, keys, OIDC_JWS_ALGS_ALL, NULL, NULL),
                  OIDC_VERIFY_MALFORMED);
    free(good);
}

static void test_payload_must_be_a_json_object(void **state)
{
    const char *payloads[] = {"[1,2]",      "\"alice\"", "42", "not json", "{\"sub\":\"a\",\"sub\":\"b\"}",
                              "{\"a\":1} x"};
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); ++i) {
        /* correctly signed, so only the payload check can refuse it */
        char *token = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", payloads[i], "ES256", p256);
        if (verify(token) != OIDC_VERIFY_MALFORMED)
            fail_msg("payload %s accepted", payloads[i]);
        free(token);
    }
}

static void test_es256_der_signature_is_refused(void **state)
{
    char *token =
        fx_token_mode("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256, FX_SIG_DER);
    assert_status(verify(token), OIDC_VERIFY_BAD_SIGNATURE);
    free(token);
}

static void test_es256_high_s_is_accepted(void **state)
{
    /* ECDSA is malleable: (r, n - s) verifies too; OpenSSL accepts it and so do we (documented) */
    char *token =
        fx_token_mode("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256, FX_SIG_HIGH_S);
    char *normal = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256);
    assert_string_not_equal(strrchr(token, '.'), strrchr(normal, '.'));
    assert_status(verify(token), OIDC_VERIFY_OK);
    free(token);
    free(normal);
}

static void test_es_signature_of_wrong_length_is_refused(void **state)
{
    char *token = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256);
    char *input = strndup(token, (size_t)(strrchr(token, '.') - token));
    uint8_t raw[70] = {0};
    size_t lengths[] = {0, 63, 65, 66, 70};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); ++i) {
        char *sig = fx_b64(raw, lengths[i]);
        char bad[1024];
        snprintf(bad, sizeof(bad), "%s.%s", input, sig);
        assert_status(verify(bad), OIDC_VERIFY_BAD_SIGNATURE);
        free(sig);
    }
    /* right length but r = s = 0 */
    char *zero = fx_b64(raw, 64);
    char bad[1024];
    snprintf(bad, sizeof(bad), "%s.%s", input, zero);
    assert_status(verify(bad), OIDC_VERIFY_BAD_SIGNATURE);
    free(zero);
    free(input);
    free(token);
}

static void test_rsa_signature_of_wrong_length_is_refused(void **state)
{
    char *token = fx_token("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", claims_json, "RS256", rsa);
    char *input = strndup(token, (size_t)(strrchr(token, '.') - token));
    uint8_t raw[300] = {1};
    size_t lengths[] = {1, 255, 257};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); ++i) {
        char *sig = fx_b64(raw, lengths[i]);
        char bad[2048];
        snprintf(bad, sizeof(bad), "%s.%s", input, sig);
        assert_status(verify(bad), OIDC_VERIFY_BAD_SIGNATURE);
        free(sig);
    }
    free(input);
    free(token);
}

static void test_signature_then_claims(void **state)
{
    /* signature and claims are separate steps: a well-signed expired token fails only the second */
    const char *expired =
        "{\"iss\":\"https://idp.example\",\"sub\":\"alice\",\"aud\":\"tenantgate\",\"exp\":1000}";
    char *token = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", expired, "ES256", p256);
    json_t *claims = NULL;
    assert_status(oidc_jws_verify(token, strlen(token), keys, OIDC_JWS_ES256, NULL, &claims), OIDC_VERIFY_OK);
    oidc_claims_options_t opts;
    oidc_claims_options_init(&opts, "https://idp.example", "tenantgate", 1700000000);
    assert_status(oidc_claims_validate(claims, &opts, NULL), OIDC_VERIFY_EXPIRED);
    json_decref(claims);
    free(token);

    token = fx_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", claims_json, "ES256", p256);
    assert_status(oidc_jws_verify(token, strlen(token), keys, OIDC_JWS_ES256, NULL, &claims), OIDC_VERIFY_OK);
    assert_status(oidc_claims_validate(claims, &opts, NULL), OIDC_VERIFY_OK);
    json_decref(claims);
    free(token);
}

static void test_invalid_arguments(void **state)
{
    assert_status(oidc_jws_verify(NULL, 0, keys, OIDC_JWS_ALGS_ALL, NULL, NULL),
                  OIDC_VERIFY_INVALID_ARGUMENT);
    assert_status(oidc_jws_verify("a.b.c", 5, NULL, OIDC_JWS_ALGS_ALL, NULL, NULL),
                  OIDC_VERIFY_INVALID_ARGUMENT);
}

static void test_alg_names(void **state)
{
    const char *names[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"};
    unsigned seen = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        oidc_jws_alg_t alg = oidc_jws_alg_from_name(names[i]);
        assert_int_not_equal(alg, 0);
        assert_int_equal(seen & alg, 0);
        seen |= alg;
        assert_string_equal(oidc_jws_alg_name(alg), names[i]);
    }
    assert_int_equal(seen, OIDC_JWS_ALGS_ALL);
    const char *refused[] = {"none", "HS256", "HS384", "HS512", "rs256", "ES256K", "EdDSA", "", "RS256 "};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i)
        assert_int_equal(oidc_jws_alg_from_name(refused[i]), 0);
    assert_int_equal(oidc_jws_alg_from_name(NULL), 0);
    assert_null(oidc_jws_alg_name(OIDC_JWS_RS256 | OIDC_JWS_ES256));
    assert_true(oidc_jws_alg_fits(OIDC_JWS_PS384, OIDC_JWK_KTY_RSA, NULL));
    assert_true(oidc_jws_alg_fits(OIDC_JWS_ES512, OIDC_JWK_KTY_EC, "P-521"));
    assert_false(oidc_jws_alg_fits(OIDC_JWS_ES512, OIDC_JWK_KTY_EC, "P-384"));
    assert_false(oidc_jws_alg_fits(OIDC_JWS_ES256, OIDC_JWK_KTY_EC, NULL));
    assert_false(oidc_jws_alg_fits(OIDC_JWS_RS256, OIDC_JWK_KTY_EC, "P-256"));
}

static void test_status_codes(void **state)
{
    assert_int_equal(OIDC_VERIFY_OK, 0);
    assert_string_equal(oidc_verify_status_code(OIDC_VERIFY_OK), "ok");
    assert_string_equal(oidc_verify_status_code(OIDC_VERIFY_EXPIRED), "expired");
    assert_string_equal(oidc_verify_status_code(OIDC_VERIFY_BAD_SIGNATURE), "bad_signature");
    assert_string_equal(oidc_verify_status_code(OIDC_VERIFY_STATUS_COUNT), "unknown");
    assert_string_equal(oidc_verify_status_code((oidc_verify_status_t)-1), "unknown");
    for (int i = 0; i < OIDC_VERIFY_STATUS_COUNT; ++i) {
        const char *code = oidc_verify_status_code((oidc_verify_status_t)i);
        /* metric-label safe: lowercase letters and underscores, unique */
        assert_true(strlen(code) > 0 && strspn(code, "abcdefghijklmnopqrstuvwxyz_") == strlen(code));
        assert_true(strlen(oidc_verify_status_message((oidc_verify_status_t)i)) > 0);
        for (int j = 0; j < i; ++j)
            assert_string_not_equal(code, oidc_verify_status_code((oidc_verify_status_t)j));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_rs256),
        cmocka_unit_test(test_valid_ps256),
        cmocka_unit_test(test_pss_salt_must_be_hash_length),
        cmocka_unit_test(test_valid_es256),
        cmocka_unit_test(test_valid_es384),
        cmocka_unit_test(test_valid_other_algorithms),
        cmocka_unit_test(test_returns_decoded_header_and_claims),
        cmocka_unit_test(test_typ_is_left_to_the_caller),
        cmocka_unit_test(test_alg_none_is_refused),
        cmocka_unit_test(test_hs256_with_rsa_public_key_as_secret_is_refused),
        cmocka_unit_test(test_rs256_header_on_ec_key_is_refused),
        cmocka_unit_test(test_es256_header_on_rsa_key_is_refused),
        cmocka_unit_test(test_es_curve_must_match),
        cmocka_unit_test(test_alg_outside_allow_list_is_refused),
        cmocka_unit_test(test_key_alg_member_must_match),
        cmocka_unit_test(test_tampered_payload_is_refused),
        cmocka_unit_test(test_tampered_signature_is_refused),
        cmocka_unit_test(test_signature_from_another_key_is_refused),
        cmocka_unit_test(test_unknown_kid_is_refused),
        cmocka_unit_test(test_token_without_kid_uses_fitting_keys),
        cmocka_unit_test(test_token_without_kid_and_no_fitting_key),
        cmocka_unit_test(test_token_without_kid_tries_a_bounded_number_of_keys),
        cmocka_unit_test(test_crit_is_refused),
        cmocka_unit_test(test_key_url_headers_are_ignored),
        cmocka_unit_test(test_embedded_jwk_header_is_ignored),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_garbage_base64_is_refused),
        cmocka_unit_test(test_structure_is_checked),
        cmocka_unit_test(test_payload_must_be_a_json_object),
        cmocka_unit_test(test_es256_der_signature_is_refused),
        cmocka_unit_test(test_es256_high_s_is_accepted),
        cmocka_unit_test(test_es_signature_of_wrong_length_is_refused),
        cmocka_unit_test(test_rsa_signature_of_wrong_length_is_refused),
        cmocka_unit_test(test_signature_then_claims),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_status_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
