/* Registered-claim validation: issuer, audience, azp, times, nonce, required claims. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "oidc/claims.h"

#define NOW 1700000000
#define ISSUER "https://idp.example"
#define CLIENT "tenantgate"

/* A valid ID token's claims at NOW: exp NOW+300, iat and nbf NOW-10, auth_time NOW-100. */
static const char base_claims[] = "{\"iss\":\"https://idp.example\",\"sub\":\"alice\",\"aud\":\"tenantgate\","
                                  "\"exp\":1700000300,\"iat\":1699999990,\"nbf\":1699999990,"
                                  "\"auth_time\":1699999900,\"nonce\":\"n-0S6_WzA2Mj\"}";

/* base_claims with the members of patch set (JSON object text) and remove deleted. */
static json_t *claims_with(const char *patch, const char *remove)
{
    json_t *claims = json_loads(base_claims, 0, NULL);
    assert_non_null(claims);
    if (patch != NULL) {
        json_error_t err;
        json_t *changes = json_loads(patch, 0, &err);
        if (changes == NULL)
            fail_msg("bad patch %s: %s", patch, err.text);
        assert_int_equal(json_object_update(claims, changes), 0);
        json_decref(changes);
    }
    if (remove != NULL)
        assert_int_equal(json_object_del(claims, remove), 0);
    return claims;
}

static oidc_claims_options_t default_options(void)
{
    oidc_claims_options_t opts;
    oidc_claims_options_init(&opts, ISSUER, CLIENT, NOW);
    return opts;
}

#define assert_status(actual, expected)                                                                      \
    assert_string_equal(oidc_verify_status_code(actual), oidc_verify_status_code(expected))

/* Validates base_claims+patch-remove with default options changed by tweak; checks status and claim named. */
static void check(const char *patch, const char *remove, void (*tweak)(oidc_claims_options_t *),
                  oidc_verify_status_t expected, const char *expected_claim)
{
    json_t *claims = claims_with(patch, remove);
    oidc_claims_options_t opts = default_options();
    if (tweak != NULL)
        tweak(&opts);
    const char *claim = "untouched";
    oidc_verify_status_t status = oidc_claims_validate(claims, &opts, &claim);
    if (status != expected)
        fail_msg("patch %s, remove %s: %s (claim %s), expected %s", patch ? patch : "-",
                 remove ? remove : "-", oidc_verify_status_code(status), claim ? claim : "-",
                 oidc_verify_status_code(expected));
    if (expected_claim == NULL)
        assert_null(claim);
    else
        assert_string_equal(claim, expected_claim);
    json_decref(claims);
}

static void test_valid_claims(void **state)
{
    check(NULL, NULL, NULL, OIDC_VERIFY_OK, NULL);
}

static void test_expired(void **state)
{
    check("{\"exp\":1699990000}", NULL, NULL, OIDC_VERIFY_EXPIRED, "exp");
}

static void test_nbf_in_the_future(void **state)
{
    check("{\"nbf\":1700000600}", NULL, NULL, OIDC_VERIFY_NOT_YET_VALID, "nbf");
}

static void test_wrong_issuer(void **state)
{
    check("{\"iss\":\"https://evil.example\"}", NULL, NULL, OIDC_VERIFY_WRONG_ISSUER, "iss");
}

static void test_wrong_audience(void **state)
{
    check("{\"aud\":\"another-client\"}", NULL, NULL, OIDC_VERIFY_WRONG_AUDIENCE, "aud");
    check("{\"aud\":[\"another-client\",\"third\"]}", NULL, NULL, OIDC_VERIFY_WRONG_AUDIENCE, "aud");
}

static void require_azp_for_multiple_aud(oidc_claims_options_t *opts)
{
    opts->azp = OIDC_AZP_REQUIRE_IF_MULTIPLE_AUD;
}

static void ignore_azp(oidc_claims_options_t *opts)
{
    opts->azp = OIDC_AZP_IGNORE;
}

static void test_aud_array_with_azp(void **state)
{
    const char *ours = "{\"aud\":[\"other\",\"tenantgate\"],\"azp\":\"tenantgate\"}";
    const char *theirs = "{\"aud\":[\"other\",\"tenantgate\"],\"azp\":\"other\"}";
    check(ours, NULL, NULL, OIDC_VERIFY_OK, NULL);
    check(ours, NULL, require_azp_for_multiple_aud, OIDC_VERIFY_OK, NULL);
    check(theirs, NULL, NULL, OIDC_VERIFY_WRONG_AZP, "azp");
    check(theirs, NULL, require_azp_for_multiple_aud, OIDC_VERIFY_WRONG_AZP, "azp");
    check(theirs, NULL, ignore_azp, OIDC_VERIFY_OK, NULL);
}

