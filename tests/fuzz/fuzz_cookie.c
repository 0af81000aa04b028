/* Fuzzes the Cookie header parser: it must never read outside the header, a found value lies inside it, and
 * a header with cookies removed never holds them any more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* copy into an exact-size buffer so ASan sees any overread */
    char *header = malloc(size + 1);
    if (header == NULL)
        return 0;
    memcpy(header, data, size);
    static const char *const names[] = {"a", "__Host-tenantgate", "_xsrf", ""};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        const char *value;
        size_t len;
        if (as_cookie_find(header, size, names[i], &value, &len) &&
            (value < header || value + len > header + size))
            abort();
    }
    static const char *const removed[] = {"__Host-tenantgate", "__Host-tenantgate-login", "", NULL};
    char *out = malloc(2 * size + 1);
    size_t out_len;
    if (out != NULL) {
        size_t n = as_cookie_remove(header, size, removed, out, &out_len);
        if (out_len > 2 * size || out[out_len] != '\0' || (n == 0 && size == 0 && out_len != 0))
            abort();
        /* what is left never holds a removed cookie */
        const char *value;
        size_t len;
        if (as_cookie_find(out, out_len, "__Host-tenantgate", &value, &len) ||
            as_cookie_find(out, out_len, "__Host-tenantgate-login", &value, &len))
            abort();
        free(out);
    }
    free(header);
    return 0;
}
