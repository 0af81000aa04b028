#include "upstream_tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The identities a context accepts, kept in the SSL_CTX's ex_data. */
typedef struct {
    size_t count;
    char *names[];
} expected_identity_t;

static int identity_index = -1;
static pthread_once_t identity_index_once = PTHREAD_ONCE_INIT;

static void free_identity(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    expected_identity_t *identity = ptr;
    if (identity == NULL)
        return;
    for (size_t i = 0; i < identity->count; ++i)
        free(identity->names[i]);
    free(identity);
}

static void init_identity_index(void)
{
    identity_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_identity);
}

static int is_uri(const char *name)
{
    return strstr(name, "://") != NULL;
}

/* DNS SAN comparison: exact (case-insensitive), or a left-most "*." wildcard in the certificate. */
static int dns_matches(const char *san, size_t san_len, const char *expected)
{
    size_t expected_len = strlen(expected);
    if (san_len == expected_len && strncasecmp(san, expected, san_len) == 0)
        return 1;
    if (san_len > 2 && san[0] == '*' && san[1] == '.') {
        const char *dot = strchr(expected, '.');
        return dot != NULL && dot != expected && strlen(dot) == san_len - 1 &&
               strncasecmp(dot, san + 1, san_len - 1) == 0;
    }
    return 0;
}

int gw_upstream_tls_identity_matches(X509 *cert, const char *const *expected, size_t count)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (sans == NULL)
        return 0;
    int found = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && !found; ++i) {
        const GENERAL_NAME *san = sk_GENERAL_NAME_value(sans, i);
        if (san->type != GEN_DNS && san->type != GEN_URI)
            continue;
        const ASN1_IA5STRING *value =
            san->type == GEN_DNS ? san->d.dNSName : san->d.uniformResourceIdentifier;
        const char *text = (const char *)ASN1_STRING_get0_data(value);
        size_t len = (size_t)ASN1_STRING_length(value);
        if (memchr(text, '\0', len) != NULL)
            continue; /* embedded NUL: never a match */
        for (size_t j = 0; j < count && !found; ++j) {
            if (san->type == GEN_URI)
                found =
                    is_uri(expected[j]) && strlen(expected[j]) == len && memcmp(text, expected[j], len) == 0;
            else
                found = !is_uri(expected[j]) && dns_matches(text, len, expected[j]);
        }
    }
    GENERAL_NAMES_free(sans);
    return found;
}

static int verify_peer(int preverify_ok, X509_STORE_CTX *store)
{
    if (!preverify_ok)
        return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    const expected_identity_t *identity = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), identity_index);
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (identity == NULL ||
        !gw_upstream_tls_identity_matches(cert, (const char *const *)identity->names, identity->count)) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
        return 0;
    }
    return 1;
}

static expected_identity_t *identity_new(const gw_upstream_tls_t *tls, const char *default_host)
{
    size_t count = tls->subject_alt_names.count > 0 ? tls->subject_alt_names.count : 1;
    expected_identity_t *identity = calloc(1, sizeof(*identity) + count * sizeof(char *));
    if (identity == NULL)
        return NULL;
    for (size_t i = 0; i < count; ++i) {
        const char *name = tls->subject_alt_names.count > 0 ? tls->subject_alt_names.items[i] : default_host;
        if ((identity->names[i] = strdup(name)) == NULL) {
            free_identity(NULL, identity, NULL, 0, 0, NULL);
            return NULL;
        }
        identity->count = i + 1;
    }
    return identity;
}

SSL_CTX *gw_upstream_tls_ctx_new(const gw_upstream_tls_t *tls, const char *default_host, char *err,
                                 size_t err_size)
{
    pthread_once(&identity_index_once, init_identity_index);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || identity_index < 0) {
        snprintf(err, err_size, "cannot create a TLS client context");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (tls->ca_certificates == NULL || SSL_CTX_load_verify_locations(ctx, tls->ca_certificates, NULL) != 1) {
        snprintf(err, err_size, "cannot load tls.caCertificates %s (a PEM CA bundle is required)",
                 tls->ca_certificates != NULL ? tls->ca_certificates : "(missing)");
        goto fail;
    }
    if (tls->mode == GW_UPSTREAM_TLS_MUTUAL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, tls->client_certificate) != 1) {
            snprintf(err, err_size, "cannot load tls.clientCertificate %s (not a PEM certificate chain?)",
                     tls->client_certificate);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, tls->private_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(err, err_size,
                     "cannot load tls.privateKey %s (not a PEM key matching the client certificate?)",
                     tls->private_key);
            goto fail;
        }
    }
    expected_identity_t *identity = identity_new(tls, default_host);
    if (identity == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    SSL_CTX_set_ex_data(ctx, identity_index, identity);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_peer);
    return ctx;

fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

void gw_upstream_tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}
