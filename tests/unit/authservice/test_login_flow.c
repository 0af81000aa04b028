/* The pure pieces of the login flow: return-path validation (open redirects), the pending-login cookie list
 * and CSRF tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authservice/csrf.h"
#include "authservice/login_cookie.h"
#include "authservice/login_flow.h"
#include "authservice/return_path.h"

typedef struct {
    const char *rd;
    const char *expected;
    int kept;
} rd_case_t;

static const rd_case_t rd_cases[] = {
    {"/notebook/kubeflow-alice/nb1/", "/notebook/kubeflow-alice/nb1/", 1},
    {"%2Fnotebook%2Fkubeflow-alice%2Fnb1%2F%3Fa%3D1", "/notebook/kubeflow-alice/nb1/?a=1", 1},
    {"/", "/", 1},
    {"/a%20b", "/a%20b", 1},
    {"/a+b", "/a%20b", 1},
    {"/caf%C3%A9", "/caf%C3%A9", 1},
    {"/x/%252F", "/x/%2F", 1},
    {"/x//y", "/x//y", 1},
    /* refused: another origin, however written */
    {"", "/", 0},
    {"//evil.example", "/", 0},
    {"//evil.example/path", "/", 0},
    {"/\\evil.example", "/", 0},
    {"\\\\evil.example", "/", 0},
    {"https://evil.example", "/", 0},
    {"http:/evil.example", "/", 0},
    {"javascript:alert(1)", "/", 0},
    {"%2F%2Fevil.example", "/", 0},
    {"%2f%2fevil.example", "/", 0},
    {"/%2Fevil.example", "/", 0},
    {"/%5Cevil.example", "/", 0},
    {"%2F%5Cevil.example", "/", 0},
    {"/%252F%252Fevil.example", "/", 0},
    {"/%255Cevil.example", "/", 0},
    {"/%25", "/", 0},
    {"%252F%252Fevil.example", "/", 0},
    {"evil.example", "/", 0},
    {"/a\\b", "/", 0},
    {"/a%5Cb", "/", 0},
    {"/a%0d%0aSet-Cookie:x=1", "/", 0},
    {"/a%00", "/", 0},
    {"/a%7f", "/", 0},
    {"/a%", "/", 0},
    {"/a%2", "/", 0},
    {"/a%zz", "/", 0},
    {"/a%2541", "/a%41", 1},
    {"/a%25zz", "/", 0},
};

static void test_return_path_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rd_cases) / sizeof(rd_cases[0]); ++i) {
        char out[AS_RETURN_PATH_MAX + 1];
        memset(out, 'x', sizeof(out));
        int kept = as_return_path_sanitize(rd_cases[i].rd, strlen(rd_cases[i].rd), out, sizeof(out));
        if (kept != rd_cases[i].kept || strcmp(out, rd_cases[i].expected) != 0)
            fail_msg("rd \"%s\": got %d \"%s\", want %d \"%s\"", rd_cases[i].rd, kept, out, rd_cases[i].kept,
                     rd_cases[i].expected);
    }
}

static void test_return_path_limits(void **state)
{
    (void)state;
    char big[AS_RETURN_PATH_MAX + 2], out[AS_RETURN_PATH_MAX + 1];
    big[0] = '/';
    memset(big + 1, 'a', sizeof(big) - 1);
    /* exactly the limit passes, one more is refused */
    assert_int_equal(as_return_path_sanitize(big, AS_RETURN_PATH_MAX, out, sizeof(out)), 1);
    assert_int_equal(strlen(out), AS_RETURN_PATH_MAX);
    assert_int_equal(as_return_path_sanitize(big, AS_RETURN_PATH_MAX + 1, out, sizeof(out)), 0);
    assert_string_equal(out, "/");
    /* a small buffer refuses what does not fit rather than cutting it */
    char small[4];
    assert_int_equal(as_return_path_sanitize("/abc", 4, small, sizeof(small)), 0);
    assert_string_equal(small, "/");
    assert_int_equal(as_return_path_sanitize("/ab", 3, small, sizeof(small)), 1);
    assert_string_equal(small, "/ab");
    assert_int_equal(as_return_path_sanitize("/", 1, small, 1), -1);
    assert_int_equal(as_return_path_sanitize(NULL, 0, small, sizeof(small)), 0);
    assert_string_equal(small, "/");
}

#define S1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define S2 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2"
#define S3 "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC3"
#define S4 "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD-_4"

