/* Token endpoint answers: what is accepted, and how each refusal is classified. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/token_response.h"

static void test_success(void **state)
{
    static const char body[] = "{\"access_token\":\"at-1\",\"token_type\":\"bearer\",\"expires_in\":299.9,"
                               "\"id_token\":\"h.p.s\",\"refresh_token\":\"rt-1\",\"scope\":\"openid email\","
                               "\"unknown\":{\"ignored\":true}}";
    oidc_tokens_t *t = NULL;
    oidc_token_error_t err;
    assert_int_equal(oidc_token_response_parse(200, body, strlen(body), 1, &t, &err), OIDC_PROVIDER_OK);
    assert_string_equal(t->access_token, "at-1");
    assert_string_equal(t->token_type, "Bearer"); /* compared without case, stored canonical */
    assert_string_equal(t->id_token, "h.p.s");
    assert_string_equal(t->refresh_token, "rt-1");
    assert_string_equal(t->scope, "openid email");
    assert_int_equal(t->expires_in, 299);
    oidc_tokens_free(t);

    static const char minimal[] = "{\"access_token\":\"at\",\"token_type\":\"Bearer\"}";
    t = NULL;
    assert_int_equal(oidc_token_response_parse(200, minimal, strlen(minimal), 0, &t, NULL), OIDC_PROVIDER_OK);
    assert_null(t->id_token);
    assert_null(t->refresh_token);
    assert_null(t->scope);
    assert_int_equal(t->expires_in, -1);
    oidc_tokens_free(t);
    oidc_tokens_free(NULL);
}

