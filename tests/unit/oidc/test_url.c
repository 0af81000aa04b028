/* IdP URL checks, percent-encoding, query strings and form bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "oidc/url.h"

static void test_check(void **state)
{
    enum { I = OIDC_URL_ALLOW_INSECURE_LOOPBACK, Q = OIDC_URL_NO_QUERY };
    static const struct {
        const char *url;
        unsigned flags;
        const char *reason; /* NULL: accepted */
    } cases[] = {
        {"https://idp.example", 0, NULL},
        {"https://idp.example:8443/realms/x/", 0, NULL},
        {"HTTPS://idp.example/a", 0, NULL},
        {"https://idp.example/auth?x=1", 0, NULL},
        {"https://idp.example/auth?x=1", Q, "has a query"},
        {"https://idp.example/auth?", Q, "has a query"},
        {"https://idp.example/a#b", 0, "has a fragment"},
        {"https://idp.example/a#", 0, "has a fragment"},
        {"https://user@idp.example/", 0, "holds user info"},
        {"https://user:pw@idp.example/", 0, "holds user info"},
        {"http://idp.example/", 0, "not https"},
        {"http://idp.example/", I, "http is accepted only for a loopback host"},
        {"http://127.0.0.1:5556", I, NULL},
        {"http://127.10.20.30/", I, NULL},
        {"http://[::1]:5556/", I, NULL},
        {"http://localhost:5556/", I, NULL},
        {"http://LOCALHOST/", I, NULL},
        {"http://localhost.evil.example/", I, "http is accepted only for a loopback host"},
        {"http://128.0.0.1/", I, "http is accepted only for a loopback host"},
        {"http://[::2]/", I, "http is accepted only for a loopback host"},
        {"http://127.0.0.1/", 0, "not https"},
        {"ftp://idp.example/", 0, "not an absolute http(s) URL"},
        {"//idp.example/", 0, "not an absolute http(s) URL"},
        {"https://", 0, "not a valid URL"},
        {"https:///path", 0, "not a valid URL"},
        {"https://idp .example/", 0, "holds spaces"},
        {"https://idp.example/\t", 0, "holds spaces"},
        {"https://idp.example/\xc3\xa9", 0, "holds spaces"},
        {"", 0, "empty"},
        {NULL, 0, "missing"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *reason = "unset";
        int rc = oidc_url_check(cases[i].url, cases[i].flags, &reason);
        if (cases[i].reason == NULL) {
            if (rc != 0)
                fail_msg("%s refused: %s", cases[i].url, reason);
            assert_null(reason);
        } else {
            if (rc == 0)
                fail_msg("%s accepted", cases[i].url ? cases[i].url : "NULL");
            if (strstr(reason, cases[i].reason) == NULL)
                fail_msg("%s: reason \"%s\", expected \"%s\"", cases[i].url, reason, cases[i].reason);
        }
    }
    char *long_url = malloc(OIDC_URL_MAX + 2);
    memcpy(long_url, "https://a/", 10);
    memset(long_url + 10, 'a', OIDC_URL_MAX - 9);
    long_url[OIDC_URL_MAX + 1] = '\0';
    assert_int_equal(oidc_url_check(long_url, 0, NULL), -1);
    long_url[OIDC_URL_MAX] = '\0';
    assert_int_equal(oidc_url_check(long_url, 0, NULL), 0);
    free(long_url);
}

static void test_encode(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"", 0, ""},
        {"AZaz09-._~", 10, "AZaz09-._~"},
        {"a b", 3, "a%20b"},
        {"a+b=c&d", 7, "a%2Bb%3Dc%26d"},
        {"/?#[]@!$'()*,;:%", 16, "%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%3A%25"},
        {"\xc3\xa9", 2, "%C3%A9"},
        {"a\0b", 3, "a%00b"},
        {"\r\n", 2, "%0D%0A"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char *out = oidc_url_encode(cases[i].in, cases[i].len);
        assert_string_equal(out, cases[i].out);
        free(out);
    }
    assert_null(oidc_url_encode(NULL, 1));
}

static void test_with_params(void **state)
{
    const char *const params[] = {"a", "1", "skip", NULL, "b c", "x&y", NULL};
    const char *const none[] = {NULL};
    const struct {
        const char *base;
        const char *const *params;
        const char *out;
    } cases[] = {
        {"https://idp/auth", params, "https://idp/auth?a=1&b%20c=x%26y"},
        {"https://idp/auth?t=kf", params, "https://idp/auth?t=kf&a=1&b%20c=x%26y"},
        {"https://idp/auth?", params, "https://idp/auth?a=1&b%20c=x%26y"},
        {"https://idp/auth?t=kf&", params, "https://idp/auth?t=kf&a=1&b%20c=x%26y"},
        {"https://idp/auth", none, "https://idp/auth"},
        {"https://idp/auth", NULL, "https://idp/auth"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char *out = oidc_url_with_params(cases[i].base, cases[i].params);
        assert_string_equal(out, cases[i].out);
        free(out);
    }
    assert_null(oidc_url_with_params("https://idp/auth#x", params));
    assert_null(oidc_url_with_params(NULL, params));
    /* too long a result is refused, not cut */
    char *big = malloc(OIDC_URL_MAX);
    memset(big, 'v', OIDC_URL_MAX - 1);
    big[OIDC_URL_MAX - 1] = '\0';
    const char *const huge[] = {"v", big, NULL};
    assert_null(oidc_url_with_params("https://idp/auth", huge));
    free(big);
}

static void test_form_encode(void **state)
{
    const char *const params[] = {"grant_type",   "authorization_code", "code",
                                  "a/b+c",        "client_secret",      NULL,
                                  "redirect_uri", "https://gw/cb?x=1",  NULL};
    size_t len = 0;
    char *form = oidc_form_encode(params, &len);
    assert_string_equal(
        form, "grant_type=authorization_code&code=a%2Fb%2Bc&redirect_uri=https%3A%2F%2Fgw%2Fcb%3Fx%3D1");
    assert_int_equal(len, strlen(form));
    free(form);
    const char *const empty[] = {NULL};
    form = oidc_form_encode(empty, &len);
    assert_string_equal(form, "");
    assert_int_equal(len, 0);
    free(form);
}

static void test_loopback(void **state)
{
    assert_true(oidc_url_host_is_loopback("127.0.0.1"));
    assert_true(oidc_url_host_is_loopback("127.255.255.254"));
    assert_true(oidc_url_host_is_loopback("[::1]"));
    assert_true(oidc_url_host_is_loopback("localhost"));
    assert_false(oidc_url_host_is_loopback("::1")); /* as in a URL: brackets */
    assert_false(oidc_url_host_is_loopback("127.0.0"));
    assert_false(oidc_url_host_is_loopback("0x7f.0.0.1"));
    assert_false(oidc_url_host_is_loopback("10.0.0.1"));
    assert_false(oidc_url_host_is_loopback("localhost."));
    assert_false(oidc_url_host_is_loopback(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),       cmocka_unit_test(test_encode),
        cmocka_unit_test(test_with_params), cmocka_unit_test(test_form_encode),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
