#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64url.h"
#include "util/random.h"

/* RFC 4648 section 10 vectors, without padding and in the url alphabet. */
static const struct {
    const char *plain;
    const char *encoded;
} vectors[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); ++i) {
        char encoded[32];
        uint8_t decoded[32];
        size_t len = strlen(vectors[i].plain);
        assert_int_equal(tg_base64url_encode(encoded, (const uint8_t *)vectors[i].plain, len),
                         strlen(vectors[i].encoded));
        assert_string_equal(encoded, vectors[i].encoded);
        long n = tg_base64url_decode(decoded, vectors[i].encoded, strlen(vectors[i].encoded));
        assert_int_equal(n, (long)len);
        assert_memory_equal(decoded, vectors[i].plain, len);
    }
}

static void test_url_alphabet(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
    char encoded[8];
    tg_base64url_encode(encoded, bytes, sizeof(bytes));
    assert_string_equal(encoded, "-_-_");
    uint8_t decoded[8];
    assert_int_equal(tg_base64url_decode(decoded, "-_-_", 4), 3);
    assert_memory_equal(decoded, bytes, 3);
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {"Zg==", "Z", "Zm9v+", "Zm9v/", "Zm9 v", "Zh", "Zm9vYmF="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        uint8_t decoded[16];
        if (tg_base64url_decode(decoded, bad[i], strlen(bad[i])) != -1)
            fail_msg("accepted malformed input \"%s\"", bad[i]);
    }
}

static void test_round_trip_all_lengths(void **state)
{
    (void)state;
    uint8_t bytes[64], decoded[64 + 1]; /* the decoder writes a NUL after the bytes */
    char encoded[TG_BASE64URL_ENCODED_SIZE(64)];
    for (size_t i = 0; i < sizeof(bytes); ++i)
        bytes[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(bytes); ++len) {
        size_t n = tg_base64url_encode(encoded, bytes, len);
        assert_int_equal(tg_base64url_decode(decoded, encoded, n), (long)len);
        assert_memory_equal(decoded, bytes, len);
    }
}

static void test_buffered_random_never_repeats(void **state)
{
    (void)state;
    /* enough draws to cross several 4 KiB refills */
    enum { DRAWS = 2000 };
    static uint8_t ids[DRAWS][16];
    for (size_t i = 0; i < DRAWS; ++i)
        assert_int_equal(tg_random_buffered(ids[i], sizeof(ids[i])), 0);
    for (size_t i = 0; i < DRAWS; ++i)
        for (size_t j = i + 1; j < DRAWS; ++j)
            if (memcmp(ids[i], ids[j], 16) == 0)
                fail_msg("draws %zu and %zu are equal", i, j);
    uint8_t too_many[512];
    assert_int_equal(tg_random_buffered(too_many, sizeof(too_many)), -1);
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x00, 0x9f, 0xa0, 0xff};
    char hex[9];
    tg_hex_encode(hex, bytes, sizeof(bytes));
    assert_string_equal(hex, "009fa0ff");

    /* every byte value round-trips through the digits */
    uint8_t all[256];
    char all_hex[2 * sizeof(all) + 1];
    for (size_t i = 0; i < sizeof(all); ++i)
        all[i] = (uint8_t)i;
    tg_hex_encode(all_hex, all, sizeof(all));
    assert_int_equal(strlen(all_hex), 2 * sizeof(all));
    for (size_t i = 0; i < sizeof(all); ++i) {
        assert_false(all_hex[2 * i] >= 'A' && all_hex[2 * i] <= 'F');
        assert_int_equal(tg_hex_digit(all_hex[2 * i]) << 4 | tg_hex_digit(all_hex[2 * i + 1]), (int)i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_round_trip_all_lengths),
        cmocka_unit_test(test_buffered_random_never_repeats),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
