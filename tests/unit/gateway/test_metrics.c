/* Metrics: exposition format 0.0.4 (HELP/TYPE, counters summed over threads, histogram buckets cumulative),
 * label escaping, stable label ids, gateway reasons by status. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"

static char *render(void)
{
    size_t len = 0;
    char *text = gw_metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    fail_msg("missing line: %s\n--- in ---\n%s", line, text);
}

static void test_escape_label(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(gw_metrics_escape_label(out, "a\\b\"c\nd"), 10);
    assert_string_equal(out, "a\\\\b\\\"c\\nd");
    assert_int_equal(gw_metrics_escape_label(out, ""), 0);
    assert_string_equal(out, "");
}

static void test_label_ids_are_stable(void **state)
{
    (void)state;
    unsigned a = gw_metrics_route_label("kubeflow-alice", "nb/0");
    unsigned b = gw_metrics_route_label("kubeflow-bob", "nb/0");
    assert_int_not_equal(a, b);
    assert_int_equal(gw_metrics_route_label("kubeflow-alice", "nb/0"), a);
    /* same strings, other kind: another series */
    assert_int_not_equal(gw_metrics_namespace_label("kubeflow-alice"),
                         gw_metrics_cluster_label("kubeflow-alice", ""));
}

static void *count_on_thread(void *arg)
{
    (void)arg;
    unsigned route = gw_metrics_route_label("ns-thread", "vs/r");
    unsigned ns = gw_metrics_namespace_label("ns-thread");
    for (int i = 0; i < 1000; ++i)
        gw_metrics_request(route, ns, 200, 1, 1500);
    return NULL;
}

static void test_requests_summed_over_threads(void **state)
{
    (void)state;
    pthread_t threads[3];
    for (int i = 0; i < 3; ++i)
        assert_int_equal(pthread_create(&threads[i], NULL, count_on_thread, NULL), 0);
    for (int i = 0; i < 3; ++i)
        pthread_join(threads[i], NULL);
    count_on_thread(NULL);
    char *text = render();
    assert_line(text, "# TYPE tenantgate_requests_total counter");
    assert_line(text, "tenantgate_requests_total{namespace=\"ns-thread\",route=\"vs/"
                      "r\",code_class=\"2xx\",reason=\"upstream\"} 4000");
    /* 1.5 ms: not in le=0.001, in le=0.0025 and above; cumulative */
    assert_line(text, "tenantgate_request_duration_seconds_bucket{namespace=\"ns-thread\",le=\"0.001\"} 0");
    assert_line(text,
                "tenantgate_request_duration_seconds_bucket{namespace=\"ns-thread\",le=\"0.0025\"} 4000");
    assert_line(text, "tenantgate_request_duration_seconds_bucket{namespace=\"ns-thread\",le=\"+Inf\"} 4000");
    assert_line(text, "tenantgate_request_duration_seconds_count{namespace=\"ns-thread\"} 4000");
    assert_line(text, "tenantgate_request_duration_seconds_sum{namespace=\"ns-thread\"} 6.000000");
    free(text);
}

static void test_gateway_reasons_and_escaping(void **state)
{
    (void)state;
    unsigned route = gw_metrics_route_label("we\"ird\\ns", "line\nbreak");
    unsigned ns = gw_metrics_namespace_label("we\"ird\\ns");
    gw_metrics_request(route, ns, 403, 0, 10);
    gw_metrics_request(route, ns, 429, 0, 10);
    gw_metrics_request(route, ns, 503, 1, 10); /* the upstream's 503 */
    gw_metrics_request(route, ns, 302, 0, 10);
    gw_metrics_request(route, ns, 0, 0, 10);
    unsigned none = gw_metrics_route_label("", "");
    gw_metrics_request(none, gw_metrics_namespace_label(""), 431, 0, 10);
    char *text = render();
    const char *prefix = "tenantgate_requests_total{namespace=\"we\\\"ird\\\\ns\",route=\"line\\nbreak\",";
    char line[256];
    snprintf(line, sizeof(line), "%scode_class=\"4xx\",reason=\"forbidden\"} 1", prefix);
    assert_line(text, line);
    snprintf(line, sizeof(line), "%scode_class=\"4xx\",reason=\"rate_limited\"} 1", prefix);
    assert_line(text, line);
    snprintf(line, sizeof(line), "%scode_class=\"5xx\",reason=\"upstream\"} 1", prefix);
    assert_line(text, line);
    snprintf(line, sizeof(line), "%scode_class=\"3xx\",reason=\"authservice\"} 1", prefix);
    assert_line(text, line);
    snprintf(line, sizeof(line), "%scode_class=\"none\",reason=\"client_gone\"} 1", prefix);
    assert_line(text, line);
    assert_line(text, "tenantgate_requests_total{namespace=\"\",route=\"\",code_class=\"4xx\",reason="
                      "\"headers_too_large\"} 1");
    assert_null(strstr(text, "line\nbreak")); /* never a raw newline inside a label */
    free(text);
}