static void test_aud_array_without_azp(void **state)
{
    const char *multiple = "{\"aud\":[\"other\",\"tenantgate\"]}";
    check(multiple, NULL, NULL, OIDC_VERIFY_OK, NULL);
    check(multiple, NULL, require_azp_for_multiple_aud, OIDC_VERIFY_WRONG_AZP, "azp");
    check(multiple, NULL, ignore_azp, OIDC_VERIFY_OK, NULL);
    /* a single-valued array needs no azp even in the strict mode */
    check("{\"aud\":[\"tenantgate\"]}", NULL, require_azp_for_multiple_aud, OIDC_VERIFY_OK, NULL);
}

static void zero_skew(oidc_claims_options_t *opts)
{
    opts->skew = 0;
}

static void expect_nonce(oidc_claims_options_t *opts)
{
    opts->nonce = "n-0S6_WzA2Mj";
}

static void max_token_age_60(oidc_claims_options_t *opts)
{
    opts->max_token_age = 60;
}

static void max_auth_age_30(oidc_claims_options_t *opts)
{
    opts->max_auth_age = 30;
}

static void max_auth_age_3600(oidc_claims_options_t *opts)
{
    opts->max_auth_age = 3600;
}

static void extra_audiences(oidc_claims_options_t *opts)
{
    static const char *const extra[] = {"https://api.example", "urn:tenantgate", NULL};
    opts->audience = "not-in-token";
    opts->extra_audiences = extra;
}

static void require_sid_and_email(oidc_claims_options_t *opts)
{
    static const char *const required[] = {"sub", "sid", "email", NULL};
    opts->required = required;
}

static void require_nothing(oidc_claims_options_t *opts)
{
    opts->required = NULL;
}

static void client_differs_from_audience(oidc_claims_options_t *opts)
{
    opts->client_id = "web-client";
}

struct claims_case {
    const char *patch;
    const char *remove;
    void (*tweak)(oidc_claims_options_t *);
    oidc_verify_status_t expected;
    const char *claim;
};

