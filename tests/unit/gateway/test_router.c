/* The routing table: precedence of exact and prefix matches, weighted picks,
 * clusters built from ServiceEntry endpoints and DestinationRule subsets. */
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

/* Plaintext upstreams: the router test needs no certificate files. */
static const char routes_yaml[] =
    "apiVersion: networking.istio.io/v1beta1\n"
    "kind: Gateway\n"
    "metadata: {name: gw, namespace: istio-system}\n"
    "spec:\n"
    "  servers:\n"
    "  - port: {number: 18080, name: http, protocol: HTTP}\n"
    "    bind: 127.0.0.1\n"
    "    hosts: ['*']\n"
    "---\n"
    "apiVersion: networking.istio.io/v1beta1\n"
    "kind: ServiceEntry\n"
    "metadata: {name: mnist, namespace: kubeflow-alice}\n"
    "spec:\n"
    "  hosts: [mnist.kubeflow-alice.svc.cluster.local]\n"
    "  resolution: STATIC\n"
    "  ports: [{number: 8500, name: http, protocol: HTTP}]\n"
    "  endpoints:\n"
    "  - {address: 127.0.0.1, ports: {http: 18501}, labels: {version: v1}}\n"
    "  - {address: 127.0.0.2, ports: {http: 18501}, labels: {version: v1}}\n"
    "  - {address: 127.0.0.1, ports: {http: 18502}, labels: {version: v2}}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1beta1\n"
    "kind: DestinationRule\n"
    "metadata: {name: mnist, namespace: kubeflow-alice}\n"
    "spec:\n"
    "  host: mnist.kubeflow-alice.svc.cluster.local\n"
    "  subsets:\n"
    "  - {name: v1, labels: {version: v1}}\n"
    "  - {name: v2, labels: {version: v2}}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1beta1\n"
    "kind: VirtualService\n"
    "metadata: {name: mnist, namespace: kubeflow-alice}\n"
    "spec:\n"
    "  hosts: ['*']\n"
    "  gateways: [istio-system/gw]\n"
    "  http:\n"
    "  - name: split\n"
    "    match: [{uri: {prefix: /serving/kubeflow-alice/mnist/}}]\n"
    "    route:\n"
    "    - {destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v1}, weight: 95}\n"
    "    - {destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v2}, weight: 5}\n"
    "  - name: v2-only\n"
    "    match: [{uri: {prefix: /serving/kubeflow-alice/mnist/v2/}}]\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v2}}]\n"
    "  - name: exact\n"
    "    match: [{uri: {exact: /serving/kubeflow-alice/mnist/v2/}}]\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v1}}]\n"
    "  - name: canary-header\n"
    "    match:\n"
    "    - uri: {prefix: /models/}\n"
    "      headers: {x-canary: {exact: 'yes'}, cookie: {regex: '.*user=(alice|bob).*'}}\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v2}}]\n"
    "  - name: post-only\n"
    "    match: [{uri: {prefix: /models/}, method: {exact: POST}, queryParams: {debug: {}}}]\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v2}}]\n"
    "  - name: not-internal\n"
    "    match: [{uri: {prefix: /models/}, withoutHeaders: {x-internal: {}}}]\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v1}}]\n"
    "  - name: regex\n"
    "    match: [{uri: {regex: '/v[0-9]+/models/[a-z]+'}}]\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v1}}]\n"
    "  - name: nocase\n"
    "    match: [{uri: {exact: /Upper/Case}, ignoreUriCase: true}]\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v1}}]\n"
    "  - name: short\n"
    "    match: [{uri: {prefix: /serving/}}]\n"
    "    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v1}}]\n";

static int setup(void **state)
{
    return router_fixture_setup(state, "/tmp/router-test.yaml", routes_yaml);
}

static const char *route_with(const gw_router_t *router, const char *method, const char *target,
                              const char *const *headers, size_t *matched)
{
    const gw_route_t *route = route_match(router, method, target, headers, matched);
    return route != NULL ? route->config->name : NULL;
}

static const char *route_for(const gw_router_t *router, const char *path, size_t *matched)
{
    return route_with(router, "GET", path, NULL, matched);
}

