/* Discovery document validation: one table of documents, each changing one thing of a valid one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/discovery.h"
#include "oidc/jws.h"
#include "oidc/url.h"

#define ISSUER "https://idp.example/realms/kf"

/* A valid document with every member we read. */
static json_t *valid_doc(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:[s], s:[s,s], s:[s,s,s,s]}",
                     "issuer", ISSUER, "authorization_endpoint", ISSUER "/auth", "token_endpoint",
                     ISSUER "/token", "jwks_uri", ISSUER "/certs", "userinfo_endpoint", ISSUER "/userinfo",
                     "end_session_endpoint", ISSUER "/logout", "introspection_endpoint", ISSUER "/introspect",
                     "revocation_endpoint", ISSUER "/revoke", "backchannel_logout_supported", 1,
                     "backchannel_logout_session_supported", 0, "code_challenge_methods_supported", "S256",
                     "response_types_supported", "code", "none", "id_token_signing_alg_values_supported",
                     "RS256", "none", "HS256", "ES384");
}

static int parse(json_t *doc, const char *expected, unsigned flags, oidc_discovery_t **out, char *err)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    int rc = oidc_discovery_parse(text, strlen(text), expected, flags, out, err, 256);
    free(text);
    return rc;
}

static void test_valid_document(void **state)
{
    json_t *doc = valid_doc();
    oidc_discovery_t *d = NULL;
    char err[256] = "";
    assert_int_equal(parse(doc, ISSUER, 0, &d, err), 0);
    assert_string_equal(d->issuer, ISSUER);
    assert_string_equal(d->authorization_endpoint, ISSUER "/auth");
    assert_string_equal(d->token_endpoint, ISSUER "/token");
    assert_string_equal(d->jwks_uri, ISSUER "/certs");
    assert_string_equal(d->userinfo_endpoint, ISSUER "/userinfo");
    assert_string_equal(d->end_session_endpoint, ISSUER "/logout");
    assert_string_equal(d->introspection_endpoint, ISSUER "/introspect");
    assert_string_equal(d->revocation_endpoint, ISSUER "/revoke");
    assert_true(d->backchannel_logout_supported);
    assert_false(d->backchannel_logout_session_supported);
    assert_true(d->pkce_s256_advertised);
    /* none and HS256 are not algorithms we know: left out */
    assert_int_equal(d->id_token_algs, OIDC_JWS_RS256 | OIDC_JWS_ES384);
    /* references: the last free releases */
    assert_ptr_equal(oidc_discovery_ref(d), d);
    oidc_discovery_free(d);
    assert_string_equal(d->issuer, ISSUER);
    oidc_discovery_free(d);
    oidc_discovery_free(NULL);
    json_decref(doc);

    /* the smallest acceptable document */
    doc = json_pack("{s:s, s:s, s:s, s:s}", "issuer", ISSUER, "authorization_endpoint", ISSUER "/a",
                    "token_endpoint", ISSUER "/t", "jwks_uri", ISSUER "/k");
    assert_int_equal(parse(doc, ISSUER, 0, &d, err), 0);
    assert_null(d->userinfo_endpoint);
    assert_null(d->end_session_endpoint);
    assert_false(d->backchannel_logout_supported);
    assert_false(d->pkce_s256_advertised);
    assert_int_equal(d->id_token_algs, 0);
    oidc_discovery_free(d);
    json_decref(doc);
}

