/* The policy engine against Istio's matching rules: table-driven over string patterns, then over
 * decisions of one config whose namespaces each exercise one feature. */
#include "config_test_util.h"
#include "policy.h"

/* ---- gw_policy_match ---- */

typedef struct {
    const char *pattern, *value;
    int nocase, want;
} match_row_t;

static void test_match(void **state)
{
    (void)state;
    static const match_row_t rows[] = {
        {"*", "anything", 0, 1},
        {"*", "", 0, 1},
        {"/api/*", "/api/x/y", 0, 1},
        {"/api/*", "/api/", 0, 1},
        {"/api/*", "/api", 0, 0},
        {"/api/*", "/apix", 0, 0},
        {"*.json", "/a/b.json", 0, 1},
        {"*.json", ".json", 0, 1},
        {"*.json", "json", 0, 0},
        {"*.json", "/a/b.JSON", 0, 0},
        {"/exact", "/exact", 0, 1},
        {"/exact", "/exact/", 0, 0},
        {"/exact", "/exac", 0, 0},
        {"GET", "get", 0, 0},
        {"GET", "GET", 0, 1},
        {"*.Example.com", "a.example.COM", 1, 1},
        {"*.example.com", "example.com", 1, 0},
        {"a*", "a", 0, 1},
        {"/a*b", "/a*b", 0, 1}, /* only a leading or trailing * is a wildcard: this one is a prefix "/a*b" */
        {"", "", 0, 1},
        {"", "x", 0, 0},
    };
    size_t failures = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        const match_row_t *r = &rows[i];
        int got = gw_policy_match(r->pattern, r->value, strlen(r->value), r->nocase);
        if (got != r->want) {
            print_error("match(\"%s\", \"%s\", nocase %d) = %d, want %d\n", r->pattern, r->value, r->nocase,
                        got, r->want);
            ++failures;
        }
    }
    if (failures > 0)
        fail_msg("%zu rows failed", failures);
}

/* ---- decisions ---- */

#define GATEWAY                                                                                              \
    "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: edge, namespace: "             \
    "istio-system}\n"                                                                                        \
    "spec:\n  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"

/* A ServiceEntry svc in namespace ns (host svc.NS.local), with extra metadata. */
#define SERVICE(ns, meta)                                                                                    \
    "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: svc, namespace: " ns meta \
    "}\nspec:\n  hosts: [svc." ns ".local]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"           \
    "  endpoints: [{address: 127.0.0.1}]\n"

#define POLICY(ns, name, spec)                                                                               \
    "---\napiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: " name          \
    ", namespace: " ns "}\nspec: " spec "\n"

