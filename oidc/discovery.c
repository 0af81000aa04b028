#include "oidc/discovery.h"

#include "oidc/jws.h"
#include "oidc/url.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct doc {
    oidc_discovery_t pub; /* first: the public pointer is the struct's */
    atomic_int refs;
    char *strings[8];
};

static int fail(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void doc_destroy(struct doc *d)
{
    for (size_t i = 0; i < sizeof(d->strings) / sizeof(d->strings[0]); ++i)
        free(d->strings[i]);
    free(d);
}

/* Copies a quoted value for an error message: at most 80 printable ASCII characters. */
static void printable(char *dst, size_t size, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < size && i < 80; ++i)
        dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f && src[i] != '"') ? src[i] : '?';
    if (len > 80 && n + 4 < size) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
}

/* Reads an optional URL member into slot. Returns 0, or -1 with err set. */
static int url_member(const json_t *root, const char *name, int required, unsigned flags, struct doc *d,
                      size_t slot, const char **field, char *err, size_t err_size)
{
    const json_t *v = json_object_get(root, name);
    if (v == NULL) {
        if (required)
            return fail(err, err_size, "%s is missing", name);
        return 0;
    }
    if (!json_is_string(v))
        return fail(err, err_size, "%s is not a string", name);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return fail(err, err_size, "%s holds a NUL byte", name);
    const char *reason = NULL;
    if (oidc_url_check(s, flags, &reason) != 0)
        return fail(err, err_size, "%s: %s", name, reason);
    if ((d->strings[slot] = strdup(s)) == NULL)
        return fail(err, err_size, "out of memory");
    *field = d->strings[slot];
    return 0;
}

static int bool_member(const json_t *root, const char *name, int *out, char *err, size_t err_size)
{
    const json_t *v = json_object_get(root, name);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return fail(err, err_size, "%s is not a boolean", name);
    *out = json_is_true(v);
    return 0;
}

/* An optional array of strings; *has gets 1 when present and *found 1 when it holds want. */
static int string_array(const json_t *root, const char *name, const char *want, int *has, int *found,
                        char *err, size_t err_size)
{
    const json_t *v = json_object_get(root, name);
    *has = *found = 0;
    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        return fail(err, err_size, "%s is not an array", name);
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item))
            return fail(err, err_size, "%s holds a value that is not a string", name);
        if (want != NULL && strcmp(json_string_value(item), want) == 0)
            *found = 1;
    }
    *has = 1;
    return 0;
}

int oidc_discovery_parse(const char *json, size_t len, const char *expected_issuer, unsigned url_flags,
                         oidc_discovery_t **out, char *err, size_t err_size)
{
    if (json == NULL || expected_issuer == NULL || out == NULL)
        return fail(err, err_size, "missing argument");
    if (len > OIDC_DISCOVERY_MAX_DOCUMENT)
        return fail(err, err_size, "document larger than %d bytes", OIDC_DISCOVERY_MAX_DOCUMENT);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return fail(err, err_size, "not JSON (line %d: %.80s)", jerr.line, jerr.text);
    struct doc *d = NULL;
    int rc = -1;
    if (!json_is_object(root)) {
        fail(err, err_size, "not a JSON object");
        goto out;
    }

    /* issuer first: a document for another issuer is refused before anything else is read */
    const json_t *iss = json_object_get(root, "issuer");
    if (iss == NULL) {
        fail(err, err_size, "issuer is missing");
        goto out;
    }
    if (!json_is_string(iss)) {
        fail(err, err_size, "issuer is not a string");
        goto out;
    }
    size_t expected_len = strlen(expected_issuer);
    if (json_string_length(iss) != expected_len ||
        memcmp(json_string_value(iss), expected_issuer, expected_len)) {
        char shown[96];
        printable(shown, sizeof(shown), json_string_value(iss), json_string_length(iss));
        fail(err, err_size, "issuer \"%s\" is not the configured issuer", shown);
        goto out;
    }

    if ((d = calloc(1, sizeof(*d))) == NULL) {
        fail(err, err_size, "out of memory");
        goto out;
    }
    atomic_init(&d->refs, 1);
    oidc_discovery_t *p = &d->pub;
    if (url_member(root, "issuer", 1, url_flags | OIDC_URL_NO_QUERY, d, 0, &p->issuer, err, err_size) ||
        url_member(root, "authorization_endpoint", 1, url_flags, d, 1, &p->authorization_endpoint, err,
                   err_size) ||
        url_member(root, "token_endpoint", 1, url_flags, d, 2, &p->token_endpoint, err, err_size) ||
        url_member(root, "jwks_uri", 1, url_flags, d, 3, &p->jwks_uri, err, err_size) ||
        url_member(root, "userinfo_endpoint", 0, url_flags, d, 4, &p->userinfo_endpoint, err, err_size) ||
        url_member(root, "end_session_endpoint", 0, url_flags, d, 5, &p->end_session_endpoint, err,
                   err_size) ||
        url_member(root, "introspection_endpoint", 0, url_flags, d, 6, &p->introspection_endpoint, err,
                   err_size) ||
        url_member(root, "revocation_endpoint", 0, url_flags, d, 7, &p->revocation_endpoint, err, err_size) ||
        bool_member(root, "backchannel_logout_supported", &p->backchannel_logout_supported, err, err_size) ||
        bool_member(root, "backchannel_logout_session_supported", &p->backchannel_logout_session_supported,
                    err, err_size))
        goto out;

    int has, found;
    if (string_array(root, "code_challenge_methods_supported", "S256", &has, &found, err, err_size))
        goto out;
    if (has && !found) {
        fail(err, err_size, "code_challenge_methods_supported does not list S256");
        goto out;
    }
    p->pkce_s256_advertised = has;
    if (string_array(root, "response_types_supported", "code", &has, &found, err, err_size))
        goto out;
    if (has && !found) {
        fail(err, err_size, "response_types_supported does not list code");
        goto out;
    }
    if (string_array(root, "id_token_signing_alg_values_supported", NULL, &has, &found, err, err_size))
        goto out;
    const json_t *algs = json_object_get(root, "id_token_signing_alg_values_supported");
    size_t i;
    const json_t *item;
    json_array_foreach(algs, i, item) p->id_token_algs |=
        (unsigned)oidc_jws_alg_from_name(json_string_value(item));

    *out = p;
    d = NULL;
    rc = 0;
out:
    if (d != NULL)
        doc_destroy(d);
    json_decref(root);
    return rc;
}

oidc_discovery_t *oidc_discovery_ref(oidc_discovery_t *doc)
{
    if (doc != NULL)
        atomic_fetch_add(&((struct doc *)doc)->refs, 1);
    return doc;
}

void oidc_discovery_free(oidc_discovery_t *doc)
{
    if (doc != NULL && atomic_fetch_sub(&((struct doc *)doc)->refs, 1) == 1)
        doc_destroy((struct doc *)doc);
}

char *oidc_discovery_url(const char *issuer)
{
    if (issuer == NULL)
        return NULL;
    size_t len = strlen(issuer);
    if (len > 0 && issuer[len - 1] == '/')
        len--;
    size_t total = len + sizeof(OIDC_DISCOVERY_PATH);
    char *url = malloc(total);
    if (url == NULL)
        return NULL;
    memcpy(url, issuer, len);
    memcpy(url + len, OIDC_DISCOVERY_PATH, sizeof(OIDC_DISCOVERY_PATH));
    return url;
}