/* NULL value: the member is removed. */
static const struct {
    const char *member;
    const char *value_json;
    unsigned flags;
    const char *error; /* NULL: accepted */
} changes[] = {
    /* issuer: exact, byte for byte */
    {"issuer", "\"https://idp.example/realms/kf/\"", 0, "is not the configured issuer"},
    {"issuer", "\"https://IDP.example/realms/kf\"", 0, "is not the configured issuer"},
    {"issuer", "\"https://idp.example/realms/kf\\u0000x\"", 0,
     "not JSON"}, /* NUL never gets past the parser */
    {"issuer", "\"https://evil.example\"", 0, "is not the configured issuer"},
    {"issuer", "42", 0, "issuer is not a string"},
    {"issuer", NULL, 0, "issuer is missing"},
    /* required endpoints */
    {"authorization_endpoint", NULL, 0, "authorization_endpoint is missing"},
    {"token_endpoint", NULL, 0, "token_endpoint is missing"},
    {"jwks_uri", NULL, 0, "jwks_uri is missing"},
    {"jwks_uri", "null", 0, "jwks_uri is not a string"},
    {"jwks_uri", "\"/certs\"", 0, "jwks_uri: not an absolute http(s) URL"},
    {"jwks_uri", "\"http://idp.example/certs\"", 0, "jwks_uri: not https"},
    {"jwks_uri", "\"http://idp.example/certs\"", OIDC_URL_ALLOW_INSECURE_LOOPBACK,
     "jwks_uri: http is accepted only for a loopback host"},
    {"jwks_uri", "\"http://127.0.0.1:5556/certs\"", OIDC_URL_ALLOW_INSECURE_LOOPBACK, NULL},
    {"jwks_uri", "\"http://127.0.0.1:5556/certs\"", 0, "jwks_uri: not https"},
    {"jwks_uri", "\"https://idp.example/certs#x\"", 0, "jwks_uri: has a fragment"},
    {"jwks_uri", "\"https://u:p@idp.example/certs\"", 0, "jwks_uri: holds user info"},
    {"jwks_uri", "\"https://idp.example/ce rts\"", 0, "jwks_uri: holds spaces"},
    {"jwks_uri", "\"https://idp.example/c\\u0000\"", 0, "not JSON"},
    {"token_endpoint", "\"ftp://idp.example/token\"", 0, "token_endpoint: not an absolute http(s) URL"},
    {"authorization_endpoint", "\"https://idp.example/auth?tenant=kf\"", 0, NULL},
    {"authorization_endpoint", "\"javascript:alert(1)\"", 0, "authorization_endpoint: not an absolute"},
    /* optional endpoints: absent is fine, wrong is not */
    {"userinfo_endpoint", NULL, 0, NULL},
    {"userinfo_endpoint", "42", 0, "userinfo_endpoint is not a string"},
    {"end_session_endpoint", "\"https://\"", 0, "end_session_endpoint: not a valid URL"},
    {"introspection_endpoint", "[]", 0, "introspection_endpoint is not a string"},
    {"revocation_endpoint", "\"http://idp.example/revoke\"", 0, "revocation_endpoint: not https"},
    /* booleans */
    {"backchannel_logout_supported", "\"true\"", 0, "backchannel_logout_supported is not a boolean"},
    {"backchannel_logout_session_supported", "1", 0, "backchannel_logout_session_supported is not a boolean"},
    /* PKCE */
    {"code_challenge_methods_supported", "[\"plain\"]", 0, "does not list S256"},
    {"code_challenge_methods_supported", "[]", 0, "does not list S256"},
    {"code_challenge_methods_supported", "\"S256\"", 0, "code_challenge_methods_supported is not an array"},
    {"code_challenge_methods_supported", "[\"plain\", 256]", 0, "holds a value that is not a string"},
    {"code_challenge_methods_supported", "[\"plain\", \"S256\"]", 0, NULL},
    {"code_challenge_methods_supported", NULL, 0, NULL},
    /* the code flow must be on offer when the IdP says what it offers */
    {"response_types_supported", "[\"id_token\", \"code id_token\"]", 0, "does not list code"},
    {"response_types_supported", NULL, 0, NULL},
    {"id_token_signing_alg_values_supported", "{}", 0, "is not an array"},
    {"id_token_signing_alg_values_supported", "[null]", 0, "holds a value that is not a string"},
};

