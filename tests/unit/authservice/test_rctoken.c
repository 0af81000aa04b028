/* RCTokens: key files, kids, JWKS, minting (checked with the oidc/ verifier) and the per-worker cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "../oidc/jose_fixture.h"
#include "authservice/cli_token.h"
#include "authservice/rctoken.h"
#include "authservice/rctoken_keys.h"
#include "oidc/jws.h"

static char dir[64];
static char ec_file[128], ec2_file[128], rsa_file[128], rsa_pub_file[128], rfc_file[128], p384_file[128],
    rsa1024_file[128], garbage_file[128], encrypted_file[128], missing_file[128];

static const char *const alice_groups[] = {"admins", "ml"};
static const as_identity_t alice = {
    .source = AS_IDENTITY_SESSION,
    .subject = "alice-sub",
    .issuer = "http://idp.example",
    .email = "alice@example.com",
    .userid = "alice@example.com",
    .groups = alice_groups,
    .group_count = 2,
    .groups_header = "admins,ml",
    .session_key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
};

static void write_pem(const char *path, EVP_PKEY *key, int private, const char *passphrase)
{
    FILE *fp = fopen(path, "w");
    FX_CHECK(fp != NULL);
    if (private)
        FX_CHECK(PEM_write_PrivateKey(fp, key, passphrase != NULL ? EVP_aes_128_cbc() : NULL,
                                      (unsigned char *)passphrase,
                                      passphrase != NULL ? (int)strlen(passphrase) : 0, NULL, NULL) == 1);
    else
        FX_CHECK(PEM_write_PUBKEY(fp, key) == 1);
    fclose(fp);
}

static void path_in_dir(char *out, const char *name)
{
    snprintf(out, 128, "%s/%s", dir, name);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tg-rctoken-XXXXXX");
    FX_CHECK(mkdtemp(dir) != NULL);
    EVP_PKEY *ec = fx_ec_key("P-256"), *ec2 = fx_ec_key("P-256"), *rsa = fx_rsa_key(2048),
             *p384 = fx_ec_key("P-384"), *rsa1024 = fx_rsa_key(1024);
    path_in_dir(ec_file, "ec.pem");
    path_in_dir(ec2_file, "ec2.pem");
    path_in_dir(rsa_file, "rsa.pem");
    path_in_dir(rsa_pub_file, "rsa.pub.pem");
    path_in_dir(rfc_file, "rfc7638.pub.pem");
    path_in_dir(p384_file, "p384.pem");
    path_in_dir(rsa1024_file, "rsa1024.pem");
    path_in_dir(garbage_file, "garbage.pem");
    path_in_dir(encrypted_file, "encrypted.pem");
    path_in_dir(missing_file, "missing.pem");
    write_pem(ec_file, ec, 1, NULL);
    write_pem(ec2_file, ec2, 1, NULL);
    write_pem(rsa_file, rsa, 1, NULL);
    write_pem(rsa_pub_file, rsa, 0, NULL);
    write_pem(p384_file, p384, 1, NULL);
    write_pem(rsa1024_file, rsa1024, 1, NULL);
    write_pem(encrypted_file, ec, 1, "secret-passphrase");
    FILE *fp = fopen(garbage_file, "w");
    FX_CHECK(fp != NULL);
    fputs("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n", fp);
    fclose(fp);
    /* the RFC 7638 example key, as a public PEM built from its JWK */
    char jwks[1024];
    snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", rfc7638_n);
    oidc_jwks_t *set = NULL;
    FX_CHECK(oidc_jwks_parse(jwks, strlen(jwks), &set, NULL, 0) == 0);
    write_pem(rfc_file, oidc_jwk_pkey(oidc_jwks_get(set, 0)), 0, NULL);
    oidc_jwks_free(set);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec2);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(rsa1024);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *files[] = {ec_file,   ec2_file,     rsa_file,     rsa_pub_file,  rfc_file,
                           p384_file, rsa1024_file, garbage_file, encrypted_file};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); ++i)
        unlink(files[i]);
    rmdir(dir);
    return 0;
}

static as_rctoken_keys_t *load(as_rctoken_alg_t alg, const char *signing, const char *verify)
{
    char err[256];
    const char *verify_files[] = {verify};
    as_rctoken_keys_t *keys =
        as_rctoken_keys_load(alg, signing, verify_files, verify != NULL, err, sizeof(err));
    if (keys == NULL)
        fail_msg("%s", err);
    return keys;
}

