#include "authservice/login_state.h"

#include <stddef.h>

#include "authservice/session_record.h"
#include "record_json.h"

static int url_safe(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static const char *check_url_safe(const char *value, size_t len)
{
    for (size_t i = 0; i < len; ++i)
        if (!url_safe(value[i]))
            return "must hold only [A-Za-z0-9-._~]";
    return NULL;
}

static const char *check_pkce_verifier(const char *value, size_t len)
{
    if (len < 43 || len > 128)
        return "must be 43 to 128 characters long";
    return check_url_safe(value, len);
}

/* A path on this host: anything a browser could read as another origin ("//evil", "/\evil") is refused. */
static const char *check_local_path(const char *value, size_t len)
{
    if (len == 0 || value[0] != '/')
        return "must start with '/'";
    if (len > 1 && value[1] == '/')
        return "must not start with '//'";
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)value[i];
        if (c <= 0x20 || c >= 0x7f)
            return "must be printable ASCII without spaces";
        if (c == '\\')
            return "must not contain '\\'";
    }
    return NULL;
}

#define REQ (AS__JSON_REQUIRED | AS__JSON_NONEMPTY)
#define STRING(json, member, max_, check_)                                                                   \
    {                                                                                                        \
        .name = json, .type = AS__JSON_STRING, .flags = REQ, .offset = offsetof(as_login_state_t, member),   \
        .max = max_, .check = check_                                                                         \
    }

static const as__json_field_t fields[] = {
    STRING("state", state, AS_LOGIN_STATE_MAX_VALUE, check_url_safe),
    STRING("nonce", nonce, AS_LOGIN_STATE_MAX_VALUE, check_url_safe),
    STRING("pkce_verifier", pkce_verifier, 128, check_pkce_verifier),
    STRING("return_to", return_to, AS_LOGIN_STATE_MAX_RETURN_TO, check_local_path),
    STRING("provider", provider, AS_LOGIN_STATE_MAX_VALUE, NULL),
    {.name = "created_at",
     .type = AS__JSON_INT64,
     .flags = AS__JSON_REQUIRED,
     .offset = offsetof(as_login_state_t, created_at),
     .min_value = 0,
     .max_value = AS_RECORD_MAX_TIME},
};

static const as__json_schema_t schema = {
    .what = "login state",
    .version_member = "v",
    .version = AS_LOGIN_STATE_VERSION,
    .version_offset = offsetof(as_login_state_t, version),
    .struct_size = sizeof(as_login_state_t),
    .max_document = AS_LOGIN_STATE_MAX_JSON,
    .fields = fields,
    .field_count = sizeof(fields) / sizeof(fields[0]),
};

char *as_login_state_to_json(const as_login_state_t *state, char *err, size_t err_size)
{
    return as__json_encode(&schema, state, err, err_size);
}

int as_login_state_from_json(const char *json, size_t len, as_login_state_t **out, char *err, size_t err_size)
{
    void *obj;
    if (as__json_decode(&schema, json, len, &obj, err, err_size) != 0)
        return -1;
    *out = obj;
    return 0;
}

as_login_state_t *as_login_state_dup(const as_login_state_t *state)
{
    return as__json_copy(&schema, state);
}

int as_login_state_equal(const as_login_state_t *a, const as_login_state_t *b)
{
    return as__json_equal(&schema, a, b);
}

void as_login_state_free(as_login_state_t *state)
{
    as__json_free(&schema, state);
}
