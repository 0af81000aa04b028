/* The gateway's own command-line tokens, verified as bearer tokens (docs/internals/bearer.md). */
#include "authservice/cli_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/rctoken.h"
#include "oidc/claims.h"
#include "oidc/jwk.h"
#include "oidc/jws.h"

struct as_cli_verifier {
    oidc_jwks_t *keys;
    unsigned algs; /* the configured algorithm only */
    const char *issuer;
};

as_cli_verifier_t *as_cli_verifier_new(const as_rctoken_keys_t *keys, const char *issuer, char *err,
                                       size_t err_size)
{
    as_cli_verifier_t *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    size_t len;
    const char *jwks = as_rctoken_keys_jwks(keys, &len);
    char why[256] = "";
    if (oidc_jwks_parse(jwks, len, &v->keys, why, sizeof(why)) != 0) {
        snprintf(err, err_size, "rctoken key set: %s", why);
        free(v);
        return NULL;
    }
    v->algs = oidc_jws_alg_from_name(as_rctoken_alg_name(as_rctoken_keys_alg(keys)));
    v->issuer = issuer;
    return v;
}

void as_cli_verifier_free(as_cli_verifier_t *v)
{
    if (v == NULL)
        return;
    oidc_jwks_free(v->keys);
    free(v);
}

/* Whether the verified header and claims are those of a CLI token; *failed_claim names the culprit. */
static int is_cli_token(const json_t *header, const json_t *claims, const char **failed_claim)
{
    const char *typ = json_string_value(json_object_get(header, "typ"));
    if (typ == NULL || strcmp(typ, "JWT") != 0) {
        *failed_claim = "typ";
        return 0;
    }
    if (!json_is_string(json_object_get(claims, "aud"))) { /* exactly the issuer: never a list with others */
        *failed_claim = "aud";
        return 0;
    }
    const char *use = json_string_value(json_object_get(claims, AS_RCTOKEN_USE_CLAIM));
    if (use == NULL || strcmp(use, AS_RCTOKEN_USE_CLI) != 0) {
        *failed_claim = AS_RCTOKEN_USE_CLAIM;
        return 0;
    }
    return 1;
}

oidc_verify_status_t as_cli_token_verify(const as_cli_verifier_t *v, const char *token, size_t len,
                                         int64_t now, json_t **claims, const char **failed_claim)
{
    const char *failed = NULL;
    json_t *header = NULL, *payload = NULL;
    oidc_verify_status_t status = oidc_jws_verify(token, len, v->keys, v->algs, &header, &payload);
    if (status == OIDC_VERIFY_OK) {
        static const char *const required[] = {"sub", "iat", "nbf", NULL};
        oidc_claims_options_t opts;
        oidc_claims_options_init(&opts, v->issuer, v->issuer, now);
        opts.azp = OIDC_AZP_IGNORE;
        opts.client_id = NULL;
        opts.required = required;
        opts.skew = AS_CLI_TOKEN_SKEW;
        status = oidc_claims_validate(payload, &opts, &failed);
    }
    if (status == OIDC_VERIFY_OK && !is_cli_token(header, payload, &failed))
        status = OIDC_VERIFY_INVALID_CLAIM;
    json_decref(header);
    if (status == OIDC_VERIFY_OK)
        *claims = payload;
    else
        json_decref(payload);
    if (failed_claim != NULL)
        *failed_claim = failed;
    return status;
}
