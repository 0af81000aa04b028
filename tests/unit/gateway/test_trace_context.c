#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace_context.h"

#define SAMPLE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

typedef struct {
    const char *value;
    size_t len;
    int want; /* 0 valid, -1 invalid */
} tp_case_t;

#define TP(value, want)                                                                                      \
    {                                                                                                        \
        value, sizeof(value) - 1, want                                                                       \
    }

static const tp_case_t tp_cases[] = {
    TP(SAMPLE, 0),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 0),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", 0),
    TP("00-00000000000000000000000000000001-0000000000000001-01", 0),
    /* future versions: the first 55 chars must parse, then '-' or the end */
    TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0),
    TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-whatever", 0),
    TP("fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", 0),
    TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", -1),
    TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", -1),
    TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", 0),
    TP("01-00000000000000000000000000000000-00f067aa0ba902b7-01-x", -1),
    /* version 00 allows nothing after the flags */
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ", -1),
    /* version ff is invalid */
    TP("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1),
    TP("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", -1),
    /* upper-case hex anywhere */
    TP("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e473A-00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A", -1),
    TP("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1),
    /* all-zero ids */
    TP("00-00000000000000000000000000000000-00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", -1),
    /* wrong lengths */
    TP("", -1),
    TP("00", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", -1),
    TP("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1),
    TP("000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1),
    /* separators and other characters */
    TP("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736000f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902g7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736--0f067aa0ba902b7-01", -1),
    TP("xx-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1),
    TP(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1),
    TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\0", -1),
};

/* Parses from an exactly-sized heap copy so ASan catches reads past the value. */
static int parse_exact(const char *value, size_t len, gw_trace_context_t *out)
{
    char *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    memcpy(copy, value, len);
    int rc = gw_traceparent_parse(copy, len, out);
    free(copy);
    return rc;
}

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(tp_cases) / sizeof(tp_cases[0]); ++i) {
        const tp_case_t *c = &tp_cases[i];
        gw_trace_context_t ctx;
        memset(&ctx, 0xA5, sizeof(ctx));
        int rc = parse_exact(c->value, c->len, &ctx);
        if (rc != c->want) {
            print_error("case %zu \"%s\": got %d, want %d\n", i, c->value, rc, c->want);
            fail();
        }
        if (rc != 0) {
            /* a rejection changes nothing */
            const unsigned char *b = (const unsigned char *)&ctx;
            for (size_t k = 0; k < sizeof(ctx); ++k)
                assert_int_equal(b[k], 0xA5);
        }
    }
}

static void test_parse_fields(void **state)
{
    (void)state;
    static const uint8_t trace_id[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                         0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    static const uint8_t parent_id[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    gw_trace_context_t ctx;
    assert_int_equal(gw_traceparent_parse(SAMPLE, strlen(SAMPLE), &ctx), 0);
    assert_memory_equal(ctx.trace_id, trace_id, 16);
    assert_memory_equal(ctx.parent_id, parent_id, 8);
    assert_int_equal(ctx.flags, 0x01);

    assert_int_equal(
        gw_traceparent_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-c3", 55, &ctx), 0);
    assert_int_equal(ctx.flags, 0xc3);

    assert_int_equal(gw_traceparent_parse(NULL, 55, &ctx), -1);
    assert_int_equal(gw_traceparent_parse(SAMPLE, 55, NULL), -1);
    /* a valid prefix is not enough when the length says there is more */
    assert_int_equal(gw_traceparent_parse(SAMPLE "-", 56, &ctx), -1);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    gw_trace_context_t ctx, back;
    char text[GW_TRACEPARENT_SIZE];

    assert_int_equal(gw_traceparent_parse(SAMPLE, strlen(SAMPLE), &ctx), 0);
    memset(text, 'X', sizeof(text));
    gw_traceparent_format(&ctx, text);
    assert_string_equal(text, SAMPLE);

    /* a future version is forwarded as version 00 */
    const char *v1 = "42-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
    assert_int_equal(gw_traceparent_parse(v1, strlen(v1), &ctx), 0);
    gw_traceparent_format(&ctx, text);
    assert_string_equal(text, SAMPLE);

    for (int i = 0; i < 100; ++i) {
        assert_int_equal(gw_trace_context_generate(&ctx), 0);
        memset(text, 'X', sizeof(text));
        gw_traceparent_format(&ctx, text);
        assert_int_equal(strlen(text), GW_TRACEPARENT_LEN);
        assert_int_equal(gw_traceparent_parse(text, GW_TRACEPARENT_LEN, &back), 0);
        assert_memory_equal(&back.trace_id, &ctx.trace_id, sizeof(ctx.trace_id));
        assert_memory_equal(&back.parent_id, &ctx.parent_id, sizeof(ctx.parent_id));
        assert_int_equal(back.flags, ctx.flags);
    }
}

static bool is_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (b[i] != 0)
            return false;
    return true;
}

static void test_generate_and_child(void **state)
{
    (void)state;
    gw_trace_context_t root, child, again;
    assert_int_equal(gw_trace_context_generate(&root), 0);
    assert_int_equal(root.flags, GW_TRACE_FLAG_SAMPLED);
    assert_false(is_zero(root.trace_id, sizeof(root.trace_id)));
    assert_false(is_zero(root.parent_id, sizeof(root.parent_id)));

    assert_int_equal(gw_trace_context_child(&root, &child), 0);
    assert_memory_equal(child.trace_id, root.trace_id, sizeof(root.trace_id));
    assert_memory_not_equal(child.parent_id, root.parent_id, sizeof(root.parent_id));
    assert_int_equal(child.flags, root.flags);

    /* flags are carried as received, unsampled included */
    assert_int_equal(
        gw_traceparent_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 55, &root), 0);
    assert_int_equal(gw_trace_context_child(&root, &child), 0);
    assert_int_equal(child.flags, 0x00);
    assert_memory_equal(child.trace_id, root.trace_id, sizeof(root.trace_id));

    /* out may be the parent itself */
    again = child;
    assert_int_equal(gw_trace_context_child(&again, &again), 0);
    assert_memory_equal(again.trace_id, child.trace_id, sizeof(child.trace_id));
    assert_memory_not_equal(again.parent_id, child.parent_id, sizeof(child.parent_id));

    assert_int_equal(gw_trace_context_generate(NULL), -1);
    assert_int_equal(gw_trace_context_child(NULL, &child), -1);
    assert_int_equal(gw_trace_context_child(&root, NULL), -1);
}

#define N_IDS 10000

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts n strings and fails if any two are equal. */
static void assert_all_distinct(char **items, size_t n)
{
    qsort(items, n, sizeof(items[0]), cmp_str);
    for (size_t i = 1; i < n; ++i)
        if (strcmp(items[i - 1], items[i]) == 0) {
            print_error("duplicate id %s\n", items[i]);
            fail();
        }
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_request_id_shape_and_uniqueness(void **state)
{
    (void)state;
    char(*ids)[GW_REQUEST_ID_SIZE] = calloc(N_IDS, GW_REQUEST_ID_SIZE);
    char **ptrs = calloc(N_IDS, sizeof(char *));
    assert_non_null(ids);
    assert_non_null(ptrs);
    unsigned seen[36] = {0}; /* per position: bit set of hex digit values seen */

    for (size_t n = 0; n < N_IDS; ++n) {
        char *id = ids[n];
        memset(id, 'X', GW_REQUEST_ID_SIZE);
        assert_int_equal(gw_request_id_generate(id), 0);
        assert_int_equal(strlen(id), 36);
        for (size_t i = 0; i < 36; ++i) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                assert_int_equal(id[i], '-');
            } else {
                assert_true(is_lower_hex(id[i]));
                seen[i] |= 1u << (id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
            }
        }
        assert_int_equal(id[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", id[19])); /* variant 10xx */
        ptrs[n] = id;
    }
    /* every random nibble took all its values (a miss by chance: about 16 * (15/16)^10000, never) */
    for (size_t i = 0; i < 36; ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            continue;
        if (i == 14)
            assert_int_equal(seen[i], 1u << 4);
        else if (i == 19)
            assert_int_equal(seen[i], 0xF00u);
        else
            assert_int_equal(seen[i], 0xFFFFu);
    }
    assert_all_distinct(ptrs, N_IDS);
    assert_int_equal(gw_request_id_generate(NULL), -1);
    free(ptrs);
    free(ids);
}

static void test_trace_ids_unique(void **state)
{
    (void)state;
    char(*texts)[GW_TRACEPARENT_SIZE] = calloc(N_IDS, GW_TRACEPARENT_SIZE);
    char(*parents)[GW_TRACEPARENT_SIZE] = calloc(N_IDS, GW_TRACEPARENT_SIZE);
    char **ptrs = calloc(N_IDS, sizeof(char *));
    assert_non_null(texts);
    assert_non_null(parents);
    assert_non_null(ptrs);
    gw_trace_context_t root, ctx;
    assert_int_equal(gw_trace_context_generate(&root), 0);

    for (size_t n = 0; n < N_IDS; ++n) {
        assert_int_equal(gw_trace_context_generate(&ctx), 0);
        gw_traceparent_format(&ctx, texts[n]);
        texts[n][35] = '\0'; /* keep "00-<trace-id>" */
        assert_int_equal(gw_trace_context_child(&root, &ctx), 0);
        gw_traceparent_format(&ctx, parents[n]);
    }
    for (size_t n = 0; n < N_IDS; ++n)
        ptrs[n] = texts[n];
    assert_all_distinct(ptrs, N_IDS);
    for (size_t n = 0; n < N_IDS; ++n)
        ptrs[n] = parents[n]; /* same trace id, so this compares the parent ids */
    assert_all_distinct(ptrs, N_IDS);
    free(ptrs);
    free(parents);
    free(texts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_generate_and_child),
        cmocka_unit_test(test_request_id_shape_and_uniqueness),
        cmocka_unit_test(test_trace_ids_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
