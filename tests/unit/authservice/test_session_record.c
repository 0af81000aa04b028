/* Session records and login states: canonical JSON, round trips, every decoding rule, copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "authservice/login_state.h"
#include "authservice/session_record.h"

/* A typical record, in canonical form (member order and compact layout are the encoder's). */
static const char base_record[] =
    "{\"v\":1,\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"email\":\"alice@example.com\","
    "\"name\":\"Alice Liddell\",\"groups\":[\"kubeflow-alice\",\"ml-users\"],\"sid\":\"sid-1\","
    "\"id_token\":\"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.SECRETSIGNATURE\","
    "\"refresh_token_sealed\":\"AQ-abc_123\",\"created_at\":1700000000,\"last_seen_at\":1700000100,"
    "\"expires_at\":1700086400,\"tokens_expire_at\":1700003600}";

static const char base_login[] = "{\"v\":1,\"state\":\"st4te-value\",\"nonce\":\"n0nce_value\","
                                 "\"pkce_verifier\":\"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\","
                                 "\"return_to\":\"/notebook/kubeflow-alice/nb1/?a=1\",\"provider\":\"dex\","
                                 "\"created_at\":1700000000}";

static as_session_record_t *parse_ok(const char *json)
{
    as_session_record_t *r = NULL;
    char err[256] = "";
    if (as_session_record_from_json(json, strlen(json), &r, err, sizeof(err)) != 0)
        fail_msg("unexpected decode failure: %s", err);
    return r;
}

static void test_decode_typical_record(void **state)
{
    (void)state;
    as_session_record_t *r = parse_ok(base_record);
    assert_string_equal(r->subject, "alice");
    assert_string_equal(r->issuer, "https://idp.example");
    assert_string_equal(r->email, "alice@example.com");
    assert_string_equal(r->name, "Alice Liddell");
    assert_int_equal(r->group_count, 2);
    assert_string_equal(r->groups[0], "kubeflow-alice");
    assert_string_equal(r->groups[1], "ml-users");
    assert_string_equal(r->idp_session_id, "sid-1");
    assert_string_equal(r->id_token, "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.SECRETSIGNATURE");
    assert_string_equal(r->refresh_token_sealed, "AQ-abc_123");
    assert_int_equal(r->created_at, 1700000000);
    assert_int_equal(r->last_seen_at, 1700000100);
    assert_int_equal(r->expires_at, 1700086400);
    assert_int_equal(r->tokens_expire_at, 1700003600);
    assert_int_equal(r->version, AS_SESSION_RECORD_VERSION);
    as_session_record_free(r);
}

static void test_encode_is_canonical(void **state)
{
    (void)state;
    as_session_record_t *r = parse_ok(base_record);
    char *json = as_session_record_to_json(r, NULL, 0);
    assert_non_null(json);
    assert_string_equal(json, base_record);
    free(json);

    /* the same content with members shuffled and spaced decodes to the same record */
    const char shuffled[] =
        "{ \"tokens_expire_at\": 1700003600, \"expires_at\": 1700086400, \"last_seen_at\": 1700000100,\n"
        "  \"created_at\": 1700000000, \"refresh_token_sealed\": \"AQ-abc_123\",\n"
        "  \"id_token\": \"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.SECRETSIGNATURE\", \"sid\": \"sid-1\",\n"
        "  \"groups\": [\"kubeflow-alice\", \"ml-users\"], \"name\": \"Alice Liddell\",\n"
        "  \"email\": \"alice@example.com\", \"iss\": \"https://idp.example\", \"sub\": \"alice\", \"v\": 1 "
        "}";
    as_session_record_t *s = parse_ok(shuffled);
    assert_true(as_session_record_equal(r, s));
    as_session_record_free(s);
    as_session_record_free(r);
}