static void test_one_change_each(void **state)
{
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); ++i) {
        json_t *doc = valid_doc();
        if (changes[i].value_json == NULL) {
            json_object_del(doc, changes[i].member);
        } else {
            json_error_t jerr;
            json_t *v = json_loads(changes[i].value_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (v == NULL)
                fail_msg("case %zu: bad test JSON %s", i, changes[i].value_json);
            json_object_set_new(doc, changes[i].member, v);
        }
        /* a loopback-http case needs a loopback issuer to get that far: keep the issuer https */
        oidc_discovery_t *d = (oidc_discovery_t *)0x1;
        char err[256] = "";
        int rc = parse(doc, ISSUER, changes[i].flags, &d, err);
        if (changes[i].error == NULL) {
            if (rc != 0)
                fail_msg("case %zu (%s): refused: %s", i, changes[i].member, err);
            oidc_discovery_free(d);
        } else {
            if (rc == 0)
                fail_msg("case %zu (%s = %s): accepted", i, changes[i].member, changes[i].value_json);
            assert_ptr_equal(d, (oidc_discovery_t *)0x1); /* untouched */
            if (strstr(err, changes[i].error) == NULL)
                fail_msg("case %zu: error \"%s\", expected \"%s\"", i, err, changes[i].error);
        }
        json_decref(doc);
    }
}

static void test_malformed_documents(void **state)
{
    static const char *const texts[] = {
        "",
        "null",
        "[]",
        "\"issuer\"",
        "{\"issuer\": \"" ISSUER "\"",
        "{\"issuer\": \"" ISSUER "\", \"issuer\": \"" ISSUER "\"}", /* duplicate member */
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); ++i) {
        oidc_discovery_t *d = NULL;
        char err[256] = "";
        assert_int_equal(oidc_discovery_parse(texts[i], strlen(texts[i]), ISSUER, 0, &d, err, sizeof(err)),
                         -1);
        assert_null(d);
        assert_true(strlen(err) > 0);
    }
    /* size limit, checked before parsing */
    size_t big = OIDC_DISCOVERY_MAX_DOCUMENT + 1;
    char *text = malloc(big);
    memset(text, ' ', big);
    oidc_discovery_t *d = NULL;
    char err[256];
    assert_int_equal(oidc_discovery_parse(text, big, ISSUER, 0, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than"));
    free(text);
    assert_int_equal(oidc_discovery_parse(NULL, 0, ISSUER, 0, &d, NULL, 0), -1);
    assert_int_equal(oidc_discovery_parse("{}", 2, NULL, 0, &d, NULL, 0), -1);
    assert_int_equal(oidc_discovery_parse("{}", 2, ISSUER, 0, NULL, NULL, 0), -1);
}

static void test_issuer_mismatch_message_is_printable(void **state)
{
    json_t *doc = valid_doc();
    json_object_set_new(doc, "issuer", json_string("https://evil.example/\x1b[31mred\"quote"));
    oidc_discovery_t *d = NULL;
    char err[256];
    assert_int_equal(parse(doc, ISSUER, 0, &d, err), -1);
    for (const char *p = err; *p; ++p)
        assert_true(*p >= 0x20 && *p < 0x7f);
    assert_non_null(strstr(err, "https://evil.example/?[31mred?quote"));
    json_decref(doc);
}

static void test_discovery_url(void **state)
{
    static const char *const cases[][2] = {
        {"https://idp.example", "https://idp.example/.well-known/openid-configuration"},
        {"https://idp.example/", "https://idp.example/.well-known/openid-configuration"},
        {"https://idp.example/realms/kf", "https://idp.example/realms/kf/.well-known/openid-configuration"},
        {"http://127.0.0.1:5556", "http://127.0.0.1:5556/.well-known/openid-configuration"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char *url = oidc_discovery_url(cases[i][0]);
        assert_string_equal(url, cases[i][1]);
        free(url);
    }
    assert_null(oidc_discovery_url(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_document),
        cmocka_unit_test(test_one_change_each),
        cmocka_unit_test(test_malformed_documents),
        cmocka_unit_test(test_issuer_mismatch_message_is_printable),
        cmocka_unit_test(test_discovery_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
