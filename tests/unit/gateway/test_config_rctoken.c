/* TenantGate spec.rctoken: defaults, a full section, the issuer taken from oidc.externalUrl, and one row per
 * refusal with FILE:LINE:COL and the field path. Key files are only checked here, never read. */
#include "config_test_util.h"

#include "authservice/rctoken_keys.h"

#define GW                                                                                                   \
    "---\napiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: g}\nspec:\n"              \
    "  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"
#define TG "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: edge}\nspec:\n"
/* a minimal rctoken section: lines 5-7 */
#define RCTOKEN                                                                                              \
    "  rctoken:\n"                                                                                           \
    "    issuer: https://gw.example/\n"                                                                      \
    "    signingKeyFile: keys/active.pem\n"

static int setup(void **state)
{
    if (scratch_setup(state) != 0)
        return -1;
    char path[256];
    snprintf(path, sizeof(path), "%s/keys", scratch_dir);
    mkdir(path, 0700);
    scratch_write("keys/active.pem", SCRATCH_SECRET "\n");
    scratch_write("keys/old.pem", SCRATCH_SECRET "\n");
    scratch_write("certs/client-secret", SCRATCH_SECRET "\n");
    scratch_write("certs/session.key", SCRATCH_SECRET "\n");
    return 0;
}

static void test_off_by_default(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(TG "  threads: 2\n" GW);
    assert_false(config->settings.rctoken.enabled);
    gw_config_release(config);
}

static void test_defaults(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(TG RCTOKEN GW);
    const gw_rctoken_settings_t *r = &config->settings.rctoken;
    assert_true(r->enabled);
    assert_string_equal(r->issuer, "https://gw.example");
    assert_int_equal(r->ttl_ms, 300000);
    assert_false(r->audience_namespace);
    assert_string_equal(r->header, "authorization");
    assert_int_equal(r->algorithm, AS_RCTOKEN_ES256);
    assert_string_equal(r->namespace_claim, "namespace");
    assert_int_equal(r->jwks_max_age_ms, 300000);
    assert_int_equal(r->cli_token_ttl_ms, 3600000);
    assert_int_equal(r->verify_key_files.count, 0);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s/keys/active.pem", scratch_dir);
    assert_string_equal(r->signing_key_file, expected);
    gw_config_release(config);
}

static void test_full_section(void **state)
{
    (void)state;
    gw_config_t *config =
        load_ok(TG RCTOKEN "    ttl: 2m\n    audience: namespace\n    header: x-rctoken\n"
                           "    algorithm: RS256\n    verifyKeyFiles: [keys/old.pem]\n"
                           "    namespaceClaim: tenant\n    jwksMaxAge: 1m\n    cliTokenTtl: 12h\n" GW);
    const gw_rctoken_settings_t *r = &config->settings.rctoken;
    assert_int_equal(r->ttl_ms, 120000);
    assert_true(r->audience_namespace);
    assert_string_equal(r->header, "x-rctoken");
    assert_int_equal(r->algorithm, AS_RCTOKEN_RS256);
    assert_int_equal(r->verify_key_files.count, 1);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s/keys/old.pem", scratch_dir);
    assert_string_equal(r->verify_key_files.items[0], expected);
    assert_string_equal(r->namespace_claim, "tenant");
    assert_int_equal(r->jwks_max_age_ms, 60000);
    assert_int_equal(r->cli_token_ttl_ms, 12 * 3600000);
    /* the summary names the files, never their contents */
    char *text = summary_of(config);
    assert_non_null(strstr(text, "rctoken: RS256 issuer https://gw.example, ttl 2m"));
    assert_non_null(strstr(text, "audience namespace, header x-rctoken"));
    assert_non_null(strstr(text, "1 verify-only key file(s)"));
    assert_null(strstr(text, SCRATCH_SECRET));
    free(text);
    gw_config_release(config);
}

