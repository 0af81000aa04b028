#include "util/random.h"

#include "util/hex.h"

#include <openssl/rand.h>
#include <string.h>

#define BUFFERED_SIZE 4096
#define BUFFERED_MAX_DRAW 256

int tg_random_bytes(uint8_t *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int tg_random_buffered(uint8_t *buf, size_t len)
{
    static _Thread_local uint8_t pool[BUFFERED_SIZE];
    static _Thread_local size_t used = BUFFERED_SIZE;
    if (len > BUFFERED_MAX_DRAW)
        return -1;
    if (BUFFERED_SIZE - used < len) {
        if (RAND_bytes(pool, sizeof(pool)) != 1)
            return -1;
        used = 0;
    }
    memcpy(buf, pool + used, len);
    /* never hand out the same bytes twice */
    memset(pool + used, 0, len);
    used += len;
    return 0;
}

int tg_random_hex(char *dst, size_t len)
{
    uint8_t bytes[64];
    if (len > sizeof(bytes) || tg_random_bytes(bytes, len) != 0)
        return -1;
    tg_hex_encode(dst, bytes, len);
    return 0;
}
