/* Authorization kinds and tenant isolation at load: what loads, and one error per bad file naming
 * FILE:LINE:COL, the field and, across tenants, both documents. */
#include "config_test_util.h"

#define GW                                                                                                   \
    "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: edge, namespace: "             \
    "istio-system}\n"                                                                                        \
    "spec:\n  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"
#define SE(ns)                                                                                               \
    "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: svc, namespace: " ns      \
    "}\nspec:\n  hosts: [svc." ns ".local]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"           \
    "  endpoints: [{address: 127.0.0.1}]\n"
#define VS(ns, name, match, host)                                                                            \
    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " name                  \
    ", namespace: " ns "}\nspec:\n  hosts: [\"*\"]\n  http:\n  - match: [" match                             \
    "]\n    route: [{destination: {host: " host "}}]\n"
#define BASE GW SE("alice") SE("bob")
#define AP(spec)                                                                                             \
    "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: "      \
    "alice}\nspec: " spec "\n---\n"
#define SR(spec)                                                                                             \
    "apiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRole\nmetadata: {name: r, namespace: "                 \
    "alice}\nspec: " spec "\n---\n"
#define SRB(spec)                                                                                            \
    "apiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRoleBinding\nmetadata: {name: b, namespace: "          \
    "alice}\nspec: " spec "\n---\n"

static const row_t rows[] = {
    {"policy: unknown field", AP("{rules: [{to: [{operation: {paths: [/a], verbs: [GET]}}]}]}") BASE,
     "test.yaml:4:*: spec.rules[0].to[0].operation: unknown field \"verbs\""},
    {"policy: CUSTOM", AP("{action: CUSTOM}") BASE, "test.yaml:4:*: spec.action: *not supported*"},
    {"policy: ports unsupported", AP("{rules: [{to: [{operation: {ports: [\"80\"]}}]}]}") BASE,
     "test.yaml:4:*: spec.rules[0].to[0].operation.ports: not supported yet"},
    {"policy: selector unsupported", AP("{selector: {matchLabels: {app: x}}}") BASE,
     "test.yaml:4:*: spec.selector: not supported yet"},
    {"policy: empty source", AP("{rules: [{from: [{source: {}}]}]}") BASE,
     "test.yaml:4:*: spec.rules[0].from[0].source: must set at least one field"},
    {"policy: when without values", AP("{rules: [{when: [{key: \"request.headers[x]\"}]}]}") BASE,
     "test.yaml:4:*: spec.rules[0].when[0]: needs values or notValues"},
    {"policy: unknown key", AP("{rules: [{when: [{key: \"source.ip\", values: [1.2.3.4]}]}]}") BASE,
     "test.yaml:4:*: spec.rules[0].when[0].key: key \"source.ip\" is not one tenantgate can enforce*"},
    {"policy: nested claim",
     AP("{rules: [{when: [{key: \"request.auth.claims[a][b]\", values: [x]}]}]}") BASE,
     "test.yaml:4:*: spec.rules[0].when[0].key: *nested claims*"},
    {"role: no services", SR("{rules: [{methods: [GET]}]}") BASE,
     "test.yaml:4:*: spec.rules[0].services: missing*"},
    {"role: constraint it cannot enforce",
     SR("{rules: [{services: [\"*\"], constraints: [{key: \"destination.labels[app]\", values: [x]}]}]}")
         BASE,
     "test.yaml:4:*: spec.rules[0].constraints[0].key: key \"destination.labels[app]\"*"},
    {"binding: missing role", SRB("{subjects: [{user: a}], roleRef: {kind: ServiceRole, name: nope}}") BASE,
     "test.yaml:4:*: spec.roleRef.name: no ServiceRole alice/nope in this file*"},
    {"binding: role of another namespace",
     SRB("{subjects: [{user: a}], roleRef: {kind: ServiceRole, name: r}}") BASE
     "---\napiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRole\nmetadata: {name: r, namespace: bob}\nspec: "
     "{rules: [{services: [\"*\"]}]}\n",
     "test.yaml:4:*: spec.roleRef.name: no ServiceRole alice/r in this file*"},
    {"binding: empty subject", SRB("{subjects: [{}], roleRef: {kind: ServiceRole, name: r}}") BASE,
     "test.yaml:4:*: spec.subjects[0]: a subject needs user, group or properties"},
    {"binding: names unsupported",
     SRB("{subjects: [{names: [a]}], roleRef: {kind: ServiceRole, name: r}}") BASE,
     "test.yaml:4:*: spec.subjects[0].names: not supported yet"},
    {"binding: property it cannot enforce",
     SRB("{subjects: [{properties: {source.ip: 1.2.3.4}}], roleRef: {kind: ServiceRole, name: r}}")
         SR("{rules: [{services: [\"*\"]}]}") BASE,
     "test.yaml:4:*: spec.subjects[0].properties.source.ip: key \"source.ip\"*"},
    {"tenancy: route to another namespace",
     BASE VS("bob", "steal", "{uri: {prefix: /b/}}", "svc.alice.local"),
     "*spec.http[0].route[0].destination.host: VirtualService bob/steal (*test.yaml:*) routes to "
     "\"svc.alice.local\", a host of ServiceEntry alice/svc (*test.yaml:*)*"},
    {"tenancy: overlapping prefixes",
     BASE VS("alice", "a", "{uri: {prefix: /shared/}}", "svc.alice.local")
         VS("bob", "b", "{uri: {prefix: /shared/bob/}}", "svc.bob.local"),
     "*VirtualService bob/b (*test.yaml:*) claims prefix \"/shared/bob/\", which overlaps VirtualService "
     "alice/a (*test.yaml:*)*"},
    {"tenancy: exact inside a prefix",
     BASE VS("alice", "a", "{uri: {prefix: /x/}}", "svc.alice.local")
         VS("bob", "b", "{uri: {exact: /x/y}}", "svc.bob.local"),
     "*VirtualService bob/b * claims path \"/x/y\", which overlaps VirtualService alice/a*"},
    {"tenancy: catch-all",
     BASE VS("alice", "a", "{uri: {prefix: /x/}}",
             "svc.alice.local") "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: "
                                "{name: all, namespace: bob}\n"
                                "spec:\n  hosts: [\"*\"]\n  http:\n  - route: [{destination: {host: "
                                "svc.bob.local}}]\n",
     "*VirtualService bob/all * claims prefix \"\", which overlaps VirtualService alice/a*"},
    {"tenancy: role names another tenant's host", SR("{rules: [{services: [svc.bob.local]}]}") BASE,
     "*spec.rules[0].services[0]: ServiceRole alice/r (*) names \"svc.bob.local\", a host of ServiceEntry "
     "bob/svc*"},
    {"tenancy: policy names another tenant's host",
     AP("{rules: [{to: [{operation: {hosts: [svc.bob.local]}}]}]}") BASE,
     "*spec.rules[0].to[0].operation.hosts[0]: AuthorizationPolicy alice/p (*) names \"svc.bob.local\"*"},
    {"settings: sampleAllows",
     "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: t}\n"
     "spec: {authorization: {audit: {file: /tmp/a.jsonl, sampleAllows: 2}}}\n---\n" BASE,
     "test.yaml:4:*: spec.authorization.audit.sampleAllows: must be a number from 0 to 1"},
    {"settings: relative audit file",
     "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: t}\n"
     "spec: {authorization: {audit: {file: a.jsonl}}}\n---\n" BASE,
     "test.yaml:4:*: spec.authorization.audit.file: must be an absolute path"},
    {"settings: sqliteTable without the sqlite store",
     "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: t}\n"
     "spec: {authorization: {audit: {file: /tmp/a.jsonl, sqliteTable: true}}}\n---\n" BASE,
     "test.yaml:4:*: spec.authorization.audit.sqliteTable: needs the sqlite session store (sessions.store)"},
    {"settings: rate without rps",
     "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: t}\n"
     "spec: {authorization: {rateLimits: {perUser: {burst: 3}}}}\n---\n" BASE,
     "test.yaml:4:*: spec.authorization.rateLimits.perUser.requestsPerSecond: missing*"},
};

static void test_errors(void **state)
{
    (void)state;
    check_error_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* Same-namespace overlaps, regexes and different hosts are not tenant conflicts; the kinds decode. */
static void test_loads(void **state)
{
    (void)state;
    /* clang-format off */
    gw_config_t *config = load_ok(
        SR("{rules: [{services: [\"*\"], methods: [GET], paths: [\"/v1/*\"], "
           "constraints: [{key: \"request.headers[X-Env]\", values: [prod]}]}]}")
        SRB("{subjects: [{user: alice, group: g, properties: {\"request.auth.claims[sub]\": a}}], "
            "roleRef: {kind: ServiceRole, name: r}}")
        AP("{action: DENY, rules: [{from: [{source: {notRequestPrincipals: [\"*\"]}}], "
           "to: [{operation: {notPaths: [/public]}}], when: [{key: request.auth.principal, "
           "notValues: [\"x/*\"]}]}]}")
        BASE
        VS("alice", "a", "{uri: {prefix: /x/}}", "svc.alice.local")
        VS("alice", "a2", "{uri: {prefix: /x/y/}}", "svc.alice.local")
        VS("bob", "b", "{uri: {regex: \"/x/.*\"}}", "svc.bob.local"));
    /* clang-format on */
    assert_int_equal(config->service_role_count, 1);
    assert_string_equal(config->service_roles[0].rules[0].constraints[0].name, "x-env");
    assert_int_equal(config->service_role_binding_count, 1);
    assert_int_equal(config->service_role_bindings[0].subjects[0].properties[0].kind, GW_AUTHZ_KEY_CLAIM);
    assert_string_equal(config->service_role_bindings[0].subjects[0].properties[0].name, "sub");
    assert_string_equal(config->service_role_bindings[0].subjects[0].properties[0].values.items[0], "a");
    assert_int_equal(config->authorization_policy_count, 1);
    assert_int_equal(config->authorization_policies[0].action, GW_AUTHZ_DENY);
    assert_int_equal(config->authorization_policies[0].rules[0].when[0].kind, GW_AUTHZ_KEY_PRINCIPAL);
    assert_string_equal(config->settings.authorization.gateway_principal, "istio-ingress-service-account");
    char *text = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&text, &size);
    gw_config_print_summary(config, fp);
    fclose(fp);
    assert_non_null(strstr(text,
                           "authorization:\n  gateway principal: istio-ingress-service-account\n"
                           "  audit: off\n  rate limits: per user off, per namespace off\n"
                           "  alice/p AuthorizationPolicy DENY, 1 rules\n  alice/r ServiceRole, 1 rules\n"
                           "  alice/b ServiceRoleBinding -> r, 1 subjects\n"));
    free(text);
    gw_config_release(config);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_loads),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
