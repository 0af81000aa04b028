#include "util/hex.h"

#include <string.h>

/* The two digits of every byte value, "00" to "ff": one two-byte copy per byte (request ids and trace
 * contexts are encoded on every request). */
#define HEX_ROW(h)                                                                                           \
    h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"
static const char hex_pairs[] = HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3") HEX_ROW("4") HEX_ROW("5")
    HEX_ROW("6") HEX_ROW("7") HEX_ROW("8") HEX_ROW("9") HEX_ROW("a") HEX_ROW("b") HEX_ROW("c") HEX_ROW("d")
        HEX_ROW("e") HEX_ROW("f");

void tg_hex_encode(char *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; ++i)
        memcpy(dst + 2 * i, hex_pairs + 2 * src[i], 2);
    dst[2 * len] = '\0';
}

int tg_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
