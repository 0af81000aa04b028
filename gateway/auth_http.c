#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "authservice/cookie.h"
#include "error_page.h"
#include "util/hex.h"

#define COOKIE_ATTRS "; Path=/; Secure; HttpOnly; SameSite=Lax"

int64_t gw__auth_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw__auth_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *gw__auth_prefixed(const char *prefix, const char *s)
{
    size_t a = strlen(prefix), b = strlen(s);
    char *out = malloc(a + b + 1);
    if (out != NULL) {
        memcpy(out, prefix, a);
        memcpy(out + a, s, b + 1);
    }
    return out;
}

/* ---- request ---- */

int gw__auth_find_cookie(h2o_req_t *req, const char *name, const char **value, size_t *len)
{
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        const h2o_iovec_t *v = &req->headers.entries[i].value;
        if (as_cookie_find(v->base, v->len, name, value, len))
            return 1;
    }
    return 0;
}

const char *gw__auth_header_value(h2o_req_t *req, const h2o_token_t *token, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    if (i < 0)
        return NULL;
    *len = req->headers.entries[i].value.len;
    return req->headers.entries[i].value.base;
}

int gw__auth_form_param(const char *s, size_t len, const char *name, const char **value, size_t *value_len)
{
    size_t n = strlen(name);
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if ((size_t)(stop - p) > n && memcmp(p, name, n) == 0 && p[n] == '=') {
            *value = p + n + 1;
            *value_len = (size_t)(stop - p) - n - 1;
            return 1;
        }
        p = amp != NULL ? amp + 1 : end;
    }
    return 0;
}

char *gw__auth_form_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; out != NULL && i < len; ++i) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < len ? tg_hex_digit(s[i + 1]) : -1,
                lo = i + 2 < len ? tg_hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if ((unsigned char)c < 0x20 || c == 0x7f) {
            free(out);
            return NULL;
        }
        out[n++] = c;
    }
    if (out != NULL)
        out[n] = '\0';
    return out;
}

const char *gw__auth_pool_strdup(h2o_req_t *req, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s);
    char *copy = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(copy, s, len + 1);
    return copy;
}

/* ---- responses ---- */

void gw__auth_add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    size_t len = strlen(value);
    char *copy = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(copy, value, len + 1);
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, copy, len);
}

void gw__auth_set_cookie(h2o_req_t *req, const char *name, const char *value, int64_t max_age)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s=%s" COOKIE_ATTRS "; Max-Age=%" PRId64, name, value, max_age);
    gw__auth_add_header(req, H2O_TOKEN_SET_COOKIE, buf);
}

void gw__auth_send_redirect(h2o_req_t *req, const char *location)
{
    req->res.status = 302;
    req->res.reason = "Found";
    req->res.content_length = 0;
    gw__auth_add_header(req, H2O_TOKEN_LOCATION, location);
    gw__auth_add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, "", 0);
}

void gw__auth_send_json(h2o_req_t *req, int status, const char *json)
{
    size_t len = strlen(json);
    char *body = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(body, json, len);
    req->res.status = status;
    req->res.reason = gw_status_reason(status);
    req->res.content_length = len;
    gw__auth_add_header(req, H2O_TOKEN_CONTENT_TYPE, "application/json");
    gw__auth_add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, body, len);
}

void gw__auth_send_401_json(h2o_req_t *req, const char *request_id)
{
    gw__auth_add_header(req, H2O_TOKEN_WWW_AUTHENTICATE, "Bearer realm=\"tenantgate\"");
    char body[160];
    snprintf(body, sizeof(body),
             "{\"error\":\"authentication required\",\"status\":401,\"request_id\":\"%s\"}\n", request_id);
    gw__auth_send_json(req, 401, body);
}