/* clang-format off */
static const char config_text[] =
    GATEWAY
    SERVICE("open", "")
    SERVICE("paths", "")
    POLICY("paths", "pages", "{rules: [{to: [{operation: {paths: [\"/public/*\", \"*.css\", /exact], "
                             "notPaths: [\"/public/secret*\"]}}]}]}")
    SERVICE("methods", "")
    POLICY("methods", "read", "{rules: [{to: [{operation: {methods: [GET, HEAD]}}]}]}")
    POLICY("methods", "no-delete", "{action: DENY, rules: [{to: [{operation: {methods: [DELETE], "
                                   "hosts: [\"svc.methods.*\"]}}]}]}")
    SERVICE("principals", "")
    POLICY("principals", "idp", "{rules: [{from: [{source: {requestPrincipals: [\"https://idp/*\"], "
                                "notRequestPrincipals: [\"*/bob@example.com\"]}}]}]}")
    SERVICE("claims", "")
    POLICY("claims", "groups", "{rules: [{when: [{key: \"request.auth.claims[groups]\", values: [\"team-*\"]}, "
                               "{key: \"request.auth.claims[email]\", notValues: [\"*@evil.com\"]}]}]}")
    SERVICE("headers", "")
    POLICY("headers", "team", "{rules: [{when: [{key: \"request.headers[X-Team]\", values: [ml]}]}]}")
    SERVICE("anyone", "")
    POLICY("anyone", "all", "{rules: [{}]}")
    SERVICE("nobody", "")
    POLICY("nobody", "none", "{}")
    SERVICE("audit", "")
    POLICY("audit", "watch", "{action: AUDIT, rules: [{to: [{operation: {paths: [\"/watched\"]}}]}]}")
    SERVICE("denyall", "")
    POLICY("denyall", "all", "{rules: [{}]}")
    POLICY("denyall", "stop", "{action: DENY, rules: [{}]}")
    SERVICE("anon", "")
    POLICY("anon", "guests", "{rules: [{from: [{source: {notRequestPrincipals: [\"*\"]}}]}]}")
    SERVICE("ns", "")
    POLICY("ns", "from-gateway", "{rules: [{from: [{source: {namespaces: [istio-system]}}], "
                                 "to: [{operation: {notPaths: [\"/admin*\"]}}]}]}")
    SERVICE("rbac", ", annotations: {tenantgate.io/service-name: \"TF Serving\"}")
    "---\napiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRole\nmetadata: {name: serving, namespace: rbac}\n"
    "spec:\n  rules:\n  - services: [\"TF Serving\"]\n    methods: [GET]\n    paths: [\"/v1/*\"]\n"
    "  - services: [svc.rbac.local]\n    methods: [POST]\n"
    "    constraints: [{key: \"request.headers[x-env]\", values: [prod]}]\n"
    "---\napiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRoleBinding\nmetadata: {name: people, namespace: rbac}\n"
    "spec:\n  subjects:\n  - user: alice@example.com\n  - group: kubeflow-bob-editors\n"
    "  - user: \"*\"\n    properties:\n      request.auth.claims[email]: carol@example.com\n"
    "  roleRef: {kind: ServiceRole, name: serving}\n"
    "---\napiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: edge, namespace: istio-system}\n";
/* clang-format on */

/* ---- identities ---- */

static const char *const alice_groups[] = {"kubeflow-alice-editors", "team-ml"};
static const char *const bob_groups[] = {"kubeflow-bob-editors"};
static const as_identity_t anon = {.source = AS_IDENTITY_NONE};
static const as_identity_t alice = {.source = AS_IDENTITY_SESSION,
                                    .subject = "alice@example.com",
                                    .issuer = "https://idp",
                                    .email = "alice@example.com",
                                    .userid = "alice@example.com",
                                    .groups = alice_groups,
                                    .group_count = 2};
static const as_identity_t bob = {.source = AS_IDENTITY_SESSION,
                                  .subject = "bob@example.com",
                                  .issuer = "https://idp",
                                  .email = "bob@example.com",
                                  .userid = "bob@example.com",
                                  .groups = bob_groups,
                                  .group_count = 1};
static const char *const evil_groups[] = {"team-red"};
static const as_identity_t mallory = {.source = AS_IDENTITY_SESSION,
                                      .subject = "mallory",
                                      .issuer = "https://other",
                                      .email = "mallory@evil.com",
                                      .userid = "mallory@evil.com",
                                      .groups = evil_groups,
                                      .group_count = 1};
static const as_identity_t carol = {.source = AS_IDENTITY_SESSION,
                                    .subject = "carol",
                                    .issuer = "https://idp",
                                    .email = "carol@example.com",
                                    .userid = "carol@example.com"};

typedef struct {
    const char *ns, *method, *path;
    const as_identity_t *who;
    const char *header; /* "name: value" or NULL */
    int allowed;
    const char *decider; /* name of the deciding document, NULL for a default */
    int audit;
} decision_row_t;

static const char *one_header(void *ctx, const char *name, size_t *len)
{
    const char *h = ctx;
    size_t n = strlen(name);
    if (h == NULL || strncmp(h, name, n) != 0 || h[n] != ':')
        return NULL;
    *len = strlen(h + n + 2);
    return h + n + 2;
}

