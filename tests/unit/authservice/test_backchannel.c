#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "authservice/backchannel.h"

#define EVENT "{\"" AS_BACKCHANNEL_EVENT "\":{}}"
#define BASE "\"iss\":\"https://idp\",\"aud\":\"gw\",\"iat\":1,\"exp\":2,\"jti\":\"j1\""

typedef struct {
    const char *header;
    const char *claims;
    const char *refused; /* NULL: accepted */
} token_case_t;

static const token_case_t token_cases[] = {
    {"{\"alg\":\"RS256\"}", "{" BASE ",\"sid\":\"s1\",\"events\":" EVENT "}", NULL},
    {"{\"typ\":\"logout+jwt\"}", "{" BASE ",\"sub\":\"alice\",\"events\":" EVENT "}", NULL},
    {"{\"typ\":\"JWT\"}", "{" BASE ",\"sub\":\"alice\",\"sid\":\"s1\",\"events\":" EVENT "}", NULL},
    {"{\"typ\":\"application/logout+jwt\"}", "{" BASE ",\"sid\":\"s1\",\"events\":" EVENT "}", NULL},
    {"{\"typ\":\"at+jwt\"}", "{" BASE ",\"sid\":\"s1\",\"events\":" EVENT "}", "typ"},
    {"{\"typ\":1}", "{" BASE ",\"sid\":\"s1\",\"events\":" EVENT "}", "typ"},
    /* an ID token: no events, a nonce */
    {"{}", "{" BASE ",\"sub\":\"alice\",\"nonce\":\"n\"}", "events"},
    {"{}", "{" BASE ",\"sub\":\"alice\",\"nonce\":\"n\",\"events\":" EVENT "}", "nonce"},
    {"{}", "{" BASE ",\"sub\":\"alice\",\"events\":{\"other\":{}}}", "events"},
    {"{}", "{" BASE ",\"sub\":\"alice\",\"events\":{\"" AS_BACKCHANNEL_EVENT "\":true}}", "events"},
    {"{}", "{" BASE ",\"sub\":\"alice\",\"events\":[]}", "events"},
    {"{}", "{" BASE ",\"events\":" EVENT "}", "sid"},
    {"{}", "{" BASE ",\"sid\":\"\",\"sub\":\"alice\",\"events\":" EVENT "}", "sid"},
    {"{}", "{" BASE ",\"sub\":7,\"events\":" EVENT "}", "sub"},
    {"{}", "{\"iss\":\"https://idp\",\"sub\":\"alice\",\"events\":" EVENT "}", "jti"},
    {"{}", "{\"jti\":\"j\",\"sub\":\"alice\",\"events\":" EVENT "}", "iss"},
};

static void test_logout_token_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); ++i) {
        const token_case_t *c = &token_cases[i];
        json_t *header = json_loads(c->header, 0, NULL), *claims = json_loads(c->claims, 0, NULL);
        assert_non_null(header);
        assert_non_null(claims);
        as_logout_token_t token = {0};
        const char *why = as_logout_token_check(header, claims, &token);
        if (c->refused == NULL && why != NULL)
            fail_msg("case %zu: refused for %s", i, why);
        if (c->refused != NULL && (why == NULL || strcmp(why, c->refused) != 0))
            fail_msg("case %zu: want %s, got %s", i, c->refused, why != NULL ? why : "accepted");
        if (why == NULL) {
            assert_string_equal(token.issuer, "https://idp");
            assert_string_equal(token.jti, "j1");
            assert_true(token.sid != NULL || token.sub != NULL);
        }
        json_decref(header);
        json_decref(claims);
    }
}

static void test_names_are_hashed_and_distinct(void **state)
{
    (void)state;
    char a[AS_BACKCHANNEL_NAME_SIZE], b[AS_BACKCHANNEL_NAME_SIZE], c[AS_BACKCHANNEL_NAME_SIZE],
        d[AS_BACKCHANNEL_NAME_SIZE];
    as_backchannel_name("sid", "https://idp", "s1", a);
    as_backchannel_name("sid", "https://idp", "s1", b);
    as_backchannel_name("sid", "https://idp2", "s1", c);
    as_backchannel_name("sub", "https://idp", "s1", d);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), strlen("bcl-sid:") + 64);
    assert_memory_equal(a, "bcl-sid:", 8);
    assert_null(strstr(a, "s1"));
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d); /* the kind keeps the sid and sub indexes apart */
    /* iss and value are separated: ("ab", "c") and ("a", "bc") differ */
    as_backchannel_name("sub", "ab", "c", c);
    as_backchannel_name("sub", "a", "bc", d);
    assert_string_not_equal(c, d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logout_token_table),
        cmocka_unit_test(test_names_are_hashed_and_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
