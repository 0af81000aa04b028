/* Fuzzes JWKS parsing. Every key that parses must also thumbprint, export and
 * parse back to the same key and thumbprint. Must never crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const oidc_jwk_t *key)
{
    char thumbprint[OIDC_JWK_THUMBPRINT_SIZE], again[OIDC_JWK_THUMBPRINT_SIZE];
    if (oidc_jwk_thumbprint(oidc_jwk_pkey(key), thumbprint) != 0)
        abort();
    json_t *jwk = oidc_jwk_from_pkey(oidc_jwk_pkey(key), oidc_jwk_kid(key), oidc_jwk_alg(key));
    if (jwk == NULL || json_object_get(jwk, "d") != NULL)
        abort();
    json_t *doc = json_pack("{s:[o]}", "keys", jwk);
    char *text = json_dumps(doc, JSON_COMPACT);
    oidc_jwks_t *set = NULL;
    if (text == NULL || oidc_jwks_parse(text, strlen(text), &set, NULL, 0) != 0 || oidc_jwks_count(set) != 1)
        abort();
    const oidc_jwk_t *copy = oidc_jwks_get(set, 0);
    if (EVP_PKEY_eq(oidc_jwk_pkey(copy), oidc_jwk_pkey(key)) != 1 ||
        oidc_jwk_thumbprint(oidc_jwk_pkey(copy), again) != 0 || strcmp(thumbprint, again) != 0)
        abort();
    oidc_jwks_free(set);
    free(text);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oidc_jwks_t *set = NULL;
    char err[256];
    if (oidc_jwks_parse((const char *)data, size, &set, err, sizeof(err)) != 0) {
        if (set != NULL || strlen(err) == 0)
            abort();
        return 0;
    }
    if (oidc_jwks_count(set) == 0 || oidc_jwks_count(set) > OIDC_JWKS_MAX_KEYS)
        abort();
    for (size_t i = 0; i < oidc_jwks_count(set); ++i)
        check_round_trip(oidc_jwks_get(set, i));
    for (size_t i = 0; i < oidc_jwks_skipped_count(set); ++i)
        if (oidc_jwks_skipped(set, i, NULL, NULL) == NULL)
            abort();
    oidc_jwks_free(set);
    return 0;
}
