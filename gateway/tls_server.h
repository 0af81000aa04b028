#ifndef GW_TLS_SERVER_H
#define GW_TLS_SERVER_H

#include <openssl/ssl.h>

#include "config.h"

/**
 * Builds the SSL_CTX of an HTTPS listener: certificate chain and key from
 * files, TLS 1.2 or newer (min_protocol "TLSV1_2" | "TLSV1_3"), forward-secret
 * AEAD cipher suites only, ALPN h2 and http/1.1. On failure returns NULL and
 * writes a message naming the file (never its content) into err.
 */
SSL_CTX *gw_tls_server_ctx_new(const gw_server_t *server, char *err, size_t err_size);

/** Maps "TLSV1_2"/"TLSV1_3" (NULL = TLS 1.2) to an OpenSSL version, or -1 if unknown. */
int gw_tls_protocol_version(const char *name);

#endif
