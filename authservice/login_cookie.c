#include "authservice/login_cookie.h"

#include <string.h>

int as_login_state_is_well_formed(const char *s, size_t len)
{
    if (s == NULL || len != AS_LOGIN_STATE_LEN)
        return 0;
    for (size_t i = 0; i < len; ++i) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* Calls back for each well-formed entry of value, in order; stops when cb returns non-zero. */
typedef int (*entry_cb)(const char *entry, void *data);

static void each_entry(const char *value, size_t len, entry_cb cb, void *data)
{
    if (value == NULL)
        return;
    const char *p = value, *end = value + len;
    while (p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *stop = dot != NULL ? dot : end;
        if (as_login_state_is_well_formed(p, (size_t)(stop - p)) && cb(p, data))
            return;
        p = dot != NULL ? dot + 1 : end;
    }
}

typedef struct {
    const char *state;
    int found;
} find_t;

static int find_entry(const char *entry, void *data)
{
    find_t *f = data;
    if (memcmp(entry, f->state, AS_LOGIN_STATE_LEN) == 0)
        f->found = 1;
    return f->found;
}

int as_login_cookie_contains(const char *value, size_t len, const char *state)
{
    if (state == NULL || !as_login_state_is_well_formed(state, strlen(state)))
        return 0;
    find_t f = {state, 0};
    each_entry(value, len, find_entry, &f);
    return f.found;
}

typedef struct {
    char *out;
    size_t used;
    int count;
    const char *skip;
} build_t;

static void append(build_t *b, const char *entry)
{
    if (b->count > 0)
        b->out[b->used++] = '.';
    memcpy(b->out + b->used, entry, AS_LOGIN_STATE_LEN);
    b->used += AS_LOGIN_STATE_LEN;
    b->out[b->used] = '\0';
    ++b->count;
}

static int copy_entry(const char *entry, void *data)
{
    build_t *b = data;
    if (b->count >= AS_LOGIN_COOKIE_MAX)
        return 1;
    if (b->skip != NULL && memcmp(entry, b->skip, AS_LOGIN_STATE_LEN) == 0)
        return 0;
    /* drop repeats of an entry already copied */
    for (int i = 0; i < b->count; ++i)
        if (memcmp(b->out + (size_t)i * (AS_LOGIN_STATE_LEN + 1), entry, AS_LOGIN_STATE_LEN) == 0)
            return 0;
    append(b, entry);
    return 0;
}

int as_login_cookie_push(const char *value, size_t len, const char *state, char *out)
{
    if (state == NULL || !as_login_state_is_well_formed(state, strlen(state)))
        return -1;
    build_t b = {out, 0, 0, state};
    out[0] = '\0';
    append(&b, state);
    each_entry(value, len, copy_entry, &b);
    return b.count;
}

int as_login_cookie_remove(const char *value, size_t len, const char *state, char *out)
{
    build_t b = {out, 0, 0,
                 state != NULL && as_login_state_is_well_formed(state, strlen(state)) ? state : NULL};
    out[0] = '\0';
    each_entry(value, len, copy_entry, &b);
    return b.count;
}