static void test_minimal_record_round_trip(void **state)
{
    (void)state;
    as_session_record_t *r = calloc(1, sizeof(*r));
    r->subject = strdup("bob");
    r->issuer = strdup("https://idp.example");
    r->id_token = strdup("a.b.c");
    r->created_at = 0;
    r->last_seen_at = 0;
    r->expires_at = AS_RECORD_MAX_TIME;
    r->tokens_expire_at = 5;
    r->version = AS_SESSION_RECORD_VERSION;
    char *json = as_session_record_to_json(r, NULL, 0);
    assert_non_null(json);
    /* optional members that are NULL are left out; groups is always written */
    assert_string_equal(json, "{\"v\":1,\"sub\":\"bob\",\"iss\":\"https://idp.example\",\"groups\":[],"
                              "\"id_token\":\"a.b.c\",\"created_at\":0,\"last_seen_at\":0,"
                              "\"expires_at\":253402300799,\"tokens_expire_at\":5}");
    as_session_record_t *back = parse_ok(json);
    assert_true(as_session_record_equal(r, back));
    assert_null(back->email);
    assert_null(back->groups);
    assert_int_equal(back->group_count, 0);
    free(json);
    as_session_record_free(back);
    as_session_record_free(r);
}

static void test_unicode_and_escapes_round_trip(void **state)
{
    (void)state;
    const char json[] =
        "{\"v\":1,\"sub\":\"\\u00e9l\\u00e8ve \\\"q\\\" \\\\ \\/\",\"iss\":\"https://idp.example\","
        "\"name\":\"\xe6\x9d\x8e\xe5\x9b\x9b \xf0\x9f\x98\x80\",\"groups\":[\"a\\nb\"],"
        "\"id_token\":\"x\",\"created_at\":1,\"last_seen_at\":1,\"expires_at\":1,"
        "\"tokens_expire_at\":1}";
    as_session_record_t *r = parse_ok(json);
    assert_string_equal(r->subject, "\xc3\xa9l\xc3\xa8ve \"q\" \\ /");
    assert_string_equal(r->name, "\xe6\x9d\x8e\xe5\x9b\x9b \xf0\x9f\x98\x80");
    assert_string_equal(r->groups[0], "a\nb");
    char *out = as_session_record_to_json(r, NULL, 0);
    assert_non_null(out);
    as_session_record_t *back = parse_ok(out);
    assert_true(as_session_record_equal(r, back));
    free(out);
    as_session_record_free(back);
    as_session_record_free(r);
}

/* One decoding rule: base_record with member set to value (JSON text; NULL deletes it). */
typedef struct {
    const char *member;
    const char *value;
    const char *expected; /* substring of the error */
} mutation_case_t;

