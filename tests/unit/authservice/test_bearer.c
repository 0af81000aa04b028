/* Bearer tokens before verification (header, unverified iss) and the per-worker cache of verified ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authservice/bearer_cache.h"
#include "authservice/bearer_token.h"
#include "util/base64url.h"

/* "h.<base64url(payload)>.s" */
static char *token_with_payload(const char *payload)
{
    size_t len = strlen(payload);
    char *out = malloc(TG_BASE64URL_ENCODED_SIZE(len) + 16);
    strcpy(out, "eyJ.");
    size_t n = tg_base64url_encode(out + 4, (const uint8_t *)payload, len);
    strcpy(out + 4 + n, ".c2ln");
    return out;
}

static void test_header_forms(void **state)
{
    (void)state;
    const char *token;
    size_t len;
    static const struct {
        const char *value;
        as_bearer_token_status_t expect;
        const char *token;
    } cases[] = {
        {"Bearer abc.def.ghi", AS_BEARER_TOKEN_OK, "abc.def.ghi"},
        {"bearer   abc  ", AS_BEARER_TOKEN_OK, "abc"},
        {"BEARER x", AS_BEARER_TOKEN_OK, "x"},
        {"Bearer", AS_BEARER_TOKEN_EMPTY, NULL},
        {"Bearer    ", AS_BEARER_TOKEN_EMPTY, NULL},
        {"Basic YWxpY2U6cHc=", AS_BEARER_TOKEN_NOT_BEARER, NULL},
        {"Bearerabc", AS_BEARER_TOKEN_NOT_BEARER, NULL},
        {"Beare", AS_BEARER_TOKEN_NOT_BEARER, NULL},
        {"", AS_BEARER_TOKEN_NOT_BEARER, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        as_bearer_token_status_t got =
            as_bearer_token_from_header(cases[i].value, strlen(cases[i].value), &token, &len);
        if (got != cases[i].expect)
            fail_msg("\"%s\": %s, expected %s", cases[i].value, as_bearer_token_status_name(got),
                     as_bearer_token_status_name(cases[i].expect));
        if (got == AS_BEARER_TOKEN_OK) {
            assert_int_equal(len, strlen(cases[i].token));
            assert_memory_equal(token, cases[i].token, len);
        }
    }
    assert_int_equal(as_bearer_token_from_header(NULL, 0, &token, &len), AS_BEARER_TOKEN_NOT_BEARER);
}

static void test_oversized_header(void **state)
{
    (void)state;
    size_t n = 7 + AS_BEARER_MAX_TOKEN + 1;
    char *value = malloc(n + 1);
    memcpy(value, "Bearer ", 7);
    memset(value + 7, 'A', n - 7);
    value[n] = '\0';
    const char *token;
    size_t len;
    assert_int_equal(as_bearer_token_from_header(value, n, &token, &len), AS_BEARER_TOKEN_TOO_LARGE);
    assert_int_equal(as_bearer_token_from_header(value, n - 1, &token, &len), AS_BEARER_TOKEN_OK);
    assert_int_equal(as_bearer_token_peek_issuer(value + 7, n - 7, (char[8]){0}, 8),
                     AS_BEARER_TOKEN_TOO_LARGE);
    free(value);
}

static void test_peek_issuer(void **state)
{
    (void)state;
    char iss[AS_BEARER_MAX_ISSUER];
    char *t = token_with_payload("{\"iss\":\"https://idp.example\",\"sub\":\"a\"}");
    assert_int_equal(as_bearer_token_peek_issuer(t, strlen(t), iss, sizeof(iss)), AS_BEARER_TOKEN_OK);
    assert_string_equal(iss, "https://idp.example");
    /* too small a buffer: refused, not cut */
    assert_int_equal(as_bearer_token_peek_issuer(t, strlen(t), iss, 8), AS_BEARER_TOKEN_MALFORMED);
    free(t);
}

static void test_peek_refusals(void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "{\"sub\":\"a\"}",               /* no iss */
        "{\"iss\":42}",                  /* not a string */
        "{\"iss\":\"\"}",                /* empty */
        "{\"iss\":\"a\\u0000b\"}",       /* NUL inside */
        "{\"iss\":\"a\",\"iss\":\"b\"}", /* duplicate: which one would the verifier see? */
        "[\"iss\"]",                     /* not an object */
        "not json",
    };
    char iss[AS_BEARER_MAX_ISSUER];
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); ++i) {
        char *t = token_with_payload(payloads[i]);
        if (as_bearer_token_peek_issuer(t, strlen(t), iss, sizeof(iss)) != AS_BEARER_TOKEN_MALFORMED)
            fail_msg("payload %zu (%s) was not refused", i, payloads[i]);
        free(t);
    }
    static const char *const shapes[] = {
        "abc",      "a.b",          "a.b.c.d",       ".eyJ.c2ln",     "eyJ..c2ln",
        "eyJ.eyJ.", "eyJ.e+J.c2ln", "eyJ.eyJ=.c2ln", "eyJ.eyJ .c2ln", "",
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); ++i)
        if (as_bearer_token_peek_issuer(shapes[i], strlen(shapes[i]), iss, sizeof(iss)) !=
            AS_BEARER_TOKEN_MALFORMED)
            fail_msg("shape \"%s\" was not refused", shapes[i]);
}

