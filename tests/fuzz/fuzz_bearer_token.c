/* Fuzzes the bearer token steps before verification: the Authorization header parser (the token lies inside
 * the header) and the unverified iss reader (a found iss is a NUL-terminated string that fits its buffer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/bearer_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* copy into an exact-size buffer so ASan sees any overread */
    char *header = malloc(size + 1);
    if (header == NULL)
        return 0;
    memcpy(header, data, size);
    const char *token = NULL;
    size_t len = 0;
    if (as_bearer_token_from_header(header, size, &token, &len) == AS_BEARER_TOKEN_OK) {
        if (token < header || token + len > header + size || len == 0 || len > AS_BEARER_MAX_TOKEN)
            abort();
    } else {
        token = header; /* the whole input as a token */
        len = size;
    }
    char iss[64];
    memset(iss, 0x7f, sizeof(iss));
    if (as_bearer_token_peek_issuer(token, len, iss, sizeof(iss)) == AS_BEARER_TOKEN_OK &&
        (memchr(iss, '\0', sizeof(iss)) == NULL || iss[0] == '\0'))
        abort();
    free(header);
    return 0;
}