static const mutation_case_t record_cases[] = {
    {"v", NULL, "missing member \"v\""},
    {"v", "2", "unsupported version 2"},
    {"v", "0", "unsupported version 0"},
    {"v", "\"1\"", "member \"v\" must be an integer"},
    {"v", "1.0", "member \"v\" must be an integer"},
    {"sub", NULL, "missing member \"sub\""},
    {"sub", "\"\"", "member \"sub\" must not be empty"},
    {"sub", "1", "member \"sub\" must be a string"},
    {"sub", "null", "member \"sub\" must be a string"},
    {"sub", "[\"alice\"]", "member \"sub\" must be a string"},
    {"iss", NULL, "missing member \"iss\""},
    {"iss", "\"\"", "member \"iss\" must not be empty"},
    {"iss", "{}", "member \"iss\" must be a string"},
    {"email", "null", "member \"email\" must be a string"},
    {"email", "false", "member \"email\" must be a string"},
    {"name", "7", "member \"name\" must be a string"},
    {"groups", NULL, "missing member \"groups\""},
    {"groups", "\"admins\"", "member \"groups\" must be an array of strings"},
    {"groups", "{}", "member \"groups\" must be an array of strings"},
    {"groups", "[\"a\",1]", "member \"groups\" entry 1 must be a string"},
    {"groups", "[null]", "member \"groups\" entry 0 must be a string"},
    {"groups", "[\"\"]", "member \"groups\" entry 0 must not be empty"},
    {"groups", "[[\"a\"]]", "member \"groups\" entry 0 must be a string"},
    {"sid", "\"\"", "member \"sid\" must not be empty"},
    {"sid", "1", "member \"sid\" must be a string"},
    {"id_token", NULL, "missing member \"id_token\""},
    {"id_token", "\"\"", "member \"id_token\" must not be empty"},
    {"id_token", "\"a.b c\"", "member \"id_token\" must be a compact JOSE token"},
    {"id_token", "\"a.b+c\"", "member \"id_token\" must be a compact JOSE token"},
    {"refresh_token_sealed", "\"AQ==\"", "member \"refresh_token_sealed\" must be unpadded base64url"},
    {"refresh_token_sealed", "\"\"", "member \"refresh_token_sealed\" must not be empty"},
    {"refresh_token_sealed", "0", "member \"refresh_token_sealed\" must be a string"},
    {"created_at", NULL, "missing member \"created_at\""},
    {"created_at", "-1", "member \"created_at\" is out of range"},
    {"created_at", "\"1700000000\"", "member \"created_at\" must be an integer"},
    {"created_at", "1700000000.5", "member \"created_at\" must be an integer"},
    {"created_at", "1e9", "member \"created_at\" must be an integer"},
    {"created_at", "true", "member \"created_at\" must be an integer"},
    {"last_seen_at", NULL, "missing member \"last_seen_at\""},
    {"last_seen_at", "253402300800", "member \"last_seen_at\" is out of range"},
    {"expires_at", NULL, "missing member \"expires_at\""},
    {"expires_at", "null", "member \"expires_at\" must be an integer"},
    {"tokens_expire_at", NULL, "missing member \"tokens_expire_at\""},
    {"tokens_expire_at", "-9223372036854775808", "member \"tokens_expire_at\" is out of range"},
    {"refresh_token", "\"x\"", "unknown member \"refresh_token\""},
    {"Sub", "\"x\"", "unknown member \"Sub\""},
    {"groups_extra", "[]", "unknown member \"groups_extra\""},
};

/* Whole documents that break a rule. */
typedef struct {
    const char *json;
    const char *expected;
} document_case_t;

static const document_case_t record_documents[] = {
    {"", "not valid JSON: truncated"},
    {"   ", "not valid JSON: truncated"},
    {"[]", "not a JSON object"},
    {"\"x\"", "not a JSON object"},
    {"null", "not a JSON object"},
    {"{", "not valid JSON: truncated"},
    {"{}", "missing member \"v\""},
    {"{\"v\":1}", "missing member \"sub\""},
    {"{\"v\":1,\"v\":1}", "not valid JSON: duplicate member"},
    {"{\"v\":1} {}", "not valid JSON: data after the object"},
    {"{\"v\":1,\"sub\":\"a\\u0000b\"}", "not valid JSON: NUL character"},
    {"{\"v\":1,\"sub\":\"\xff\"}", "not valid JSON: invalid UTF-8"},
    {"{\"v\":1,\"sub\":'a'}", "not valid JSON: syntax error"},
    {"{\"v\":99999999999999999999}", "not valid JSON: number out of range"},
    {"{\"v\":1,\"\\u0001\":1}", "unknown member (unprintable name)"},
};

static void set_member(json_t *root, const char *member, const char *value)
{
    if (value == NULL) {
        json_object_del(root, member);
        return;
    }
    json_error_t jerr;
    json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fail_msg("bad test value %s: %s", value, jerr.text);
    json_object_set_new(root, member, v);
}

typedef int (*decode_fn)(const char *json, size_t len, void **out, char *err, size_t err_size);

static int decode_record(const char *json, size_t len, void **out, char *err, size_t err_size)
{
    return as_session_record_from_json(json, len, (as_session_record_t **)out, err, err_size);
}

static int decode_login(const char *json, size_t len, void **out, char *err, size_t err_size)
{
    return as_login_state_from_json(json, len, (as_login_state_t **)out, err, err_size);
}

