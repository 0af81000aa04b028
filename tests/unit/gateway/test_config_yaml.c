/* The YAML document tree under the configuration loader: shapes, positions, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config_yaml.h"

static gw_yaml_stream_t *parse(const char *text, const gw_yaml_limits_t *limits, gw_yaml_error_t *err)
{
    return gw_yaml_parse(text, strlen(text), limits, err);
}

static void expect_error(const char *text, const gw_yaml_limits_t *limits, unsigned line, unsigned column,
                         const char *message)
{
    gw_yaml_error_t err;
    gw_yaml_stream_t *stream = parse(text, limits, &err);
    if (stream != NULL) {
        gw_yaml_free(stream);
        fail_msg("parsed, expected %u:%u %s", line, column, message);
    }
    if (err.line != line || err.column != column || strstr(err.message, message) == NULL)
        fail_msg("got %u:%u %s\nwant %u:%u %s", err.line, err.column, err.message, line, column, message);
}

static void test_shapes_and_positions(void **state)
{
    (void)state;
    gw_yaml_error_t err;
    gw_yaml_stream_t *s = parse("a: 1\nb:\n  - x\n  - {c: 'q', d: }\n---\n[1, \"two\"]\n", NULL, &err);
    assert_non_null(s);
    assert_int_equal(s->count, 2);

    const gw_yaml_node_t *root = s->docs[0];
    assert_int_equal(root->kind, GW_YAML_MAP);
    assert_int_equal(root->count, 2);
    assert_int_equal(root->line, 1);
    assert_int_equal(root->column, 1);
    const gw_yaml_node_t *a = gw_yaml_map_get(root, "a");
    assert_int_equal(a->kind, GW_YAML_SCALAR);
    assert_string_equal(a->value, "1");
    assert_true(a->plain);
    assert_int_equal(a->line, 1);
    assert_int_equal(a->column, 4);
    const gw_yaml_node_t *b = gw_yaml_map_get(root, "b");
    assert_int_equal(b->kind, GW_YAML_LIST);
    assert_int_equal(b->count, 2);
    assert_int_equal(b->line, 3);
    assert_int_equal(b->column, 3);
    const gw_yaml_node_t *m = b->items[1];
    assert_int_equal(m->kind, GW_YAML_MAP);
    assert_int_equal(m->line, 4);
    assert_int_equal(m->column, 5);
    const gw_yaml_node_t *c = gw_yaml_map_get(m, "c");
    assert_string_equal(c->value, "q");
    assert_false(c->plain);
    assert_false(gw_yaml_is_null(c));
    assert_true(gw_yaml_is_null(gw_yaml_map_get(m, "d")));
    assert_null(gw_yaml_map_get(m, "e"));
    assert_null(gw_yaml_map_get(c, "x")); /* not a map */
    /* keys are nodes too, in document order */
    assert_string_equal(root->items[0]->value, "a");
    assert_string_equal(root->items[2]->value, "b");

    const gw_yaml_node_t *list = s->docs[1];
    assert_int_equal(list->kind, GW_YAML_LIST);
    assert_int_equal(list->line, 6);
    assert_string_equal(list->items[1]->value, "two");
    assert_int_equal(list->items[1]->column, 5);
    assert_string_equal(gw_yaml_kind_name(list), "a list");
    assert_string_equal(gw_yaml_kind_name(root), "a map");
    assert_string_equal(gw_yaml_kind_name(a), "a string");
    gw_yaml_free(s);
}

static void test_nulls(void **state)
{
    (void)state;
    gw_yaml_error_t err;
    gw_yaml_stream_t *s = parse("[~, null, Null, NULL, '', \"null\", nil, nULL]\n", NULL, &err);
    assert_non_null(s);
    const gw_yaml_node_t *l = s->docs[0];
    assert_int_equal(l->count, 8);
    for (size_t i = 0; i < 4; ++i)
        assert_true(gw_yaml_is_null(l->items[i]));
    for (size_t i = 4; i < 8; ++i)
        assert_false(gw_yaml_is_null(l->items[i]));
    gw_yaml_free(s);
}

static void test_empty_stream(void **state)
{
    (void)state;
    gw_yaml_error_t err;
    gw_yaml_stream_t *s = parse("", NULL, &err);
    assert_non_null(s);
    assert_int_equal(s->count, 0);
    gw_yaml_free(s);
    s = gw_yaml_parse(NULL, 0, NULL, &err);
    assert_non_null(s);
    assert_int_equal(s->count, 0);
    gw_yaml_free(s);
}

