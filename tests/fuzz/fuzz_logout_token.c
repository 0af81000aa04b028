/* Fuzzes the logout token checks: input is a JOSE header and a claims object as JSON, split at the first
 * newline. Whatever the input, the check either refuses with a reason or accepts with every named string
 * present in the claims, and never accepts a nonce or a token without the back-channel event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/backchannel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t header_len = nl != NULL ? (size_t)(nl - data) : 0;
    json_t *header = json_loadb((const char *)data, header_len, 0, NULL);
    json_t *claims =
        json_loadb((const char *)data + header_len + (nl != NULL), size - header_len - (nl != NULL), 0, NULL);
    if (header == NULL)
        header = json_object();
    if (claims != NULL && json_is_object(claims) && json_is_object(header)) {
        as_logout_token_t token;
        const char *why = as_logout_token_check(header, claims, &token);
        if (why == NULL) {
            if (json_object_get(claims, "nonce") != NULL ||
                !json_is_object(json_object_get(json_object_get(claims, "events"), AS_BACKCHANNEL_EVENT)) ||
                token.jti == NULL || token.issuer == NULL || (token.sid == NULL && token.sub == NULL))
                abort();
            char name[AS_BACKCHANNEL_NAME_SIZE];
            as_backchannel_name("sid", token.issuer, token.sid != NULL ? token.sid : token.sub, name);
            if (strlen(name) != 8 + 64)
                abort();
        }
    }
    json_decref(header);
    json_decref(claims);
    return 0;
}