/* Decoding must fail with expected in the message, leave *out alone and never quote the token. */
static void expect_failure(decode_fn decode, const char *json, size_t len, const char *expected,
                           const char *label)
{
    void *sentinel = (void *)&sentinel;
    void *out = sentinel;
    char err[256];
    memset(err, 0, sizeof(err));
    if (decode(json, len, &out, err, sizeof(err)) != -1)
        fail_msg("%s: decoded, expected \"%s\"", label, expected);
    if (out != sentinel)
        fail_msg("%s: *out was changed on failure", label);
    if (strstr(err, expected) == NULL)
        fail_msg("%s: error \"%s\" lacks \"%s\"", label, err, expected);
    if (strstr(err, "SECRET") != NULL)
        fail_msg("%s: error quotes a value: %s", label, err);
}

static void run_mutations(decode_fn decode, const char *base, const mutation_case_t *cases, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        json_t *root = json_loads(base, 0, NULL);
        assert_non_null(root);
        set_member(root, cases[i].member, cases[i].value);
        char *json = json_dumps(root, JSON_COMPACT);
        char label[128];
        snprintf(label, sizeof(label), "case %zu (%s = %s)", i, cases[i].member,
                 cases[i].value ? cases[i].value : "deleted");
        expect_failure(decode, json, strlen(json), cases[i].expected, label);
        free(json);
        json_decref(root);
    }
}

static void test_record_rules_table(void **state)
{
    (void)state;
    run_mutations(decode_record, base_record, record_cases, sizeof(record_cases) / sizeof(record_cases[0]));
    for (size_t i = 0; i < sizeof(record_documents) / sizeof(record_documents[0]); ++i) {
        char label[64];
        snprintf(label, sizeof(label), "document %zu", i);
        expect_failure(decode_record, record_documents[i].json, strlen(record_documents[i].json),
                       record_documents[i].expected, label);
    }
    expect_failure(decode_record, NULL, 0, "no document", "NULL");
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* base_record with member set to a string of n copies of c, as JSON text. */
static char *with_long_string(const char *member, char c, size_t n)
{
    json_t *root = json_loads(base_record, 0, NULL);
    char *s = repeat(c, n);
    json_object_set_new(root, member, json_string(s));
    char *json = json_dumps(root, JSON_COMPACT);
    free(s);
    json_decref(root);
    return json;
}

static void test_record_size_limits(void **state)
{
    (void)state;
    /* each string: exactly the limit passes, one more byte fails */
    const char *members[] = {"sub", "iss", "email", "name", "sid", "id_token", "refresh_token_sealed"};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); ++i) {
        char *ok = with_long_string(members[i], 'A', AS_SESSION_RECORD_MAX_STRING);
        as_session_record_t *r = parse_ok(ok);
        char *again = as_session_record_to_json(r, NULL, 0);
        assert_string_equal(again, ok);
        free(again);
        as_session_record_free(r);
        free(ok);
        char *bad = with_long_string(members[i], 'A', AS_SESSION_RECORD_MAX_STRING + 1);
        char expected[96];
        snprintf(expected, sizeof(expected), "member \"%s\" is 16385 bytes, the limit is 16384", members[i]);
        expect_failure(decode_record, bad, strlen(bad), expected, members[i]);
        free(bad);
    }
    /* a multi-byte character counts its bytes: 5462 * 3 = 16386 */
    char *wide = malloc(5462 * 3 + 1);
    for (size_t i = 0; i < 5462; ++i)
        memcpy(wide + 3 * i, "\xe2\x82\xac", 3);
    wide[5462 * 3] = '\0';
    json_t *root = json_loads(base_record, 0, NULL);
    json_object_set_new(root, "name", json_string(wide));
    char *json = json_dumps(root, JSON_COMPACT);
    expect_failure(decode_record, json, strlen(json), "member \"name\" is 16386 bytes", "utf-8 name");
    free(json);
    free(wide);
    json_object_set_new(root, "name", json_string("Alice"));

    /* groups: 256 entries pass, 257 fail; a long group name fails */
    json_t *groups = json_array();
    for (int i = 0; i < AS_SESSION_RECORD_MAX_GROUPS; ++i) {
        char name[16];
        snprintf(name, sizeof(name), "g%d", i);
        json_array_append_new(groups, json_string(name));
    }
    json_object_set(root, "groups", groups);
    json = json_dumps(root, JSON_COMPACT);
    as_session_record_t *r = parse_ok(json);
    assert_int_equal(r->group_count, 256);
    assert_string_equal(r->groups[255], "g255");
    as_session_record_free(r);
    free(json);
    json_array_append_new(groups, json_string("one-too-many"));
    json = json_dumps(root, JSON_COMPACT);
    expect_failure(decode_record, json, strlen(json), "member \"groups\" has 257 entries, the limit is 256",
                   "257 groups");
    free(json);
    char *long_group = repeat('g', AS_SESSION_RECORD_MAX_STRING + 1);
    json_array_clear(groups);
    json_array_append_new(groups, json_string("ok"));
    json_array_append_new(groups, json_string(long_group));
    json = json_dumps(root, JSON_COMPACT);
    expect_failure(decode_record, json, strlen(json), "member \"groups\" entry 1 is 16385 bytes",
                   "long group");
    free(json);
    free(long_group);
    json_decref(groups);

    /* the whole document: each member within its limit, the sum over 64 KiB */
    json_decref(root);
    root = json_loads(base_record, 0, NULL);
    const char *fill[] = {"sub", "iss", "email", "name"};
    for (size_t i = 0; i < 4; ++i) {
        char *s = repeat('x', AS_SESSION_RECORD_MAX_STRING);
        json_object_set_new(root, fill[i], json_string(s));
        free(s);
    }
    json = json_dumps(root, JSON_COMPACT);
    assert_true(strlen(json) > AS_SESSION_RECORD_MAX_JSON);
    expect_failure(decode_record, json, strlen(json), "document is", "whole document");
    free(json);
    json_decref(root);

    /* a document over the limit is refused before parsing, even if it is whitespace-padded */
    size_t big = AS_SESSION_RECORD_MAX_JSON + 1;
    char *padded = malloc(big + 1);
    size_t base_len = strlen(base_record);
    memcpy(padded, base_record, base_len);
    memset(padded + base_len, ' ', big - base_len);
    padded[big] = '\0';
    expect_failure(decode_record, padded, big, "document is 65537 bytes, the limit is 65536", "padded");
    /* and exactly at the limit it is fine */
    as_session_record_t *at_limit = NULL;
    assert_int_equal(as_session_record_from_json(padded, big - 1, &at_limit, NULL, 0), 0);
    as_session_record_free(at_limit);
    free(padded);
}

