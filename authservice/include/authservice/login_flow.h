#ifndef AS_LOGIN_FLOW_H
#define AS_LOGIN_FLOW_H

/*
 * Decisions of the login flow that need no server: whether a request comes
 * from an API client (401, never a redirect), the session record made from a
 * verified ID token, and the JSON of /authservice/me. The HTTP glue lives in
 * the gateway (gateway/auth_handler.c).
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "authservice/session_record.h"

/** What as_request_is_api looks at; strings are not NUL-terminated, NULL when the header is absent. */
typedef struct {
    const char *method;
    size_t method_len;
    const char *path; /* normalised, without the query */
    size_t path_len;
    const char *accept;
    size_t accept_len;
    int has_x_requested_with;
    const char *authorization;
    size_t authorization_len;
    const char *const *api_prefixes; /* NULL-terminated list of configured prefixes, or NULL */
} as_request_kind_t;

/**
 * Whether the request is from an API client: a method other than GET and
 * HEAD, an Accept that names application/json and not text/html,
 * X-Requested-With, a Bearer authorization, or a path under one of the API
 * prefixes. Returns 1 or 0.
 */
int as_request_is_api(const as_request_kind_t *request);

/**
 * Builds a session record from the verified claims of an ID token (sub
 * required; iss, email, name, groups (strings only, at most
 * AS_SESSION_RECORD_MAX_GROUPS), sid taken when present) and the raw token.
 * created_at = last_seen_at = now, expires_at = now + lifetime_s,
 * tokens_expire_at = the token's exp (or expires_at). Returns a new record
 * (as_session_record_free) or NULL when sub is missing or memory is short.
 */
as_session_record_t *as_session_from_claims(const json_t *claims, const char *id_token, int64_t now,
                                            int64_t lifetime_s);

/** JSON {"sub","email","groups"} of a record for /authservice/me; malloc'd, or NULL when memory is short. */
char *as_me_json(const as_session_record_t *record);

/**
 * Writes the groups of record joined by ',' into out (out_size bytes), for
 * kubeflow-groups; a group holding ',' or a control character is left out.
 * Returns the length written.
 */
size_t as_groups_header(const as_session_record_t *record, char *out, size_t out_size);

/** The most a kubeflow-groups header holds: as_groups_header leaves out the groups that do not fit. */
#define AS_GROUPS_HEADER_MAX 8192

/** The out_size as_groups_header needs for all of record's groups, at most AS_GROUPS_HEADER_MAX. */
size_t as_groups_header_size(const as_session_record_t *record);

#endif
