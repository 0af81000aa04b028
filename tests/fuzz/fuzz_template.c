/* Fuzzes page rendering: the first line is the template, the rest a value. The output must have exactly
 * the length it claims, and no value may put a raw '<', '>', '"' or '\'' into the page. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *newline = memchr(data, '\n', size);
    size_t tmpl_len = newline != NULL ? (size_t)(newline - data) : size;
    char *tmpl = malloc(tmpl_len + 1);
    size_t value_len = newline != NULL ? size - tmpl_len - 1 : 0;
    char *value = malloc(value_len + 1);
    if (tmpl == NULL || value == NULL)
        abort();
    memcpy(tmpl, data, tmpl_len);
    tmpl[tmpl_len] = '\0';
    memcpy(value, newline != NULL ? newline + 1 : data, value_len);
    value[value_len] = '\0';

    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    gw_template_var_t vars[] = {{"v", value}};
    h2o_iovec_t out = gw_template_render(&pool, tmpl, tmpl_len, vars, 1);
    if (out.base[out.len] != '\0')
        abort();
    /* without NUL bytes in the input, every byte up to len was written by the renderer */
    if (strlen(tmpl) == tmpl_len && strlen(value) == value_len && strlen(out.base) != out.len)
        abort();
    /* with a template of only the placeholder, the page is the escaped value: no markup may survive */
    if (strcmp(tmpl, "{{v}}") == 0 && strcspn(out.base, "<>\"'") != strlen(out.base))
        abort();
    h2o_mem_clear_pool(&pool);
    free(tmpl);
    free(value);
    return 0;
}
