/* Retry decisions of gateway/retry.c: idempotent methods (RFC 9110), how a failed try is classified from
 * libh2o's messages, which retryOn conditions cover it, and the per-worker retry budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "retry.h"

static void test_idempotent_methods(void **state)
{
    (void)state;
    static const char *const yes[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    static const char *const no[] = {"POST", "PATCH", "CONNECT", "get", "GETX", "", "PROPFIND"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); ++i)
        assert_true(gw_retry_idempotent(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); ++i)
        if (gw_retry_idempotent(no[i], strlen(no[i])))
            fail_msg("%s counted as idempotent", no[i]);
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *message;
        gw_try_failure_t failure;
    } cases[] = {
        {"connection failed", GW_TRY_CONNECT_FAILURE},
        {"connection refused", GW_TRY_CONNECT_FAILURE},
        {"connection timeout", GW_TRY_CONNECT_FAILURE},
        {"ssl certificate verification failed", GW_TRY_CONNECT_FAILURE},
        {"I/O timeout", GW_TRY_TIMEOUT},
        {"I/O error (head)", GW_TRY_RESET},
        {"I/O error (send request)", GW_TRY_RESET},
        {"failed to parse the response", GW_TRY_RESET},
        {"invalid content-length", GW_TRY_RESET},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
        if (gw_retry_classify(cases[i].message, strlen(cases[i].message)) != cases[i].failure)
            fail_msg("\"%s\" misclassified", cases[i].message);
}

static void test_retry_on(void **state)
{
    (void)state;
    const unsigned deflt = GW_RETRY_CONNECT_FAILURE | GW_RETRY_RESET | GW_RETRY_503;
    assert_true(gw_retry_on_matches(deflt, GW_TRY_CONNECT_FAILURE, 502));
    assert_true(gw_retry_on_matches(deflt, GW_TRY_RESET, 502));
    assert_false(gw_retry_on_matches(deflt, GW_TRY_TIMEOUT, 504));
    assert_true(gw_retry_on_matches(deflt, GW_TRY_STATUS, 503));
    assert_false(gw_retry_on_matches(deflt, GW_TRY_STATUS, 502));
    assert_true(gw_retry_on_matches(GW_RETRY_GATEWAY_ERROR, GW_TRY_TIMEOUT, 504));
    assert_true(gw_retry_on_matches(GW_RETRY_GATEWAY_ERROR, GW_TRY_STATUS, 502));
    assert_false(gw_retry_on_matches(GW_RETRY_GATEWAY_ERROR, GW_TRY_STATUS, 500));
    assert_true(gw_retry_on_matches(GW_RETRY_5XX, GW_TRY_STATUS, 500));
    assert_false(gw_retry_on_matches(GW_RETRY_5XX, GW_TRY_STATUS, 404));
    assert_false(gw_retry_on_matches(GW_RETRY_CONNECT_FAILURE, GW_TRY_RESET, 502));
    assert_false(gw_retry_on_matches(GW_RETRY_CONNECT_FAILURE, GW_TRY_STATUS, 503));
    assert_true(gw_retry_on_matches(GW_RETRY_504, GW_TRY_TIMEOUT, 504));
    assert_false(gw_retry_on_matches(GW_RETRY_504, GW_TRY_STATUS, 503));
}

static void test_budget(void **state)
{
    (void)state;
    gw_retry_budget_t budget;
    memset(&budget, 0, sizeof(budget));
    uint64_t now = 1700000000000ULL;
    /* few requests: the floor of 3 a second over the 10 s window */
    unsigned taken = 0;
    for (int i = 0; i < 100; ++i)
        taken += (unsigned)gw_retry_budget_take(&budget, now);
    assert_int_equal(taken, GW_RETRY_BUDGET_MIN_PER_S * GW_RETRY_BUDGET_WINDOW_S);
    /* many requests: 20% of them */
    for (int i = 0; i < 1000; ++i)
        gw_retry_budget_request(&budget, now + 1000);
    taken = 0;
    for (int i = 0; i < 1000; ++i)
        taken += (unsigned)gw_retry_budget_take(&budget, now + 1000);
    assert_int_equal(taken, 200 - 30);
    /* the window slides: 10 s later the old retries no longer count */
    taken = 0;
    for (int i = 0; i < 100; ++i)
        taken += (unsigned)gw_retry_budget_take(&budget, now + 11000);
    assert_int_equal(taken, GW_RETRY_BUDGET_MIN_PER_S * GW_RETRY_BUDGET_WINDOW_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent_methods),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_retry_on),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
