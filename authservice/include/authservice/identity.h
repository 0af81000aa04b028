#ifndef AS_IDENTITY_H
#define AS_IDENTITY_H

/*
 * Who a request comes from, as the identity step found it: a browser session
 * or a verified bearer token. Authorization, RCToken minting and the
 * identity headers all read this one shape. Strings are borrowed (the
 * gateway copies them into the request's memory) and never logged except
 * userid.
 */

#include <stddef.h>
#include <stdint.h>

/** Where an identity came from. */
typedef enum {
    AS_IDENTITY_NONE,    /* anonymous: login is off or the route needs none */
    AS_IDENTITY_SESSION, /* a browser session (cookie) */
    AS_IDENTITY_BEARER   /* a verified bearer token */
} as_identity_source_t;

/**
 * Further claims of a bearer token: the index-th value of claim name (0 for
 * a single value, 0.. for the entries of a list), or NULL when there is none.
 */
typedef const char *(*as_identity_claim_cb)(const void *claims, const char *name, size_t index);

/** A caller's identity; every member but source may be NULL/0 for AS_IDENTITY_NONE. */
typedef struct {
    as_identity_source_t source;
    const char *subject;       /* sub */
    const char *issuer;        /* iss of the token that vouched for the subject */
    const char *email;         /* may be NULL */
    const char *name;          /* may be NULL */
    const char *userid;        /* email, else sub: kubeflow-userid and policy "user" */
    const char *const *groups; /* group_count names */
    size_t group_count;
    const char *groups_header; /* groups joined by commas (kubeflow-groups), "" when none */
    const char *session_key;   /* stable per-session (or per-token) cache key, secret: never log or send */
    const void *claims;        /* further claims (bearer tokens), for claim; may be NULL */
    as_identity_claim_cb claim;
    int64_t expires_at; /* absolute end of a browser session (Unix seconds), 0 when unknown */
} as_identity_t;

/** The anonymous identity. */
#define AS_IDENTITY_ANONYMOUS ((as_identity_t){.source = AS_IDENTITY_NONE})

/**
 * The index-th value of claim name of identity: sub, iss, email, name and
 * groups come from the members, any other name from identity->claim.
 * Returns NULL when there is none (or identity is anonymous).
 */
const char *as_identity_claim(const as_identity_t *identity, const char *name, size_t index);

/** Which member of as_identity_t a claim name reads (AS_CLAIM_OTHER: the claim callback). */
typedef enum {
    AS_CLAIM_OTHER,
    AS_CLAIM_GROUPS,
    AS_CLAIM_SUB,
    AS_CLAIM_ISS,
    AS_CLAIM_EMAIL,
    AS_CLAIM_NAME
} as_identity_claim_id_t;

/** The id of claim name, resolved once (e.g. when policies compile) so a request does not compare names. */
as_identity_claim_id_t as_identity_claim_id(const char *name);

/** as_identity_claim with the name already resolved: id is as_identity_claim_id(name). */
const char *as_identity_claim_by_id(const as_identity_t *identity, as_identity_claim_id_t id,
                                    const char *name, size_t index);

#endif
