/* TenantGate spec.oidc and spec.sessions: defaults, a full section, login off without oidc, and one row
 * per refusal with FILE:LINE:COL and the field path. No secret shows in errors or the summary. */
#include "config_test_util.h"

#define GW                                                                                                   \
    "---\napiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: g}\nspec:\n"              \
    "  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"
#define TG "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: edge}\nspec:\n"
/* a valid oidc section: lines 5-10 */
#define OIDC                                                                                                 \
    "  oidc:\n"                                                                                              \
    "    issuer: http://127.0.0.1:5556\n"                                                                    \
    "    allowInsecureIssuer: true\n"                                                                        \
    "    clientId: tenantgate\n"                                                                             \
    "    clientSecretFile: certs/client-secret\n"                                                            \
    "    externalUrl: https://localhost:8443/\n"
/* a valid sessions section: lines 11-13 */
#define SESSIONS                                                                                             \
    "  sessions:\n"                                                                                          \
    "    store: sqlite:sessions.db\n"                                                                        \
    "    keyFile: certs/session.key\n"

static int setup(void **state)
{
    if (scratch_setup(state) != 0)
        return -1;
    scratch_write("certs/client-secret", SCRATCH_SECRET "\n");
    scratch_write("certs/session.key", SCRATCH_SECRET "\n");
    return 0;
}

static void test_login_off_by_default(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(TG "  threads: 2\n" GW);
    assert_false(config->settings.auth.enabled);
    gw_config_release(config);
    config =
        load_ok("apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: g}\nspec:\n"
                "  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n");
    assert_false(config->settings.auth.enabled);
    gw_config_release(config);
}

static void test_full_section(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(TG OIDC "    clientAuth: client_secret_post\n"
                                          "    scopes: [openid, email]\n"
                                          "    apiPrefixes: [/api/, /v1/]\n" SESSIONS
                                          "    idleTimeout: 30m\n    absoluteTimeout: 8h\n    cacheTtl: 2s\n"
                                          "    cacheMaxEntries: 2500\n"
                                          "    logoutPollInterval: 250ms\n    refreshBefore: 2m\n" GW);
    const gw_auth_settings_t *a = &config->settings.auth;
    assert_true(a->enabled);
    assert_string_equal(a->issuer, "http://127.0.0.1:5556");
    assert_true(a->allow_insecure_issuer);
    assert_string_equal(a->client_id, "tenantgate");
    char expected[256];
    snprintf(expected, sizeof(expected), "%s/certs/client-secret", scratch_dir);
    assert_string_equal(a->client_secret_file, expected);
    assert_int_equal(a->client_auth, 1);
    assert_int_equal(a->scopes.count, 2);
    assert_string_equal(a->scopes.items[1], "email");
    assert_string_equal(a->external_url, "https://localhost:8443"); /* trailing '/' dropped */
    assert_int_equal(a->api_prefixes.count, 2);
    assert_string_equal(a->api_prefixes.items[0], "/api/");
    snprintf(expected, sizeof(expected), "sqlite://%s/sessions.db", scratch_dir);
    assert_string_equal(a->store, expected); /* relative to the config folder */
    snprintf(expected, sizeof(expected), "%s/certs/session.key", scratch_dir);
    assert_string_equal(a->key_file, expected);
    assert_int_equal(a->logout_poll_ms, 250);
    assert_int_equal(a->refresh_before_ms, 120000);
    assert_int_equal(a->idle_timeout_ms, 30 * 60 * 1000);
    assert_int_equal(a->absolute_timeout_ms, 8 * 3600 * 1000);
    assert_int_equal(a->cache_ttl_ms, 2000);
    assert_int_equal(a->cache_max_entries, 2500);
    gw_config_release(config);
}

static void test_defaults_and_redis(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(TG OIDC "  sessions:\n    keyFile: certs/session.key\n" GW);
    const gw_auth_settings_t *a = &config->settings.auth;
    assert_int_equal(a->client_auth, 0);
    assert_int_equal(a->scopes.count, 4);
    assert_string_equal(a->scopes.items[0], "openid");
    assert_int_equal(a->api_prefixes.count, 0);
    assert_non_null(strstr(a->store, "/sessions.db"));
    assert_int_equal(a->idle_timeout_ms, 3600 * 1000);
    assert_int_equal(a->absolute_timeout_ms, 12 * 3600 * 1000);
    assert_int_equal(a->cache_ttl_ms, 5000);
    assert_int_equal(a->cache_max_entries, 10000);
    gw_config_release(config);
    config = load_ok(TG OIDC "  sessions:\n    store: redis://:pw@127.0.0.1:6390/2\n"
                             "    keyFile: certs/session.key\n" GW);
    assert_string_equal(config->settings.auth.store, "redis://:pw@127.0.0.1:6390/2");
    /* the summary names the backend, never the password, the secret files' contents or the URL */
    char *text = summary_of(config);
    assert_non_null(strstr(text, "login: oidc http://127.0.0.1:5556"));
    assert_non_null(strstr(text, "redis 127.0.0.1:6390"));
    assert_null(strstr(text, "pw@"));
    assert_null(strstr(text, SCRATCH_SECRET));
    free(text);
    gw_config_release(config);
}