/* Boundaries are at NOW = 1700000000 with the default skew of 60 s unless tweaked. */
static const struct claims_case cases[] = {
    /* exp: valid while now < exp + skew */
    {"{\"exp\":1699999941}", NULL, NULL, OIDC_VERIFY_OK, NULL},
    {"{\"exp\":1699999940}", NULL, NULL, OIDC_VERIFY_EXPIRED, "exp"},
    {"{\"exp\":1700000001}", NULL, zero_skew, OIDC_VERIFY_OK, NULL},
    {"{\"exp\":1700000000}", NULL, zero_skew, OIDC_VERIFY_EXPIRED, "exp"},
    {"{\"exp\":1699999940.5}", NULL, NULL, OIDC_VERIFY_EXPIRED, "exp"},
    {"{\"exp\":1700000300.25}", NULL, NULL, OIDC_VERIFY_OK, NULL},
    {NULL, "exp", NULL, OIDC_VERIFY_MISSING_CLAIM, "exp"},
    {"{\"exp\":\"1700000300\"}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "exp"},
    {"{\"exp\":null}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "exp"},
    {"{\"exp\":true}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "exp"},
    {"{\"exp\":1e300}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "exp"},
    {"{\"exp\":-1e300}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "exp"},
    {"{\"exp\":9223372036854775807}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "exp"},
    {"{\"exp\":-9223372036854775807}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "exp"},
    {"{\"exp\":4611686018427387903}", NULL, NULL, OIDC_VERIFY_OK, NULL},
    {"{\"exp\":-5}", NULL, NULL, OIDC_VERIFY_EXPIRED, "exp"},
    /* nbf: valid once nbf <= now + skew */
    {"{\"nbf\":1700000060}", NULL, NULL, OIDC_VERIFY_OK, NULL},
    {"{\"nbf\":1700000061}", NULL, NULL, OIDC_VERIFY_NOT_YET_VALID, "nbf"},
    {"{\"nbf\":1700000001}", NULL, zero_skew, OIDC_VERIFY_NOT_YET_VALID, "nbf"},
    {NULL, "nbf", NULL, OIDC_VERIFY_OK, NULL},
    {"{\"nbf\":\"soon\"}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "nbf"},
    /* iat: not beyond now + skew; optional unless an age limit is set */
    {"{\"iat\":1700000060}", NULL, NULL, OIDC_VERIFY_OK, NULL},
    {"{\"iat\":1700000061}", NULL, NULL, OIDC_VERIFY_ISSUED_IN_FUTURE, "iat"},
    {NULL, "iat", NULL, OIDC_VERIFY_OK, NULL},
    {"{\"iat\":[1]}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "iat"},
    {"{\"iat\":1699999880}", NULL, max_token_age_60, OIDC_VERIFY_OK, NULL},
    {"{\"iat\":1699999879}", NULL, max_token_age_60, OIDC_VERIFY_TOKEN_TOO_OLD, "iat"},
    {NULL, "iat", max_token_age_60, OIDC_VERIFY_MISSING_CLAIM, "iat"},
    /* auth_time against max_age */
    {NULL, NULL, max_auth_age_3600, OIDC_VERIFY_OK, NULL},
    {NULL, NULL, max_auth_age_30, OIDC_VERIFY_AUTH_TOO_OLD, "auth_time"},
    {"{\"auth_time\":1699999910}", NULL, max_auth_age_30, OIDC_VERIFY_OK, NULL},
    {NULL, "auth_time", max_auth_age_3600, OIDC_VERIFY_MISSING_CLAIM, "auth_time"},
    {"{\"auth_time\":\"yesterday\"}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "auth_time"},
    /* iss: exact */
    {"{\"iss\":\"https://idp.example/\"}", NULL, NULL, OIDC_VERIFY_WRONG_ISSUER, "iss"},
    {"{\"iss\":\"HTTPS://IDP.EXAMPLE\"}", NULL, NULL, OIDC_VERIFY_WRONG_ISSUER, "iss"},
    {"{\"iss\":\"https://idp.exampl\"}", NULL, NULL, OIDC_VERIFY_WRONG_ISSUER, "iss"},
    {"{\"iss\":\"\"}", NULL, NULL, OIDC_VERIFY_WRONG_ISSUER, "iss"},
    {NULL, "iss", NULL, OIDC_VERIFY_MISSING_CLAIM, "iss"},
    {"{\"iss\":[\"https://idp.example\"]}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "iss"},
    /* aud */
    {"{\"aud\":[\"tenantgate\"]}", NULL, NULL, OIDC_VERIFY_OK, NULL},
    {"{\"aud\":[]}", NULL, NULL, OIDC_VERIFY_WRONG_AUDIENCE, "aud"},
    {"{\"aud\":\"tenantgate2\"}", NULL, NULL, OIDC_VERIFY_WRONG_AUDIENCE, "aud"},
    {"{\"aud\":\"\"}", NULL, NULL, OIDC_VERIFY_WRONG_AUDIENCE, "aud"},
    {"{\"aud\":[\"tenantgate\",7]}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "aud"},
    {"{\"aud\":{\"tenantgate\":true}}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "aud"},
    {NULL, "aud", NULL, OIDC_VERIFY_MISSING_CLAIM, "aud"},
    {"{\"aud\":\"urn:tenantgate\"}", NULL, extra_audiences, OIDC_VERIFY_OK, NULL},
    {"{\"aud\":[\"x\",\"https://api.example\"]}", NULL, extra_audiences, OIDC_VERIFY_OK, NULL},
    {"{\"aud\":\"tenantgate\"}", NULL, extra_audiences, OIDC_VERIFY_WRONG_AUDIENCE, "aud"},
    /* azp against a client id other than the audience */
    {"{\"azp\":\"web-client\"}", NULL, client_differs_from_audience, OIDC_VERIFY_OK, NULL},
    {"{\"azp\":\"tenantgate\"}", NULL, client_differs_from_audience, OIDC_VERIFY_WRONG_AZP, "azp"},
    {"{\"azp\":\"tenantgate\"}", NULL, NULL, OIDC_VERIFY_OK, NULL},
    {"{\"azp\":7}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "azp"},
    /* nonce */
    {NULL, NULL, expect_nonce, OIDC_VERIFY_OK, NULL},
    {"{\"nonce\":\"n-0S6_WzA2Mk\"}", NULL, expect_nonce, OIDC_VERIFY_WRONG_NONCE, "nonce"},
    {"{\"nonce\":\"n-0S6_WzA2Mj \"}", NULL, expect_nonce, OIDC_VERIFY_WRONG_NONCE, "nonce"},
    {"{\"nonce\":\"n-0S6_WzA2M\"}", NULL, expect_nonce, OIDC_VERIFY_WRONG_NONCE, "nonce"},
    {NULL, "nonce", expect_nonce, OIDC_VERIFY_MISSING_CLAIM, "nonce"},
    {NULL, "nonce", NULL, OIDC_VERIFY_OK, NULL},
    {"{\"nonce\":42}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "nonce"},
    /* required claims */
    {NULL, "sub", NULL, OIDC_VERIFY_MISSING_CLAIM, "sub"},
    {"{\"sub\":\"\"}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "sub"},
    {"{\"sub\":12345}", NULL, NULL, OIDC_VERIFY_INVALID_CLAIM, "sub"},
    {NULL, "sub", require_nothing, OIDC_VERIFY_OK, NULL},
    {"{\"sid\":\"s1\",\"email\":\"alice@example.com\"}", NULL, require_sid_and_email, OIDC_VERIFY_OK, NULL},
    {"{\"sid\":\"s1\"}", NULL, require_sid_and_email, OIDC_VERIFY_MISSING_CLAIM, "email"},
    {"{\"sid\":\"s1\",\"email\":null}", NULL, require_sid_and_email, OIDC_VERIFY_MISSING_CLAIM, "email"},
    /* the first failing check wins: iss before aud before exp */
    {"{\"iss\":\"x\",\"aud\":\"y\",\"exp\":1}", NULL, NULL, OIDC_VERIFY_WRONG_ISSUER, "iss"},
    {"{\"aud\":\"y\",\"exp\":1}", NULL, NULL, OIDC_VERIFY_WRONG_AUDIENCE, "aud"},
};

static void test_claims_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const struct claims_case *c = &cases[i];
        check(c->patch, c->remove, c->tweak, c->expected, c->claim);
    }
}

static void test_default_options(void **state)
{
    oidc_claims_options_t opts;
    memset(&opts, 0xa5, sizeof(opts));
    oidc_claims_options_init(&opts, ISSUER, CLIENT, NOW);
    assert_string_equal(opts.issuer, ISSUER);
    assert_string_equal(opts.audience, CLIENT);
    assert_string_equal(opts.client_id, CLIENT);
    assert_int_equal(opts.azp, OIDC_AZP_CHECK_IF_PRESENT);
    assert_int_equal(opts.now, NOW);
    assert_int_equal(opts.skew, OIDC_CLAIMS_DEFAULT_SKEW);
    assert_int_equal(OIDC_CLAIMS_DEFAULT_SKEW, 60);
    assert_int_equal(opts.max_token_age, 0);
    assert_int_equal(opts.max_auth_age, 0);
    assert_null(opts.nonce);
    assert_null(opts.extra_audiences);
    assert_non_null(opts.required);
    assert_string_equal(opts.required[0], "sub");
    assert_null(opts.required[1]);
}

static void no_issuer(oidc_claims_options_t *opts)
{
    opts->issuer = NULL;
}
static void no_audience(oidc_claims_options_t *opts)
{
    opts->audience = NULL;
}
static void no_client_id(oidc_claims_options_t *opts)
{
    opts->client_id = NULL;
}
static void no_client_id_azp_ignored(oidc_claims_options_t *opts)
{
    opts->client_id = NULL;
    opts->azp = OIDC_AZP_IGNORE;
}
static void negative_skew(oidc_claims_options_t *opts)
{
    opts->skew = -1;
}
static void huge_skew(oidc_claims_options_t *opts)
{
    opts->skew = OIDC_CLAIMS_MAX_SKEW + 1;
}
static void negative_now(oidc_claims_options_t *opts)
{
    opts->now = -1;
}
static void huge_age(oidc_claims_options_t *opts)
{
    opts->max_token_age = INT64_MAX;
}
static void bad_azp_policy(oidc_claims_options_t *opts)
{
    opts->azp = (oidc_azp_policy_t)42;
}

static void test_invalid_options(void **state)
{
    void (*invalid[])(oidc_claims_options_t *) = {no_issuer, no_audience,  no_client_id, negative_skew,
                                                  huge_skew, negative_now, huge_age,     bad_azp_policy};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); ++i)
        check(NULL, NULL, invalid[i], OIDC_VERIFY_INVALID_ARGUMENT, NULL);
    check(NULL, NULL, no_client_id_azp_ignored, OIDC_VERIFY_OK, NULL);

    oidc_claims_options_t opts = default_options();
    json_t *array = json_array();
    assert_status(oidc_claims_validate(array, &opts, NULL), OIDC_VERIFY_INVALID_ARGUMENT);
    assert_status(oidc_claims_validate(NULL, &opts, NULL), OIDC_VERIFY_INVALID_ARGUMENT);
    assert_status(oidc_claims_validate(array, NULL, NULL), OIDC_VERIFY_INVALID_ARGUMENT);
    json_decref(array);
}

static void test_claims_are_not_modified(void **state)
{
    json_t *claims = claims_with("{\"exp\":1}", NULL);
    json_t *copy = json_deep_copy(claims);
    oidc_claims_options_t opts = default_options();
    assert_status(oidc_claims_validate(claims, &opts, NULL), OIDC_VERIFY_EXPIRED);
    assert_true(json_equal(claims, copy));
    json_decref(claims);
    json_decref(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_claims),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_nbf_in_the_future),
        cmocka_unit_test(test_wrong_issuer),
        cmocka_unit_test(test_wrong_audience),
        cmocka_unit_test(test_aud_array_with_azp),
        cmocka_unit_test(test_aud_array_without_azp),
        cmocka_unit_test(test_claims_table),
        cmocka_unit_test(test_default_options),
        cmocka_unit_test(test_invalid_options),
        cmocka_unit_test(test_claims_are_not_modified),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
