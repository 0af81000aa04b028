#include "authservice/login_flow.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int contains_nocase(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; ++i)
        if (strncasecmp(s + i, needle, n) == 0)
            return 1;
    return 0;
}

int as_request_is_api(const as_request_kind_t *r)
{
    if (r->method != NULL && !(r->method_len == 3 && memcmp(r->method, "GET", 3) == 0) &&
        !(r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0))
        return 1;
    if (r->has_x_requested_with)
        return 1;
    if (r->accept != NULL && contains_nocase(r->accept, r->accept_len, "application/json") &&
        !contains_nocase(r->accept, r->accept_len, "text/html"))
        return 1;
    if (r->authorization != NULL && r->authorization_len >= 7 &&
        strncasecmp(r->authorization, "Bearer ", 7) == 0)
        return 1;
    if (r->api_prefixes != NULL && r->path != NULL)
        for (const char *const *p = r->api_prefixes; *p != NULL; ++p) {
            size_t n = strlen(*p);
            if (r->path_len >= n && memcmp(r->path, *p, n) == 0)
                return 1;
        }
    return 0;
}

static char *claim_string(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    return json_is_string(v) && json_string_length(v) <= AS_SESSION_RECORD_MAX_STRING
               ? strdup(json_string_value(v))
               : NULL;
}

as_session_record_t *as_session_from_claims(const json_t *claims, const char *id_token, int64_t now,
                                            int64_t lifetime_s)
{
    const json_t *sub = json_object_get(claims, "sub");
    if (!json_is_string(sub) || json_string_length(sub) == 0 || id_token == NULL)
        return NULL;
    as_session_record_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->subject = claim_string(claims, "sub");
    r->issuer = claim_string(claims, "iss");
    r->email = claim_string(claims, "email");
    r->name = claim_string(claims, "name");
    r->idp_session_id = claim_string(claims, "sid");
    if (r->idp_session_id != NULL && r->idp_session_id[0] == '\0') {
        free(r->idp_session_id);
        r->idp_session_id = NULL;
    }
    r->id_token = strdup(id_token);
    const json_t *groups = json_object_get(claims, "groups");
    if (json_is_array(groups) && json_array_size(groups) > 0) {
        size_t n = json_array_size(groups);
        r->groups = calloc(n, sizeof(char *));
        for (size_t i = 0; r->groups != NULL && i < n && r->group_count < AS_SESSION_RECORD_MAX_GROUPS; ++i) {
            const json_t *g = json_array_get(groups, i);
            if (json_is_string(g) && json_string_length(g) > 0 &&
                json_string_length(g) <= AS_SESSION_RECORD_MAX_STRING)
                r->groups[r->group_count++] = strdup(json_string_value(g));
        }
        if (r->group_count == 0) {
            free(r->groups);
            r->groups = NULL;
        }
    }
    r->created_at = r->last_seen_at = now;
    r->expires_at = now + lifetime_s;
    const json_t *exp = json_object_get(claims, "exp");
    r->tokens_expire_at =
        json_is_integer(exp) && json_integer_value(exp) > 0 ? json_integer_value(exp) : r->expires_at;
    int ok = r->subject != NULL && r->issuer != NULL && r->id_token != NULL;
    for (size_t i = 0; i < r->group_count; ++i)
        ok = ok && r->groups[i] != NULL;
    if (!ok) {
        as_session_record_free(r);
        return NULL;
    }
    return r;
}

char *as_me_json(const as_session_record_t *record)
{
    json_t *groups = json_array();
    for (size_t i = 0; groups != NULL && i < record->group_count; ++i)
        json_array_append_new(groups, json_string(record->groups[i]));
    json_t *doc =
        json_pack("{s:s, s:s?, s:o?}", "sub", record->subject, "email", record->email, "groups", groups);
    if (doc == NULL)
        return NULL;
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

size_t as_groups_header_size(const as_session_record_t *record)
{
    size_t size = 1; /* the NUL */
    for (size_t i = 0; i < record->group_count && size < AS_GROUPS_HEADER_MAX; ++i)
        size += strlen(record->groups[i]) + 1; /* the group and a comma */
    return size < AS_GROUPS_HEADER_MAX ? size : AS_GROUPS_HEADER_MAX;
}

size_t as_groups_header(const as_session_record_t *record, char *out, size_t out_size)
{
    size_t used = 0;
    if (out_size == 0)
        return 0;
    out[0] = '\0';
    for (size_t i = 0; i < record->group_count; ++i) {
        const char *g = record->groups[i];
        size_t n = strlen(g);
        int ok = 1;
        for (size_t k = 0; k < n; ++k)
            if (g[k] == ',' || (unsigned char)g[k] < 0x20 || g[k] == 0x7f)
                ok = 0;
        if (!ok || used + (used > 0) + n + 1 > out_size)
            continue;
        if (used > 0)
            out[used++] = ',';
        memcpy(out + used, g, n);
        used += n;
        out[used] = '\0';
    }
    return used;
}