/* Encoding refuses what decoding would refuse. */
typedef void (*breaker_t)(as_session_record_t *r);

static void break_subject(as_session_record_t *r)
{
    free(r->subject);
    r->subject = NULL;
}
static void empty_issuer(as_session_record_t *r)
{
    r->issuer[0] = '\0';
}
static void break_id_token(as_session_record_t *r)
{
    free(r->id_token);
    r->id_token = NULL;
}
static void bad_utf8_name(as_session_record_t *r)
{
    r->name[0] = (char)0xff;
}
static void negative_time(as_session_record_t *r)
{
    r->expires_at = -5;
}
static void too_many_groups(as_session_record_t *r)
{
    r->group_count = AS_SESSION_RECORD_MAX_GROUPS + 1;
}
static void null_group(as_session_record_t *r)
{
    free(r->groups[1]);
    r->groups[1] = NULL;
}
static void long_email(as_session_record_t *r)
{
    free(r->email);
    r->email = repeat('e', AS_SESSION_RECORD_MAX_STRING + 1);
}
static void padded_sealed(as_session_record_t *r)
{
    free(r->refresh_token_sealed);
    r->refresh_token_sealed = strdup("AQ==");
}
static void oversize_document(as_session_record_t *r)
{
    char **slots[] = {&r->subject, &r->issuer, &r->email, &r->name};
    for (size_t i = 0; i < 4; ++i) {
        free(*slots[i]);
        *slots[i] = repeat('x', AS_SESSION_RECORD_MAX_STRING);
    }
}

