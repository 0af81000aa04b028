/* PKCE S256 (RFC 7636) and the random state and nonce values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oidc/pkce.h"
#include "util/base64url.h"

static const char base64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* RFC 7636 appendix B; the value checked independently with `openssl dgst -sha256 -binary | basenc
 * --base64url`. */
static void test_rfc7636_appendix_b(void **state)
{
    char challenge[OIDC_PKCE_CHALLENGE_SIZE];
    assert_int_equal(
        oidc_pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge, sizeof(challenge)),
        0);
    assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

/* Checks value is 43 base64url characters that decode to 32 bytes. */
static void assert_random_value(const char *value)
{
    assert_int_equal(strlen(value), 43);
    assert_int_equal(strspn(value, base64url_alphabet), 43);
    uint8_t bytes[33];
    assert_int_equal(tg_base64url_decode(bytes, value, 43), 32);
}

typedef int (*generator_t)(char *, size_t);

static void check_generator(generator_t generate)
{
    char a[OIDC_RANDOM_VALUE_SIZE], b[OIDC_RANDOM_VALUE_SIZE];
    assert_int_equal(generate(a, sizeof(a)), 0);
    assert_int_equal(generate(b, sizeof(b)), 0);
    assert_random_value(a);
    assert_random_value(b);
    assert_string_not_equal(a, b);

    /* a buffer one byte short is refused and left alone */
    char small[OIDC_RANDOM_VALUE_SIZE - 1];
    memset(small, '#', sizeof(small));
    assert_int_equal(generate(small, sizeof(small)), -1);
    for (size_t i = 0; i < sizeof(small); ++i)
        assert_int_equal(small[i], '#');
    assert_int_equal(generate(NULL, 100), -1);
}

static void test_verifier_generator(void **state)
{
    check_generator(oidc_pkce_verifier_new);
    /* a generated verifier is a valid verifier */
    char verifier[OIDC_RANDOM_VALUE_SIZE], challenge[OIDC_PKCE_CHALLENGE_SIZE];
    assert_int_equal(oidc_pkce_verifier_new(verifier, sizeof(verifier)), 0);
    assert_int_equal(oidc_pkce_challenge_s256(verifier, challenge, sizeof(challenge)), 0);
    assert_random_value(challenge);
    assert_string_not_equal(verifier, challenge);
}

static void test_state_generator(void **state)
{
    check_generator(oidc_state_new);
}

static void test_nonce_generator(void **state)
{
    check_generator(oidc_nonce_new);
}

static void test_values_do_not_repeat(void **state)
{
    /* 256 values of 256 bits: any repeat means the generator is broken */
    static char values[256][OIDC_RANDOM_VALUE_SIZE];
    for (int i = 0; i < 256; ++i)
        assert_int_equal(oidc_state_new(values[i], sizeof(values[i])), 0);
    for (int i = 0; i < 256; ++i)
        for (int j = 0; j < i; ++j)
            assert_string_not_equal(values[i], values[j]);
}

static void test_challenge_accepts_verifier_alphabet_and_lengths(void **state)
{
    char verifier[OIDC_PKCE_VERIFIER_MAX + 1], challenge[OIDC_PKCE_CHALLENGE_SIZE];
    /* every unreserved character, at both length limits */
    const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    size_t lengths[] = {OIDC_PKCE_VERIFIER_MIN, OIDC_PKCE_VERIFIER_MAX, 66};
    for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); ++l) {
        for (size_t i = 0; i < lengths[l]; ++i)
            verifier[i] = unreserved[i % (sizeof(unreserved) - 1)];
        verifier[lengths[l]] = '\0';
        assert_int_equal(oidc_pkce_challenge_s256(verifier, challenge, sizeof(challenge)), 0);
        assert_random_value(challenge);
    }
}

static void test_challenge_refuses_bad_verifiers(void **state)
{
    char long_verifier[OIDC_PKCE_VERIFIER_MAX + 2];
    memset(long_verifier, 'a', OIDC_PKCE_VERIFIER_MAX + 1);
    long_verifier[OIDC_PKCE_VERIFIER_MAX + 1] = '\0';
    const char *bad[] = {
        "",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX",  /* 42 characters */
        long_verifier,                                 /* 129 characters */
        "dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk", /* standard base64 */
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk=",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX k",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX\xc3\xa9",
        NULL,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        char challenge[OIDC_PKCE_CHALLENGE_SIZE] = "untouched";
        assert_int_equal(oidc_pkce_challenge_s256(bad[i], challenge, sizeof(challenge)), -1);
        assert_string_equal(challenge, "untouched");
    }
    char small[OIDC_PKCE_CHALLENGE_SIZE - 1] = "untouched";
    assert_int_equal(
        oidc_pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", small, sizeof(small)), -1);
    assert_string_equal(small, "untouched");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7636_appendix_b),
        cmocka_unit_test(test_verifier_generator),
        cmocka_unit_test(test_state_generator),
        cmocka_unit_test(test_nonce_generator),
        cmocka_unit_test(test_values_do_not_repeat),
        cmocka_unit_test(test_challenge_accepts_verifier_alphabet_and_lengths),
        cmocka_unit_test(test_challenge_refuses_bad_verifiers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
