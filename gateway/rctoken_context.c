#include "rctoken_context.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The issuer metadata (OpenID Connect Discovery 1.0 section 3) of a token issuer that only signs. */
static char *discovery_document(const gw_rctoken_t *rctoken)
{
    size_t url_len = strlen(rctoken->settings->issuer) + sizeof("/.well-known/jwks.json");
    char *jwks_uri = malloc(url_len);
    if (jwks_uri == NULL)
        return NULL;
    snprintf(jwks_uri, url_len, "%s/.well-known/jwks.json", rctoken->settings->issuer);
    const char *alg = as_rctoken_alg_name(as_rctoken_keys_alg(rctoken->keys));
    json_t *doc = json_pack(
        "{s:s, s:s, s:[s], s:[s], s:[s], s:[s,s,s,s,s,s,s,s,s,s,s]}", "issuer", rctoken->settings->issuer,
        "jwks_uri", jwks_uri, "id_token_signing_alg_values_supported", alg, "response_types_supported",
        "id_token", "subject_types_supported", "public", "claims_supported", "iss", "sub", "aud", "exp",
        "iat", "nbf", "jti", "sid", "email", "groups", rctoken->settings->namespace_claim);
    free(jwks_uri);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

gw_rctoken_t *gw_rctoken_new(const gw_rctoken_settings_t *settings, char *err, size_t err_size)
{
    gw_rctoken_t *rctoken = calloc(1, sizeof(*rctoken));
    if (rctoken == NULL) {
        snprintf(err, err_size, "rctoken: out of memory");
        return NULL;
    }
    rctoken->settings = settings;
    char keys_err[512];
    rctoken->keys = as_rctoken_keys_load((as_rctoken_alg_t)settings->algorithm, settings->signing_key_file,
                                         (const char *const *)settings->verify_key_files.items,
                                         settings->verify_key_files.count, keys_err, sizeof(keys_err));
    if (rctoken->keys == NULL) {
        snprintf(err, err_size, "rctoken: %s", keys_err);
        goto fail;
    }
    rctoken->params = (as_rctoken_params_t){.keys = rctoken->keys,
                                            .issuer = settings->issuer,
                                            .ttl_s = settings->ttl_ms / 1000,
                                            .namespace_claim = settings->namespace_claim};
    if ((rctoken->discovery = discovery_document(rctoken)) == NULL) {
        snprintf(err, err_size, "rctoken: out of memory");
        goto fail;
    }
    rctoken->discovery_len = strlen(rctoken->discovery);
    snprintf(rctoken->cache_control, sizeof(rctoken->cache_control), "public, max-age=%" PRIu64,
             settings->jwks_max_age_ms / 1000);
    return rctoken;

fail:
    gw_rctoken_free(rctoken);
    return NULL;
}

void gw_rctoken_free(gw_rctoken_t *rctoken)
{
    if (rctoken == NULL)
        return;
    as_rctoken_keys_free(rctoken->keys);
    free(rctoken->discovery);
    free(rctoken);
}
