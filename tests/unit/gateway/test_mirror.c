/* Mirroring pieces that need no network: the shadow authority (Envoy's "-shadow" before the port) and
 * mirrorPercentage as parts per million; the router's mirror cluster. The copies themselves are tested
 * end to end in tests/integration/mirror.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "mirror.h"
#include "router.h"
#include "router_test_util.h"

static void test_shadow_authority(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"localhost:8443", "localhost-shadow:8443"},
        {"models.example.com", "models.example.com-shadow"},
        {"[::1]:8443", "[::1]-shadow:8443"},
        {"[::1]", "[::1]-shadow"},
        {"", "-shadow"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char out[64];
        size_t len = gw_mirror_shadow_authority(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        assert_string_equal(out, cases[i].out);
        assert_int_equal(len, strlen(cases[i].out));
    }
    char small[12];
    assert_int_equal(gw_mirror_shadow_authority("localhost:8443", 14, small, sizeof(small)), 0);
}

#define SERVICE MNIST_SERVICE

static gw_config_t *load_with_percentage(const char *percentage, char *err)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             MNIST_V1_V2_DOCS "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
                              "metadata: {name: mnist, namespace: kubeflow-alice}\n"
                              "spec:\n  hosts: ['*']\n  http:\n"
                              "  - route: [{destination: {host: " SERVICE ", subset: v1}}]\n"
                              "    mirror: {host: " SERVICE ", subset: v2}\n"
                              "%s%s%s",
             percentage != NULL ? "    mirrorPercentage: {value: " : "", percentage != NULL ? percentage : "",
             percentage != NULL ? "}\n" : "");
    return gw_config_load_buffer("/tmp/mirror-test.yaml", yaml, strlen(yaml), err);
}

static void test_percentages(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned per_million;
    } cases[] = {
        {NULL, 1000000},     {"100", 1000000},      {"0", 0},
        {"5", 50000},        {"12.5", 125000},      {"0.0001", 1},
        {"99.9999", 999999}, {"100.0000", 1000000}, {"2.50000", 25000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char err[GW_CONFIG_ERROR_SIZE];
        gw_config_t *config = load_with_percentage(cases[i].text, err);
        if (config == NULL)
            fail_msg("%s: %s", cases[i].text ? cases[i].text : "(none)", err);
        assert_int_equal(config->virtual_services[0].http[0].mirror_per_million, cases[i].per_million);
        gw_config_release(config);
    }
    static const char *const refused[] = {"100.0001", "1e2", ".5", "5.", "0x10", "-0", "101", "5%"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
        char err[GW_CONFIG_ERROR_SIZE];
        gw_config_t *config = load_with_percentage(refused[i], err);
        if (config != NULL) {
            gw_config_release(config);
            fail_msg("%s was accepted", refused[i]);
        }
        assert_non_null(strstr(err, "mirrorPercentage.value: expected a percentage"));
    }
}

static void test_router_mirror_cluster(void **state)
{
    (void)state;
    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = load_with_percentage("50", err);
    assert_non_null(config);
    char router_err[1024];
    gw_router_t *router = gw_router_new(config, router_err, sizeof(router_err));
    assert_non_null(router);
    const gw_route_t *route = gw_router_slot_route(router, 0);
    assert_true(route->mirror_cluster >= 0);
    const gw_cluster_t *cluster = &gw_router_clusters(router)->clusters[route->mirror_cluster];
    assert_string_equal(cluster->subset, "v2");
    assert_int_equal(cluster->endpoint_count, 1);
    assert_true(route->targets[0].cluster != (size_t)route->mirror_cluster);
    /* --check-config shows the mirror and its share */
    char *summary = NULL;
    size_t summary_len = 0;
    FILE *fp = open_memstream(&summary, &summary_len);
    assert_non_null(fp);
    gw_config_print_summary(config, fp);
    fclose(fp);
    assert_non_null(strstr(summary, "; mirror " SERVICE " subset v2 50.0000%\n"));
    free(summary);
    gw_router_free(router);
    gw_config_release(config);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shadow_authority),
        cmocka_unit_test(test_percentages),
        cmocka_unit_test(test_router_mirror_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
