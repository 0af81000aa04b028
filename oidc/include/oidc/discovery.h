#ifndef OIDC_DISCOVERY_H
#define OIDC_DISCOVERY_H

/*
 * OpenID Provider metadata (OIDC Discovery 1.0 section 3, RFC 8414): the
 * document at <issuer>/.well-known/openid-configuration, parsed and
 * validated once into an immutable, reference-counted value, so a cache can
 * swap in a fresh copy while readers still hold the old one.
 */

#include <stddef.h>

/** Largest discovery document accepted, in bytes. */
#define OIDC_DISCOVERY_MAX_DOCUMENT (256 * 1024)

/** The well-known path appended to the issuer (after removing one trailing '/'). */
#define OIDC_DISCOVERY_PATH "/.well-known/openid-configuration"

/** Validated provider metadata. Every URL passed oidc_url_check with the parse's flags. */
typedef struct {
    /** Equal, byte for byte, to the issuer the caller expected. */
    const char *issuer;
    const char *authorization_endpoint;
    const char *token_endpoint;
    const char *jwks_uri;
    /** Optional endpoints: NULL when the IdP does not publish them. */
    const char *userinfo_endpoint;
    const char *end_session_endpoint;
    const char *introspection_endpoint;
    const char *revocation_endpoint;
    /** backchannel_logout_supported and backchannel_logout_session_supported (false when absent). */
    int backchannel_logout_supported;
    int backchannel_logout_session_supported;
    /** 1 when code_challenge_methods_supported is published (it then lists S256), 0 when absent. */
    int pkce_s256_advertised;
    /** id_token_signing_alg_values_supported as a mask of oidc_jws_alg_t (unknown names left out; 0 when
     * absent). */
    unsigned id_token_algs;
} oidc_discovery_t;

/**
 * Parses and validates a discovery document of len bytes (at most
 * OIDC_DISCOVERY_MAX_DOCUMENT): a JSON object without duplicate members
 * whose issuer equals expected_issuer exactly; issuer, authorization_endpoint,
 * token_endpoint and jwks_uri present; every published URL acceptable to
 * oidc_url_check(url, url_flags) (the issuer also without query); the
 * booleans booleans; code_challenge_methods_supported, when present, an array
 * of strings listing S256; response_types_supported, when present, listing
 * "code"; id_token_signing_alg_values_supported, when present, an array of
 * strings. Returns 0 and sets *out (refcount 1), or -1 with a reason in err
 * (may be NULL; it names the member at fault) and *out untouched.
 */
int oidc_discovery_parse(const char *json, size_t len, const char *expected_issuer, unsigned url_flags,
                         oidc_discovery_t **out, char *err, size_t err_size);

/** Takes one more reference; returns doc. */
oidc_discovery_t *oidc_discovery_ref(oidc_discovery_t *doc);

/** Drops one reference; the last frees the document. NULL is a no-op. */
void oidc_discovery_free(oidc_discovery_t *doc);

/** Writes the discovery URL of issuer into a new string (NULL when memory is short); the caller frees it. */
char *oidc_discovery_url(const char *issuer);

#endif
