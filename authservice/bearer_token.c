/* Bearer tokens before verification (docs/internals/bearer.md). */
#include "authservice/bearer_token.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/base64url.h"

const char *as_bearer_token_status_name(as_bearer_token_status_t status)
{
    switch (status) {
    case AS_BEARER_TOKEN_OK:
        return "ok";
    case AS_BEARER_TOKEN_NOT_BEARER:
        return "not_bearer";
    case AS_BEARER_TOKEN_EMPTY:
        return "empty";
    case AS_BEARER_TOKEN_TOO_LARGE:
        return "too_large";
    case AS_BEARER_TOKEN_MALFORMED:
        return "malformed";
    }
    return "unknown";
}

as_bearer_token_status_t as_bearer_token_from_header(const char *value, size_t len, const char **token,
                                                     size_t *token_len)
{
    static const char scheme[] = "Bearer";
    const size_t scheme_len = sizeof(scheme) - 1;
    if (value == NULL || len < scheme_len || strncasecmp(value, scheme, scheme_len) != 0 ||
        (len > scheme_len && value[scheme_len] != ' '))
        return AS_BEARER_TOKEN_NOT_BEARER;
    size_t start = scheme_len;
    while (start < len && value[start] == ' ')
        ++start;
    size_t end = len;
    while (end > start && value[end - 1] == ' ')
        --end;
    if (end == start)
        return AS_BEARER_TOKEN_EMPTY;
    if (end - start > AS_BEARER_MAX_TOKEN)
        return AS_BEARER_TOKEN_TOO_LARGE;
    *token = value + start;
    *token_len = end - start;
    return AS_BEARER_TOKEN_OK;
}

static int base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

as_bearer_token_status_t as_bearer_token_peek_issuer(const char *token, size_t len, char *iss, size_t size)
{
    if (len > AS_BEARER_MAX_TOKEN)
        return AS_BEARER_TOKEN_TOO_LARGE;
    size_t dots[2], ndots = 0;
    for (size_t i = 0; i < len; ++i) {
        if (token[i] == '.') {
            if (ndots == 2)
                return AS_BEARER_TOKEN_MALFORMED;
            dots[ndots++] = i;
        } else if (!base64url_char(token[i])) {
            return AS_BEARER_TOKEN_MALFORMED;
        }
    }
    if (ndots != 2 || dots[0] == 0 || dots[1] == dots[0] + 1 || dots[1] + 1 == len)
        return AS_BEARER_TOKEN_MALFORMED;
    const char *payload = token + dots[0] + 1;
    size_t payload_len = dots[1] - dots[0] - 1;
    uint8_t *json = malloc(payload_len + 1);
    if (json == NULL)
        return AS_BEARER_TOKEN_MALFORMED;
    long json_len = tg_base64url_decode(json, payload, payload_len);
    json_t *claims =
        json_len > 0 ? json_loadb((const char *)json, (size_t)json_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(json);
    const json_t *value = json_object_get(claims, "iss");
    const char *s = json_string_value(value);
    size_t s_len = json_string_length(value);
    as_bearer_token_status_t status = AS_BEARER_TOKEN_MALFORMED;
    if (s != NULL && s_len > 0 && s_len < size && s_len < AS_BEARER_MAX_ISSUER &&
        memchr(s, '\0', s_len) == NULL) {
        memcpy(iss, s, s_len + 1);
        status = AS_BEARER_TOKEN_OK;
    }
    json_decref(claims);
    return status;
}
