/* TenantGate spec.accessLog: an absolute file or "-" loads; anything else is one error naming FILE:LINE:COL
 * and the field. */
#include "config_test_util.h"

#define GW                                                                                                   \
    "---\napiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: edge, namespace: "        \
    "istio-system}\n"                                                                                        \
    "spec:\n  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"
#define TG(spec) "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: t}\nspec: " spec "\n"

static void test_loads(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(TG("{accessLog: {file: /tmp/access.jsonl}}") GW);
    assert_string_equal(config->settings.access_log_file, "/tmp/access.jsonl");
    gw_config_release(config);
    config = load_ok(TG("{accessLog: {file: \"-\"}}") GW);
    assert_string_equal(config->settings.access_log_file, "-");
    gw_config_release(config);
    config = load_ok(TG("{}") GW);
    assert_null(config->settings.access_log_file);
    gw_config_release(config);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
