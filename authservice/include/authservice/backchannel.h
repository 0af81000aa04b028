#ifndef AS_BACKCHANNEL_H
#define AS_BACKCHANNEL_H

/*
 * OpenID Connect Back-Channel Logout 1.0, the decisions: what a verified
 * logout token must hold beyond signature, iss, aud, iat and exp (checked by
 * the oidc/ verifier), and the store names of the session indexes it uses.
 *
 * Indexes: at login the session's store key joins the sets
 * "bcl-sid:<H(iss, sid)>" and "bcl-sub:<H(iss, sub)>" (H: hex SHA-256 of
 * iss, a NUL and the value, so no IdP value reaches a key as written). A
 * logout token with sid ends the sessions of that IdP session; one with only
 * sub, every session of that user at that issuer. Replays are refused by
 * "bcl-jti:<H(iss, jti)>", added when a token is accepted.
 */

#include <jansson.h>
#include <stddef.h>

/** The events member a logout token must carry. */
#define AS_BACKCHANNEL_EVENT "http://schemas.openid.net/event/backchannel-logout"

/** Size of an index or replay-guard name with its NUL ("bcl-sid:" + 64 hex digits). */
#define AS_BACKCHANNEL_NAME_SIZE 80

/** What a logout token names; strings borrowed from the claims. */
typedef struct {
    const char *issuer;
    const char *sid; /* NULL when absent */
    const char *sub; /* NULL when absent */
    const char *jti;
} as_logout_token_t;

/**
 * Checks the JOSE header and claims of a signature-verified logout token
 * (section 2.6 steps 3-6): typ absent, "JWT" or "logout+jwt"; events an
 * object holding AS_BACKCHANNEL_EVENT as an object; sid and/or sub
 * (non-empty strings); jti a non-empty string; no nonce. Returns NULL and
 * fills out, or a short reason naming the claim at fault (no claim value).
 */
const char *as_logout_token_check(const json_t *header, const json_t *claims, as_logout_token_t *out);

/** Writes the name kind ("sid", "sub" or "jti") of value at issuer into name[AS_BACKCHANNEL_NAME_SIZE]. */
void as_backchannel_name(const char *kind, const char *issuer, const char *value,
                         char name[AS_BACKCHANNEL_NAME_SIZE]);

#endif