static void test_login_cookie_push(void **state)
{
    (void)state;
    char out[AS_LOGIN_COOKIE_VALUE_SIZE];
    assert_int_equal(as_login_cookie_push(NULL, 0, S1, out), 1);
    assert_string_equal(out, S1);
    char prev[AS_LOGIN_COOKIE_VALUE_SIZE];
    strcpy(prev, out);
    assert_int_equal(as_login_cookie_push(prev, strlen(prev), S2, out), 2);
    assert_string_equal(out, S2 "." S1);
    strcpy(prev, out);
    assert_int_equal(as_login_cookie_push(prev, strlen(prev), S3, out), 3);
    assert_string_equal(out, S3 "." S2 "." S1);
    /* capped: the oldest falls off */
    strcpy(prev, out);
    assert_int_equal(as_login_cookie_push(prev, strlen(prev), S4, out), 3);
    assert_string_equal(out, S4 "." S3 "." S2);
    /* pushing one already there moves it to the front, no duplicate */
    strcpy(prev, out);
    assert_int_equal(as_login_cookie_push(prev, strlen(prev), S2, out), 3);
    assert_string_equal(out, S2 "." S4 "." S3);
    /* malformed entries and duplicates in the cookie are dropped */
    const char *junk = "x." S1 ".." S1 ".<script>." S3 "extra." S2;
    assert_int_equal(as_login_cookie_push(junk, strlen(junk), S4, out), 3);
    assert_string_equal(out, S4 "." S1 "." S2);
    /* a malformed new state is refused and out untouched */
    strcpy(out, "unchanged");
    assert_int_equal(as_login_cookie_push(NULL, 0, "short", out), -1);
    assert_int_equal(as_login_cookie_push(NULL, 0, S1 "x", out), -1);
    assert_int_equal(as_login_cookie_push(NULL, 0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.", out), -1);
    assert_string_equal(out, "unchanged");
}

static void test_login_cookie_contains_remove(void **state)
{
    (void)state;
    const char *value = S3 "." S2 "." S1;
    size_t len = strlen(value);
    assert_true(as_login_cookie_contains(value, len, S1));
    assert_true(as_login_cookie_contains(value, len, S2));
    assert_false(as_login_cookie_contains(value, len, S4));
    assert_false(as_login_cookie_contains(value, len, "AAAA"));
    assert_false(as_login_cookie_contains(value, len - 1, S1)); /* cut entry is malformed */
    assert_false(as_login_cookie_contains(NULL, 0, S1));
    assert_false(as_login_cookie_contains(value, len, NULL));
    char out[AS_LOGIN_COOKIE_VALUE_SIZE];
    assert_int_equal(as_login_cookie_remove(value, len, S2, out), 2);
    assert_string_equal(out, S3 "." S1);
    char again[AS_LOGIN_COOKIE_VALUE_SIZE];
    assert_int_equal(as_login_cookie_remove(out, strlen(out), S4, again), 2); /* nothing to remove */
    assert_string_equal(again, S3 "." S1);
    char one[] = S1;
    assert_int_equal(as_login_cookie_remove(one, strlen(one), S1, out), 0);
    assert_string_equal(out, "");
}

static void test_csrf(void **state)
{
    (void)state;
    const char *id = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
    const char *other = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPR";
    char token[AS_CSRF_TOKEN_LEN + 1], again[AS_CSRF_TOKEN_LEN + 1], other_token[AS_CSRF_TOKEN_LEN + 1];
    assert_int_equal(as_csrf_token(id, strlen(id), "logout", token), 0);
    assert_int_equal(strlen(token), AS_CSRF_TOKEN_LEN);
    assert_null(strstr(token, "abcdef"));
    assert_int_equal(as_csrf_token(id, strlen(id), "logout", again), 0);
    assert_string_equal(token, again); /* stateless: same id, same token */
    assert_true(as_csrf_check(id, strlen(id), "logout", token, strlen(token)));
    assert_int_equal(as_csrf_token(other, strlen(other), "logout", other_token), 0);
    assert_string_not_equal(token, other_token);
    assert_false(as_csrf_check(other, strlen(other), "logout", token, strlen(token)));
    assert_int_equal(as_csrf_token(id, strlen(id), "other", again), 0);
    assert_string_not_equal(token, again); /* bound to the purpose */
    assert_false(as_csrf_check(id, strlen(id), "logout", token, strlen(token) - 1));
    assert_false(as_csrf_check(id, strlen(id), "logout", NULL, 0));
    assert_false(as_csrf_check(id, strlen(id), "logout", "", 0));
    /* every single-character change is refused */
    for (size_t i = 0; i < AS_CSRF_TOKEN_LEN; ++i) {
        char bad[AS_CSRF_TOKEN_LEN + 1];
        memcpy(bad, token, sizeof(bad));
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_false(as_csrf_check(id, strlen(id), "logout", bad, AS_CSRF_TOKEN_LEN));
    }
    assert_int_equal(as_csrf_token(NULL, 0, "logout", token), -1);
    assert_int_equal(as_csrf_token(id, strlen(id), NULL, token), -1);
}

typedef struct {
    const char *method, *path, *accept, *authorization;
    int xrw;
    int api;
} kind_case_t;

static void test_request_is_api(void **state)
{
    (void)state;
    static const char *const prefixes[] = {"/api/", "/v1/models", NULL};
    static const kind_case_t cases[] = {
        {"GET", "/notebook/a/", "text/html,application/xhtml+xml,*/*;q=0.8", NULL, 0, 0},
        {"HEAD", "/notebook/a/", NULL, NULL, 0, 0},
        {"GET", "/notebook/a/", NULL, NULL, 0, 0},
        {"GET", "/notebook/a/", "application/json", NULL, 0, 1},
        {"GET", "/notebook/a/", "Application/JSON; q=1", NULL, 0, 1},
        {"GET", "/notebook/a/", "text/html, application/json", NULL, 0,
         0}, /* a browser that also takes JSON */
        {"GET", "/notebook/a/", NULL, NULL, 1, 1},
        {"POST", "/notebook/a/", "text/html", NULL, 0, 1},
        {"PUT", "/x", NULL, NULL, 0, 1},
        {"GET", "/x", NULL, "Bearer abc", 0, 1},
        {"GET", "/x", NULL, "bearer abc", 0, 1},
        {"GET", "/x", NULL, "Basic abc", 0, 0},
        {"GET", "/api/things", "text/html", NULL, 0, 1},
        {"GET", "/api", "text/html", NULL, 0, 0},
        {"GET", "/v1/models/mnist", NULL, NULL, 0, 1},
        {"GET", "/apiary", NULL, NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const kind_case_t *c = &cases[i];
        as_request_kind_t k = {.method = c->method,
                               .method_len = strlen(c->method),
                               .path = c->path,
                               .path_len = strlen(c->path),
                               .accept = c->accept,
                               .accept_len = c->accept != NULL ? strlen(c->accept) : 0,
                               .has_x_requested_with = c->xrw,
                               .authorization = c->authorization,
                               .authorization_len = c->authorization != NULL ? strlen(c->authorization) : 0,
                               .api_prefixes = prefixes};
        if (as_request_is_api(&k) != c->api)
            fail_msg("case %zu (%s %s): want %d", i, c->method, c->path, c->api);
    }
}

static void test_session_from_claims(void **state)
{
    (void)state;
    json_t *claims = json_pack("{s:s, s:s, s:s, s:[s,i,s,s], s:s, s:I}", "sub", "alice", "iss", "http://idp",
                               "email", "alice@example.com", "groups", "kubeflow-alice-editors", 7, "", "a,b",
                               "sid", "s1", "exp", (json_int_t)1000300);
    as_session_record_t *r = as_session_from_claims(claims, "h.p.s", 1000000, 3600);
    assert_non_null(r);
    assert_string_equal(r->subject, "alice");
    assert_string_equal(r->email, "alice@example.com");
    assert_int_equal(r->group_count, 2); /* the number and the empty string are dropped */
    assert_string_equal(r->idp_session_id, "s1");
    assert_int_equal(r->expires_at, 1003600);
    assert_int_equal(r->tokens_expire_at, 1000300);
    /* the record can be stored and read back */
    char *json = as_session_record_to_json(r, NULL, 0);
    assert_non_null(json);
    free(json);
    char groups[64];
    assert_int_equal(as_groups_header(r, groups, sizeof(groups)), strlen("kubeflow-alice-editors"));
    assert_string_equal(groups, "kubeflow-alice-editors"); /* "a,b" would split: left out */
    char *me = as_me_json(r);
    assert_string_equal(me, "{\"sub\":\"alice\",\"email\":\"alice@example.com\",\"groups\":"
                            "[\"kubeflow-alice-editors\",\"a,b\"]}");
    free(me);
    as_session_record_free(r);
    json_object_del(claims, "sub");
    assert_null(as_session_from_claims(claims, "h.p.s", 1000000, 3600));
    json_decref(claims);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_return_path_table),
        cmocka_unit_test(test_return_path_limits),
        cmocka_unit_test(test_login_cookie_push),
        cmocka_unit_test(test_login_cookie_contains_remove),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_request_is_api),
        cmocka_unit_test(test_session_from_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
