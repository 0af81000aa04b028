#include "template.h"

#include <stdio.h>
#include <string.h>

/* The HTML entity for c, or NULL when c stands for itself. */
static const char *html_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&#34;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

/* Writes s HTML-escaped at dst (or only measures it when dst is NULL); returns the length. */
static size_t html_escape(char *dst, const char *s)
{
    size_t len = 0;
    for (; *s != '\0'; ++s) {
        const char *entity = html_entity(*s);
        size_t n = entity != NULL ? strlen(entity) : 1;
        if (dst != NULL)
            memcpy(dst + len, entity != NULL ? entity : s, n);
        len += n;
    }
    return len;
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
        len += html_escape(out != NULL ? out + len : NULL, value);
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
