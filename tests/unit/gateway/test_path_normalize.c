#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "path_normalize.h"

typedef struct {
    const char *in;
    size_t len;
    gw_path_status_t status;
    const char *out; /* expected result when status is GW_PATH_OK */
} path_case_t;

#define ROW(in, status, out)                                                                                 \
    {                                                                                                        \
        in, sizeof(in) - 1, status, out                                                                      \
    }
#define OK(in, out) ROW(in, GW_PATH_OK, out)
#define BAD(in, status) ROW(in, status, NULL)

static const path_case_t cases[] = {
    /* the brief's examples */
    OK("/notebook/kubeflow-alice/../kubeflow-bob/", "/notebook/kubeflow-bob/"),
    OK("/a//b///c", "/a/b/c"),
    OK("/a/%2e%2E/b", "/b"),
    OK("/%7Euser", "/~user"),
    BAD("/a%2fb", GW_PATH_ENCODED_SLASH),
    BAD("/a%zz", GW_PATH_BAD_ESCAPE),
    BAD("/a%4", GW_PATH_BAD_ESCAPE),
    OK("/a/./b/.", "/a/b/"),
    OK("/..", "/"),
    OK("/x?y=../z", "/x?y=../z"),
    OK("/caf%c3%a9", "/caf%C3%A9"),
    /* plain paths */
    OK("/", "/"),
    OK("/serving/kubeflow-alice/mnist/v1/models/mnist:predict",
       "/serving/kubeflow-alice/mnist/v1/models/mnist:predict"),
    OK("/a/b/", "/a/b/"),
    OK("/a?", "/a?"),
    OK("/a?b?c", "/a?b?c"),
    /* repeated slashes */
    OK("//", "/"),
    OK("//a//", "/a/"),
    OK("///a", "/a"),
    /* dot segments */
    OK("/.", "/"),
    OK("/./", "/"),
    OK("/a/.", "/a/"),
    OK("/a/./", "/a/"),
    OK("/a/..", "/"),
    OK("/a/b/..", "/a/"),
    OK("/a/b/c/../../d", "/a/d"),
    OK("/../../a", "/a"),
    OK("/a/../../../b/", "/b/"),
    OK("/a/b/../c/./d/..", "/a/c/"),
    OK("/a//..//b", "/b"),
    OK("/a/..?x=1", "/?x=1"),
    OK("/a/.?x", "/a/?x"),
    /* dot segments spelled with escapes */
    OK("/a/%2e", "/a/"),
    OK("/a/.%2E/b", "/b"),
    OK("/a/%2E./b", "/b"),
    OK("/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"),
    /* dots that are not dot segments */
    OK("/...", "/..."),
    OK("/.a/..b/a./a..", "/.a/..b/a./a.."),
    OK("/a/..../b", "/a/..../b"),
    OK("/a/%2e%2e%2e", "/a/..."),
    /* percent-escapes */
    OK("/%41%62%2D%5f%7e%30", "/Ab-_~0"),
    OK("/a%20b", "/a%20b"),
    OK("/a%3fb?c", "/a%3Fb?c"),
    OK("/%25", "/%25"),
    OK("/%252e%252e/x", "/%252e%252e/x"),
    OK("/%80%ff", "/%80%FF"),
    OK("/%0a", "/%0A"),
    OK("/%E2%80%ae", "/%E2%80%AE"),
    /* raw bytes kept as they are */
    OK("/\xc3\xbcmlaut", "/\xc3\xbcmlaut"),
    OK("/a|b^c{d}", "/a|b^c{d}"),
    /* query kept verbatim */
    OK("/x?a\\b", "/x?a\\b"),
    OK("/x?%2f%zz%00", "/x?%2f%zz%00"),
    OK("/x/../y?/../z//", "/y?/../z//"),
    /* rejected: shape */
    BAD("", GW_PATH_EMPTY),
    BAD("a/b", GW_PATH_NOT_ABSOLUTE),
    BAD("*", GW_PATH_NOT_ABSOLUTE),
    BAD("http://host/x", GW_PATH_NOT_ABSOLUTE),
    BAD("?x", GW_PATH_NOT_ABSOLUTE),
    BAD("\\a", GW_PATH_NOT_ABSOLUTE),
    /* rejected: escapes */
    BAD("/a%2Fb", GW_PATH_ENCODED_SLASH),
    BAD("/a/..%2f..%2fetc", GW_PATH_ENCODED_SLASH),
    BAD("/a%5cb", GW_PATH_ENCODED_BACKSLASH),
    BAD("/a%5Cb", GW_PATH_ENCODED_BACKSLASH),
    BAD("/a%00b", GW_PATH_NUL),
    BAD("/a/b%", GW_PATH_BAD_ESCAPE),
    BAD("/a%%41", GW_PATH_BAD_ESCAPE),
    BAD("/a%4?1", GW_PATH_BAD_ESCAPE),
    BAD("/a%g0", GW_PATH_BAD_ESCAPE),
    BAD("/a% 1", GW_PATH_BAD_ESCAPE),
    /* rejected: raw bytes */
    BAD("/a\\b", GW_PATH_BACKSLASH),
    BAD("/a\0b", GW_PATH_NUL),
    BAD("/a\tb", GW_PATH_CONTROL_CHAR),
    BAD("/a\x7f", GW_PATH_CONTROL_CHAR),
    BAD("/a\r\nHost: x", GW_PATH_CONTROL_CHAR),
    BAD("/a b", GW_PATH_INVALID_CHAR),
    BAD("/a#frag", GW_PATH_INVALID_CHAR),
    BAD("/x?a\0", GW_PATH_NUL),
    BAD("/x?a\nb", GW_PATH_CONTROL_CHAR),
    BAD("/x?a\x1b", GW_PATH_CONTROL_CHAR),
    BAD("/x?a b", GW_PATH_INVALID_CHAR),
    BAD("/x?a#b", GW_PATH_INVALID_CHAR),
    /* the first problem met, reading left to right, is the one reported */
    BAD("/a\\b%2f", GW_PATH_BACKSLASH),
    BAD("/a%2f\\b", GW_PATH_ENCODED_SLASH),
};