static void test_decisions(void **state)
{
    (void)state;
    static const decision_row_t rows[] = {
        /* no policy: Istio's default allow */
        {"open", "DELETE", "/anything", &anon, NULL, 1, NULL, 0},
        /* paths: prefix, suffix, exact, notPaths; a namespace with an ALLOW policy denies the rest */
        {"paths", "GET", "/public/a", &anon, NULL, 1, "pages", 0},
        {"paths", "GET", "/public/", &anon, NULL, 1, "pages", 0},
        {"paths", "GET", "/style/site.css", &anon, NULL, 1, "pages", 0},
        {"paths", "GET", "/exact", &anon, NULL, 1, "pages", 0},
        {"paths", "GET", "/exact/more", &anon, NULL, 0, NULL, 0},
        {"paths", "GET", "/public/secret.txt", &anon, NULL, 0, NULL, 0},
        {"paths", "GET", "/publicity", &anon, NULL, 0, NULL, 0},
        /* methods; DENY before ALLOW */
        {"methods", "GET", "/", &bob, NULL, 1, "read", 0},
        {"methods", "HEAD", "/", &bob, NULL, 1, "read", 0},
        {"methods", "POST", "/", &bob, NULL, 0, NULL, 0},
        {"methods", "DELETE", "/", &bob, NULL, 0, "no-delete", 0},
        {"methods", "get", "/", &bob, NULL, 0, NULL, 0},
        /* requestPrincipals with wildcards, notRequestPrincipals */
        {"principals", "GET", "/", &alice, NULL, 1, "idp", 0},
        {"principals", "GET", "/", &bob, NULL, 0, NULL, 0},
        {"principals", "GET", "/", &mallory, NULL, 0, NULL, 0},
        {"principals", "GET", "/", &anon, NULL, 0, NULL, 0},
        /* claims: a list (groups) matches when one entry does; notValues */
        {"claims", "GET", "/", &alice, NULL, 1, "groups", 0},
        {"claims", "GET", "/", &bob, NULL, 0, NULL, 0},
        {"claims", "GET", "/", &mallory, NULL, 0, NULL, 0},
        {"claims", "GET", "/", &anon, NULL, 0, NULL, 0},
        /* headers */
        {"headers", "GET", "/", &anon, "x-team: ml", 1, "team", 0},
        {"headers", "GET", "/", &anon, "x-team: ops", 0, NULL, 0},
        {"headers", "GET", "/", &anon, NULL, 0, NULL, 0},
        /* an empty rule matches everything; a policy without rules matches nothing */
        {"anyone", "PUT", "/x", &anon, NULL, 1, "all", 0},
        {"nobody", "GET", "/", &alice, NULL, 0, NULL, 0},
        /* AUDIT only marks */
        {"audit", "GET", "/watched", &alice, NULL, 1, NULL, 1},
        {"audit", "GET", "/other", &alice, NULL, 1, NULL, 0},
        {"denyall", "GET", "/", &alice, NULL, 0, "stop", 0},
        /* notRequestPrincipals: ["*"]: only requests without a principal */
        {"anon", "GET", "/", &anon, NULL, 1, "guests", 0},
        {"anon", "GET", "/", &alice, NULL, 0, NULL, 0},
        /* source.namespaces: the gateway's namespace; notPaths */
        {"ns", "GET", "/home", &anon, NULL, 1, "from-gateway", 0},
        {"ns", "GET", "/admin/x", &anon, NULL, 0, NULL, 0},
        /* ServiceRole + ServiceRoleBinding: user, group, properties; services by annotation and host;
         * paths, methods and constraints; a namespace with a binding denies what none grants */
        {"rbac", "GET", "/v1/models", &alice, NULL, 1, "people", 0},
        {"rbac", "GET", "/v2/models", &alice, NULL, 0, NULL, 0},
        {"rbac", "GET", "/v1/models", &bob, NULL, 1, "people", 0},
        {"rbac", "GET", "/v1/models", &carol, NULL, 1, "people", 0},
        {"rbac", "GET", "/v1/models", &mallory, NULL, 0, NULL, 0},
        {"rbac", "GET", "/v1/models", &anon, NULL, 0, NULL, 0},
        {"rbac", "POST", "/v1/models", &alice, "x-env: prod", 1, "people", 0},
        {"rbac", "POST", "/v1/models", &alice, "x-env: dev", 0, NULL, 0},
        {"rbac", "POST", "/v1/models", &alice, NULL, 0, NULL, 0},
    };
    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = load_text(config_text, err);
    if (config == NULL)
        fail_msg("config: %s", err);
    gw_policy_t *policy = gw_policy_new(config);
    assert_non_null(policy);
    size_t failures = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        const decision_row_t *r = &rows[i];
        char host[64];
        snprintf(host, sizeof(host), "svc.%s.local", r->ns);
        const gw_service_entry_t *se = gw_config_find_service(config, host);
        assert_non_null(se);
        gw_policy_request_t request = {.service = se,
                                       .host = host,
                                       .host_len = strlen(host),
                                       .method = r->method,
                                       .method_len = strlen(r->method),
                                       .path = r->path,
                                       .path_len = strlen(r->path),
                                       .header = one_header,
                                       .ctx = (void *)r->header,
                                       .identity = r->who};
        gw_policy_decision_t d;
        gw_policy_decide(policy, &request, &d);
        const char *decider = d.decider != NULL ? d.decider->name : NULL;
        int decider_ok =
            r->decider == NULL ? decider == NULL : decider != NULL && strcmp(decider, r->decider) == 0;
        if (d.allowed != r->allowed || !decider_ok || d.audit != r->audit) {
            print_error("row %zu %s %s %s as %s: allowed %d by %s (%s) audit %d, want %d by %s audit %d\n", i,
                        r->ns, r->method, r->path, r->who->userid ? r->who->userid : "anonymous", d.allowed,
                        decider ? decider : "default", d.reason, d.audit, r->allowed,
                        r->decider ? r->decider : "default", r->audit);
            ++failures;
        }
    }
    gw_policy_free(policy);
    gw_config_release(config);
    if (failures > 0)
        fail_msg("%zu rows failed", failures);
}