/* Verifies token against the set's own JWKS document with the oidc/ verifier; returns the claims. */
static json_t *verify(const as_rctoken_keys_t *published, const char *token, unsigned alg, json_t **header)
{
    size_t len;
    const char *jwks = as_rctoken_keys_jwks(published, &len);
    oidc_jwks_t *set = NULL;
    assert_int_equal(oidc_jwks_parse(jwks, len, &set, NULL, 0), 0);
    json_t *claims = NULL;
    assert_int_equal(oidc_jws_verify(token, strlen(token), set, alg, header, &claims), OIDC_VERIFY_OK);
    oidc_jwks_free(set);
    return claims;
}

static const char *claim(json_t *claims, const char *name)
{
    return json_string_value(json_object_get(claims, name));
}

static void check_minted(as_rctoken_alg_t alg, const char *key_file, unsigned jws_alg, size_t sig_len)
{
    as_rctoken_keys_t *keys = load(alg, key_file, NULL);
    as_rctoken_params_t params = {keys, "https://gw.example", 300, "namespace"};
    char *token = as_rctoken_mint(&params, &alice, "mnist.kubeflow-alice.svc", "kubeflow-alice", 1700000000);
    assert_non_null(token);
    json_t *header = NULL, *claims = verify(keys, token, jws_alg, &header);
    assert_string_equal(claim(header, "alg"), as_rctoken_alg_name(alg));
    assert_string_equal(claim(header, "kid"), as_rctoken_keys_kid(keys));
    assert_string_equal(claim(claims, "iss"), "https://gw.example");
    assert_string_equal(claim(claims, "sub"), "alice-sub");
    assert_string_equal(claim(claims, "aud"), "mnist.kubeflow-alice.svc");
    assert_string_equal(claim(claims, "email"), "alice@example.com");
    assert_string_equal(claim(claims, "namespace"), "kubeflow-alice");
    json_int_t iat = json_integer_value(json_object_get(claims, "iat"));
    assert_int_equal(iat, 1700000000);
    assert_int_equal(json_integer_value(json_object_get(claims, "nbf")), iat);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")) - iat, 300);
    json_t *groups = json_object_get(claims, "groups");
    assert_int_equal(json_array_size(groups), 2);
    assert_string_equal(json_string_value(json_array_get(groups, 1)), "ml");
    /* sid: opaque, derived, not the session key; jti: random */
    char sid[AS_RCTOKEN_SID_LEN + 1];
    as_rctoken_sid(alice.session_key, sid);
    assert_string_equal(claim(claims, "sid"), sid);
    assert_int_equal(strlen(sid), AS_RCTOKEN_SID_LEN);
    assert_null(strstr(token, alice.session_key));
    char *dumped = json_dumps(claims, 0);
    assert_null(strstr(dumped, "0123456789abcdef"));
    free(dumped);
    assert_true(strlen(claim(claims, "jti")) >= 20);
    char *again = as_rctoken_mint(&params, &alice, "mnist.kubeflow-alice.svc", "kubeflow-alice", 1700000000);
    json_t *again_claims = verify(keys, again, jws_alg, NULL);
    assert_string_not_equal(claim(again_claims, "jti"), claim(claims, "jti"));
    /* JOSE signature shape: ES256 is raw r||s (64 bytes), not DER */
    const char *sig = strrchr(token, '.') + 1;
    uint8_t raw[600];
    assert_int_equal(tg_base64url_decode(raw, sig, strlen(sig)), (long)sig_len);
    json_decref(again_claims);
    json_decref(claims);
    json_decref(header);
    free(again);
    free(token);
    as_rctoken_keys_free(keys);
}

static void test_mint_es256(void **state)
{
    (void)state;
    check_minted(AS_RCTOKEN_ES256, ec_file, OIDC_JWS_ES256, 64);
}

static void test_mint_rs256(void **state)
{
    (void)state;
    check_minted(AS_RCTOKEN_RS256, rsa_file, OIDC_JWS_RS256, 256);
}