/* Runs one case with exactly-sized heap buffers, so ASan catches any read or write past them. */
static void check_case(const path_case_t *c, size_t index)
{
    char *in = malloc(c->len > 0 ? c->len : 1);
    char *out = malloc(c->len + 1);
    assert_non_null(in);
    assert_non_null(out);
    memcpy(in, c->in, c->len);
    memset(out, 0xA5, c->len + 1);
    size_t out_len = 12345, query_at = 54321;

    gw_path_status_t st = gw_path_normalize(in, c->len, out, &out_len, &query_at);
    if (st != c->status) {
        print_error("case %zu (%s): status %d (%s), want %d (%s)\n", index, c->in, st,
                    gw_path_status_text(st), c->status, gw_path_status_text(c->status));
        fail();
    }
    if (st == GW_PATH_OK) {
        if (out_len != strlen(c->out) || memcmp(out, c->out, out_len) != 0) {
            print_error("case %zu (%s): got \"%.*s\", want \"%s\"\n", index, c->in, (int)out_len, out,
                        c->out);
            fail();
        }
        assert_int_equal(out[out_len], '\0');
        const char *q = memchr(c->out, '?', out_len);
        assert_int_equal(query_at, q != NULL ? (size_t)(q - c->out) : SIZE_MAX);
    } else {
        /* a rejection changes nothing */
        for (size_t i = 0; i < c->len + 1; ++i)
            assert_int_equal((unsigned char)out[i], 0xA5);
        assert_int_equal(out_len, 12345);
        assert_int_equal(query_at, 54321);
    }
    free(in);
    free(out);
}

static void test_table(void **state)
{
    (void)state;
    assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
        check_case(&cases[i], i);
}

/* Normalising a normalised path gives it back unchanged. */
static void test_idempotent(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        if (cases[i].status != GW_PATH_OK)
            continue;
        size_t len = strlen(cases[i].out), out_len, query_at;
        char *out = malloc(len + 1);
        assert_non_null(out);
        assert_int_equal(gw_path_normalize(cases[i].out, len, out, &out_len, &query_at), GW_PATH_OK);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, cases[i].out, len);
        free(out);
    }
}

