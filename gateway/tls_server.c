#include "tls_server.h"

#include <h2o.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

#include "memory_tuning.h"

/* TLS 1.2: ECDHE with AEAD only. TLS 1.3: every suite is AEAD; AES-128 first, as it is the cheapest with
 * AES-NI. */
static const char tls13_ciphers[] =
    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";
static const char tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

int gw_tls_protocol_version(const char *name)
{
    if (name == NULL || strcmp(name, "TLSV1_2") == 0)
        return TLS1_2_VERSION;
    if (strcmp(name, "TLSV1_3") == 0)
        return TLS1_3_VERSION;
    return -1;
}

SSL_CTX *gw_tls_server_ctx_new(const gw_server_t *server, char *err, size_t err_size)
{
    int version = gw_tls_protocol_version(server->tls.min_protocol);
    if (version < 0) {
        snprintf(err, err_size, "unsupported tls.minProtocolVersion \"%s\"", server->tls.min_protocol);
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(err, err_size, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_options(ctx,
                        SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_cipher_list(ctx, tls12_ciphers);
    /* with server preference on, OpenSSL's default TLS 1.3 order would pick AES-256 over the cheaper AES-128
     */
    SSL_CTX_set_ciphersuites(ctx, tls13_ciphers);
    if (SSL_CTX_use_certificate_chain_file(ctx, server->tls.server_certificate) != 1) {
        snprintf(err, err_size, "cannot load tls.serverCertificate %s (not a PEM certificate chain?)",
                 server->tls.server_certificate);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, server->tls.private_key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, err_size, "cannot load tls.privateKey %s (not a PEM private key?)",
                 server->tls.private_key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, err_size, "tls.privateKey %s does not match tls.serverCertificate %s",
                 server->tls.private_key, server->tls.server_certificate);
        goto fail;
    }
    gw_memory_tune_ssl_ctx(ctx);
    h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols);
    return ctx;

fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}
