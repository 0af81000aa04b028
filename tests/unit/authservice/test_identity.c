#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "authservice/identity.h"

static const char *const groups[] = {"kubeflow-alice-editors", "ml-team"};

static const char *extra_claim(const void *claims, const char *name, size_t index)
{
    (void)claims;
    return strcmp(name, "azp") == 0 && index == 0 ? "cli" : NULL;
}

static as_identity_t alice(void)
{
    return (as_identity_t){.source = AS_IDENTITY_BEARER,
                           .subject = "alice-sub",
                           .issuer = "https://idp.example",
                           .email = "alice@example.com",
                           .userid = "alice@example.com",
                           .groups = groups,
                           .group_count = 2,
                           .claim = extra_claim};
}

static void test_members_answer_their_claims(void **state)
{
    (void)state;
    as_identity_t id = alice();
    assert_string_equal(as_identity_claim(&id, "sub", 0), "alice-sub");
    assert_null(as_identity_claim(&id, "sub", 1));
    assert_string_equal(as_identity_claim(&id, "iss", 0), "https://idp.example");
    assert_string_equal(as_identity_claim(&id, "email", 0), "alice@example.com");
    assert_null(as_identity_claim(&id, "name", 0));
    assert_string_equal(as_identity_claim(&id, "groups", 0), "kubeflow-alice-editors");
    assert_string_equal(as_identity_claim(&id, "groups", 1), "ml-team");
    assert_null(as_identity_claim(&id, "groups", 2));
}

static void test_other_claims_go_to_the_callback(void **state)
{
    (void)state;
    as_identity_t id = alice();
    assert_string_equal(as_identity_claim(&id, "azp", 0), "cli");
    assert_null(as_identity_claim(&id, "azp", 1));
    assert_null(as_identity_claim(&id, "scope", 0));
    id.claim = NULL;
    assert_null(as_identity_claim(&id, "azp", 0));
}

static void test_anonymous_has_no_claims(void **state)
{
    (void)state;
    as_identity_t id = AS_IDENTITY_ANONYMOUS;
    assert_null(as_identity_claim(&id, "sub", 0));
    assert_null(as_identity_claim(&id, "groups", 0));
    assert_null(as_identity_claim(NULL, "sub", 0));
    id = alice();
    id.source = AS_IDENTITY_NONE; /* members left over never count for an anonymous caller */
    assert_null(as_identity_claim(&id, "sub", 0));
}

/* Names resolved once to ids read the same members as names. */
static void test_claim_ids(void **state)
{
    (void)state;
    static const char *const names[] = {"groups", "sub", "iss", "email", "name", "azp", "scope"};
    assert_int_equal(as_identity_claim_id("groups"), AS_CLAIM_GROUPS);
    assert_int_equal(as_identity_claim_id("sub"), AS_CLAIM_SUB);
    assert_int_equal(as_identity_claim_id("azp"), AS_CLAIM_OTHER);
    assert_int_equal(as_identity_claim_id("Groups"), AS_CLAIM_OTHER);
    assert_int_equal(as_identity_claim_id(NULL), AS_CLAIM_OTHER);
    as_identity_t id = alice();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
        for (size_t index = 0; index < 3; ++index) {
            const char *by_name = as_identity_claim(&id, names[i], index);
            const char *by_id = as_identity_claim_by_id(&id, as_identity_claim_id(names[i]), names[i], index);
            assert_ptr_equal(by_name, by_id);
        }
    id.source = AS_IDENTITY_NONE;
    assert_null(as_identity_claim_by_id(&id, AS_CLAIM_SUB, "sub", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_ids),
        cmocka_unit_test(test_members_answer_their_claims),
        cmocka_unit_test(test_other_claims_go_to_the_callback),
        cmocka_unit_test(test_anonymous_has_no_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
