/* Fuzzes the Cookie header parser: it must never read outside the header, and a found value lies inside it.
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
    free(header);
    return 0;
}
