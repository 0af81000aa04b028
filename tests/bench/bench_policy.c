/* Decisions per second of the policy engine: 1 tenant x 1 policy beside 1,000 tenants x 5 policies
 * (docs/benchmarks.md). Not a test: build with TG_TESTS, run build-dev/tests/bench_policy [seconds]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "policy.h"

static void append(char **buf, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        if (*buf == NULL)
            abort();
    }
    memcpy(*buf + *len, text, n + 1);
    *len += n;
}

/* tenants namespaces t0..; each one ServiceEntry and `policies` AuthorizationPolicies: a DENY, an AUDIT and
 * ALLOWs of which the last matches the benchmark's request. */
static char *make_config(int tenants, int policies)
{
    char *buf = NULL, doc[1024];
    size_t len = 0, cap = 0;
    append(
        &buf, &len, &cap,
        "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: edge, namespace: "
        "istio-system}\nspec:\n  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: "
        "[\"*\"]\n");
    for (int t = 0; t < tenants; ++t) {
        snprintf(
            doc, sizeof(doc),
            "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: svc, namespace: "
            "t%d}\nspec:\n  hosts: [svc.t%d.local]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"
            "  endpoints: [{address: 127.0.0.1}]\n",
            t, t);
        append(&buf, &len, &cap, doc);
        for (int p = 0; p < policies; ++p) {
            const char *spec =
                policies == 1
                    ? "{rules: [{to: [{operation: {paths: [\"/notebook/*\"], methods: [GET]}}], when: "
                      "[{key: \"request.auth.claims[groups]\", values: [\"team-*\"]}]}]}"
                : p == 0 ? "{action: DENY, rules: [{to: [{operation: {methods: [DELETE, PATCH]}}]}]}"
                : p == 1 ? "{action: AUDIT, rules: [{to: [{operation: {paths: [\"/admin/*\"]}}]}]}"
                : p + 1 < policies
                    ? "{rules: [{from: [{source: {requestPrincipals: [\"https://other/*\"]}}]}]}"
                    : "{rules: [{to: [{operation: {paths: [\"/notebook/*\"], methods: [GET]}}], "
                      "when: [{key: \"request.auth.claims[groups]\", values: [\"team-*\"]}]}]}";
            snprintf(doc, sizeof(doc),
                     "---\napiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: "
                     "{name: p%d, "
                     "namespace: t%d}\nspec: %s\n",
                     p, t, spec);
            append(&buf, &len, &cap, doc);
        }
    }
    return buf;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const groups[] = {"kubeflow-editors", "team-ml"};

static double run(int tenants, int policies, double budget, double *load_s)
{
    char *text = make_config(tenants, policies), err[GW_CONFIG_ERROR_SIZE];
    double t0 = seconds();
    gw_config_t *config = gw_config_load_buffer("bench.yaml", text, strlen(text), err);
    if (config == NULL) {
        fprintf(stderr, "bench config: %s\n", err);
        exit(1);
    }
    gw_policy_t *policy = gw_policy_new(config);
    *load_s = seconds() - t0;
    const gw_service_entry_t **services = calloc((size_t)tenants, sizeof(*services));
    char host[64];
    for (int t = 0; t < tenants; ++t) {
        snprintf(host, sizeof(host), "svc.t%d.local", t);
        services[t] = gw_config_find_service(config, host);
    }
    as_identity_t who = {.source = AS_IDENTITY_SESSION,
                         .subject = "alice@example.com",
                         .issuer = "https://idp",
                         .userid = "alice@example.com",
                         .groups = groups,
                         .group_count = 2};
    gw_policy_request_t request = {.host = "gateway.example.com",
                                   .host_len = 19,
                                   .method = "GET",
                                   .method_len = 3,
                                   .path = "/notebook/t/nb1/tree",
                                   .path_len = 20,
                                   .identity = &who};
    unsigned long long decisions = 0, allowed = 0;
    unsigned rng = 12345;
    double start = seconds(), elapsed = 0;
    while (elapsed < budget) {
        for (int i = 0; i < 10000; ++i) {
            rng = rng * 1103515245u + 12345u;
            request.service = services[(rng >> 8) % (unsigned)tenants];
            gw_policy_decision_t d;
            gw_policy_decide(policy, &request, &d);
            allowed += (unsigned)d.allowed;
        }
        decisions += 10000;
        elapsed = seconds() - start;
    }
    if (allowed != decisions) {
        fprintf(stderr, "bench: %llu of %llu decisions denied, expected all allowed\n", decisions - allowed,
                decisions);
        exit(1);
    }
    free(services);
    gw_policy_free(policy);
    gw_config_release(config);
    free(text);
    return (double)decisions / elapsed;
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 2.0, load1, load2;
    double one = run(1, 1, budget, &load1);
    double many = run(1000, 5, budget, &load2);
    printf("policy decisions/s (one thread, %.1f s each)\n", budget);
    printf("  1 tenant x 1 policy        %12.0f /s   (load + compile %.3f s)\n", one, load1);
    printf("  1,000 tenants x 5 policies %12.0f /s   (load + compile %.3f s)\n", many, load2);
    return 0;
}
