#ifndef GW_POLICY_MATCH_H
#define GW_POLICY_MATCH_H

/*
 * Istio string patterns compiled once, when policies compile: "*" matches
 * anything, "abc*" a prefix, "*abc" a suffix, anything else exactly. A
 * matcher keeps the kind and the length of the text to compare, so a request
 * neither scans the pattern for '*' nor measures it. The text lives in a pool
 * (the compiled policy set's), addressed by offset so the pool may grow while
 * policies compile.
 */

#include <stdint.h>
#include <string.h>
#include <strings.h>

typedef enum { GW_PATTERN_ANY, GW_PATTERN_EXACT, GW_PATTERN_PREFIX, GW_PATTERN_SUFFIX } gw_pattern_kind_t;

/** A compiled pattern: compare len bytes at pool + offset (the pattern without its '*'). */
typedef struct {
    uint32_t offset;
    uint32_t len;
    uint8_t kind; /* gw_pattern_kind_t */
} gw_matcher_t;

/**
 * The kind of pattern and the part of it to compare (*start, *len: within
 * pattern). Only a leading or trailing '*' is a wildcard; "*" alone is ANY.
 */
gw_pattern_kind_t gw_pattern_parse(const char *pattern, size_t *start, size_t *len);

/* Patterns are short (methods, path prefixes, group names) and most comparisons fail on an early byte: a
 * loop here costs less than a call into libc's memcmp, which still serves the long ones. */
static inline int gw_pattern_same(const char *a, const char *b, size_t len, int nocase)
{
    if (nocase)
        return strncasecmp(a, b, len) == 0;
    if (len > 16)
        return memcmp(a, b, len) == 0;
    for (size_t i = 0; i < len; ++i)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/**
 * Whether value (len bytes, not NUL-terminated) matches m, whose text is at
 * pool + m->offset; case-insensitively when nocase (hosts). Inline: it runs
 * for every pattern a decision looks at.
 */
static inline int gw_matcher_matches(const gw_matcher_t *m, const char *pool, const char *value, size_t len,
                                     int nocase)
{
    const char *text = pool + m->offset;
    switch ((gw_pattern_kind_t)m->kind) {
    case GW_PATTERN_ANY:
        return 1;
    case GW_PATTERN_PREFIX:
        return len >= m->len && gw_pattern_same(text, value, m->len, nocase);
    case GW_PATTERN_SUFFIX:
        return len >= m->len && gw_pattern_same(text, value + len - m->len, m->len, nocase);
    case GW_PATTERN_EXACT:
        return len == m->len && gw_pattern_same(text, value, len, nocase);
    }
    return 0;
}

#endif