static void test_encode_refuses_invalid_records(void **state)
{
    (void)state;
    static const struct {
        breaker_t breaker;
        const char *expected;
    } cases[] = {
        {break_subject, "missing member \"sub\""},
        {empty_issuer, "member \"iss\" must not be empty"},
        {break_id_token, "missing member \"id_token\""},
        {bad_utf8_name, "member \"name\" is not valid UTF-8"},
        {negative_time, "member \"expires_at\" is out of range"},
        {too_many_groups, "member \"groups\" has 257 entries"},
        {null_group, "member \"groups\" entry 1 must be a string"},
        {long_email, "member \"email\" is 16385 bytes"},
        {padded_sealed, "member \"refresh_token_sealed\" must be unpadded base64url"},
        {oversize_document, "encodes to"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        as_session_record_t *r = parse_ok(base_record);
        size_t real_count = r->group_count;
        cases[i].breaker(r);
        char err[256] = "";
        char *json = as_session_record_to_json(r, err, sizeof(err));
        if (json != NULL)
            fail_msg("case %zu: encoded an invalid record: %s", i, json);
        if (strstr(err, cases[i].expected) == NULL)
            fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, cases[i].expected);
        r->group_count = real_count;
        as_session_record_free(r);
    }
    char err[64] = "";
    assert_null(as_session_record_to_json(NULL, err, sizeof(err)));
    assert_string_equal(err, "session record: no record");
}

static void test_dup_is_deep_and_equal_sees_every_member(void **state)
{
    (void)state;
    as_session_record_t *r = parse_ok(base_record);
    as_session_record_t *copy = as_session_record_dup(r);
    assert_non_null(copy);
    assert_true(as_session_record_equal(r, copy));
    assert_ptr_not_equal(copy->subject, r->subject);
    assert_ptr_not_equal(copy->groups, r->groups);
    assert_ptr_not_equal(copy->groups[0], r->groups[0]);

    /* changing the copy leaves the original alone, and equal() notices each member */
    copy->groups[0][0] = 'X';
    assert_string_equal(r->groups[0], "kubeflow-alice");
    assert_false(as_session_record_equal(r, copy));
    as_session_record_free(copy);

    for (int member = 0; member < 13; ++member) {
        copy = as_session_record_dup(r);
        switch (member) {
        case 0:
            copy->subject[0] = 'A';
            break;
        case 1:
            copy->issuer[0] = 'H';
            break;
        case 2:
            free(copy->email);
            copy->email = NULL;
            break;
        case 3:
            copy->name[0] = 'a';
            break;
        case 4:
            copy->group_count = 1;
            break;
        case 5:
            copy->idp_session_id[0] = 'S';
            break;
        case 6:
            copy->id_token[0] = 'f';
            break;
        case 7:
            copy->refresh_token_sealed[0] = 'B';
            break;
        case 8:
            copy->created_at++;
            break;
        case 9:
            copy->last_seen_at++;
            break;
        case 10:
            copy->expires_at++;
            break;
        case 11:
            copy->tokens_expire_at++;
            break;
        case 12:
            copy->version = 2;
            break;
        }
        if (as_session_record_equal(r, copy))
            fail_msg("member %d: change not seen by equal()", member);
        if (member == 4)
            copy->group_count = 2;
        as_session_record_free(copy);
    }
    assert_true(as_session_record_equal(NULL, NULL));
    assert_false(as_session_record_equal(r, NULL));
    assert_null(as_session_record_dup(NULL));
    as_session_record_free(NULL);
    as_session_record_free(r);
}

