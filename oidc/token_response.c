#include "oidc/token_response.h"

#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Largest expires_in kept: ten years. */
#define MAX_EXPIRES_IN (10LL * 366 * 24 * 3600)

static void wipe_string(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void oidc_tokens_free(oidc_tokens_t *t)
{
    if (t == NULL)
        return;
    wipe_string(t->access_token);
    wipe_string(t->token_type);
    wipe_string(t->id_token);
    wipe_string(t->refresh_token);
    wipe_string(t->scope);
    free(t);
}

/* RFC 6749 5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E; anything else becomes '?'. */
static void copy_oauth_text(char *dst, size_t size, const json_t *v)
{
    dst[0] = '\0';
    if (!json_is_string(v))
        return;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), n = 0;
    for (size_t i = 0; i < len && n + 1 < size; ++i) {
        unsigned char c = (unsigned char)s[i];
        dst[n++] = (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') ? (char)c : '?';
    }
    dst[n] = '\0';
}

static oidc_provider_status_t refuse(oidc_token_error_t *error, oidc_provider_status_t status,
                                     const char *reason)
{
    if (error != NULL)
        error->reason = reason;
    return status;
}

/* A present member must be a non-empty string without NUL; *out gets a copy, or NULL when absent. */
static int optional_string(const json_t *root, const char *name, char **out)
{
    const json_t *v = json_object_get(root, name);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return -1;
    *out = strdup(json_string_value(v));
    return *out != NULL ? 0 : -2;
}

static oidc_provider_status_t parse_error(long status, const json_t *root, oidc_token_error_t *error)
{
    const json_t *code = json_is_object(root) ? json_object_get(root, "error") : NULL;
    if ((status != 400 && status != 401) || !json_is_string(code))
        return refuse(error, OIDC_PROVIDER_IDP_BAD_STATUS,
                      "token endpoint answered with an unexpected status");
    if (error != NULL) {
        copy_oauth_text(error->error, sizeof(error->error), code);
        copy_oauth_text(error->description, sizeof(error->description),
                        json_object_get(root, "error_description"));
    }
    const char *name = json_string_value(code);
    if (strcmp(name, "invalid_grant") == 0)
        return refuse(error, OIDC_PROVIDER_GRANT_REJECTED, "the grant is invalid, expired, revoked or used");
    if (strcmp(name, "invalid_client") == 0 || strcmp(name, "unauthorized_client") == 0)
        return refuse(error, OIDC_PROVIDER_CLIENT_REJECTED, "client authentication failed or is not allowed");
    return refuse(error, OIDC_PROVIDER_REQUEST_REJECTED, "the token endpoint refused the request");
}

oidc_provider_status_t oidc_token_response_parse(long status, const char *body, size_t len,
                                                 int require_id_token, oidc_tokens_t **out,
                                                 oidc_token_error_t *error)
{
    if (error != NULL) {
        error->error[0] = '\0';
        error->description[0] = '\0';
        error->reason = "";
    }
    if (out == NULL || (body == NULL && len != 0))
        return refuse(error, OIDC_PROVIDER_INVALID_ARGUMENT, "missing argument");
    if (len > OIDC_TOKEN_RESPONSE_MAX)
        return refuse(error, OIDC_PROVIDER_IDP_BAD_RESPONSE, "token response too large");
    json_t *root = body != NULL ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    oidc_provider_status_t rc;
    oidc_tokens_t *t = NULL;
    if (status != 200) {
        rc = parse_error(status, root, error);
        goto out;
    }
    rc = OIDC_PROVIDER_TOKEN_RESPONSE_INVALID;
    if (!json_is_object(root)) {
        refuse(error, rc, "token response is not a JSON object");
        goto out;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        rc = refuse(error, OIDC_PROVIDER_INTERNAL, "out of memory");
        goto out;
    }
    t->expires_in = -1;
    const char *why = NULL;
    int r;
    if ((r = optional_string(root, "access_token", &t->access_token)) != 0 || t->access_token == NULL)
        why = "access_token missing or not a non-empty string";
    else if ((r = optional_string(root, "token_type", &t->token_type)) != 0 || t->token_type == NULL)
        why = "token_type missing or not a string";
    else if (strcasecmp(t->token_type, "Bearer") != 0)
        why = "token_type is not Bearer";
    else if ((r = optional_string(root, "id_token", &t->id_token)) != 0)
        why = "id_token is not a non-empty string";
    else if (require_id_token && t->id_token == NULL)
        why = "id_token missing from an authorization code response";
    else if ((r = optional_string(root, "refresh_token", &t->refresh_token)) != 0)
        why = "refresh_token is not a non-empty string";
    else if ((r = optional_string(root, "scope", &t->scope)) != 0)
        why = "scope is not a non-empty string";
    if (r == -2) {
        rc = refuse(error, OIDC_PROVIDER_INTERNAL, "out of memory");
        goto out;
    }
    if (why != NULL) {
        refuse(error, rc, why);
        goto out;
    }
    memcpy(t->token_type, "Bearer", 6);
    const json_t *exp = json_object_get(root, "expires_in");
    if (exp != NULL) {
        double v = json_is_number(exp) ? json_number_value(exp) : -1.0;
        if (!json_is_number(exp) || !isfinite(v) || v < 0 || v > (double)MAX_EXPIRES_IN) {
            refuse(error, rc, "expires_in is not a non-negative number");
            goto out;
        }
        t->expires_in = (int64_t)v; /* v >= 0: truncation is floor */
    }
    *out = t;
    t = NULL;
    rc = OIDC_PROVIDER_OK;
out:
    oidc_tokens_free(t);
    json_decref(root);
    return rc;
}
