#include "path_normalize.h"

#include "util/hex.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* RFC 3986 unreserved: ALPHA DIGIT - . _ ~ */
static bool is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Checks for the raw bytes refused in both the path and the query. */
static gw_path_status_t check_raw_byte(unsigned char c)
{
    if (c == '\0')
        return GW_PATH_NUL;
    if (c < 0x20 || c == 0x7f)
        return GW_PATH_CONTROL_CHAR;
    if (c == ' ' || c == '#')
        return GW_PATH_INVALID_CHAR;
    return GW_PATH_OK;
}

/* Validates everything before writing anything, so a rejection changes nothing. */
static gw_path_status_t validate(const unsigned char *p, size_t path_len, size_t len)
{
    for (size_t i = 0; i < path_len; ++i) {
        unsigned char c = p[i];
        if (c == '%') {
            if (path_len - i < 3 || tg_hex_digit(p[i + 1]) < 0 || tg_hex_digit(p[i + 2]) < 0)
                return GW_PATH_BAD_ESCAPE;
            int v = tg_hex_digit(p[i + 1]) << 4 | tg_hex_digit(p[i + 2]);
            if (v == '/')
                return GW_PATH_ENCODED_SLASH;
            if (v == '\\')
                return GW_PATH_ENCODED_BACKSLASH;
            if (v == 0)
                return GW_PATH_NUL;
            i += 2;
        } else if (c == '\\') {
            return GW_PATH_BACKSLASH;
        } else {
            gw_path_status_t st = check_raw_byte(c);
            if (st != GW_PATH_OK)
                return st;
        }
    }
    for (size_t i = path_len; i < len; ++i) {
        gw_path_status_t st = check_raw_byte(p[i]);
        if (st != GW_PATH_OK)
            return st;
    }
    return GW_PATH_OK;
}

/*
 * True when the path is already in its normalised form and no byte of the
 * target is refused: no escape, backslash, empty, "." or ".." segment, and no
 * byte check_raw_byte refuses. Most request targets are; they are copied as
 * they are instead of being validated and rewritten byte by byte. The fuzz
 * target compares every result with a reference written from the rules.
 */
static bool is_already_normal(const unsigned char *p, size_t path_len, size_t len)
{
    /* the bytes below 64 to look at: NUL to space, '#', '%' and '/' (one bit test for most of a path) */
    static const uint64_t low_bytes = 0x1ffffffffull | 1ull << '#' | 1ull << '%' | 1ull << '/';
    for (size_t i = 0; i < path_len; ++i) {
        unsigned char c = p[i];
        if (c >= 64) {
            if (c == '\\' || c == 0x7f)
                return false;
        } else if (low_bytes >> c & 1) {
            if (c != '/' || (i + 1 < path_len && (p[i + 1] == '/' || p[i + 1] == '.')))
                return false;
        }
    }
    for (size_t i = path_len; i < len; ++i) {
        unsigned char c = p[i];
        if (c <= ' ' || c == 0x7f || c == '#')
            return false;
    }
    return true;
}

/*
 * Writes the normalised path of a validated input. Output never outgrows the
 * input: every input byte yields at most one output byte. out[0..o) always
 * ends with '/' between segments.
 */
static size_t normalize_path(const unsigned char *p, size_t path_len, char *out)
{
    static const char hex_upper[] = "0123456789ABCDEF";
    size_t i = 1, o = 0;
    out[o++] = '/';
    for (;;) {
        while (i < path_len && p[i] == '/')
            ++i;
        if (i == path_len)
            break;
        size_t seg = o;
        while (i < path_len && p[i] != '/') {
            if (p[i] == '%') {
                unsigned char v = (unsigned char)(tg_hex_digit(p[i + 1]) << 4 | tg_hex_digit(p[i + 2]));
                if (is_unreserved(v)) {
                    out[o++] = (char)v;
                } else {
                    out[o++] = '%';
                    out[o++] = hex_upper[v >> 4];
                    out[o++] = hex_upper[v & 15];
                }
                i += 3;
            } else {
                out[o++] = (char)p[i++];
            }
        }
        size_t seg_len = o - seg;
        if (seg_len == 1 && out[seg] == '.') {
            o = seg;
        } else if (seg_len == 2 && out[seg] == '.' && out[seg + 1] == '.') {
            o = seg;
            if (o > 1) {
                --o; /* onto the '/' that ends the previous segment */
                while (out[o - 1] != '/')
                    --o;
            }
        } else if (i < path_len) {
            out[o++] = '/';
        }
    }
    return o;
}

gw_path_status_t gw_path_normalize(const char *in, size_t len, char *out, size_t *out_len, size_t *query_at)
{
    if (in == NULL || len == 0)
        return GW_PATH_EMPTY;
    if (in[0] != '/')
        return GW_PATH_NOT_ABSOLUTE;
    const unsigned char *p = (const unsigned char *)in;
    const unsigned char *q = memchr(p, '?', len);
    size_t path_len = q != NULL ? (size_t)(q - p) : len;
    if (path_len > GW_PATH_MAX)
        return GW_PATH_TOO_LONG;
    if (is_already_normal(p, path_len, len)) {
        memcpy(out, p, len);
        out[len] = '\0';
        *out_len = len;
        if (query_at != NULL)
            *query_at = q != NULL ? path_len : SIZE_MAX;
        return GW_PATH_OK;
    }
    gw_path_status_t st = validate(p, path_len, len);
    if (st != GW_PATH_OK)
        return st;

    size_t o = normalize_path(p, path_len, out);
    size_t qpos = SIZE_MAX;
    if (q != NULL) {
        qpos = o;
        memcpy(out + o, q, len - path_len);
        o += len - path_len;
    }
    out[o] = '\0';
    *out_len = o;
    if (query_at != NULL)
        *query_at = qpos;
    return GW_PATH_OK;
}

const char *gw_path_status_text(gw_path_status_t status)
{
    switch (status) {
    case GW_PATH_OK:
        return "ok";
    case GW_PATH_EMPTY:
        return "empty request target";
    case GW_PATH_NOT_ABSOLUTE:
        return "path does not start with '/'";
    case GW_PATH_BAD_ESCAPE:
        return "malformed percent-escape in path";
    case GW_PATH_ENCODED_SLASH:
        return "encoded slash in path";
    case GW_PATH_ENCODED_BACKSLASH:
        return "encoded backslash in path";
    case GW_PATH_BACKSLASH:
        return "backslash in path";
    case GW_PATH_NUL:
        return "NUL byte in request target";
    case GW_PATH_CONTROL_CHAR:
        return "control character in request target";
    case GW_PATH_INVALID_CHAR:
        return "space or '#' in request target";
    case GW_PATH_TOO_LONG:
        return "path too long";
    }
    return "invalid request target";
}
