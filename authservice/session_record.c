#include "authservice/session_record.h"

#include <stddef.h>

#include "record_json.h"

/* JWS or JWE compact serialisation: base64url segments joined by dots. */
static const char *check_compact_jose(const char *value, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        char c = value[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return "must be a compact JOSE token";
    }
    return NULL;
}

/* as_seal() output. */
static const char *check_base64url(const char *value, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        char c = value[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return "must be unpadded base64url";
    }
    return NULL;
}

#define REQ (AS__JSON_REQUIRED | AS__JSON_NONEMPTY)
#define STRING(json, member, flags_, check_)                                                                 \
    {                                                                                                        \
        .name = json, .type = AS__JSON_STRING, .flags = flags_,                                              \
        .offset = offsetof(as_session_record_t, member), .max = AS_SESSION_RECORD_MAX_STRING,                \
        .check = check_                                                                                      \
    }
#define TIME(json, member)                                                                                   \
    {                                                                                                        \
        .name = json, .type = AS__JSON_INT64, .flags = AS__JSON_REQUIRED,                                    \
        .offset = offsetof(as_session_record_t, member), .min_value = 0, .max_value = AS_RECORD_MAX_TIME     \
    }

static const as__json_field_t fields[] = {
    STRING("sub", subject, REQ, NULL),
    STRING("iss", issuer, REQ, NULL),
    STRING("email", email, 0, NULL),
    STRING("name", name, 0, NULL),
    {.name = "groups",
     .type = AS__JSON_STRING_ARRAY,
     .flags = REQ,
     .offset = offsetof(as_session_record_t, groups),
     .count_offset = offsetof(as_session_record_t, group_count),
     .max = AS_SESSION_RECORD_MAX_GROUPS,
     .max_entry = AS_SESSION_RECORD_MAX_STRING},
    STRING("sid", idp_session_id, AS__JSON_NONEMPTY, NULL),
    STRING("id_token", id_token, REQ, check_compact_jose),
    STRING("refresh_token_sealed", refresh_token_sealed, AS__JSON_NONEMPTY, check_base64url),
    TIME("created_at", created_at),
    TIME("last_seen_at", last_seen_at),
    TIME("expires_at", expires_at),
    TIME("tokens_expire_at", tokens_expire_at),
};

static const as__json_schema_t schema = {
    .what = "session record",
    .version_member = "v",
    .version = AS_SESSION_RECORD_VERSION,
    .version_offset = offsetof(as_session_record_t, version),
    .struct_size = sizeof(as_session_record_t),
    .max_document = AS_SESSION_RECORD_MAX_JSON,
    .fields = fields,
    .field_count = sizeof(fields) / sizeof(fields[0]),
};

char *as_session_record_to_json(const as_session_record_t *record, char *err, size_t err_size)
{
    return as__json_encode(&schema, record, err, err_size);
}

int as_session_record_from_json(const char *json, size_t len, as_session_record_t **out, char *err,
                                size_t err_size)
{
    void *obj;
    if (as__json_decode(&schema, json, len, &obj, err, err_size) != 0)
        return -1;
    *out = obj;
    return 0;
}

as_session_record_t *as_session_record_dup(const as_session_record_t *record)
{
    return as__json_copy(&schema, record);
}

int as_session_record_equal(const as_session_record_t *a, const as_session_record_t *b)
{
    return as__json_equal(&schema, a, b);
}

void as_session_record_free(as_session_record_t *record)
{
    as__json_free(&schema, record);
}
