/* The policy engine against Istio's matching rules: table-driven over string patterns, then over
 * decisions of one config whose namespaces each exercise one feature. */
#include "config_test_util.h"
#include "policy.h"
#include "policy_match.h"

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

/* The compiled form: each pattern's kind and the part compared, then matching through the pool. */
static void test_compiled_matchers(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        gw_pattern_kind_t kind;
        const char *text; /* compared part */
        const char *hit, *miss, *hit_nocase;
        int case_matters; /* hit_nocase must not match case-sensitively */
    } rows[] = {
        {"*", GW_PATTERN_ANY, "", "", NULL, "X", 0},
        {"/api/*", GW_PATTERN_PREFIX, "/api/", "/api/v1", "/ap", "/API/v1", 1},
        {"*.json", GW_PATTERN_SUFFIX, ".json", "a.json", "a.jso", "A.JSON", 1},
        {"GET", GW_PATTERN_EXACT, "GET", "GET", "GETS", "get", 1},
        {"**", GW_PATTERN_PREFIX, "*", "*x", "x*", "*", 0},
        {"", GW_PATTERN_EXACT, "", "", "x", "", 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        size_t start, len;
        gw_pattern_kind_t kind = gw_pattern_parse(rows[i].pattern, &start, &len);
        assert_int_equal(kind, rows[i].kind);
        assert_int_equal(len, strlen(rows[i].text));
        assert_memory_equal(rows[i].pattern + start, rows[i].text, len);
        /* the text sits in a pool at an offset, as policy_compile.c lays it out */
        char pool[32] = "pool:";
        memcpy(pool + 5, rows[i].pattern + start, len);
        gw_matcher_t m = {.offset = 5, .len = (uint32_t)len, .kind = (uint8_t)kind};
        assert_true(gw_matcher_matches(&m, pool, rows[i].hit, strlen(rows[i].hit), 0));
        if (rows[i].miss != NULL)
            assert_false(gw_matcher_matches(&m, pool, rows[i].miss, strlen(rows[i].miss), 0));
        assert_true(gw_matcher_matches(&m, pool, rows[i].hit_nocase, strlen(rows[i].hit_nocase), 1));
        if (rows[i].case_matters)
            assert_false(gw_matcher_matches(&m, pool, rows[i].hit_nocase, strlen(rows[i].hit_nocase), 0));
    }
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

/* A condition that header x-hN must not be "bad" (absent passes), for the namespace with more headers
 * than a decision caches. */
#define HEADER_NOT(n) "{key: \"request.headers[x-h" n "]\", notValues: [bad]}, "

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
    SERVICE("nots", "")
    POLICY("nots", "ops", "{rules: [{to: [{operation: {hosts: [\"svc.nots.*\", \"*.example.com\"], "
                          "notHosts: [\"admin.*\"], notMethods: [DELETE]}}]}]}")
    SERVICE("keys", "")
    POLICY("keys", "mixed", "{rules: [{when: [{key: request.auth.principal, values: [\"https://idp/*\"]}, "
                            "{key: source.namespace, values: [istio-system]}, "
                            "{key: \"request.headers[x-a]\", notValues: [bad]}, "
                            "{key: \"request.headers[x-a]\", values: [\"go*\"]}]}]}")
    SERVICE("elsewhere", "")
    POLICY("elsewhere", "src", "{rules: [{when: [{key: source.namespace, notValues: [\"istio-*\"]}]}, "
                               "{from: [{source: {notNamespaces: [istio-system]}}]}]}")
    POLICY("elsewhere", "claim-not", "{rules: [{when: [{key: \"request.auth.claims[groups]\", "
                                     "notValues: [\"kubeflow-bob-*\"]}, {key: \"request.auth.claims[iss]\", "
                                     "values: [\"*idp\"]}]}]}")
    SERVICE("slots", "")
    POLICY("slots", "h", "{rules: [{when: [" HEADER_NOT("1") HEADER_NOT("2") HEADER_NOT("3") HEADER_NOT("4")
                         HEADER_NOT("5") HEADER_NOT("6") HEADER_NOT("7") HEADER_NOT("8") HEADER_NOT("9")
                         HEADER_NOT("10") HEADER_NOT("11") HEADER_NOT("12") HEADER_NOT("13") HEADER_NOT("14")
                         HEADER_NOT("15") HEADER_NOT("16") HEADER_NOT("17")
                         "{key: \"request.headers[x-h17]\", values: [ok]}]}]}")
    SERVICE("gwuser", "")
    "---\napiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRole\nmetadata: {name: all, namespace: gwuser}\n"
    "spec:\n  rules:\n  - services: [\"*\"]\n    methods: [\"*\"]\n"
    "---\napiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRoleBinding\nmetadata: {name: ingress, namespace: gwuser}\n"
    "spec:\n  subjects:\n  - user: istio-ingress-service-account\n    properties:\n"
    "      request.auth.claims[iss]: \"https://idp\"\n"
    "  roleRef: {kind: ServiceRole, name: all}\n"
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
    const char *host; /* the request's authority; NULL: svc.NS.local */
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
        {"open", "DELETE", "/anything", &anon, NULL, 1, NULL, 0, NULL},
        /* paths: prefix, suffix, exact, notPaths; a namespace with an ALLOW policy denies the rest */
        {"paths", "GET", "/public/a", &anon, NULL, 1, "pages", 0, NULL},
        {"paths", "GET", "/public/", &anon, NULL, 1, "pages", 0, NULL},
        {"paths", "GET", "/style/site.css", &anon, NULL, 1, "pages", 0, NULL},
        {"paths", "GET", "/exact", &anon, NULL, 1, "pages", 0, NULL},
        {"paths", "GET", "/exact/more", &anon, NULL, 0, NULL, 0, NULL},
        {"paths", "GET", "/public/secret.txt", &anon, NULL, 0, NULL, 0, NULL},
        {"paths", "GET", "/publicity", &anon, NULL, 0, NULL, 0, NULL},
        /* methods; DENY before ALLOW */
        {"methods", "GET", "/", &bob, NULL, 1, "read", 0, NULL},
        {"methods", "HEAD", "/", &bob, NULL, 1, "read", 0, NULL},
        {"methods", "POST", "/", &bob, NULL, 0, NULL, 0, NULL},
        {"methods", "DELETE", "/", &bob, NULL, 0, "no-delete", 0, NULL},
        {"methods", "get", "/", &bob, NULL, 0, NULL, 0, NULL},
        /* requestPrincipals with wildcards, notRequestPrincipals */
        {"principals", "GET", "/", &alice, NULL, 1, "idp", 0, NULL},
        {"principals", "GET", "/", &bob, NULL, 0, NULL, 0, NULL},
        {"principals", "GET", "/", &mallory, NULL, 0, NULL, 0, NULL},
        {"principals", "GET", "/", &anon, NULL, 0, NULL, 0, NULL},
        /* claims: a list (groups) matches when one entry does; notValues */
        {"claims", "GET", "/", &alice, NULL, 1, "groups", 0, NULL},
        {"claims", "GET", "/", &bob, NULL, 0, NULL, 0, NULL},
        {"claims", "GET", "/", &mallory, NULL, 0, NULL, 0, NULL},
        {"claims", "GET", "/", &anon, NULL, 0, NULL, 0, NULL},
        /* headers */
        {"headers", "GET", "/", &anon, "x-team: ml", 1, "team", 0, NULL},
        {"headers", "GET", "/", &anon, "x-team: ops", 0, NULL, 0, NULL},
        {"headers", "GET", "/", &anon, NULL, 0, NULL, 0, NULL},
        /* an empty rule matches everything; a policy without rules matches nothing */
        {"anyone", "PUT", "/x", &anon, NULL, 1, "all", 0, NULL},
        {"nobody", "GET", "/", &alice, NULL, 0, NULL, 0, NULL},
        /* AUDIT only marks */
        {"audit", "GET", "/watched", &alice, NULL, 1, NULL, 1, NULL},
        {"audit", "GET", "/other", &alice, NULL, 1, NULL, 0, NULL},
        {"denyall", "GET", "/", &alice, NULL, 0, "stop", 0, NULL},
        /* notRequestPrincipals: ["*"]: only requests without a principal */
        {"anon", "GET", "/", &anon, NULL, 1, "guests", 0, NULL},
        {"anon", "GET", "/", &alice, NULL, 0, NULL, 0, NULL},
        /* source.namespaces: the gateway's namespace; notPaths */
        {"ns", "GET", "/home", &anon, NULL, 1, "from-gateway", 0, NULL},
        {"ns", "GET", "/admin/x", &anon, NULL, 0, NULL, 0, NULL},
        /* ServiceRole + ServiceRoleBinding: user, group, properties; services by annotation and host;
         * paths, methods and constraints; a namespace with a binding denies what none grants */
        {"rbac", "GET", "/v1/models", &alice, NULL, 1, "people", 0, NULL},
        {"rbac", "GET", "/v2/models", &alice, NULL, 0, NULL, 0, NULL},
        {"rbac", "GET", "/v1/models", &bob, NULL, 1, "people", 0, NULL},
        {"rbac", "GET", "/v1/models", &carol, NULL, 1, "people", 0, NULL},
        {"rbac", "GET", "/v1/models", &mallory, NULL, 0, NULL, 0, NULL},
        {"rbac", "GET", "/v1/models", &anon, NULL, 0, NULL, 0, NULL},
        {"rbac", "POST", "/v1/models", &alice, "x-env: prod", 1, "people", 0, NULL},
        {"rbac", "POST", "/v1/models", &alice, "x-env: dev", 0, NULL, 0, NULL},
        {"rbac", "POST", "/v1/models", &alice, NULL, 0, NULL, 0, NULL},
        /* hosts (case-insensitive, port ignored), notHosts, notMethods */
        {"nots", "GET", "/", &anon, NULL, 1, "ops", 0, "SVC.Nots.local:8443"},
        {"nots", "GET", "/", &anon, NULL, 1, "ops", 0, "www.example.com"},
        {"nots", "GET", "/", &anon, NULL, 0, NULL, 0, "admin.example.com"},
        {"nots", "GET", "/", &anon, NULL, 0, NULL, 0, "svc.other.local"},
        {"nots", "DELETE", "/", &anon, NULL, 0, NULL, 0, "www.example.com"},
        {"nots", "GET", "/", &anon, NULL, 0, NULL, 0, "[::1]:8443"},
        /* request.auth.principal, source.namespace (decided when policies compile), one header twice */
        {"keys", "GET", "/", &alice, "x-a: go", 1, "mixed", 0, NULL},
        {"keys", "GET", "/", &mallory, "x-a: go", 0, NULL, 0, NULL},
        {"keys", "GET", "/", &anon, "x-a: go", 0, NULL, 0, NULL},
        {"keys", "GET", "/", &alice, "x-a: bad", 0, NULL, 0, NULL},
        {"keys", "GET", "/", &alice, NULL, 0, NULL, 0, NULL},
        /* a source.namespace notValues and notNamespaces naming the gateway's namespace never match;
         * claims notValues over a list, values on a single claim */
        {"elsewhere", "GET", "/", &alice, NULL, 1, "claim-not", 0, NULL},
        {"elsewhere", "GET", "/", &bob, NULL, 0, NULL, 0, NULL},
        {"elsewhere", "GET", "/", &mallory, NULL, 0, NULL, 0, NULL},
        {"elsewhere", "GET", "/", &anon, NULL, 0, NULL, 0, NULL},
        /* more header keys than a decision caches (the 17th is looked up each time) */
        {"slots", "GET", "/", &anon, "x-h17: ok", 1, "h", 0, NULL},
        {"slots", "GET", "/", &anon, "x-h17: bad", 0, NULL, 0, NULL},
        {"slots", "GET", "/", &anon, "x-h3: bad", 0, NULL, 0, NULL},
        {"slots", "GET", "/", &anon, NULL, 0, NULL, 0, NULL},
        /* a binding's user naming the gateway principal stands for any caller; properties still apply */
        {"gwuser", "PUT", "/x", &bob, NULL, 1, "ingress", 0, NULL},
        {"gwuser", "PUT", "/x", &mallory, NULL, 0, NULL, 0, NULL},
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
        const char *authority = r->host != NULL ? r->host : host;
        gw_policy_request_t request = {.service = se,
                                       .host = authority,
                                       .host_len = strlen(authority),
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

static size_t header_calls;

static const char *counted_header(void *ctx, const char *name, size_t *len)
{
    ++header_calls;
    return one_header(ctx, name, len);
}

/* A decision asks for a header once however many conditions name it (up to 16 names per namespace). */
static void test_headers_looked_up_once(void **state)
{
    (void)state;
    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = load_text(config_text, err);
    if (config == NULL)
        fail_msg("config: %s", err);
    gw_policy_t *policy = gw_policy_new(config);
    assert_non_null(policy);
    static const struct {
        const char *host, *header;
        size_t calls;
    } rows[] = {
        {"svc.keys.local", "x-a: go", 1},
        /* x-h1..x-h16 take the 16 cache slots: each once; x-h17, named twice, is asked twice */
        {"svc.slots.local", "x-h17: ok", 18},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        gw_policy_request_t request = {.service = gw_config_find_service(config, rows[i].host),
                                       .host = rows[i].host,
                                       .host_len = strlen(rows[i].host),
                                       .method = "GET",
                                       .method_len = 3,
                                       .path = "/",
                                       .path_len = 1,
                                       .header = counted_header,
                                       .ctx = (void *)rows[i].header,
                                       .identity = &alice};
        gw_policy_decision_t d;
        header_calls = 0;
        gw_policy_decide(policy, &request, &d);
        assert_true(d.allowed);
        assert_int_equal(header_calls, rows[i].calls);
    }
    gw_policy_free(policy);
    gw_config_release(config);
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
        cmocka_unit_test(test_match),       cmocka_unit_test(test_compiled_matchers),
        cmocka_unit_test(test_decisions),   cmocka_unit_test(test_headers_looked_up_once),
        cmocka_unit_test(test_seed_policy),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
