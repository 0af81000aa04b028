/* Value syntaxes of the configuration: Go/Istio durations, IP literals and header names. */
#include <arpa/inet.h>
#include <string.h>

#include "config_decode.h"

const char *gw__cfg_parse_duration(const char *text, uint64_t *ms)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},       {"us", 1000},         {"\xc2\xb5s", 1000},   {"\xce\xbcs", 1000},
        {"ms", 1000000}, {"s", 1000000000ull}, {"m", 60000000000ull}, {"h", 3600000000000ull},
    };
    const char *usage = "expected numbers with units h, m, s, ms, us or ns, e.g. \"250ms\" or \"1m30s\"";
    if (strcmp(text, "0") == 0) {
        *ms = 0;
        return NULL;
    }
    if (text[0] == '\0')
        return usage;
    uint64_t total = 0;
    const char *p = text;
    while (*p != '\0') {
        if (*p < '0' || *p > '9')
            return usage;
        uint64_t whole = 0, frac = 0, scale = 1;
        for (; *p >= '0' && *p <= '9'; ++p) {
            if (whole > (UINT64_MAX - 9) / 10)
                return "too long";
            whole = whole * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
            ++p;
            if (*p < '0' || *p > '9')
                return usage;
            for (; *p >= '0' && *p <= '9'; ++p) {
                if (scale == 1000000)
                    return "at most 6 decimals";
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        }
        uint64_t unit = 0;
        size_t best = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); ++i) {
            size_t len = strlen(units[i].name);
            if (len > best && strncmp(p, units[i].name, len) == 0) {
                unit = units[i].ns;
                best = len;
            }
        }
        if (unit == 0)
            return usage;
        p += best;
        if (whole > UINT64_MAX / unit)
            return "too long";
        uint64_t part = whole * unit;
        if (frac * unit % scale != 0)
            return "finer than a millisecond";
        uint64_t frac_part = frac * unit / scale; /* frac < 10^6 and unit <= 3.6e12: no overflow */
        if (part > UINT64_MAX - frac_part || total > UINT64_MAX - part - frac_part)
            return "too long";
        total += part + frac_part;
    }
    if (total % 1000000 != 0)
        return "finer than a millisecond";
    *ms = total / 1000000;
    return NULL;
}

int gw__cfg_parse_ip(const char *text, unsigned char addr[16], int *wildcard)
{
    static const unsigned char zero[16];
    unsigned char v4[4];
    if (inet_pton(AF_INET, text, v4) == 1) {
        memset(addr, 0, 10);
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, v4, 4);
        *wildcard = memcmp(v4, zero, 4) == 0;
        return 0;
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        *wildcard = memcmp(addr, zero, 16) == 0;
        return 0;
    }
    return -1;
}

int gw__cfg_is_header_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; ++s) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch) != NULL))
            return 0;
    }
    return 1;
}
