/* Fuzzes return-path validation (the rd parameter of /authservice/login): whatever comes in, what comes out
 * is a local path: starts with one '/', never "//" or "/\", no backslash, control character or space, and
 * nothing that decodes once more into an encoded "//" or "/\" at its start. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/return_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *rd = malloc(size + 1);
    if (rd == NULL)
        return 0;
    memcpy(rd, data, size);
    static const size_t sizes[] = {2, 16, AS_RETURN_PATH_MAX + 1};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); ++s) {
        char *out = malloc(sizes[s]);
        if (out == NULL)
            break;
        int kept = as_return_path_sanitize(rd, size, out, sizes[s]);
        size_t len = strnlen(out, sizes[s]);
        if (kept < 0 || len >= sizes[s] || out[0] != '/')
            abort();
        if (len > 1 && (out[1] == '/' || out[1] == '\\'))
            abort();
        if (len > 3 && out[1] == '%' &&
            (strncmp(out + 2, "2F", 2) == 0 || strncmp(out + 2, "2f", 2) == 0 ||
             strncmp(out + 2, "5C", 2) == 0 || strncmp(out + 2, "5c", 2) == 0 ||
             strncmp(out + 2, "25", 2) == 0))
            abort();
        for (size_t i = 0; i < len; ++i)
            if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f || out[i] == '\\')
                abort();
        if (!kept && strcmp(out, "/") != 0)
            abort();
        free(out);
    }
    free(rd);
    return 0;
}