static void test_other_metrics(void **state)
{
    (void)state;
    gw_metrics_authz("kubeflow-alice", GW_METRICS_AUTHZ_DENY);
    gw_metrics_authz("kubeflow-alice", GW_METRICS_AUTHZ_DENY);
    gw_metrics_authz("kubeflow-alice", GW_METRICS_AUTHZ_ALLOW);
    gw_metrics_session_cache(1);
    gw_metrics_session_cache(0);
    gw_metrics_session_cache(0);
    gw_metrics_login(GW_METRICS_LOGIN_STARTED);
    gw_metrics_ejection("kubeflow-alice", "mnist|v1|8500");
    gw_metrics_upstream_connect_failure(gw_metrics_cluster_label("kubeflow-bob", "nb1|v1|8500"));
    gw_metrics_upstream_connect_failure(gw_metrics_cluster_label("kubeflow-bob", "nb1|v1|8500"));
    gw_metrics_config_generation(1);
    gw_metrics_config_reload(0, 0);
    gw_metrics_config_reload(1, 2);
    gw_metrics_inflight(1);
    gw_metrics_inflight(1);
    gw_metrics_inflight(-1);
    char *text = render();
    assert_line(text, "tenantgate_authz_decisions_total{namespace=\"kubeflow-alice\",decision=\"deny\"} 2");
    assert_line(text, "tenantgate_authz_decisions_total{namespace=\"kubeflow-alice\",decision=\"allow\"} 1");
    assert_line(text, "tenantgate_sessions_cache_total{result=\"hit\"} 1");
    assert_line(text, "tenantgate_sessions_cache_total{result=\"miss\"} 2");
    assert_line(text, "tenantgate_login_total{result=\"started\"} 1");
    assert_line(text, "tenantgate_login_total{result=\"failed\"} 0");
    assert_line(
        text,
        "tenantgate_upstream_ejections_total{namespace=\"kubeflow-alice\",cluster=\"mnist|v1|8500\"} 1");
    assert_line(
        text,
        "tenantgate_upstream_connect_failures_total{namespace=\"kubeflow-bob\",cluster=\"nb1|v1|8500\"} 2");
    assert_null(strstr(text, "tenantgate_upstream_ejections_total{namespace=\"kubeflow-bob\""));
    assert_line(text, "tenantgate_config_reloads_total{result=\"ok\"} 1");
    assert_line(text, "tenantgate_config_reloads_total{result=\"refused\"} 1");
    assert_line(text, "tenantgate_config_generation 2");
    assert_line(text, "tenantgate_inflight_requests 1");
    assert_line(text, "# TYPE tenantgate_request_duration_seconds histogram");
    assert_non_null(strstr(text, "tenantgate_build_info{version=\""));
    /* every line is a comment or "name{labels} value" / "name value" */
    for (char *line = text; *line != '\0';) {
        char *end = strchr(line, '\n');
        assert_non_null(end);
        if (line[0] != '#')
            assert_non_null(memchr(line, ' ', (size_t)(end - line)));
        line = end + 1;
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_label),
        cmocka_unit_test(test_label_ids_are_stable),
        cmocka_unit_test(test_requests_summed_over_threads),
        cmocka_unit_test(test_gateway_reasons_and_escaping),
        cmocka_unit_test(test_other_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
