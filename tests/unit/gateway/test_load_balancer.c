/* The endpoint choice of gateway/load_balancer.c: round robin takes turns and skips ejected endpoints,
 * least request takes the fewest in flight (ties in turn; two random choices over large sets), random
 * spreads evenly, and nothing is picked when every endpoint is out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "load_balancer.h"

static void all_available(gw_lb_endpoint_t *endpoints, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        endpoints[i] = (gw_lb_endpoint_t){.inflight = 0, .available = 1};
}

static void test_round_robin_takes_turns_and_skips_ejected(void **state)
{
    (void)state;
    gw_lb_endpoint_t eps[3];
    all_available(eps, 3);
    size_t cursor = 0;
    for (long i = 0; i < 6; ++i)
        assert_int_equal(gw_lb_pick(GW_LB_ROUND_ROBIN, eps, 3, &cursor, 0), i % 3);
    eps[1].available = 0;
    long seen[3] = {0};
    for (int i = 0; i < 10; ++i)
        ++seen[gw_lb_pick(GW_LB_ROUND_ROBIN, eps, 3, &cursor, 0)];
    assert_int_equal(seen[1], 0);
    assert_int_equal(seen[0], 5);
    assert_int_equal(seen[2], 5);
}

static void test_nothing_available(void **state)
{
    (void)state;
    gw_lb_endpoint_t eps[2] = {{0, 0}, {0, 0}};
    size_t cursor = 0;
    const gw_lb_policy_t policies[] = {GW_LB_ROUND_ROBIN, GW_LB_LEAST_REQUEST, GW_LB_RANDOM};
    for (size_t p = 0; p < 3; ++p)
        assert_int_equal(gw_lb_pick(policies[p], eps, 2, &cursor, 12345), -1);
    assert_int_equal(gw_lb_pick(GW_LB_LEAST_REQUEST, eps, 0, &cursor, 1), -1);
}

static void test_least_request_takes_the_fewest(void **state)
{
    (void)state;
    gw_lb_endpoint_t eps[4];
    all_available(eps, 4);
    eps[0].inflight = 3;
    eps[1].inflight = 1;
    eps[2].inflight = 2;
    eps[3].inflight = 1;
    size_t cursor = 0;
    /* 1 and 3 tie: the cursor decides, so they alternate */
    long first = gw_lb_pick(GW_LB_LEAST_REQUEST, eps, 4, &cursor, 0);
    long second = gw_lb_pick(GW_LB_LEAST_REQUEST, eps, 4, &cursor, 0);
    assert_true((first == 1 && second == 3) || (first == 3 && second == 1) || (first == 1 && second == 1));
    eps[3].available = 0; /* ejected: never picked, however idle */
    eps[3].inflight = 0;
    for (int i = 0; i < 8; ++i)
        assert_int_equal(gw_lb_pick(GW_LB_LEAST_REQUEST, eps, 4, &cursor, 0), 1);
}

/* Simulates a worker: each pick adds one in flight; the slow endpoint (0) finishes one request per 10 picks,
 * the fast ones finish at once. Least request must send the slow endpoint far less than its round robin
 * share. */
static void test_least_request_avoids_a_slow_endpoint(void **state)
{
    (void)state;
    gw_lb_endpoint_t eps[2];
    all_available(eps, 2);
    size_t cursor = 0;
    unsigned slow = 0;
    for (int i = 0; i < 1000; ++i) {
        long e = gw_lb_pick(GW_LB_LEAST_REQUEST, eps, 2, &cursor, 0);
        ++eps[e].inflight;
        slow += e == 0;
        if (e == 1)
            --eps[1].inflight; /* fast: done before the next pick */
        if (i % 10 == 9 && eps[0].inflight > 0)
            --eps[0].inflight;
    }
    if (slow > 150)
        fail_msg("the slow endpoint got %u of 1000", slow);
}

static void test_two_choices_over_a_large_set(void **state)
{
    (void)state;
    enum { N = GW_LB_FULL_SCAN_MAX + 4 };
    gw_lb_endpoint_t eps[N];
    all_available(eps, N);
    for (size_t i = 0; i < N; ++i)
        eps[i].inflight = 5;
    eps[7].inflight = 0;
    size_t cursor = 0;
    /* two choices: random picks 7 and 12 -> the idler one, whichever order */
    uint64_t r = ((uint64_t)12 << 32) | 7;
    assert_int_equal(gw_lb_pick(GW_LB_LEAST_REQUEST, eps, N, &cursor, r), 7);
    r = ((uint64_t)7 << 32) | 12;
    assert_int_equal(gw_lb_pick(GW_LB_LEAST_REQUEST, eps, N, &cursor, r), 7);
    /* an ejected endpoint is not counted: the 8th available is index 8 when 3 is out */
    eps[3].available = 0;
    r = ((uint64_t)7 << 32) | 7;
    assert_int_equal(gw_lb_pick(GW_LB_LEAST_REQUEST, eps, N, &cursor, r), 8);
}

static void test_random_spreads_evenly(void **state)
{
    (void)state;
    gw_lb_endpoint_t eps[4];
    all_available(eps, 4);
    eps[2].available = 0;
    unsigned seen[4] = {0};
    size_t cursor = 0;
    uint64_t x = 88172645463325252ULL; /* xorshift64: a fixed sequence */
    for (int i = 0; i < 30000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ++seen[gw_lb_pick(GW_LB_RANDOM, eps, 4, &cursor, x)];
    }
    assert_int_equal(seen[2], 0);
    for (int i = 0; i < 4; ++i)
        if (i != 2 && (seen[i] < 9500 || seen[i] > 10500))
            fail_msg("endpoint %d got %u of 30000", i, seen[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin_takes_turns_and_skips_ejected),
        cmocka_unit_test(test_nothing_available),
        cmocka_unit_test(test_least_request_takes_the_fewest),
        cmocka_unit_test(test_least_request_avoids_a_slow_endpoint),
        cmocka_unit_test(test_two_choices_over_a_large_set),
        cmocka_unit_test(test_random_spreads_evenly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
