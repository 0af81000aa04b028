/* RequestAuthentication (security.istio.io): jwtRules decoded with tenantgate's annotations, a document
 * without rules, and one row per refusal with FILE:LINE:COL and the field path. */
#include "config_test_util.h"

#define GW                                                                                                   \
    "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: g}\nspec:\n"                   \
    "  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n---\n"
/* the RequestAuthentication document starts on line 9: metadata on 11, spec on 12 */
#define RA "apiVersion: security.istio.io/v1beta1\nkind: RequestAuthentication\n"

static void test_rules_and_annotations(void **state)
{
    (void)state;
    gw_config_t *config =
        load_ok(GW RA "metadata:\n"
                      "  name: idp\n"
                      "  namespace: istio-system\n"
                      "  annotations:\n"
                      "    tenantgate.io/userid-claim: preferred_username\n"
                      "    tenantgate.io/groups-claim: roles\n"
                      "    tenantgate.io/allow-insecure-jwks-uri: \"true\"\n"
                      "spec:\n"
                      "  selector: {matchLabels: {istio: ingressgateway}}\n"
                      "  jwtRules:\n"
                      "  - issuer: http://127.0.0.1:5556\n"
                      "    jwksUri: http://127.0.0.1:5556/jwks\n"
                      "    audiences: [https://tenantgate.local/api, tenantgate]\n"
                      "    fromHeaders: [{name: Authorization, prefix: \"Bearer \"}]\n"
                      "    forwardOriginalToken: true\n"
                      "  - issuer: https://kubernetes.default.svc\n"
                      "    audiences: [tenantgate]\n"
                      "---\n" RA "metadata: {name: none, namespace: kubeflow-bob}\nspec: {}\n");
    assert_int_equal(config->request_auth_count, 2);
    const gw_request_auth_t *ra = &config->request_auths[0];
    assert_string_equal(ra->meta.namespace_, "istio-system");
    assert_int_equal(ra->selector.count, 1);
    assert_int_equal(ra->jwt_rule_count, 2);
    const gw_jwt_rule_t *r = &ra->jwt_rules[0];
    assert_string_equal(r->issuer, "http://127.0.0.1:5556");
    assert_string_equal(r->jwks_uri, "http://127.0.0.1:5556/jwks");
    assert_int_equal(r->audiences.count, 2);
    assert_string_equal(r->audiences.items[1], "tenantgate");
    assert_true(r->forward_original_token);
    assert_true(r->allow_insecure);
    assert_string_equal(r->userid_claim, "preferred_username");
    assert_string_equal(r->groups_claim, "roles");
    assert_int_equal(r->mark.line, 21);
    r = &ra->jwt_rules[1];
    assert_null(r->jwks_uri); /* from the issuer's discovery document */
    assert_false(r->forward_original_token);
    assert_string_equal(r->groups_claim, "roles"); /* annotations hold for every rule of the document */
    assert_int_equal(config->request_auths[1].jwt_rule_count, 0);
    gw_config_release(config);
}

static void test_defaults_without_annotations(void **state)
{
    (void)state;
    gw_config_t *config =
        load_ok(GW RA "metadata: {name: ra}\n"
                      "spec: {jwtRules: [{issuer: \"https://idp.example\", audiences: [a]}]}\n");
    const gw_jwt_rule_t *r = &config->request_auths[0].jwt_rules[0];
    assert_string_equal(config->request_auths[0].meta.namespace_, "default");
    assert_false(r->allow_insecure);
    assert_null(r->userid_claim);
    assert_string_equal(r->groups_claim, "groups");
    gw_config_release(config);
}

static const row_t rows[] = {
    {"issuer missing", GW RA "metadata: {name: ra}\nspec: {jwtRules: [{audiences: [a]}]}\n",
     "test.yaml:12:19: spec.jwtRules[0].issuer: missing required field"},
    {"audiences missing",
     GW RA "metadata: {name: ra}\nspec: {jwtRules: [{issuer: \"https://idp.example\"}]}\n",
     "test.yaml:12:19: spec.jwtRules[0].audiences: missing required field"},
    {"http issuer without the annotation",
     GW RA "metadata: {name: ra}\nspec: {jwtRules: [{issuer: \"http://127.0.0.1:1\", audiences: [a]}]}\n",
     "test.yaml:12:28: spec.jwtRules[0].issuer: *tenantgate.io/allow-insecure-jwks-uri"},
    {"http jwksUri off loopback",
     GW RA
     "metadata: {name: ra, annotations: {tenantgate.io/allow-insecure-jwks-uri: \"true\"}}\n"
     "spec: {jwtRules: [{issuer: \"https://idp.example\", jwksUri: \"http://idp.example/jwks\", audiences: "
     "[a]}]}\n",
     "test.yaml:12:*: spec.jwtRules[0].jwksUri: "},
    {"outputClaimToHeaders refused",
     GW RA "metadata: {name: ra}\nspec: {jwtRules: [{issuer: \"https://idp.example\", audiences: [a], "
           "outputClaimToHeaders: [{header: kubeflow-userid, claim: sub}]}]}\n",
     "test.yaml:12:*: spec.jwtRules[0]*outputClaimToHeaders*not supported"},
    {"inline jwks refused",
     GW RA "metadata: {name: ra}\nspec: {jwtRules: [{issuer: \"https://idp.example\", audiences: [a], jwks: "
           "\"{}\"}]}\n",
     "test.yaml:12:*: spec.jwtRules[0]*jwks*not supported"},
    {"another header",
     GW RA "metadata: {name: ra}\nspec: {jwtRules: [{issuer: \"https://idp.example\", audiences: [a], "
           "fromHeaders: [{name: x-jwt}]}]}\n",
     "test.yaml:12:*: spec.jwtRules[0].fromHeaders[0]: only name: Authorization"},
    {"unknown rule field",
     GW RA
     "metadata: {name: ra}\nspec: {jwtRules: [{issuer: \"https://idp.example\", audiences: [a], x: 1}]}\n",
     "test.yaml:12:*: spec.jwtRules[0]*unknown field \"x\""},
    {"targetRef refused", GW RA "metadata: {name: ra}\nspec: {targetRef: {kind: Gateway, name: g}}\n",
     "test.yaml:12:*: spec*targetRef*not supported"},
    {"jwtRules not a list", GW RA "metadata: {name: ra}\nspec: {jwtRules: {issuer: x}}\n",
     "test.yaml:12:18: spec.jwtRules: expected a list"},
};

static void test_error_rows(void **state)
{
    (void)state;
    check_error_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_and_annotations),
        cmocka_unit_test(test_defaults_without_annotations),
        cmocka_unit_test(test_error_rows),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