static void test_length_limit(void **state)
{
    (void)state;
    size_t cap = GW_PATH_MAX + 100;
    char *in = malloc(cap), *out = malloc(cap + 1);
    assert_non_null(in);
    assert_non_null(out);
    memset(in, 'a', cap);
    in[0] = '/';
    size_t out_len, query_at;

    assert_int_equal(gw_path_normalize(in, GW_PATH_MAX, out, &out_len, &query_at), GW_PATH_OK);
    assert_int_equal(out_len, GW_PATH_MAX);
    assert_int_equal(gw_path_normalize(in, GW_PATH_MAX + 1, out, &out_len, &query_at), GW_PATH_TOO_LONG);

    /* the limit is on the raw path, before escapes are decoded or dots removed */
    memcpy(in + GW_PATH_MAX - 3, "%41", 3);
    assert_int_equal(gw_path_normalize(in, GW_PATH_MAX, out, &out_len, &query_at), GW_PATH_OK);
    assert_int_equal(out_len, GW_PATH_MAX - 2);
    assert_int_equal(out[out_len - 1], 'A');
    assert_int_equal(gw_path_normalize(in, GW_PATH_MAX + 1, out, &out_len, &query_at), GW_PATH_TOO_LONG);

    /* the query does not count */
    in[GW_PATH_MAX] = '?';
    assert_int_equal(gw_path_normalize(in, cap, out, &out_len, &query_at), GW_PATH_OK);
    assert_int_equal(query_at, GW_PATH_MAX - 2);
    assert_int_equal(out_len, cap - 2);

    /* a '?' one byte too late does not rescue a long path */
    in[GW_PATH_MAX] = 'a';
    in[GW_PATH_MAX + 1] = '?';
    assert_int_equal(gw_path_normalize(in, cap, out, &out_len, &query_at), GW_PATH_TOO_LONG);
    free(in);
    free(out);
}

static void test_optional_query_at_and_null_input(void **state)
{
    (void)state;
    char out[16];
    size_t out_len = 0;
    assert_int_equal(gw_path_normalize("/a/../b?c", 9, out, &out_len, NULL), GW_PATH_OK);
    assert_string_equal(out, "/b?c");
    assert_int_equal(out_len, 4);
    assert_int_equal(gw_path_normalize(NULL, 0, out, &out_len, NULL), GW_PATH_EMPTY);
    assert_int_equal(gw_path_normalize(NULL, 5, out, &out_len, NULL), GW_PATH_EMPTY);
}

/* Every encoded unreserved character is decoded; every other escape is kept, upper-case. */
static void test_every_escape(void **state)
{
    (void)state;
    static const char hex[] = "0123456789abcdef";
    for (int v = 0; v < 256; ++v) {
        char in[8] = {'/', 'x', '%', hex[v >> 4], hex[v & 15]}, out[8];
        size_t out_len, query_at;
        gw_path_status_t st = gw_path_normalize(in, 5, out, &out_len, &query_at);
        if (v == '/') {
            assert_int_equal(st, GW_PATH_ENCODED_SLASH);
        } else if (v == '\\') {
            assert_int_equal(st, GW_PATH_ENCODED_BACKSLASH);
        } else if (v == 0) {
            assert_int_equal(st, GW_PATH_NUL);
        } else {
            assert_int_equal(st, GW_PATH_OK);
            bool unreserved = (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') ||
                              v == '-' || v == '.' || v == '_' || v == '~';
            char want[8];
            if (unreserved)
                snprintf(want, sizeof(want), "/x%c", v);
            else
                snprintf(want, sizeof(want), "/x%%%02X", v);
            assert_string_equal(out, want);
        }
    }
}

static void test_status_text(void **state)
{
    (void)state;
    const char *seen[GW_PATH_TOO_LONG + 1];
    for (int s = GW_PATH_OK; s <= GW_PATH_TOO_LONG; ++s) {
        const char *text = gw_path_status_text((gw_path_status_t)s);
        assert_non_null(text);
        assert_true(strlen(text) > 0 && strlen(text) < 64);
        for (const char *p = text; *p != '\0'; ++p)
            assert_true(*p >= 0x20 && *p < 0x7f && *p != '%' && *p != '<' && *p != '>');
        for (int t = GW_PATH_OK; t < s; ++t)
            assert_string_not_equal(seen[t], text);
        seen[s] = text;
    }
    assert_string_equal(gw_path_status_text(GW_PATH_ENCODED_SLASH), "encoded slash in path");
    assert_non_null(gw_path_status_text((gw_path_status_t)999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_length_limit), cmocka_unit_test(test_optional_query_at_and_null_input),
        cmocka_unit_test(test_every_escape), cmocka_unit_test(test_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