static void test_no_token_for_anonymous(void **state)
{
    (void)state;
    as_rctoken_keys_t *keys = load(AS_RCTOKEN_ES256, ec_file, NULL);
    as_rctoken_params_t params = {keys, "https://gw.example", 300, "namespace"};
    as_identity_t anonymous = AS_IDENTITY_ANONYMOUS;
    assert_null(as_rctoken_mint(&params, &anonymous, "aud", NULL, 1700000000));
    as_rctoken_cache_t *cache = as_rctoken_cache_new(8);
    assert_null(as_rctoken_cache_get(cache, &params, &anonymous, "aud", NULL, 1700000000));
    assert_int_equal(as_rctoken_cache_mints(cache), 0);
    as_rctoken_cache_free(cache);
    as_rctoken_keys_free(keys);
}

static void test_kid_is_rfc7638_thumbprint(void **state)
{
    (void)state;
    as_rctoken_keys_t *keys = load(AS_RCTOKEN_RS256, rsa_file, rfc_file);
    assert_int_equal(as_rctoken_keys_count(keys), 2);
    assert_string_equal(as_rctoken_keys_kid_at(keys, 1), rfc7638_thumbprint);
    char thumbprint[OIDC_JWK_THUMBPRINT_SIZE];
    assert_int_equal(oidc_jwk_thumbprint(as_rctoken_keys_signing_key(keys), thumbprint), 0);
    assert_string_equal(as_rctoken_keys_kid(keys), thumbprint);
    /* the JWKS carries public parts only, each with its kid */
    size_t len;
    const char *jwks = as_rctoken_keys_jwks(keys, &len);
    assert_non_null(strstr(jwks, rfc7638_thumbprint));
    assert_null(strstr(jwks, "\"d\""));
    assert_null(strstr(jwks, "\"p\""));
    as_rctoken_keys_free(keys);
    /* the same key listed as active and verify-only is published once */
    keys = load(AS_RCTOKEN_RS256, rsa_file, rsa_pub_file);
    assert_int_equal(as_rctoken_keys_count(keys), 1);
    as_rctoken_keys_free(keys);
}

static void test_rotation_old_tokens_verify(void **state)
{
    (void)state;
    as_rctoken_keys_t *old_keys = load(AS_RCTOKEN_ES256, ec_file, NULL);
    as_rctoken_keys_t *new_keys = load(AS_RCTOKEN_ES256, ec2_file, ec_file);
    as_rctoken_params_t old_params = {old_keys, "https://gw.example", 300, "namespace"};
    as_rctoken_params_t new_params = {new_keys, "https://gw.example", 300, "namespace"};
    char *old_token = as_rctoken_mint(&old_params, &alice, "aud", NULL, 1700000000);
    char *new_token = as_rctoken_mint(&new_params, &alice, "aud", NULL, 1700000000);
    json_t *header = NULL;
    json_decref(verify(new_keys, old_token, OIDC_JWS_ES256, &header));
    assert_string_equal(claim(header, "kid"), as_rctoken_keys_kid(old_keys));
    json_decref(header);
    json_decref(verify(new_keys, new_token, OIDC_JWS_ES256, &header));
    assert_string_equal(claim(header, "kid"), as_rctoken_keys_kid_at(new_keys, 0));
    assert_string_not_equal(as_rctoken_keys_kid(new_keys), as_rctoken_keys_kid(old_keys));
    json_decref(header);
    free(old_token);
    free(new_token);
    as_rctoken_keys_free(old_keys);
    as_rctoken_keys_free(new_keys);
}