/* Login states: the same codec, with their own rules. */
static const mutation_case_t login_cases[] = {
    {"v", "2", "login state: unsupported version 2"},
    {"state", NULL, "missing member \"state\""},
    {"state", "\"\"", "member \"state\" must not be empty"},
    {"state", "\"a/b\"", "member \"state\" must hold only [A-Za-z0-9-._~]"},
    {"state", "\"a b\"", "member \"state\" must hold only"},
    {"nonce", NULL, "missing member \"nonce\""},
    {"nonce", "\"n%20\"", "member \"nonce\" must hold only"},
    {"pkce_verifier", NULL, "missing member \"pkce_verifier\""},
    {"pkce_verifier", "\"short\"", "member \"pkce_verifier\" must be 43 to 128 characters long"},
    {"pkce_verifier", "\"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+\"",
     "member \"pkce_verifier\" must hold only"},
    {"return_to", NULL, "missing member \"return_to\""},
    {"return_to", "\"https://evil.example/\"", "member \"return_to\" must start with '/'"},
    {"return_to", "\"//evil.example/\"", "member \"return_to\" must not start with '//'"},
    {"return_to", "\"/\\\\evil.example/\"", "member \"return_to\" must not contain '\\'"},
    {"return_to", "\"/a\\\\b\"", "member \"return_to\" must not contain '\\'"},
    {"return_to", "\"/a b\"", "member \"return_to\" must be printable ASCII without spaces"},
    {"return_to", "\"/a\\tb\"", "member \"return_to\" must be printable ASCII"},
    {"return_to", "\"/caf\\u00e9\"", "member \"return_to\" must be printable ASCII"},
    {"return_to", "\"\"", "member \"return_to\" must not be empty"},
    {"provider", NULL, "missing member \"provider\""},
    {"provider", "3", "member \"provider\" must be a string"},
    {"created_at", "-1", "member \"created_at\" is out of range"},
    {"created_at", NULL, "missing member \"created_at\""},
    {"sub", "\"x\"", "login state: unknown member \"sub\""},
};

static void test_login_state_round_trip(void **state)
{
    (void)state;
    as_login_state_t *s = NULL;
    char err[256] = "";
    if (as_login_state_from_json(base_login, strlen(base_login), &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(s->state, "st4te-value");
    assert_string_equal(s->nonce, "n0nce_value");
    assert_string_equal(s->pkce_verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_string_equal(s->return_to, "/notebook/kubeflow-alice/nb1/?a=1");
    assert_string_equal(s->provider, "dex");
    assert_int_equal(s->created_at, 1700000000);
    assert_int_equal(s->version, AS_LOGIN_STATE_VERSION);
    char *json = as_login_state_to_json(s, NULL, 0);
    assert_string_equal(json, base_login);
    as_login_state_t *copy = as_login_state_dup(s);
    assert_true(as_login_state_equal(s, copy));
    copy->return_to[1] = 'N';
    assert_false(as_login_state_equal(s, copy));
    assert_string_equal(s->return_to, "/notebook/kubeflow-alice/nb1/?a=1");

    /* the encoder applies the same rules */
    free(copy->return_to);
    copy->return_to = strdup("//evil.example");
    assert_null(as_login_state_to_json(copy, err, sizeof(err)));
    assert_non_null(strstr(err, "must not start with '//'"));
    as_login_state_free(copy);
    free(json);
    as_login_state_free(s);
    as_login_state_free(NULL);
}

static void test_login_state_rules_table(void **state)
{
    (void)state;
    run_mutations(decode_login, base_login, login_cases, sizeof(login_cases) / sizeof(login_cases[0]));
    /* the login-state limit is 8 KiB, not the session record's */
    char *big = malloc(AS_LOGIN_STATE_MAX_JSON + 2);
    memset(big, ' ', AS_LOGIN_STATE_MAX_JSON + 1);
    big[AS_LOGIN_STATE_MAX_JSON + 1] = '\0';
    expect_failure(decode_login, big, strlen(big), "login state: document is 8193 bytes", "big login");
    free(big);
    /* a session record is not a login state and the other way round */
    expect_failure(decode_login, base_record, strlen(base_record), "login state: unknown member", "record");
    expect_failure(decode_record, base_login, strlen(base_login), "session record: unknown member", "login");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_typical_record),
        cmocka_unit_test(test_encode_is_canonical),
        cmocka_unit_test(test_minimal_record_round_trip),
        cmocka_unit_test(test_unicode_and_escapes_round_trip),
        cmocka_unit_test(test_record_rules_table),
        cmocka_unit_test(test_record_size_limits),
        cmocka_unit_test(test_encode_refuses_invalid_records),
        cmocka_unit_test(test_dup_is_deep_and_equal_sees_every_member),
        cmocka_unit_test(test_login_state_round_trip),
        cmocka_unit_test(test_login_state_rules_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
