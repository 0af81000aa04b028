#ifndef GW_UPSTREAM_TLS_H
#define GW_UPSTREAM_TLS_H

#include <openssl/ssl.h>

#include "config.h"

/**
 * Builds the client SSL_CTX for one upstream identity (a DestinationRule's
 * or subset's trafficPolicy.tls): mesh CA bundle, client chain + key for
 * MUTUAL, TLS 1.2+, and peer verification that does not depend on h2o's own
 * hostname check (skipped by libh2o 2.2.5 under TLS 1.3). The peer must
 * present one of tls->subject_alt_names (DNS names, or URIs such as
 * spiffe://cluster.local/ns/N/sa/S); with none listed it must match
 * default_host (the SNI). Returns NULL with a message in err on failure.
 */
SSL_CTX *gw_upstream_tls_ctx_new(const gw_upstream_tls_t *tls, const char *default_host, char *err,
                                 size_t err_size);

/** Releases a context made by gw_upstream_tls_ctx_new (NULL is allowed). */
void gw_upstream_tls_ctx_free(SSL_CTX *ctx);

/**
 * Checks a peer certificate against the expected identities (the same rule
 * the verify callback applies). Returns 1 if one of the certificate's SANs
 * matches, 0 otherwise. Exposed for unit tests.
 */
int gw_upstream_tls_identity_matches(X509 *cert, const char *const *expected, size_t count);

#endif
