/* Sticky weighted splits (tenantgate.io/sticky-split: user): over 10,000 synthetic users the shares of
 * 95/5 and 50/50 splits stay within one percentage point of the weights, a user always lands on the same
 * target, the hash is the documented one, and a VirtualService without the annotation is not sticky. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "router.h"
#include "router_test_util.h"
#include "sticky_split.h"

#define SERVICE MNIST_SERVICE
#define DEST(subset, weight)                                                                                 \
    "    - {destination: {host: " SERVICE ", subset: " subset "}, weight: " weight "}\n"

static const char yaml[] = MNIST_V1_V2_DOCS
    "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
    "metadata:\n  name: mnist\n  namespace: kubeflow-alice\n"
    "  annotations: {tenantgate.io/sticky-split: user, example.com/owner: ml-team}\n"
    "spec:\n  hosts: ['*']\n  http:\n"
    "  - name: canary\n    match: [{uri: {prefix: /canary/}}]\n    route:\n" DEST("v1", "95")
        DEST("v2", "5") "  - name: even\n    match: [{uri: {prefix: /even/}}]\n    route:\n" DEST("v1", "50")
            DEST("v2", "50") "---\n"
                             "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
                             "metadata: {name: plain, namespace: kubeflow-alice}\n"
                             "spec:\n  hosts: ['*']\n  http:\n"
                             "  - name: plain\n    match: [{uri: {prefix: /plain/}}]\n    route:\n" DEST(
                                 "v1", "50") DEST("v2", "50");

static int setup(void **state)
{
    return router_fixture_setup(state, "/tmp/sticky-test.yaml", yaml);
}

static const gw_route_t *route_for(const gw_router_t *router, const char *path)
{
    size_t matched;
    const gw_route_t *route = route_match(router, "GET", path, NULL, &matched);
    assert_non_null(route);
    return route;
}

static const char *subset_of(const gw_route_target_t *target)
{
    return target->config->subset;
}

/* The share of v2 over 10,000 users, checking on the way that each user's pick does not change. */
static double v2_share(const gw_route_t *route)
{
    enum { USERS = 10000 };
    unsigned v2 = 0;
    for (unsigned i = 0; i < USERS; ++i) {
        char user[64];
        int len = snprintf(user, sizeof(user), "user%u@example.com", i);
        const gw_route_target_t *first = gw_sticky_split_pick(route, user, (size_t)len);
        assert_non_null(first);
        for (int again = 0; again < 3; ++again)
            assert_ptr_equal(gw_sticky_split_pick(route, user, (size_t)len), first);
        v2 += strcmp(subset_of(first), "v2") == 0;
    }
    return (double)v2 / USERS;
}

static void test_shares_follow_weights(void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal(route_for(fixture->router, "/canary/x")->service->sticky_split, GW_STICKY_USER);
    double canary = v2_share(route_for(fixture->router, "/canary/x"));
    double even = v2_share(route_for(fixture->router, "/even/x"));
    if (canary < 0.04 || canary > 0.06)
        fail_msg("95/5: v2 got %.2f%% of the users", canary * 100);
    if (even < 0.49 || even > 0.51)
        fail_msg("50/50: v2 got %.2f%% of the users", even * 100);
}

/* A user keeps their target, and the target is the one the documented hash names. */
static void test_users_spread_and_stick(void **state)
{
    fixture_t *fixture = *state;
    const gw_route_t *even = route_for(fixture->router, "/even/x");
    const gw_route_target_t *alice = gw_sticky_split_pick(even, "alice@example.com", 17);
    const gw_route_target_t *bob = gw_sticky_split_pick(even, "bob@example.com", 15);
    for (int i = 0; i < 100; ++i) {
        assert_ptr_equal(gw_sticky_split_pick(even, "alice@example.com", 17), alice);
        assert_ptr_equal(gw_sticky_split_pick(even, "bob@example.com", 15), bob);
    }
    /* the documented hash decides: salt "namespace/name" */
    uint64_t point = gw_sticky_hash("kubeflow-alice/mnist", "alice@example.com", 17) % 100;
    assert_string_equal(subset_of(alice), point < 50 ? "v1" : "v2");
}

/* The hash is a fixed function (no per-process seed): a known value, computed independently in Python. */
static void test_hash_is_stable(void **state)
{
    (void)state;
    assert_true(gw_sticky_hash("kubeflow-alice/mnist", "alice@example.com", 17) ==
                gw_sticky_hash("kubeflow-alice/mnist", "alice@example.com", 17));
    assert_true(gw_sticky_hash("kubeflow-alice/mnist", "alice@example.com", 17) !=
                gw_sticky_hash("kubeflow-alice/other", "alice@example.com", 17));
    /* the salt ends with NUL: "a" + "b/c" differs from "a/b" + "c" */
    assert_true(gw_sticky_hash("a", "b/c", 3) != gw_sticky_hash("a/b", "c", 1));
    assert_true(gw_sticky_hash("", "", 0) == 0x25fc6dd36ce04b20ULL);
}

static void test_not_sticky_without_annotation(void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal(route_for(fixture->router, "/plain/x")->service->sticky_split, GW_STICKY_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shares_follow_weights),
        cmocka_unit_test(test_users_spread_and_stick),
        cmocka_unit_test(test_hash_is_stable),
        cmocka_unit_test(test_not_sticky_without_annotation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
