/* Upstream identity: which certificate SANs satisfy a DestinationRule's subjectAltNames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "upstream_tls.h"

/* A throwaway self-signed certificate carrying the given subjectAltName extension value. */
static X509 *cert_with_sans(const char *sans)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    assert_non_null(key);
    assert_non_null(cert);
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"workload", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    if (sans != NULL) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, sans);
        assert_non_null(ext);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    return cert;
}

static const char alice_spiffe[] = "spiffe://cluster.local/ns/kubeflow-alice/sa/default-editor";
static const char bob_spiffe[] = "spiffe://cluster.local/ns/kubeflow-bob/sa/default-editor";

static int matches(const char *sans, const char *expected)
{
    X509 *cert = cert_with_sans(sans);
    const char *list[] = {expected};
    int result = gw_upstream_tls_identity_matches(cert, list, 1);
    X509_free(cert);
    return result;
}

static void test_spiffe_uri(void **state)
{
    (void)state;
    assert_true(matches("URI:spiffe://cluster.local/ns/kubeflow-alice/sa/default-editor", alice_spiffe));
    assert_false(matches("URI:spiffe://cluster.local/ns/kubeflow-bob/sa/default-editor", alice_spiffe));
    /* a prefix or a longer URI is another identity */
    assert_false(matches("URI:spiffe://cluster.local/ns/kubeflow-alice/sa/default-editorx", alice_spiffe));
    assert_false(matches("URI:spiffe://cluster.local/ns/kubeflow-alice/sa/default", alice_spiffe));
    /* URIs are compared exactly, case included */
    assert_false(matches("URI:SPIFFE://cluster.local/ns/kubeflow-alice/sa/default-editor", alice_spiffe));
    /* a DNS SAN spelling the URI is not a URI SAN */
    assert_false(matches("DNS:spiffe.cluster.local", alice_spiffe));
}

static void test_dns_names(void **state)
{
    (void)state;
    const char *host = "mnist.kubeflow-alice.svc.cluster.local";
    assert_true(matches("DNS:mnist.kubeflow-alice.svc.cluster.local", host));
    assert_true(matches("DNS:MNIST.Kubeflow-Alice.svc.cluster.local", host));
    assert_true(matches("DNS:*.kubeflow-alice.svc.cluster.local", host));
    /* a wildcard covers one label only, and never a bare suffix */
    assert_false(matches("DNS:*.svc.cluster.local", host));
    assert_false(matches("DNS:*.kubeflow-bob.svc.cluster.local", host));
    assert_false(matches("DNS:nb1.kubeflow-alice.svc.cluster.local", host));
    /* a DNS expectation is never met by a URI SAN */
    assert_false(matches("URI:mnist.kubeflow-alice.svc.cluster.local", host));
}

static void test_any_of_several(void **state)
{
    (void)state;
    X509 *cert = cert_with_sans(
        "DNS:evil.kubeflow-bob.svc.cluster.local,URI:spiffe://cluster.local/ns/kubeflow-bob/sa/evil");
    const char *alice_only[] = {alice_spiffe, "mnist.kubeflow-alice.svc.cluster.local"};
    assert_false(gw_upstream_tls_identity_matches(cert, alice_only, 2));
    X509_free(cert);
    cert = cert_with_sans("DNS:x.example,URI:spiffe://cluster.local/ns/kubeflow-bob/sa/default-editor");
    const char *either[] = {alice_spiffe, bob_spiffe};
    assert_true(gw_upstream_tls_identity_matches(cert, either, 2));
    X509_free(cert);
}

static void test_no_sans_never_matches(void **state)
{
    (void)state;
    /* the subject CN is not an identity */
    assert_false(matches(NULL, "workload"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spiffe_uri),
        cmocka_unit_test(test_dns_names),
        cmocka_unit_test(test_any_of_several),
        cmocka_unit_test(test_no_sans_never_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
