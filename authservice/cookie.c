#include "authservice/cookie.h"

#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* One pair of a Cookie header: [start, end) trimmed, its name [start, name_end) (no '=': name_end == NULL).
 */
typedef struct {
    const char *start, *end, *name_end, *eq;
} cookie_pair_t;

/* Reads the pair at *p (before end) and moves *p past it; 0 when there is none left. */
static int next_pair(const char **p, const char *end, cookie_pair_t *pair)
{
    if (*p >= end)
        return 0;
    const char *s = *p, *pair_end = memchr(s, ';', (size_t)(end - s));
    if (pair_end == NULL)
        pair_end = end;
    *p = pair_end + 1;
    while (s < pair_end && is_space(*s))
        ++s;
    const char *e = pair_end;
    while (e > s && is_space(e[-1]))
        --e;
    pair->start = s;
    pair->end = e;
    pair->eq = memchr(s, '=', (size_t)(e - s));
    pair->name_end = NULL;
    if (pair->eq != NULL) {
        const char *key_end = pair->eq;
        while (key_end > s && is_space(key_end[-1]))
            --key_end;
        pair->name_end = key_end;
    }
    return 1;
}

static int pair_is(const cookie_pair_t *pair, const char *name, size_t name_len)
{
    return pair->name_end != NULL && (size_t)(pair->name_end - pair->start) == name_len &&
           memcmp(pair->start, name, name_len) == 0;
}

int as_cookie_find(const char *header, size_t header_len, const char *name, const char **value,
                   size_t *value_len)
{
    size_t name_len = strlen(name);
    const char *p = header, *end = header + header_len;
    cookie_pair_t pair;
    while (next_pair(&p, end, &pair)) {
        if (!pair_is(&pair, name, name_len))
            continue;
        const char *v = pair.eq + 1, *v_end = pair.end;
        while (v < v_end && is_space(*v))
            ++v;
        if (v_end - v >= 2 && v[0] == '"' && v_end[-1] == '"') {
            ++v;
            --v_end;
        }
        *value = v;
        *value_len = (size_t)(v_end - v);
        return 1;
    }
    return 0;
}

size_t as_cookie_remove(const char *header, size_t header_len, const char *const *names, char *out,
                        size_t *out_len)
{
    const char *p = header, *end = header + header_len;
    cookie_pair_t pair;
    size_t removed = 0, n = 0;
    while (next_pair(&p, end, &pair)) {
        int drop = 0;
        for (const char *const *name = names; *name != NULL && !drop; ++name)
            drop = pair_is(&pair, *name, strlen(*name));
        if (drop) {
            ++removed;
            continue;
        }
        if (pair.start == pair.end)
            continue; /* an empty pair (";;") */
        if (n > 0) {
            memcpy(out + n, "; ", 2);
            n += 2;
        }
        memcpy(out + n, pair.start, (size_t)(pair.end - pair.start));
        n += (size_t)(pair.end - pair.start);
    }
    out[n] = '\0';
    *out_len = n;
    return removed;
}
