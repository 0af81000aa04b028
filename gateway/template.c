#include "template.h"

#include <stdio.h>
#include <string.h>

static size_t html_escaped_len(const char *s)
{
    size_t len = 0;
    for (; *s != '\0'; ++s) {
        switch (*s) {
        case '&':
            len += 5;
            break;
        case '<':
        case '>':
            len += 4;
            break;
        case '"':
        case '\'':
            len += 6;
            break;
        default:
            len += 1;
        }
    }
    return len;
}

static char *html_escape(char *dst, const char *s)
{
    for (; *s != '\0'; ++s) {
        const char *rep = NULL;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&#34;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        }
        if (rep != NULL) {
            size_t n = strlen(rep);
            memcpy(dst, rep, n);
            dst += n;
        } else {
            *dst++ = *s;
        }
    }
    return dst;
}

static const char *lookup(const gw_template_var_t *vars, size_t var_count, const char *name, size_t name_len)
{
    for (size_t i = 0; i < var_count; ++i)
        if (strlen(vars[i].name) == name_len && memcmp(vars[i].name, name, name_len) == 0)
            return vars[i].value != NULL ? vars[i].value : "";
    return "";
}

/* Walks the template once; with out == NULL it only measures. */
static size_t render(char *out, const char *tmpl, size_t tmpl_len, const gw_template_var_t *vars,
                     size_t var_count)
{
    size_t len = 0;
    const char *p = tmpl, *end = tmpl + tmpl_len;
    while (p < end) {
        const char *open = p + 1 < end ? memmem(p, (size_t)(end - p), "{{", 2) : NULL;
        const char *close = open != NULL ? memmem(open + 2, (size_t)(end - open - 2), "}}", 2) : NULL;
        size_t literal = (size_t)((close != NULL ? open : end) - p);
        if (out != NULL)
            memcpy(out + len, p, literal);
        len += literal;
        if (close == NULL)
            break;
        const char *value = lookup(vars, var_count, open + 2, (size_t)(close - open - 2));
        if (out != NULL)
            len = (size_t)(html_escape(out + len, value) - out);
        else
            len += html_escaped_len(value);
        p = close + 2;
    }
    return len;
}

h2o_iovec_t gw_template_render(h2o_mem_pool_t *pool, const char *tmpl, size_t tmpl_len,
                               const gw_template_var_t *vars, size_t var_count)
{
    size_t len = render(NULL, tmpl, tmpl_len, vars, var_count);
    char *buf = h2o_mem_alloc_pool(pool, len + 1);
    render(buf, tmpl, tmpl_len, vars, var_count);
    buf[len] = '\0';
    return h2o_iovec_init(buf, len);
}

size_t gw_json_escape(char *dst, const char *s)
{
    char *p = dst;
    for (; *s != '\0'; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p = '\0';
    return (size_t)(p - dst);
}
