/* Fuzzes gw_path_normalize: checks the output's invariants, idempotence, that a
 * rejection writes nothing, and compares against a slow reference written
 * straight from the rules (decode, merge slashes, RFC 3986 5.2.4). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "path_normalize.h"

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* Reference: the rules applied one at a time over whole strings. Returns the status; fills out/out_len on OK.
 */
static gw_path_status_t reference(const unsigned char *in, size_t len, char *out, size_t *out_len)
{
    if (len == 0)
        return GW_PATH_EMPTY;
    if (in[0] != '/')
        return GW_PATH_NOT_ABSOLUTE;
    size_t plen = 0;
    while (plen < len && in[plen] != '?')
        ++plen;
    if (plen > GW_PATH_MAX)
        return GW_PATH_TOO_LONG;

    /* 1. scan and decode into a scratch buffer */
    char *dec = malloc(len + 1);
    size_t d = 0;
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = in[i];
        bool in_path = i < plen;
        gw_path_status_t st = GW_PATH_OK;
        if (c == 0)
            st = GW_PATH_NUL;
        else if (c < 0x20 || c == 0x7f)
            st = GW_PATH_CONTROL_CHAR;
        else if (c == ' ' || c == '#')
            st = GW_PATH_INVALID_CHAR;
        else if (in_path && c == '\\')
            st = GW_PATH_BACKSLASH;
        else if (in_path && c == '%') {
            if (i + 2 >= plen || hexv(in[i + 1]) < 0 || hexv(in[i + 2]) < 0) {
                st = GW_PATH_BAD_ESCAPE;
            } else {
                int v = hexv(in[i + 1]) * 16 + hexv(in[i + 2]);
                if (v == '/')
                    st = GW_PATH_ENCODED_SLASH;
                else if (v == '\\')
                    st = GW_PATH_ENCODED_BACKSLASH;
                else if (v == 0)
                    st = GW_PATH_NUL;
                else if ((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') ||
                         v == '-' || v == '.' || v == '_' || v == '~')
                    dec[d++] = (char)v;
                else {
                    dec[d++] = '%';
                    dec[d++] = "0123456789ABCDEF"[v / 16];
                    dec[d++] = "0123456789ABCDEF"[v % 16];
                }
                i += 2;
                if (st == GW_PATH_OK)
                    continue;
            }
        } else {
            dec[d++] = (char)c;
            continue;
        }
        free(dec);
        return st;
    }
    size_t dplen = 0;
    while (dplen < d && dec[dplen] != '?')
        ++dplen;

    /* 2. merge slashes */
    char *merged = malloc(dplen + 1);
    size_t m = 0;
    for (size_t i = 0; i < dplen; ++i)
        if (!(dec[i] == '/' && m > 0 && merged[m - 1] == '/'))
            merged[m++] = dec[i];
    merged[m] = '\0';

    /* 3. RFC 3986 5.2.4 remove_dot_segments, literally: A..E over an input buffer */
    char *ibuf = merged, *obuf = malloc(m + 2);
    size_t o = 0;
    while (*ibuf != '\0') {
        if (strncmp(ibuf, "../", 3) == 0)
            ibuf += 3;
        else if (strncmp(ibuf, "./", 2) == 0)
            ibuf += 2;
        else if (strncmp(ibuf, "/./", 3) == 0)
            ibuf += 2;
        else if (strcmp(ibuf, "/.") == 0)
            ibuf[1] = '\0';
        else if (strncmp(ibuf, "/../", 4) == 0 || strcmp(ibuf, "/..") == 0) {
            if (ibuf[3] == '/')
                ibuf += 3;
            else
                ibuf[1] = '\0';
            while (o > 0 && obuf[o - 1] != '/')
                --o;
            if (o > 0)
                --o;
        } else if (strcmp(ibuf, ".") == 0 || strcmp(ibuf, "..") == 0) {
            ibuf[0] = '\0';
        } else {
            size_t k = 1;
            while (ibuf[k] != '\0' && ibuf[k] != '/')
                ++k;
            memcpy(obuf + o, ibuf, k);
            o += k;
            ibuf += k;
        }
    }
    /* removing ".." at the root of "/.." leaves nothing; the path stays absolute */
    if (o == 0)
        obuf[o++] = '/';
    memcpy(out, obuf, o);
    memcpy(out + o, dec + dplen, d - dplen);
    *out_len = o + d - dplen;
    free(obuf);
    free(merged);
    free(dec);
    return GW_PATH_OK;
}

