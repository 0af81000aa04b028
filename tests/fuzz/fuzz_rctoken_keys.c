/* Fuzzes the RCToken key-file loader: arbitrary bytes as the signing key file (ES256 and RS256) and as a
 * verify-only key beside a fixed good signing key. Must never crash; a set that loads must publish a JWKS
 * that the oidc/ parser accepts with a kid per key, and the error message of a refusal must not echo the
 * file's content. The seeds are throwaway keys made for this corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "authservice/rctoken_keys.h"
#include "oidc/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char input_path[64], good_path[64];

static void prepare(void)
{
    char dir[] = "/tmp/tg-fuzz-rctoken-XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(input_path, sizeof(input_path), "%s/input.pem", dir);
    snprintf(good_path, sizeof(good_path), "%s/good.pem", dir);
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    FILE *fp = fopen(good_path, "w");
    if (key == NULL || fp == NULL || PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    fclose(fp);
    EVP_PKEY_free(key);
}

static void check(as_rctoken_keys_t *keys, const char *err)
{
    if (keys == NULL) {
        /* the message names the file, never a piece of it */
        if (strstr(err, "BEGIN") != NULL || strstr(err, "----") != NULL)
            abort();
        return;
    }
    size_t len;
    const char *jwks = as_rctoken_keys_jwks(keys, &len);
    oidc_jwks_t *set = NULL;
    if (oidc_jwks_parse(jwks, len, &set, NULL, 0) != 0 || oidc_jwks_count(set) != as_rctoken_keys_count(keys))
        abort();
    for (size_t i = 0; i < oidc_jwks_count(set); ++i)
        if (strcmp(oidc_jwk_kid(oidc_jwks_get(set, i)), as_rctoken_keys_kid_at(keys, i)) != 0)
            abort();
    oidc_jwks_free(set);
    as_rctoken_keys_free(keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (input_path[0] == '\0')
        prepare();
    FILE *fp = fopen(input_path, "wb");
    if (fp == NULL || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
        abort();
    char err[512];
    const char *verify[] = {input_path};
    check(as_rctoken_keys_load(AS_RCTOKEN_ES256, input_path, NULL, 0, err, sizeof(err)), err);
    check(as_rctoken_keys_load(AS_RCTOKEN_RS256, input_path, NULL, 0, err, sizeof(err)), err);
    check(as_rctoken_keys_load(AS_RCTOKEN_ES256, good_path, verify, 1, err, sizeof(err)), err);
    return 0;
}