static void test_rejected(void **state)
{
    (void)state;
    expect_error("a: &x 1\n", NULL, 1, 4, "anchors (&x) are not supported");
    expect_error("a: &x [1]\n", NULL, 1, 4, "anchors (&x) are not supported");
    expect_error("a: *x\n", NULL, 1, 4, "aliases (*x) are not supported");
    expect_error("a: !custom 1\n", NULL, 1, 4, "tags (!custom) are not supported");
    expect_error("a: 1\nb: 2\na: 3\n", NULL, 3, 1, "duplicate key \"a\" (first at 1:1)");
    expect_error("{x: 1, y: 2, y: 3, x: 4}\n", NULL, 1, 14, "duplicate key \"y\" (first at 1:8)");
    expect_error("? {a: 1}\n: 2\n", NULL, 1, 3, "map keys must be plain strings, not a map");
    expect_error("a: \"x\\0y\"\n", NULL, 1, 4, "NUL characters are not allowed");
    expect_error("a: [1, 2\n", NULL, 2, 1, "invalid YAML: did not find expected ',' or ']'");
    expect_error("a: b: c\n", NULL, 1, 5, "invalid YAML: mapping values are not allowed in this context");
    expect_error("ok: 1\nbad: \x01\n", NULL, 2, 6, "invalid YAML: control characters are not allowed");
}

static void test_duplicate_key_shown_safely(void **state)
{
    (void)state;
    gw_yaml_error_t err;
    assert_null(parse("\"a\\nb\": 1\n\"a\\nb\": 2\n", NULL, &err));
    assert_string_equal(err.message, "duplicate key \"a\\x0ab\" (first at 1:1)");
}

static void test_limits(void **state)
{
    (void)state;
    gw_yaml_limits_t limits = {.max_bytes = 64, .max_depth = 3, .max_nodes = 5};
    gw_yaml_error_t err;
    /* depth: three levels are fine, the fourth is not */
    gw_yaml_stream_t *s = parse("[[[1]]]", &limits, &err);
    assert_non_null(s);
    gw_yaml_free(s);
    expect_error("[[[[1]]]]", &limits, 1, 4, "nested deeper than 3 levels");
    /* nodes: five are fine (a list and four items), six are not */
    s = parse("[1, 2, 3, 4]", &limits, &err);
    assert_non_null(s);
    gw_yaml_free(s);
    expect_error("[1, 2, 3, 4, 5]", &limits, 1, 14, "more than 5 YAML nodes");
    /* the count spans documents */
    expect_error("[1, 2]\n---\n[3, 4]\n", &limits, 3, 5, "more than 5 YAML nodes");
    /* bytes */
    char big[66];
    memset(big, '#', 65);
    big[65] = '\0';
    assert_null(gw_yaml_parse(big, 65, &limits, &err));
    assert_int_equal(err.line, 0);
    assert_string_equal(err.message, "larger than 64 bytes");
    assert_non_null(s = gw_yaml_parse(big, 64, &limits, &err));
    gw_yaml_free(s);
    /* the defaults */
    assert_int_equal(gw_yaml_default_limits.max_bytes, 4u << 20);
    assert_int_equal(gw_yaml_default_limits.max_depth, 64);
}

/* A map with many keys: duplicate detection sorts, so this stays fast. */
static void test_wide_map(void **state)
{
    (void)state;
    size_t n = 100000;
    char *text = malloc(n * 16 + 8);
    assert_non_null(text);
    size_t len = 0;
    text[len++] = '{';
    for (size_t i = 0; i < n; ++i)
        len += (size_t)sprintf(text + len, "k%zu: %zu,", n - i, i);
    text[len++] = '}';
    gw_yaml_error_t err;
    gw_yaml_stream_t *s = gw_yaml_parse(text, len, NULL, &err);
    assert_non_null(s);
    assert_int_equal(s->docs[0]->count, n);
    gw_yaml_free(s);
    /* the same with one key repeated at the end */
    len -= 1;
    len += (size_t)sprintf(text + len, "k7: x}");
    assert_null(gw_yaml_parse(text, len, NULL, &err));
    assert_non_null(strstr(err.message, "duplicate key \"k7\""));
    free(text);
}

static void test_printable(void **state)
{
    (void)state;
    char out[16];
    gw_yaml_printable(out, sizeof(out), "abc", 3);
    assert_string_equal(out, "abc");
    gw_yaml_printable(out, sizeof(out), "a\"b\\c\x7f", 6);
    assert_string_equal(out, "a\\x22b\\x5cc...");
    gw_yaml_printable(out, sizeof(out), "0123456789abcdefghij", 20);
    assert_string_equal(out, "0123456789ab...");
    assert_true(strlen(out) < sizeof(out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_positions),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_empty_stream),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_duplicate_key_shown_safely),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_wide_map),
        cmocka_unit_test(test_printable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
