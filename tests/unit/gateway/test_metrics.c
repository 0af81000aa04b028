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

#include "authservice/session_id.h"
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
    gw_metrics_authz(gw_metrics_namespace_label("kubeflow-alice"), GW_METRICS_AUTHZ_DENY);
    gw_metrics_authz(gw_metrics_namespace_label("kubeflow-alice"), GW_METRICS_AUTHZ_DENY);
    gw_metrics_authz(gw_metrics_namespace_label("kubeflow-alice"), GW_METRICS_AUTHZ_ALLOW);
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

/* Puts sessions "<tag>-0".."<tag>-(count-1)" into cache. */
static void fill(as_session_cache_t *cache, const char *tag, unsigned count)
{
    for (unsigned i = 0; i < count; ++i) {
        char id[32], key[AS_SESSION_KEY_LEN + 1];
        int len = snprintf(id, sizeof(id), "%s-%u", tag, i);
        as_session_key(id, (size_t)len, key);
        as_session_record_t *r = calloc(1, sizeof(*r));
        assert_non_null(r);
        r->subject = strdup("alice");
        r->issuer = strdup("https://idp.example");
        r->id_token = strdup("a.b.c");
        assert_int_equal(as_session_cache_put(cache, key, r, as_session_cache_epoch(cache, key), 0, NULL), 0);
    }
}

static as_session_cache_t *cache_of(size_t max_entries)
{
    as_session_cache_options_t opts;
    as_session_cache_options_init(&opts);
    opts.max_entries = max_entries;
    opts.shards = 1; /* exact LRU: the figures below do not depend on how keys spread over shards */
    as_session_cache_t *cache = as_session_cache_new(&opts, NULL, 0);
    assert_non_null(cache);
    return cache;
}

/* The caches of the live generations are summed; a detached one keeps its evictions in the counter. */
static void test_session_cache_gauges(void **state)
{
    (void)state;
    char *text = render();
    assert_line(text, "# TYPE tenantgate_session_cache_entries gauge");
    assert_line(text, "tenantgate_session_cache_entries 0");
    assert_line(text, "tenantgate_session_cache_max_entries 0");
    assert_line(text, "tenantgate_session_cache_evictions_total 0");
    free(text);

    as_session_cache_t *old = cache_of(100), *current = cache_of(50);
    assert_int_equal(gw_metrics_session_cache_attach(old), 0);
    fill(old, "old", 130); /* 30 evicted */
    assert_int_equal(gw_metrics_session_cache_attach(current), 0);
    fill(current, "new", 20);
    text = render();
    assert_line(text, "tenantgate_session_cache_entries 120");
    assert_line(text, "tenantgate_session_cache_max_entries 150");
    assert_line(text, "tenantgate_session_cache_evictions_total 30");
    free(text);

    gw_metrics_session_cache_detach(old); /* the reload's old generation goes away */
    as_session_cache_free(old);
    fill(current, "more", 40); /* 60 sessions into 50 entries: 10 evicted */
    text = render();
    assert_line(text, "tenantgate_session_cache_entries 50");
    assert_line(text, "tenantgate_session_cache_max_entries 50");
    assert_line(text, "tenantgate_session_cache_evictions_total 40");
    free(text);

    gw_metrics_session_cache_detach(current);
    gw_metrics_session_cache_detach(current); /* not attached any more: ignored */
    as_session_cache_free(current);
    text = render();
    assert_line(text, "tenantgate_session_cache_entries 0");
    assert_line(text, "tenantgate_session_cache_evictions_total 40");
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
        cmocka_unit_test(test_session_cache_gauges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