static const row_t rows[] = {
    {"sessions without oidc", TG SESSIONS, "test.yaml:6:5: spec.sessions: needs an oidc section"},
    {"oidc without sessions", TG OIDC, "test.yaml:5:3: spec.sessions: missing required field"},
    {"unknown oidc field", TG OIDC "    clientSecret: x\n" SESSIONS, "test.yaml:11:5: *clientSecret*"},
    {"no issuer", TG "  oidc:\n    clientId: a\n" SESSIONS, "spec.oidc.issuer: missing required field"},
    {"http issuer without allowInsecureIssuer",
     TG "  oidc:\n    issuer: http://127.0.0.1:5556\n    clientId: a\n" SESSIONS,
     "test.yaml:6:13: spec.oidc.issuer: *allowInsecureIssuer: true*"},
    {"http issuer off loopback",
     TG "  oidc:\n    issuer: http://idp.example\n    allowInsecureIssuer: true\n" SESSIONS,
     "test.yaml:6:13: spec.oidc.issuer: "},
    {"issuer with query", TG "  oidc:\n    issuer: https://idp.example/?a=1\n" SESSIONS,
     "test.yaml:6:13: spec.oidc.issuer: "},
    {"missing secret file",
     TG
     "  oidc:\n    issuer: https://idp.example\n    clientId: a\n    clientSecretFile: certs/nope\n" SESSIONS,
     "test.yaml:8:23: spec.oidc.clientSecretFile: cannot read*"},
    {"bad clientAuth", TG OIDC "    clientAuth: private_key_jwt\n" SESSIONS,
     "test.yaml:11:17: spec.oidc.clientAuth: "},
    {"scopes without openid", TG OIDC "    scopes: [email]\n" SESSIONS,
     "test.yaml:11:13: spec.oidc.scopes: must include openid"},
    {"scope with a space", TG OIDC "    scopes: [openid, \"a b\"]\n" SESSIONS,
     "spec.oidc.scopes: a scope is"},
    {"externalUrl with a path",
     TG
     "  oidc:\n    issuer: https://idp.example\n    clientId: a\n    clientSecretFile: certs/client-secret\n"
     "    externalUrl: https://gw.example/app\n" SESSIONS,
     "test.yaml:9:18: spec.oidc.externalUrl: must be an origin*"},
    {"externalUrl plain http off loopback",
     TG
     "  oidc:\n    issuer: https://idp.example\n    clientId: a\n    clientSecretFile: certs/client-secret\n"
     "    externalUrl: http://gw.example\n" SESSIONS,
     "test.yaml:9:18: spec.oidc.externalUrl: "},
    {"no externalUrl",
     TG "  oidc:\n    issuer: https://idp.example\n    clientId: a\n    clientSecretFile: "
        "certs/client-secret\n" SESSIONS,
     "spec.oidc.externalUrl: missing required field"},
    {"api prefix without slash", TG OIDC "    apiPrefixes: [api]\n" SESSIONS,
     "test.yaml:11:18: spec.oidc.apiPrefixes: each prefix must start with '/'"},
    {"bad store URL", TG OIDC "  sessions:\n    store: mysql://x\n    keyFile: certs/session.key\n",
     "test.yaml:12:12: spec.sessions.store: "},
    {"no key file", TG OIDC "  sessions:\n    store: sqlite:s.db\n",
     "spec.sessions.keyFile: missing required field"},
    {"idle over absolute", TG OIDC SESSIONS "    idleTimeout: 2h\n    absoluteTimeout: 1h\n",
     "test.yaml:14:18: spec.sessions.idleTimeout: must not exceed absoluteTimeout"},
    {"cache TTL too long", TG OIDC SESSIONS "    cacheTtl: 2h\n",
     "test.yaml:14:15: spec.sessions.cacheTtl: must be at most 1h"},
    {"cache without entries", TG OIDC SESSIONS "    cacheMaxEntries: 0\n",
     "test.yaml:14:22: spec.sessions.cacheMaxEntries: must be between 1 and 16777216 (got 0)"},
    {"cache bound not a number", TG OIDC SESSIONS "    cacheMaxEntries: many\n",
     "test.yaml:14:22: spec.sessions.cacheMaxEntries: expected an integer, got \"many\""},
    {"logout poll too fast", TG OIDC SESSIONS "    logoutPollInterval: 10ms\n",
     "test.yaml:14:25: spec.sessions.logoutPollInterval: must be 0 (off) or 100ms to 1m"},
    {"unknown sessions field", TG OIDC SESSIONS "    cookie: x\n", "test.yaml:14:5: *cookie*"},
};

static void test_error_rows(void **state)
{
    (void)state;
    check_error_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_off_by_default),
        cmocka_unit_test(test_full_section),
        cmocka_unit_test(test_defaults_and_redis),
        cmocka_unit_test(test_error_rows),
    };
    return cmocka_run_group_tests(tests, setup, scratch_teardown);
}