static void test_cache_reuses_until_a_tenth_is_left(void **state)
{
    (void)state;
    as_rctoken_keys_t *keys = load(AS_RCTOKEN_ES256, ec_file, NULL);
    as_rctoken_params_t params = {keys, "https://gw.example", 300, "namespace"};
    as_rctoken_cache_t *cache = as_rctoken_cache_new(16);
    int64_t t0 = 1700000000;
    char *first = strdup(as_rctoken_cache_get(cache, &params, &alice, "a", "ns", t0));
    assert_string_equal(as_rctoken_cache_get(cache, &params, &alice, "a", "ns", t0 + 1), first);
    /* 30 s of 300 left: still exactly a tenth */
    assert_string_equal(as_rctoken_cache_get(cache, &params, &alice, "a", "ns", t0 + 270), first);
    assert_int_equal(as_rctoken_cache_mints(cache), 1);
    /* another audience or namespace is another token */
    char *other = strdup(as_rctoken_cache_get(cache, &params, &alice, "b", "ns", t0 + 1));
    assert_string_not_equal(other, first);
    assert_int_equal(as_rctoken_cache_mints(cache), 2);
    /* 29 s left: re-minted, with the new time */
    const char *renewed = as_rctoken_cache_get(cache, &params, &alice, "a", "ns", t0 + 271);
    assert_string_not_equal(renewed, first);
    assert_int_equal(as_rctoken_cache_mints(cache), 3);
    json_t *claims = verify(keys, renewed, OIDC_JWS_ES256, NULL);
    assert_int_equal(json_integer_value(json_object_get(claims, "iat")), t0 + 271);
    json_decref(claims);
    /* another session: another token */
    as_identity_t bob = alice;
    bob.session_key = "fedcba";
    assert_string_not_equal(as_rctoken_cache_get(cache, &params, &bob, "a", "ns", t0 + 271), renewed);
    free(first);
    free(other);
    as_rctoken_cache_free(cache);
    as_rctoken_keys_free(keys);
}

static void test_no_session_key_is_never_cached(void **state)
{
    (void)state;
    as_rctoken_keys_t *keys = load(AS_RCTOKEN_ES256, ec_file, NULL);
    as_rctoken_params_t params = {keys, "https://gw.example", 300, "namespace"};
    as_rctoken_cache_t *cache = as_rctoken_cache_new(8);
    as_identity_t keyless = alice;
    keyless.session_key = NULL;
    keyless.email = NULL;
    char *first = strdup(as_rctoken_cache_get(cache, &params, &keyless, "a", "ns", 1700000000));
    const char *second = as_rctoken_cache_get(cache, &params, &keyless, "a", "ns", 1700000000);
    assert_string_not_equal(first, second);
    assert_int_equal(as_rctoken_cache_mints(cache), 2);
    json_t *claims = verify(keys, second, OIDC_JWS_ES256, NULL);
    assert_null(json_object_get(claims, "sid"));
    assert_null(json_object_get(claims, "email"));
    assert_string_equal(claim(claims, "sub"), "alice-sub");
    json_decref(claims);
    free(first);
    as_rctoken_cache_free(cache);
    as_rctoken_keys_free(keys);
}

static void test_cache_is_bounded(void **state)
{
    (void)state;
    as_rctoken_keys_t *keys = load(AS_RCTOKEN_ES256, ec_file, NULL);
    as_rctoken_params_t params = {keys, "https://gw.example", 300, "namespace"};
    as_rctoken_cache_t *cache = as_rctoken_cache_new(4);
    char audience[16];
    for (int i = 0; i < 50; ++i) {
        snprintf(audience, sizeof(audience), "aud-%d", i);
        assert_non_null(as_rctoken_cache_get(cache, &params, &alice, audience, NULL, 1700000000 + i));
    }
    assert_int_equal(as_rctoken_cache_mints(cache), 50);
    /* the oldest was evicted: asking again mints */
    assert_non_null(as_rctoken_cache_get(cache, &params, &alice, "aud-0", NULL, 1700000050));
    assert_int_equal(as_rctoken_cache_mints(cache), 51);
    as_rctoken_cache_free(cache);
    as_rctoken_keys_free(keys);
}

static void test_bad_key_files(void **state)
{
    (void)state;
    struct {
        as_rctoken_alg_t alg;
        const char *signing, *verify, *message;
    } rows[] = {
        {AS_RCTOKEN_ES256, missing_file, NULL, "No such file"},
        {AS_RCTOKEN_ES256, garbage_file, NULL, "not an unencrypted PEM private key"},
        {AS_RCTOKEN_ES256, encrypted_file, NULL, "not an unencrypted PEM private key"},
        {AS_RCTOKEN_ES256, rsa_pub_file, NULL, "not an unencrypted PEM private key"},
        {AS_RCTOKEN_ES256, rsa_file, NULL, "ES256 needs EC P-256"},
        {AS_RCTOKEN_RS256, ec_file, NULL, "RS256 needs RSA"},
        {AS_RCTOKEN_ES256, p384_file, NULL, "another curve than P-256"},
        {AS_RCTOKEN_RS256, rsa1024_file, NULL, "shorter than 2048 bits"},
        {AS_RCTOKEN_ES256, ec_file, garbage_file, "not a PEM public or private key"},
        {AS_RCTOKEN_ES256, ec_file, rsa1024_file, "shorter than 2048 bits"},
        {AS_RCTOKEN_ES256, ec_file, missing_file, "No such file"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        char err[256] = "";
        const char *verify_files[] = {rows[i].verify};
        as_rctoken_keys_t *keys = as_rctoken_keys_load(rows[i].alg, rows[i].signing, verify_files,
                                                       rows[i].verify != NULL, err, sizeof(err));
        if (keys != NULL)
            fail_msg("row %zu loaded", i);
        if (strstr(err, rows[i].message) == NULL)
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].message);
        assert_non_null(strstr(err, rows[i].verify != NULL ? rows[i].verify : rows[i].signing));
        assert_null(strstr(err, "BEGIN"));
        assert_null(strstr(err, "base64"));
    }
}

