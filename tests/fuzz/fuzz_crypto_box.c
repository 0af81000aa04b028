/* Fuzzes as_open with a fixed two-key box: arbitrary input must never open (nothing here was sealed by
 * these keys; the seeds are near misses: real layouts with a wrong byte). Then seals the input, which must
 * open to the same bytes, and must stop opening when any one character of the sealed text changes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/crypto_box.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fixed_keys[2 * AS_BOX_KEY_SIZE] = {
    0x6b, 0x1f, 0x93, 0x2e, 0xa4, 0x57, 0x0c, 0xd8, 0x31, 0xf6, 0x8a, 0x45, 0xbe, 0x12, 0x79, 0xc3,
    0x5d, 0xe0, 0x27, 0x94, 0x0a, 0x6f, 0xb1, 0x38, 0xcd, 0x52, 0x86, 0x1b, 0xf4, 0x69, 0x03, 0xae,
    0x2c, 0x97, 0x4e, 0xd1, 0x08, 0x7b, 0xe6, 0x35, 0x9f, 0x40, 0xbb, 0x16, 0x63, 0xca, 0x5e, 0x21,
    0xf8, 0x84, 0x3d, 0x7a, 0xc6, 0x11, 0x9b, 0x4f, 0xe2, 0x28, 0x75, 0xdf, 0x0e, 0xa9, 0x54, 0xb7,
};
static const char aad[] = "5c1b7e0f8a9d2c4e6f3a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e";
static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static as_box_t *box;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (box == NULL && (box = as_box_from_keys(fixed_keys, 2, NULL, 0)) == NULL)
        abort();
    char *input = malloc(size == 0 ? 1 : size);
    if (input == NULL)
        return 0;
    memcpy(input, data, size);
    size_t len = 0;
    if (as_open(box, input, size, aad, strlen(aad), &len) != NULL ||
        as_open(box, input, size, NULL, 0, &len) != NULL)
        abort();

    if (size <= 4096) {
        char *sealed = as_seal(box, input, size, aad, strlen(aad));
        if (sealed == NULL)
            abort();
        size_t sealed_len = strlen(sealed);
        char *plain = as_open(box, sealed, sealed_len, aad, strlen(aad), &len);
        if (plain == NULL || len != size || memcmp(plain, input, size) != 0 || plain[len] != '\0')
            abort();
        as_box_secret_free(plain, len);
        if (size > 0) {
            size_t pos = ((size_t)data[0] << 8 | data[size - 1]) % sealed_len;
            char original = sealed[pos];
            sealed[pos] = alphabet[(strchr(alphabet, original) - alphabet + 1 + data[0] % 63) % 64];
            if (sealed[pos] == original || as_open(box, sealed, sealed_len, aad, strlen(aad), NULL) != NULL)
                abort();
        }
        free(sealed);
    }
    free(input);
    return 0;
}
