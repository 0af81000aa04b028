#include "oidc/url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int oidc_url_host_is_loopback(const char *host)
{
    if (host == NULL)
        return 0;
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return 1;
    struct in_addr addr;
    if (inet_pton(AF_INET, host, &addr) == 1)
        return (ntohl(addr.s_addr) >> 24) == 127;
    return 0;
}

int oidc_url_check(const char *url, unsigned flags, const char **reason)
{
    const char *why = NULL;
    CURLU *u = NULL;
    char *host = NULL, *user = NULL, *password = NULL, *query = NULL, *fragment = NULL;
    if (url == NULL) {
        why = "missing";
        goto out;
    }
    size_t len = strnlen(url, OIDC_URL_MAX + 1);
    if (len == 0 || len > OIDC_URL_MAX) {
        why = len == 0 ? "empty" : "too long";
        goto out;
    }
    for (size_t i = 0; i < len; ++i) {
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
            why = "holds spaces, control or non-ASCII characters";
            goto out;
        }
    }
    int https = strncasecmp(url, "https://", 8) == 0;
    if (!https && strncasecmp(url, "http://", 7) != 0) {
        why = "not an absolute http(s) URL";
        goto out;
    }
    /* libcurl would read "https:///x" as host "x": an authority must follow "//" at once */
    size_t authority = https ? 8 : 7;
    if (url[authority] == '/' || url[authority] == '\0') {
        why = "not a valid URL";
        goto out;
    }
    if ((u = curl_url()) == NULL) {
        why = "out of memory";
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || host[0] == '\0') {
        why = "not a valid URL";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        why = "holds user info";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK || strchr(url, '#') != NULL) {
        why = "has a fragment";
        goto out;
    }
    if ((flags & OIDC_URL_NO_QUERY) &&
        (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK || strchr(url, '?') != NULL)) {
        why = "has a query";
        goto out;
    }
    if (!https) {
        if (!(flags & OIDC_URL_ALLOW_INSECURE_LOOPBACK)) {
            why = "not https";
            goto out;
        }
        if (!oidc_url_host_is_loopback(host)) {
            why = "http is accepted only for a loopback host";
            goto out;
        }
    }
out:
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_free(query);
    curl_free(fragment);
    curl_url_cleanup(u);
    if (reason != NULL)
        *reason = why;
    return why == NULL ? 0 : -1;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static size_t encoded_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; ++i)
        n += unreserved((unsigned char)s[i]) ? 1 : 3;
    return n;
}

static char *encode_into(char *dst, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            *dst++ = (char)c;
        } else {
            *dst++ = '%';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 15];
        }
    }
    return dst;
}

char *oidc_url_encode(const char *s, size_t len)
{
    if (s == NULL && len != 0)
        return NULL;
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(encoded_len(s, len) + 1);
    if (out == NULL)
        return NULL;
    *encode_into(out, s, len) = '\0';
    return out;
}

/* Length of the encoded pairs joined with '&', or SIZE_MAX when too long. */
static size_t pairs_len(const char *const *params, size_t limit)
{
    size_t n = 0, count = 0;
    for (size_t i = 0; params != NULL && params[i] != NULL; i += 2) {
        if (params[i + 1] == NULL)
            continue;
        size_t name_len = strnlen(params[i], limit + 1), value_len = strnlen(params[i + 1], limit + 1);
        if (name_len > limit || value_len > limit)
            return SIZE_MAX;
        n += (count++ > 0 ? 1 : 0) + encoded_len(params[i], name_len) + 1 +
             encoded_len(params[i + 1], value_len);
        if (n > limit)
            return SIZE_MAX;
    }
    return n;
}

static char *pairs_into(char *dst, const char *const *params)
{
    int first = 1;
    for (size_t i = 0; params != NULL && params[i] != NULL; i += 2) {
        if (params[i + 1] == NULL)
            continue;
        if (!first)
            *dst++ = '&';
        first = 0;
        dst = encode_into(dst, params[i], strlen(params[i]));
        *dst++ = '=';
        dst = encode_into(dst, params[i + 1], strlen(params[i + 1]));
    }
    return dst;
}

char *oidc_url_with_params(const char *base, const char *const *params)
{
    if (base == NULL || strchr(base, '#') != NULL)
        return NULL;
    size_t base_len = strnlen(base, OIDC_URL_MAX + 1);
    size_t extra = pairs_len(params, OIDC_URL_MAX);
    if (base_len > OIDC_URL_MAX || extra == SIZE_MAX || base_len + 1 + extra > OIDC_URL_MAX)
        return NULL;
    char *out = malloc(base_len + 1 + extra + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, base, base_len);
    char *p = out + base_len;
    if (extra > 0) {
        const char *q = memchr(base, '?', base_len);
        /* "...?" and "...?a=b&" need no separator of ours */
        if (q == NULL)
            *p++ = '?';
        else if (base_len > 0 && base[base_len - 1] != '?' && base[base_len - 1] != '&')
            *p++ = '&';
        p = pairs_into(p, params);
    }
    *p = '\0';
    return out;
}

char *oidc_form_encode(const char *const *params, size_t *len)
{
    size_t n = pairs_len(params, 1024 * 1024);
    if (n == SIZE_MAX)
        return NULL;
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    char *end = pairs_into(out, params);
    *end = '\0';
    if (len != NULL)
        *len = (size_t)(end - out);
    return out;
}