/* The seed's documents verbatim: the ingress service account plus claims["sub"]. */
static void test_seed_policy(void **state)
{
    (void)state;
    FILE *fp = fopen(TG_SOURCE_DIR "/config/seed-policy.yaml", "r");
    assert_non_null(fp);
    static char seed[4096];
    size_t n = fread(seed, 1, sizeof(seed) - 1, fp);
    fclose(fp);
    seed[n] = '\0';
    static char text[8192];
    snprintf(text, sizeof(text), "%s%s---\n%s", GATEWAY,
             SERVICE("kubeflow-alice", ", annotations: {tenantgate.io/service-name: \"TF Serving\"}"), seed);
    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = load_text(text, err);
    if (config == NULL)
        fail_msg("config: %s", err);
    gw_policy_t *policy = gw_policy_new(config);
    const gw_service_entry_t *se = gw_config_find_service(config, "svc.kubeflow-alice.local");
    as_identity_t foo = alice;
    foo.subject = foo.userid = foo.email = "alice@foo.com";
    struct {
        const as_identity_t *who;
        const char *method;
        int allowed;
    } rows[] = {{&foo, "GET", 1},   {&foo, "HEAD", 1}, {&foo, "POST", 0},
                {&alice, "GET", 0}, {&bob, "GET", 0},  {&anon, "GET", 0}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        gw_policy_request_t request = {.service = se,
                                       .host = "x",
                                       .host_len = 1,
                                       .method = rows[i].method,
                                       .method_len = strlen(rows[i].method),
                                       .path = "/v1/models/mnist",
                                       .path_len = 16,
                                       .identity = rows[i].who};
        gw_policy_decision_t d;
        gw_policy_decide(policy, &request, &d);
        if (d.allowed != rows[i].allowed)
            fail_msg("seed row %zu: allowed %d (%s)", i, d.allowed, d.reason);
    }
    gw_policy_free(policy);
    gw_config_release(config);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_seed_policy),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