static void test_refusals(void **state)
{
    static const struct {
        long status;
        const char *body;
        int require_id_token;
        oidc_provider_status_t expect;
        const char *error;
        const char *reason;
    } cases[] = {
        /* malformed successes */
        {200, "not json", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "not a JSON object"},
        {200, "[]", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "not a JSON object"},
        {200, "", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "not a JSON object"},
        {200, "{\"token_type\":\"Bearer\"}", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "access_token"},
        {200, "{\"access_token\":\"\",\"token_type\":\"Bearer\"}", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID,
         "", "access_token"},
        {200, "{\"access_token\":7,\"token_type\":\"Bearer\"}", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "",
         "access_token"},
        {200, "{\"access_token\":\"a\\u0000b\",\"token_type\":\"Bearer\"}", 0,
         OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "not a JSON object"}, /* NUL: refused by the parser */
        {200, "{\"access_token\":\"a\"}", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "token_type"},
        {200, "{\"access_token\":\"a\",\"token_type\":\"DPoP\"}", 0, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "",
         "not Bearer"},
        {200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\"}", 1, OIDC_PROVIDER_TOKEN_RESPONSE_INVALID,
         "", "id_token missing"},
        {200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"id_token\":null}", 0,
         OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "id_token"},
        {200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"expires_in\":\"3600\"}", 0,
         OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "expires_in"},
        {200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"expires_in\":-1}", 0,
         OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "expires_in"},
        {200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"expires_in\":1e300}", 0,
         OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "expires_in"},
        {200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"refresh_token\":[]}", 0,
         OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "refresh_token"},
        {200, "{\"access_token\":\"a\",\"access_token\":\"b\",\"token_type\":\"Bearer\"}", 0,
         OIDC_PROVIDER_TOKEN_RESPONSE_INVALID, "", "not a JSON object"},
        /* OAuth error answers */
        {400, "{\"error\":\"invalid_grant\",\"error_description\":\"grant request is invalid\"}", 1,
         OIDC_PROVIDER_GRANT_REJECTED, "invalid_grant", "grant"},
        {401, "{\"error\":\"invalid_client\"}", 1, OIDC_PROVIDER_CLIENT_REJECTED, "invalid_client", "client"},
        {400, "{\"error\":\"unauthorized_client\"}", 1, OIDC_PROVIDER_CLIENT_REJECTED, "unauthorized_client",
         "client"},
        {400, "{\"error\":\"invalid_scope\"}", 0, OIDC_PROVIDER_REQUEST_REJECTED, "invalid_scope", "refused"},
        {400, "{\"error\":\"unsupported_grant_type\"}", 0, OIDC_PROVIDER_REQUEST_REJECTED,
         "unsupported_grant_type", "refused"},
        /* anything else is the IdP's trouble */
        {400, "not json", 0, OIDC_PROVIDER_IDP_BAD_STATUS, "", "unexpected status"},
        {400, "{\"error\":42}", 0, OIDC_PROVIDER_IDP_BAD_STATUS, "", "unexpected status"},
        {500, "{\"error\":\"server_error\"}", 0, OIDC_PROVIDER_IDP_BAD_STATUS, "", "unexpected status"},
        {503, "", 0, OIDC_PROVIDER_IDP_BAD_STATUS, "", "unexpected status"},
        {302, "", 0, OIDC_PROVIDER_IDP_BAD_STATUS, "", "unexpected status"},
        {201, "{\"access_token\":\"a\",\"token_type\":\"Bearer\"}", 0, OIDC_PROVIDER_IDP_BAD_STATUS, "",
         "unexpected status"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        oidc_tokens_t *t = (oidc_tokens_t *)0x1;
        oidc_token_error_t err;
        oidc_provider_status_t s = oidc_token_response_parse(
            cases[i].status, cases[i].body, strlen(cases[i].body), cases[i].require_id_token, &t, &err);
        if (s != cases[i].expect)
            fail_msg("case %zu: %s, expected %s (%s)", i, oidc_provider_status_code(s),
                     oidc_provider_status_code(cases[i].expect), err.reason);
        assert_ptr_equal(t, (oidc_tokens_t *)0x1);
        assert_string_equal(err.error, cases[i].error);
        if (strstr(err.reason, cases[i].reason) == NULL)
            fail_msg("case %zu: reason \"%s\", expected \"%s\"", i, err.reason, cases[i].reason);
    }
}

static void test_error_text_sanitised(void **state)
{
    /* RFC 6749 limits error and error_description to printable ASCII without " and \ */
    static const char body[] = "{\"error\":\"invalid_grant\\r\\nX: 1\",\"error_description\":\"bad \\\"x\\\" "
                               "\\u00e9\\u0007 end\"}";
    oidc_tokens_t *t = NULL;
    oidc_token_error_t err;
    assert_int_equal(oidc_token_response_parse(400, body, strlen(body), 0, &t, &err),
                     OIDC_PROVIDER_REQUEST_REJECTED);
    assert_string_equal(err.error, "invalid_grant??X: 1");
    assert_string_equal(err.description, "bad ?x? ??? end");

    char long_body[1024];
    char filler[600];
    memset(filler, 'd', sizeof(filler) - 1);
    filler[sizeof(filler) - 1] = '\0';
    snprintf(long_body, sizeof(long_body), "{\"error\":\"invalid_grant\",\"error_description\":\"%s\"}",
             filler);
    assert_int_equal(oidc_token_response_parse(400, long_body, strlen(long_body), 0, &t, &err),
                     OIDC_PROVIDER_GRANT_REJECTED);
    assert_int_equal(strlen(err.description), OIDC_TOKEN_DESCRIPTION_SIZE - 1);
}

static void test_limits_and_arguments(void **state)
{
    oidc_tokens_t *t = NULL;
    char *big = malloc(OIDC_TOKEN_RESPONSE_MAX + 1);
    memset(big, ' ', OIDC_TOKEN_RESPONSE_MAX + 1);
    assert_int_equal(oidc_token_response_parse(200, big, OIDC_TOKEN_RESPONSE_MAX + 1, 0, &t, NULL),
                     OIDC_PROVIDER_IDP_BAD_RESPONSE);
    free(big);
    assert_int_equal(oidc_token_response_parse(200, "{}", 2, 0, NULL, NULL), OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_token_response_parse(200, NULL, 3, 0, &t, NULL), OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_error_text_sanitised),
        cmocka_unit_test(test_limits_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