#define GW_ISSUER "https://gw.example"
#define CLI_NOW 1700000000

/* Verifies token with a CLI verifier of keys for issuer at now; returns the status, *failed the claim. */
static oidc_verify_status_t verify_cli(const as_rctoken_keys_t *keys, const char *issuer, const char *token,
                                       int64_t now, const char **failed)
{
    char err[256];
    as_cli_verifier_t *v = as_cli_verifier_new(keys, issuer, err, sizeof(err));
    if (v == NULL)
        fail_msg("%s", err);
    json_t *claims = NULL;
    oidc_verify_status_t status = as_cli_token_verify(v, token, strlen(token), now, &claims, failed);
    if (status == OIDC_VERIFY_OK) {
        assert_non_null(claims);
        assert_string_equal(claim(claims, "token_use"), "cli");
        assert_string_equal(claim(claims, "aud"), issuer);
        assert_null(json_object_get(claims, "namespace"));
        json_decref(claims);
    } else {
        assert_null(claims);
    }
    as_cli_verifier_free(v);
    return status;
}

static void test_cli_token_accepted(void **state)
{
    (void)state;
    as_rctoken_keys_t *keys = load(AS_RCTOKEN_ES256, ec_file, NULL);
    as_rctoken_params_t params = {keys, GW_ISSUER, 300, "namespace"};
    char *token = as_rctoken_mint_cli(&params, &alice, CLI_NOW, 3600, 0);
    assert_non_null(token);
    json_t *claims = verify(keys, token, OIDC_JWS_ES256, NULL);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), CLI_NOW + 3600);
    json_decref(claims);
    const char *failed = "unset";
    assert_int_equal(verify_cli(keys, GW_ISSUER, token, CLI_NOW + 10, &failed), OIDC_VERIFY_OK);
    assert_null(failed);
    assert_int_equal(verify_cli(keys, GW_ISSUER, token, CLI_NOW + 3600 + 4, &failed), OIDC_VERIFY_OK);
    assert_int_equal(verify_cli(keys, GW_ISSUER, token, CLI_NOW + 3600 + 5, &failed), OIDC_VERIFY_EXPIRED);
    assert_int_equal(verify_cli(keys, GW_ISSUER, token, CLI_NOW - 6, &failed), OIDC_VERIFY_NOT_YET_VALID);
    assert_int_equal(verify_cli(keys, "https://other.example", token, CLI_NOW, &failed),
                     OIDC_VERIFY_WRONG_ISSUER);
    free(token);
    /* never past the session's absolute end; a session that has ended gets none */
    token = as_rctoken_mint_cli(&params, &alice, CLI_NOW, 3600, CLI_NOW + 100);
    claims = verify(keys, token, OIDC_JWS_ES256, NULL);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), CLI_NOW + 100);
    json_decref(claims);
    free(token);
    assert_null(as_rctoken_mint_cli(&params, &alice, CLI_NOW, 3600, CLI_NOW));
    as_rctoken_keys_free(keys);
}

