/* Token buckets per user and per namespace, on an explicit clock. */
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rate_limit.h"

static void test_user_bucket(void **state)
{
    (void)state;
    gw_rate_limit_t *limit = gw_rate_limit_new(2, 3, 0, 0); /* 2/s, burst 3, no namespace limit */
    double wait;
    for (int i = 0; i < 3; ++i)
        assert_int_equal(gw_rate_limit_take_at(limit, "alice", "ns", 100.0, &wait), 1);
    assert_int_equal(gw_rate_limit_take_at(limit, "alice", "ns", 100.0, &wait), 0);
    assert_true(wait > 0.49 && wait < 0.51);                                      /* one token at 2/s */
    assert_int_equal(gw_rate_limit_take_at(limit, "bob", "ns", 100.0, &wait), 1); /* his own bucket */
    assert_int_equal(gw_rate_limit_take_at(limit, NULL, "ns", 100.0, &wait),
                     1); /* anonymous: no user limit */
    assert_int_equal(gw_rate_limit_take_at(limit, "alice", "ns", 100.5, &wait), 1);
    assert_int_equal(gw_rate_limit_take_at(limit, "alice", "ns", 100.5, &wait), 0);
    /* refills up to burst only */
    for (int i = 0; i < 3; ++i)
        assert_int_equal(gw_rate_limit_take_at(limit, "alice", "ns", 1000.0, &wait), 1);
    assert_int_equal(gw_rate_limit_take_at(limit, "alice", "ns", 1000.0, &wait), 0);
    gw_rate_limit_free(limit);
}

static void test_namespace_bucket(void **state)
{
    (void)state;
    gw_rate_limit_t *limit = gw_rate_limit_new(100, 100, 1, 2);
    double wait;
    assert_int_equal(gw_rate_limit_take_at(limit, "alice", "kubeflow-alice", 5.0, &wait), 1);
    assert_int_equal(gw_rate_limit_take_at(limit, "bob", "kubeflow-alice", 5.0, &wait), 1);
    assert_int_equal(gw_rate_limit_take_at(limit, "carol", "kubeflow-alice", 5.0, &wait), 0);
    assert_true(wait > 0.99 && wait < 1.01);
    assert_int_equal(gw_rate_limit_take_at(limit, "carol", "kubeflow-bob", 5.0, &wait), 1);
    /* a refused request takes nothing: carol's user bucket still holds 99 tokens after one pass */
    assert_int_equal(gw_rate_limit_take_at(limit, "carol", "kubeflow-alice", 6.0, &wait), 1);
    gw_rate_limit_free(limit);
}

/* Many keys: the table evicts and keeps working. */
static void test_many_keys(void **state)
{
    (void)state;
    gw_rate_limit_t *limit = gw_rate_limit_new(1, 1, 0, 0);
    double wait;
    char user[32];
    for (int i = 0; i < 50000; ++i) {
        snprintf(user, sizeof(user), "user-%d", i);
        assert_int_equal(gw_rate_limit_take_at(limit, user, "ns", (double)i, &wait), 1);
    }
    gw_rate_limit_free(limit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_bucket),
        cmocka_unit_test(test_namespace_bucket),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