static bool has_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; ++i)
        if (strncasecmp(s + i, needle, k) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1);
    char *ref = malloc(size + 1);
    CHECK(out != NULL && ref != NULL);
    memset(out, 0x5A, size + 1);
    size_t out_len = 777, query_at = 888, ref_len = 0;

    gw_path_status_t st = gw_path_normalize((const char *)data, size, out, &out_len, &query_at);
    gw_path_status_t rst = reference(data, size, ref, &ref_len);
    CHECK(st == rst);
    CHECK(gw_path_status_text(st) != NULL);

    if (st != GW_PATH_OK) {
        for (size_t i = 0; i < size + 1; ++i)
            CHECK((unsigned char)out[i] == 0x5A);
        CHECK(out_len == 777 && query_at == 888);
        goto done;
    }

    CHECK(out_len == ref_len && memcmp(out, ref, out_len) == 0);
    CHECK(out_len <= size && out[out_len] == '\0');
    size_t path_len = query_at == SIZE_MAX ? out_len : query_at;
    if (query_at != SIZE_MAX) {
        CHECK(query_at < out_len && out[query_at] == '?');
        const uint8_t *q = memchr(data, '?', size);
        CHECK(q != NULL && (size_t)(data + size - q) == out_len - query_at);
        CHECK(memcmp(q, out + query_at, out_len - query_at) == 0);
    } else {
        CHECK(memchr(data, '?', size) == NULL);
    }
    CHECK(memchr(out, '?', path_len) == NULL);

    CHECK(path_len >= 1 && out[0] == '/');
    for (size_t i = 0; i < out_len; ++i)
        CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f && out[i] != ' ' && out[i] != '#');
    CHECK(memchr(out, '\\', path_len) == NULL);
    CHECK(!has_ci(out, path_len, "%2F") && !has_ci(out, path_len, "%5C") && !has_ci(out, path_len, "%00"));
    CHECK(!has_ci(out, path_len, "%2E"));
    /* no empty, "." or ".." segment (an empty last segment is the trailing slash) */
    for (size_t s = 1; s <= path_len;) {
        size_t e = s;
        while (e < path_len && out[e] != '/')
            ++e;
        size_t n = e - s;
        CHECK(n > 0 || e == path_len);
        CHECK(!(n == 1 && out[s] == '.'));
        CHECK(!(n == 2 && out[s] == '.' && out[s + 1] == '.'));
        s = e + 1;
    }
    /* every escape left is upper-case and not of an unreserved character */
    for (size_t i = 0; i < path_len; ++i) {
        if (out[i] != '%')
            continue;
        CHECK(i + 2 < path_len);
        int v = hexv((unsigned char)out[i + 1]) * 16 + hexv((unsigned char)out[i + 2]);
        CHECK(!(out[i + 1] >= 'a' && out[i + 1] <= 'f') && !(out[i + 2] >= 'a' && out[i + 2] <= 'f'));
        CHECK(!((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') || v == '-' ||
                v == '.' || v == '_' || v == '~'));
        i += 2;
    }

    /* idempotence */
    char *again = malloc(out_len + 1);
    size_t again_len, again_q;
    CHECK(again != NULL);
    CHECK(gw_path_normalize(out, out_len, again, &again_len, &again_q) == GW_PATH_OK);
    CHECK(again_len == out_len && memcmp(again, out, out_len) == 0 && again_q == query_at);
    free(again);

done:
    free(ref);
    free(out);
    return 0;
}