static void test_cli_token_rotation(void **state)
{
    (void)state;
    as_rctoken_keys_t *old_keys = load(AS_RCTOKEN_ES256, ec2_file, NULL);
    as_rctoken_params_t params = {old_keys, GW_ISSUER, 300, "namespace"};
    char *token = as_rctoken_mint_cli(&params, &alice, CLI_NOW, 600, 0);
    as_rctoken_keys_t *rotated = load(AS_RCTOKEN_ES256, ec_file, ec2_file),
                      *dropped = load(AS_RCTOKEN_ES256, ec_file, NULL);
    const char *failed = NULL;
    assert_int_equal(verify_cli(rotated, GW_ISSUER, token, CLI_NOW, &failed), OIDC_VERIFY_OK);
    assert_int_equal(verify_cli(dropped, GW_ISSUER, token, CLI_NOW, &failed), OIDC_VERIFY_UNKNOWN_KID);
    free(token);
    as_rctoken_keys_free(old_keys);
    as_rctoken_keys_free(rotated);
    as_rctoken_keys_free(dropped);
}

static void test_cli_token_refusals(void **state)
{
    (void)state;
    as_rctoken_keys_t *keys = load(AS_RCTOKEN_ES256, ec_file, rsa_pub_file);
    as_rctoken_params_t params = {keys, GW_ISSUER, 300, "namespace"};
    const char *failed = NULL;
    /* an RCToken for an upstream, sent back to the gateway */
    char *upstream = as_rctoken_mint(&params, &alice, "nb1.kubeflow-alice.svc", "kubeflow-alice", CLI_NOW);
    assert_int_equal(verify_cli(keys, GW_ISSUER, upstream, CLI_NOW, &failed), OIDC_VERIFY_WRONG_AUDIENCE);
    free(upstream);
    /* an RCToken whose aud is the issuer but that is no CLI token */
    char *plain = as_rctoken_mint(&params, &alice, GW_ISSUER, NULL, CLI_NOW);
    assert_int_equal(verify_cli(keys, GW_ISSUER, plain, CLI_NOW, &failed), OIDC_VERIFY_INVALID_CLAIM);
    assert_string_equal(failed, "token_use");
    free(plain);
    /* a tampered payload: alice's claims changed to bob's, signature kept */
    char *token = as_rctoken_mint_cli(&params, &alice, CLI_NOW, 600, 0);
    char *dot = strchr(token, '.'), *dot2 = strchr(dot + 1, '.');
    char forged[AS_RCTOKEN_MAX_SIZE];
    uint8_t payload[4096];
    long len = tg_base64url_decode(payload, dot + 1, (size_t)(dot2 - dot - 1));
    assert_true(len > 0);
    payload[len] = '\0';
    char *at = strstr((char *)payload, "alice");
    assert_non_null(at);
    memcpy(at, "bobby", 5);
    size_t n = (size_t)(dot - token) + 1;
    memcpy(forged, token, n);
    n += tg_base64url_encode(forged + n, payload, (size_t)len);
    snprintf(forged + n, sizeof(forged) - n, "%s", dot2);
    assert_int_equal(verify_cli(keys, GW_ISSUER, forged, CLI_NOW, &failed), OIDC_VERIFY_BAD_SIGNATURE);
    free(token);
    /* signed by a published RSA key but the configured algorithm is ES256 */
    as_rctoken_keys_t *rsa = load(AS_RCTOKEN_RS256, rsa_file, NULL);
    as_rctoken_params_t rsa_params = {rsa, GW_ISSUER, 300, "namespace"};
    token = as_rctoken_mint_cli(&rsa_params, &alice, CLI_NOW, 600, 0);
    assert_int_equal(verify_cli(keys, GW_ISSUER, token, CLI_NOW, &failed), OIDC_VERIFY_ALG_NOT_ALLOWED);
    free(token);
    /* garbage */
    assert_int_equal(verify_cli(keys, GW_ISSUER, "a.b.c", CLI_NOW, &failed), OIDC_VERIFY_MALFORMED);
    as_rctoken_keys_free(rsa);
    as_rctoken_keys_free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mint_es256),
        cmocka_unit_test(test_mint_rs256),
        cmocka_unit_test(test_no_token_for_anonymous),
        cmocka_unit_test(test_kid_is_rfc7638_thumbprint),
        cmocka_unit_test(test_rotation_old_tokens_verify),
        cmocka_unit_test(test_cache_reuses_until_a_tenth_is_left),
        cmocka_unit_test(test_no_session_key_is_never_cached),
        cmocka_unit_test(test_cache_is_bounded),
        cmocka_unit_test(test_bad_key_files),
        cmocka_unit_test(test_cli_token_accepted),
        cmocka_unit_test(test_cli_token_rotation),
        cmocka_unit_test(test_cli_token_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