static void key_of(const char *token, uint8_t key[AS_BEARER_KEY_SIZE])
{
    as_bearer_cache_key(token, strlen(token), key);
}

static void test_cache_valid_until_expiry(void **state)
{
    (void)state;
    as_bearer_cache_t *cache = as_bearer_cache_new(16);
    uint8_t key[AS_BEARER_KEY_SIZE], other[AS_BEARER_KEY_SIZE];
    key_of("token-a", key);
    key_of("token-b", other);
    json_t *claims = json_pack("{s:s, s:[s,s]}", "sub", "alice", "groups", "g1", "g2");
    as_bearer_cache_put_valid(cache, key, claims, 3, 1000);
    json_decref(claims); /* the cache holds its own reference */
    json_t *got = NULL;
    size_t rule = 0;
    int reason = -1;
    assert_int_equal(as_bearer_cache_get(cache, key, 999, &got, &rule, &reason), AS_BEARER_VALID);
    assert_int_equal(rule, 3);
    assert_string_equal(as_bearer_claim(got, "sub", 0), "alice");
    assert_string_equal(as_bearer_claim(got, "groups", 1), "g2");
    assert_null(as_bearer_claim(got, "groups", 2));
    assert_null(as_bearer_claim(got, "sub", 1));
    assert_null(as_bearer_claim(got, "missing", 0));
    json_decref(got);
    assert_int_equal(as_bearer_cache_get(cache, other, 999, &got, &rule, &reason), AS_BEARER_MISS);
    assert_int_equal(as_bearer_cache_get(cache, key, 1000, &got, &rule, &reason), AS_BEARER_MISS);
    assert_int_equal(as_bearer_cache_get(cache, key, 10, &got, &rule, &reason), AS_BEARER_MISS); /* cleared */
    as_bearer_cache_stats_t stats;
    as_bearer_cache_stats(cache, &stats);
    assert_int_equal(stats.hits, 1);
    assert_int_equal(stats.misses, 3);
    as_bearer_cache_free(cache);
}

static void test_cache_refusals(void **state)
{
    (void)state;
    as_bearer_cache_t *cache = as_bearer_cache_new(16);
    uint8_t key[AS_BEARER_KEY_SIZE];
    key_of("forged", key);
    as_bearer_cache_put_refused(cache, key, 1, 7, 5000);
    json_t *got = NULL;
    size_t rule = 0;
    int reason = 0;
    assert_int_equal(as_bearer_cache_get(cache, key, 4999, &got, &rule, &reason), AS_BEARER_REFUSED);
    assert_null(got);
    assert_int_equal(rule, 1);
    assert_int_equal(reason, 7);
    assert_int_equal(as_bearer_cache_get(cache, key, 5000, &got, &rule, &reason), AS_BEARER_MISS);
    as_bearer_cache_free(cache);
}

static void test_cache_is_bounded(void **state)
{
    (void)state;
    as_bearer_cache_t *cache = as_bearer_cache_new(16);
    json_t *claims = json_object();
    char name[32];
    uint8_t key[AS_BEARER_KEY_SIZE];
    for (int i = 0; i < 1000; ++i) {
        snprintf(name, sizeof(name), "token-%d", i);
        key_of(name, key);
        as_bearer_cache_put_valid(cache, key, claims, 0, 1000);
    }
    size_t live = 0;
    for (int i = 0; i < 1000; ++i) {
        snprintf(name, sizeof(name), "token-%d", i);
        key_of(name, key);
        json_t *got = NULL;
        size_t rule;
        int reason;
        if (as_bearer_cache_get(cache, key, 1, &got, &rule, &reason) == AS_BEARER_VALID)
            ++live;
        json_decref(got);
    }
    assert_true(live > 0 && live <= 16);
    /* the last one written is always there */
    key_of("token-999", key);
    json_t *got = NULL;
    size_t rule;
    int reason;
    assert_int_equal(as_bearer_cache_get(cache, key, 1, &got, &rule, &reason), AS_BEARER_VALID);
    json_decref(got);
    assert_int_equal(claims->refcount, 1 + live); /* replaced entries dropped their references */
    as_bearer_cache_free(cache);
    assert_int_equal(claims->refcount, 1);
    json_decref(claims);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_forms),
        cmocka_unit_test(test_oversized_header),
        cmocka_unit_test(test_peek_issuer),
        cmocka_unit_test(test_peek_refusals),
        cmocka_unit_test(test_cache_valid_until_expiry),
        cmocka_unit_test(test_cache_refusals),
        cmocka_unit_test(test_cache_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
