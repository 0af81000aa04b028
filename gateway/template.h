#ifndef GW_TEMPLATE_H
#define GW_TEMPLATE_H

#include <h2o.h>

/** One {{name}} placeholder and its (unescaped) value. */
typedef struct {
    const char *name;
    const char *value;
} gw_template_var_t;

/**
 * Renders a page template from static/: each {{name}} becomes its value,
 * HTML-escaped; an unknown placeholder renders empty. Memory comes from pool.
 */
h2o_iovec_t gw_template_render(h2o_mem_pool_t *pool, const char *tmpl, size_t tmpl_len,
                               const gw_template_var_t *vars, size_t var_count);

/** Appends s to dst as the body of a JSON string (no quotes); dst must hold 6 * strlen(s) + 1. Returns bytes
 * written. */
size_t gw_json_escape(char *dst, const char *s);

#endif
