#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "authservice/cookie.h"
#include "authservice/session_id.h"

typedef struct {
    const char *header;
    const char *name;
    const char *expected; /* NULL = not found */
} cookie_case_t;

static const cookie_case_t cookie_cases[] = {
    {"a=1", "a", "1"},
    {"a=1; b=2", "b", "2"},
    {"a=1;b=2", "b", "2"},
    {"  a = 1 ;  b =  2  ", "b", "2"},
    {"a=\"quoted\"", "a", "quoted"},
    {"a=\"", "a", "\""},
    {"a=", "a", ""},
    {"ab=1; a=2", "a", "2"},
    {"a=1; a=2", "a", "1"},
    {"xa=1", "a", NULL},
    {"a", "a", NULL},
    {"", "a", NULL},
    {";;;", "a", NULL},
    {"b=1; a", "a", NULL},
    {"__Host-tenantgate=abc; _xsrf=2|x", "__Host-tenantgate", "abc"},
    {"_xsrf=2|x; __Host-tenantgate=abc", "__Host-tenantgate", "abc"},
    {"a=1=2", "a", "1=2"},
};

static void test_cookie_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cookie_cases) / sizeof(cookie_cases[0]); ++i) {
        const cookie_case_t *c = &cookie_cases[i];
        const char *value = NULL;
        size_t len = 0;
        int found = as_cookie_find(c->header, strlen(c->header), c->name, &value, &len);
        if (c->expected == NULL) {
            if (found)
                fail_msg("case %zu (%s): expected no %s, found %.*s", i, c->header, c->name, (int)len, value);
        } else {
            if (!found)
                fail_msg("case %zu (%s): %s not found", i, c->header, c->name);
            if (len != strlen(c->expected) || memcmp(value, c->expected, len) != 0)
                fail_msg("case %zu (%s): got \"%.*s\", want \"%s\"", i, c->header, (int)len, value,
                         c->expected);
        }
    }
}

static void test_cookie_does_not_read_past_length(void **state)
{
    (void)state;
    const char header[] = "a=1; b=2";
    const char *value;
    size_t len;
    /* only "a=1" is in range: b must not be found */
    assert_false(as_cookie_find(header, 3, "b", &value, &len));
    assert_true(as_cookie_find(header, 3, "a", &value, &len));
    assert_int_equal(len, 1);
}

typedef struct {
    const char *header;
    const char *expected;
    size_t removed;
} remove_case_t;

static const remove_case_t remove_cases[] = {
    {"__Host-tenantgate=abc; _xsrf=2|x", "_xsrf=2|x", 1},
    {"_xsrf=2|x; __Host-tenantgate=abc", "_xsrf=2|x", 1},
    {"a=1;__Host-tenantgate-login=s1.s2;b=2", "a=1; b=2", 1},
    {"__Host-tenantgate=abc; __Host-tenantgate-login=x", "", 2},
    {" __Host-tenantgate = abc ;  a = 1 ", "a = 1", 1},
    {"__Host-tenantgate=1; __Host-tenantgate=2; c", "c", 2},
    {"__Host-tenantgatex=1; x__Host-tenantgate=2", "__Host-tenantgatex=1; x__Host-tenantgate=2", 0},
    {"__Host-tenantgate", "__Host-tenantgate", 0}, /* no '=': not that cookie */
    {"a=\"q\";; ;b", "a=\"q\"; b", 0},
    {"", "", 0},
};

static void test_cookie_remove_table(void **state)
{
    (void)state;
    static const char *const names[] = {"__Host-tenantgate", "__Host-tenantgate-login", NULL};
    for (size_t i = 0; i < sizeof(remove_cases) / sizeof(remove_cases[0]); ++i) {
        const remove_case_t *c = &remove_cases[i];
        char out[256];
        size_t len = 99;
        size_t removed = as_cookie_remove(c->header, strlen(c->header), names, out, &len);
        if (removed != c->removed || len != strlen(c->expected) || strcmp(out, c->expected) != 0)
            fail_msg("case %zu (%s): removed %zu \"%s\" (%zu), want %zu \"%s\"", i, c->header, removed, out,
                     len, c->removed, c->expected);
    }
}

static void test_cookie_remove_worst_growth_fits(void **state)
{
    (void)state;
    /* "a;b;c" grows to "a; b; c": at most one byte per ';', within 2 * len + 1 */
    static const char *const names[] = {"x", NULL};
    const char header[] = "a;b;c;d;e";
    char out[2 * sizeof(header) + 1];
    memset(out, '#', sizeof(out));
    size_t len;
    assert_int_equal(as_cookie_remove(header, strlen(header), names, out, &len), 0);
    assert_string_equal(out, "a; b; c; d; e");
    assert_int_equal(out[len + 1], '#');
}

static void test_session_id_shape_and_uniqueness(void **state)
{
    (void)state;
    char a[AS_SESSION_ID_LEN + 1], b[AS_SESSION_ID_LEN + 1];
    assert_int_equal(as_session_id_generate(a), 0);
    assert_int_equal(as_session_id_generate(b), 0);
    assert_int_equal(strlen(a), AS_SESSION_ID_LEN);
    assert_true(as_session_id_is_well_formed(a, strlen(a)));
    assert_string_not_equal(a, b);
    assert_false(as_session_id_is_well_formed(a, strlen(a) - 1));
    a[5] = '+';
    assert_false(as_session_id_is_well_formed(a, strlen(a)));
}

/* Every byte value, first, middle and last: well formed exactly for the base64url alphabet. */
static void test_session_id_alphabet_exhaustive(void **state)
{
    (void)state;
    char id[AS_SESSION_ID_LEN + 1];
    memset(id, 'A', AS_SESSION_ID_LEN);
    id[AS_SESSION_ID_LEN] = '\0';
    const size_t positions[] = {0, AS_SESSION_ID_LEN / 2, AS_SESSION_ID_LEN - 1};
    for (int c = 0; c < 256; ++c) {
        int expected = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_';
        for (size_t p = 0; p < sizeof(positions) / sizeof(positions[0]); ++p) {
            id[positions[p]] = (char)c;
            assert_int_equal(as_session_id_is_well_formed(id, AS_SESSION_ID_LEN), expected);
            id[positions[p]] = 'A';
        }
    }
    assert_false(as_session_id_is_well_formed(id, AS_SESSION_ID_LEN + 1));
    assert_false(as_session_id_is_well_formed(id, 0));
}

static void test_session_key_is_sha256_hex(void **state)
{
    (void)state;
    char key[AS_SESSION_KEY_LEN + 1];
    as_session_key("abc", 3, key);
    /* SHA-256("abc") from FIPS 180-2 */
    assert_string_equal(key, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_table),
        cmocka_unit_test(test_cookie_does_not_read_past_length),
        cmocka_unit_test(test_cookie_remove_table),
        cmocka_unit_test(test_cookie_remove_worst_growth_fits),
        cmocka_unit_test(test_session_id_shape_and_uniqueness),
        cmocka_unit_test(test_session_id_alphabet_exhaustive),
        cmocka_unit_test(test_session_key_is_sha256_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
