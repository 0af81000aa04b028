#include "authservice/return_path.h"

#include "util/hex.h"

#include <string.h>

/* Decodes %XX and '+' (a form-encoded space) once into dst (len bytes at most). -1 on a broken escape. */
static long percent_decode(const char *src, size_t len, unsigned char *dst)
{
    size_t n = 0;
    for (size_t i = 0; i < len; ++i) {
        if (src[i] == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = tg_hex_digit(src[i + 1]);
            int lo = tg_hex_digit(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            dst[n++] = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else {
            dst[n++] = src[i] == '+' ? ' ' : (unsigned char)src[i];
        }
    }
    return (long)n;
}

/* Whether the decoded path starts with an encoded '/', '\' or '%' after its leading '/': a second decoding
 * by some later hop would make it //host or /\host. */
static int encoded_host_prefix(const unsigned char *p, size_t len)
{
    if (len < 4 || p[1] != '%')
        return 0;
    int hi = tg_hex_digit((char)p[2]), lo = tg_hex_digit((char)p[3]);
    if (hi < 0 || lo < 0)
        return 0;
    int ch = hi << 4 | lo;
    return ch == '/' || ch == '\\' || ch == '%';
}

static int refuse(char *out)
{
    out[0] = '/';
    out[1] = '\0';
    return 0;
}

int as_return_path_sanitize(const char *rd, size_t len, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    if (out == NULL || out_size < 2)
        return -1;
    if (rd == NULL || len == 0 || len > 3 * AS_RETURN_PATH_MAX)
        return refuse(out);
    unsigned char decoded[3 * AS_RETURN_PATH_MAX];
    long n = percent_decode(rd, len, decoded);
    if (n < 1 || decoded[0] != '/')
        return refuse(out);
    size_t dlen = (size_t)n;
    if (dlen > 1 && (decoded[1] == '/' || decoded[1] == '\\'))
        return refuse(out);
    if (encoded_host_prefix(decoded, dlen))
        return refuse(out);
    size_t limit = out_size < AS_RETURN_PATH_MAX + 1 ? out_size : AS_RETURN_PATH_MAX + 1;
    size_t w = 0;
    for (size_t i = 0; i < dlen; ++i) {
        unsigned char ch = decoded[i];
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return refuse(out);
        if (ch == '%' && (i + 2 >= dlen || tg_hex_digit((char)decoded[i + 1]) < 0 ||
                          tg_hex_digit((char)decoded[i + 2]) < 0))
            return refuse(out); /* keep the result a well-formed URL path */
        if (ch == ' ' || ch > 0x7f) {
            if (w + 3 >= limit)
                return refuse(out);
            out[w++] = '%';
            out[w++] = hex[ch >> 4];
            out[w++] = hex[ch & 15];
        } else {
            if (w + 1 >= limit)
                return refuse(out);
            out[w++] = (char)ch;
        }
    }
    out[w] = '\0';
    return 1;
}
