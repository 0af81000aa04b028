#include "authservice/cookie.h"

#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

int as_cookie_find(const char *header, size_t header_len, const char *name, const char **value,
                   size_t *value_len)
{
    size_t name_len = strlen(name);
    const char *p = header, *end = header + header_len;
    while (p < end) {
        const char *pair_end = memchr(p, ';', (size_t)(end - p));
        if (pair_end == NULL)
            pair_end = end;
        while (p < pair_end && is_space(*p))
            ++p;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        if (eq != NULL) {
            const char *key_end = eq;
            while (key_end > p && is_space(key_end[-1]))
                --key_end;
            if ((size_t)(key_end - p) == name_len && memcmp(p, name, name_len) == 0) {
                const char *v = eq + 1, *v_end = pair_end;
                while (v < v_end && is_space(*v))
                    ++v;
                while (v_end > v && is_space(v_end[-1]))
                    --v_end;
                if (v_end - v >= 2 && v[0] == '"' && v_end[-1] == '"') {
                    ++v;
                    --v_end;
                }
                *value = v;
                *value_len = (size_t)(v_end - v);
                return 1;
            }
        }
        p = pair_end + 1;
    }
    return 0;
}