static void test_issuer_defaults_to_external_url(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(TG "  oidc:\n    issuer: https://idp.example\n    clientId: a\n"
                                     "    clientSecretFile: certs/client-secret\n"
                                     "    externalUrl: https://edge.example:8443\n"
                                     "  sessions:\n    keyFile: certs/session.key\n"
                                     "  rctoken:\n    signingKeyFile: keys/active.pem\n" GW);
    assert_string_equal(config->settings.rctoken.issuer, "https://edge.example:8443");
    gw_config_release(config);
}

static const row_t rows[] = {
    {"no issuer and no oidc", TG "  rctoken:\n    signingKeyFile: keys/active.pem\n",
     "test.yaml:6:5: spec.rctoken.issuer: missing required field"},
    {"no signing key", TG "  rctoken:\n    issuer: https://gw.example\n",
     "spec.rctoken.signingKeyFile: missing required field"},
    {"missing signing key",
     TG "  rctoken:\n    issuer: https://gw.example\n    signingKeyFile: keys/nope.pem\n",
     "test.yaml:7:21: spec.rctoken.signingKeyFile: cannot read*"},
    {"missing verify key", TG RCTOKEN "    verifyKeyFiles: [keys/old.pem, keys/nope.pem]\n",
     "test.yaml:8:36: spec.rctoken.verifyKeyFiles[1]: cannot read*"},
    {"verify keys not a list", TG RCTOKEN "    verifyKeyFiles: keys/old.pem\n",
     "test.yaml:8:21: spec.rctoken.verifyKeyFiles: "},
    {"http issuer off loopback",
     TG "  rctoken:\n    issuer: http://gw.example\n    signingKeyFile: keys/active.pem\n",
     "test.yaml:6:13: spec.rctoken.issuer: "},
    {"ttl too short", TG RCTOKEN "    ttl: 5s\n", "test.yaml:8:10: spec.rctoken.ttl: must be whole seconds*"},
    {"ttl too long", TG RCTOKEN "    ttl: 2h\n", "test.yaml:8:10: spec.rctoken.ttl: "},
    {"ttl with a fraction", TG RCTOKEN "    ttl: 10500ms\n", "test.yaml:8:10: spec.rctoken.ttl: "},
    {"bad audience", TG RCTOKEN "    audience: service\n", "test.yaml:8:15: spec.rctoken.audience: "},
    {"bad algorithm", TG RCTOKEN "    algorithm: HS256\n", "test.yaml:8:16: spec.rctoken.algorithm: "},
    {"upper-case header", TG RCTOKEN "    header: X-Token\n",
     "test.yaml:8:13: spec.rctoken.header: must be a lower-case header name"},
    {"namespace claim shadows sub", TG RCTOKEN "    namespaceClaim: sub\n",
     "test.yaml:8:21: spec.rctoken.namespaceClaim: must not be*"},
    {"cliTokenTtl too short", TG RCTOKEN "    cliTokenTtl: 4s\n",
     "test.yaml:8:18: spec.rctoken.cliTokenTtl: must be whole seconds from 5s to 12h"},
    {"cliTokenTtl too long", TG RCTOKEN "    cliTokenTtl: 13h\n",
     "test.yaml:8:18: spec.rctoken.cliTokenTtl: "},
    {"cliTokenTtl with a fraction", TG RCTOKEN "    cliTokenTtl: 5500ms\n",
     "test.yaml:8:18: spec.rctoken.cliTokenTtl: "},
    {"jwksMaxAge too long", TG RCTOKEN "    jwksMaxAge: 2h\n", "test.yaml:8:17: spec.rctoken.jwksMaxAge: "},
    {"unknown field", TG RCTOKEN "    signingKey: x\n", "test.yaml:8:5: *signingKey*"},
};

static void test_error_rows(void **state)
{
    (void)state;
    check_error_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_section),   cmocka_unit_test(test_issuer_defaults_to_external_url),
        cmocka_unit_test(test_error_rows),
    };
    return cmocka_run_group_tests(tests, setup, scratch_teardown);
}