static void test_conditions(void **state)
{
    fixture_t *fixture = *state;
    static const char *const canary[] = {"x-canary: yes", "cookie: a=1; user=alice; b=2", NULL};
    static const char *const canary_wrong_user[] = {"x-canary: yes", "cookie: user=carol", NULL};
    static const char *const canary_no_cookie[] = {"x-canary: yes", NULL};
    static const char *const internal[] = {"x-internal: 1", NULL};
    static const struct {
        const char *method, *target;
        const char *const *headers;
        const char *route;
    } cases[] = {
        {"GET", "/models/x", canary, "canary-header"},
        {"GET", "/models/x", canary_wrong_user, "not-internal"},
        {"GET", "/models/x", canary_no_cookie, "not-internal"},
        {"POST", "/models/x?debug", NULL, "post-only"},
        {"POST", "/models/x?a=1&debug=&b", NULL, "post-only"},
        {"POST", "/models/x?debugging=1", NULL, "not-internal"},
        {"GET", "/models/x?debug", NULL, "not-internal"},
        {"GET", "/models/x", internal, NULL},
        {"GET", "/v2/models/mnist", NULL, "regex"},
        {"GET", "/v2/models/mnist/extra", NULL, NULL},
        {"GET", "/vx/models/mnist", NULL, NULL},
        {"GET", "/upper/CASE", NULL, "nocase"},
        {"GET", "/upper/case/x", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        size_t matched;
        const char *name =
            route_with(fixture->router, cases[i].method, cases[i].target, cases[i].headers, &matched);
        if (cases[i].route == NULL ? name != NULL : name == NULL || strcmp(name, cases[i].route) != 0)
            fail_msg("case %zu %s %s: expected %s, got %s", i, cases[i].method, cases[i].target,
                     cases[i].route ? cases[i].route : "(none)", name ? name : "(none)");
    }
}

static void test_precedence(void **state)
{
    fixture_t *fixture = *state;
    static const struct {
        const char *path;
        const char *route;
        size_t matched;
    } cases[] = {
        {"/serving/kubeflow-alice/mnist/v2/", "exact", 33},
        {"/serving/kubeflow-alice/mnist/v2/x", "v2-only", 33},
        {"/serving/kubeflow-alice/mnist/v1/models/mnist", "split", 30},
        {"/serving/kubeflow-alice/mnist/", "split", 30},
        {"/serving/kubeflow-alice/mnist", "short", 9},
        {"/serving/", "short", 9},
        {"/serving", NULL, 0},
        {"/", NULL, 0},
        {"/notebook/kubeflow-alice/", NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        size_t matched = 0;
        const char *name = route_for(fixture->router, cases[i].path, &matched);
        if (cases[i].route == NULL) {
            if (name != NULL)
                fail_msg("%s: expected no route, got %s", cases[i].path, name);
            continue;
        }
        if (name == NULL || strcmp(name, cases[i].route) != 0)
            fail_msg("%s: expected %s, got %s", cases[i].path, cases[i].route, name ? name : "(none)");
        assert_int_equal(matched, cases[i].matched);
    }
}

static void test_weights_split_by_roll(void **state)
{
    fixture_t *fixture = *state;
    size_t matched;
    assert_string_equal(route_for(fixture->router, "/serving/kubeflow-alice/mnist/x", &matched), "split");
    const gw_route_t *route = NULL;
    for (size_t slot = 0; slot < gw_router_slot_count(fixture->router) && route == NULL; ++slot)
        if (strcmp(gw_router_slot_route(fixture->router, slot)->config->name, "split") == 0)
            route = gw_router_slot_route(fixture->router, slot);
    assert_non_null(route);
    assert_int_equal(route->total_weight, 100);
    assert_int_equal(route->target_count, 2);
    /* smooth weighted round robin: exactly 95/5 in every run of 100 picks, v2 spread out (not 5 in a row) */
    int split[2] = {0, 0};
    unsigned v1 = 0, v2 = 0, v2_in_a_row = 0, longest_v2_run = 0;
    for (unsigned pick = 0; pick < 3 * route->total_weight; ++pick) {
        const gw_route_target_t *target = gw_route_pick(route, split);
        if (strcmp(target->config->subset, "v1") == 0) {
            ++v1;
            v2_in_a_row = 0;
        } else {
            ++v2;
            if (++v2_in_a_row > longest_v2_run)
                longest_v2_run = v2_in_a_row;
        }
        if ((pick + 1) % route->total_weight == 0) {
            assert_int_equal(v1, 95 * (pick + 1) / 100);
            assert_int_equal(v2, 5 * (pick + 1) / 100);
        }
    }
    assert_int_equal(longest_v2_run, 1);
}

static void test_clusters_follow_subset_labels(void **state)
{
    fixture_t *fixture = *state;
    const gw_cluster_table_t *clusters = gw_router_clusters(fixture->router);
    /* v1 and v2 of one host: two clusters, shared by every route that names them */
    assert_int_equal(clusters->count, 2);
    for (size_t i = 0; i < clusters->count; ++i) {
        const gw_cluster_t *cluster = &clusters->clusters[i];
        assert_null(cluster->ssl_ctx);
        assert_int_equal(cluster->port, 8500);
        if (strcmp(cluster->subset, "v1") == 0) {
            assert_int_equal(cluster->endpoint_count, 2);
            assert_string_equal(cluster->endpoints[0].label, "127.0.0.1:18501");
            assert_string_equal(cluster->endpoints[1].label, "127.0.0.2:18501");
        } else {
            assert_string_equal(cluster->subset, "v2");
            assert_int_equal(cluster->endpoint_count, 1);
            assert_string_equal(cluster->endpoints[0].label, "127.0.0.1:18502");
        }
    }
    /* every target has a distinct slot */
    size_t slots = gw_router_slot_count(fixture->router);
    assert_int_equal(slots, 10);
    for (size_t s = 0; s < slots; ++s)
        assert_int_equal(gw_router_slot(fixture->router, s)->slot, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_weights_split_by_roll),
        cmocka_unit_test(test_clusters_follow_subset_labels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
