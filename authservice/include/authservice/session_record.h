#ifndef AS_SESSION_RECORD_H
#define AS_SESSION_RECORD_H

/*
 * A browser session as kept in the session store, and its JSON form. The
 * record holds secrets (the raw ID token, the sealed refresh token): never
 * log a record or its JSON. Format and rules: docs/internals/sessions.md.
 *
 * JSON members, in the order they are written:
 *   v (1), sub, iss, email?, name?, groups, sid?, id_token,
 *   refresh_token_sealed?, created_at, last_seen_at, expires_at, tokens_expire_at
 * (? = left out when NULL). Decoding is strict: an unknown member, a
 * duplicate member, a wrong type, a missing member, a value over its limit
 * or another version is an error; a format change bumps the version.
 */

#include <stddef.h>
#include <stdint.h>

/** The record format this build reads and writes. */
#define AS_SESSION_RECORD_VERSION 1
/** Longest string member (and group name), in bytes. */
#define AS_SESSION_RECORD_MAX_STRING (16 * 1024)
/** Most groups a record may carry. */
#define AS_SESSION_RECORD_MAX_GROUPS 256
/** Largest JSON document, in bytes (both when reading and writing). */
#define AS_SESSION_RECORD_MAX_JSON (64 * 1024)
/** Largest timestamp accepted (9999-12-31T23:59:59Z); timestamps are never negative. */
#define AS_RECORD_MAX_TIME INT64_C(253402300799)

/** A server-side browser session. Every string is owned by the record. */
typedef struct {
    char *subject;              /* sub, required, non-empty */
    char *issuer;               /* iss of the ID token, required, non-empty */
    char *email;                /* may be NULL */
    char *name;                 /* may be NULL */
    char **groups;              /* group_count non-empty names; NULL when group_count is 0 */
    size_t group_count;         /* at most AS_SESSION_RECORD_MAX_GROUPS */
    char *idp_session_id;       /* sid claim, for back-channel logout; may be NULL */
    char *id_token;             /* raw, for id_token_hint at logout (never logged); required */
    char *refresh_token_sealed; /* as_seal() output, may be NULL */
    int64_t created_at;         /* unix seconds */
    int64_t last_seen_at;
    int64_t expires_at;       /* absolute lifetime end */
    int64_t tokens_expire_at; /* when the IdP tokens need a refresh */
    uint32_t version;         /* format version, set by the decoder */
} as_session_record_t;

/**
 * Encodes record as compact JSON. The record must satisfy the decoder's
 * rules (required members, limits, valid UTF-8), so that what is written can
 * always be read back; the version written is AS_SESSION_RECORD_VERSION.
 * Returns a malloc'd NUL-terminated string (free it with free()), or NULL and
 * a reason in err (may be NULL) that names the member, never its value.
 */
char *as_session_record_to_json(const as_session_record_t *record, char *err, size_t err_size);

/**
 * Decodes len bytes of JSON into a new record. Returns 0 and sets *out, or
 * -1 with a reason in err (may be NULL; names members, never values) and
 * *out untouched.
 */
int as_session_record_from_json(const char *json, size_t len, as_session_record_t **out, char *err,
                                size_t err_size);

/** Deep copy of record, or NULL when out of memory (or record is NULL). */
as_session_record_t *as_session_record_dup(const as_session_record_t *record);

/** 1 if both records hold the same values, member by member, else 0. */
int as_session_record_equal(const as_session_record_t *a, const as_session_record_t *b);

/** Frees a record made by this module (decoded, duplicated or calloc'd and filled with malloc'd strings),
 * wiping its strings first. NULL is a no-op. */
void as_session_record_free(as_session_record_t *record);

#endif
