/* Decisions per second of the policy engine: 1 tenant x 1 policy beside 1,000 tenants x 5 policies
 * (docs/benchmarks.md). Not a test: build with TG_TESTS, run build-rel/tests/bench_policy [seconds [rounds]];
 * instructions per decision: tests/bench/policy_instructions.sh build-rel. */
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

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double seconds(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

static const char *const groups[] = {"kubeflow-editors", "team-ml"};

/* One benchmark case: its config, compiled policies, destinations and the request it decides. */
typedef struct {
    const char *label;
    int tenants;
    gw_config_t *config;
    gw_policy_t *policy;
    const gw_service_entry_t **services;
    double load_s;    /* load + compile */
    double best_wall; /* decisions per wall-clock second, best round */
    double best_cpu; /* decisions per CPU second of this thread, best round: "per core" on a shared machine */
    unsigned rng;
} bench_case_t;

static const as_identity_t who = {.source = AS_IDENTITY_SESSION,
                                  .subject = "alice@example.com",
                                  .issuer = "https://idp",
                                  .userid = "alice@example.com",
                                  .groups = groups,
                                  .group_count = 2};

static void setup(bench_case_t *c, const char *label, int tenants, int policies)
{
    char *text = make_config(tenants, policies), err[GW_CONFIG_ERROR_SIZE];
    double t0 = seconds();
    c->config = gw_config_load_buffer("bench.yaml", text, strlen(text), err);
    if (c->config == NULL) {
        fprintf(stderr, "bench config: %s\n", err);
        exit(1);
    }
    c->policy = gw_policy_new(c->config);
    c->load_s = seconds() - t0;
    free(text);
    if (c->policy == NULL)
        abort();
    c->label = label;
    c->tenants = tenants;
    c->rng = 12345;
    c->best_wall = c->best_cpu = 0;
    c->services = calloc((size_t)tenants, sizeof(*c->services));
    if (c->services == NULL)
        abort();
    char host[64];
    for (int t = 0; t < tenants; ++t) {
        snprintf(host, sizeof(host), "svc.t%d.local", t);
        c->services[t] = gw_config_find_service(c->config, host);
    }
}

static void teardown(bench_case_t *c)
{
    free(c->services);
    gw_policy_free(c->policy);
    gw_config_release(c->config);
}

/* count decisions against random tenants of c; every one must allow. */
static void decide(bench_case_t *c, unsigned long long count)
{
    gw_policy_request_t request = {.host = "gateway.example.com",
                                   .host_len = 19,
                                   .method = "GET",
                                   .method_len = 3,
                                   .path = "/notebook/t/nb1/tree",
                                   .path_len = 20,
                                   .identity = &who};
    unsigned long long allowed = 0;
    for (unsigned long long i = 0; i < count; ++i) {
        c->rng = c->rng * 1103515245u + 12345u;
        request.service = c->services[(c->rng >> 8) % (unsigned)c->tenants];
        gw_policy_decision_t d;
        gw_policy_decide(c->policy, &request, &d);
        allowed += (unsigned)d.allowed;
    }
    if (allowed != count) {
        fprintf(stderr, "bench %s: %llu of %llu decisions denied, expected all allowed\n", c->label,
                count - allowed, count);
        exit(1);
    }
}

/* One round of about budget seconds: keeps c's best decisions per wall-clock and per CPU second. */
static void timed_round(bench_case_t *c, double budget)
{
    unsigned long long decisions = 0;
    double start = seconds(), cpu_start = clock_seconds(CLOCK_THREAD_CPUTIME_ID), elapsed = 0;
    while (elapsed < budget) {
        decide(c, 10000);
        decisions += 10000;
        elapsed = seconds() - start;
    }
    double wall = (double)decisions / elapsed;
    double cpu = (double)decisions / (clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start);
    c->best_wall = wall > c->best_wall ? wall : c->best_wall;
    c->best_cpu = cpu > c->best_cpu ? cpu : c->best_cpu;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_policy [seconds per round [rounds]]\n"
                    "       bench_policy --decisions N [1x1|1000x5]   (fixed work, for callgrind)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench_case_t cases[2];
    setup(&cases[0], "1 tenant x 1 policy", 1, 1);
    setup(&cases[1], "1,000 tenants x 5 policies", 1000, 5);
    if (argc > 1 && strcmp(argv[1], "--decisions") == 0) {
        /* Fixed work for instruction counts: tests/bench/policy_instructions.sh runs this under
         * callgrind with --toggle-collect=gw_policy_decide and divides by N. */
        if (argc < 3)
            usage();
        unsigned long long n = strtoull(argv[2], NULL, 10);
        const char *only = argc > 3 ? argv[3] : NULL;
        if (only != NULL && strcmp(only, "1x1") != 0 && strcmp(only, "1000x5") != 0)
            usage();
        for (int i = 0; i < 2; ++i)
            if (only == NULL || (i == 0) == (strcmp(only, "1x1") == 0))
                decide(&cases[i], n);
    } else {
        double budget = argc > 1 ? atof(argv[1]) : 1.0;
        int rounds = argc > 2 ? atoi(argv[2]) : 3;
        if (budget <= 0 || rounds < 1)
            usage();
        /* Rounds interleave the two cases so machine load hits both alike; the best round counts. */
        for (int r = 0; r < rounds; ++r)
            for (int i = 0; i < 2; ++i)
                timed_round(&cases[i], budget);
        printf("policy decisions, one thread, best of %d rounds of %.1f s per case\n", rounds, budget);
        printf("  %-28s %12s %14s %12s %14s\n", "case", "decisions/s", "per CPU-s", "CPU ns/dec",
               "load+compile");
        for (int i = 0; i < 2; ++i)
            printf("  %-28s %12.0f %14.0f %12.1f %12.3f s\n", cases[i].label, cases[i].best_wall,
                   cases[i].best_cpu, 1e9 / cases[i].best_cpu, cases[i].load_s);
        printf("  ratio 1000x5 / 1x1: %.3f (wall), %.3f (CPU)\n", cases[1].best_wall / cases[0].best_wall,
               cases[1].best_cpu / cases[0].best_cpu);
    }
    teardown(&cases[0]);
    teardown(&cases[1]);
    return 0;
}
