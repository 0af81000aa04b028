#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/hex.h"
#include "util/sha256.h"

/* FIPS 180-2 / NIST example vectors. */
static const struct {
    const char *input;
    const char *digest;
} vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void hex_of(const char *input, size_t len, char hex[2 * TG_SHA256_SIZE + 1])
{
    uint8_t digest[TG_SHA256_SIZE];
    tg_sha256(input, len, digest);
    tg_hex_encode(hex, digest, sizeof(digest));
}

static void test_nist_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); ++i) {
        char hex[2 * TG_SHA256_SIZE + 1];
        hex_of(vectors[i].input, strlen(vectors[i].input), hex);
        assert_string_equal(hex, vectors[i].digest);
    }
}

/* The per-thread context is reset between calls: a digest never carries state from the last one. */
static void test_repeated_calls_are_independent(void **state)
{
    (void)state;
    char first[2 * TG_SHA256_SIZE + 1], again[2 * TG_SHA256_SIZE + 1];
    hex_of("abc", 3, first);
    hex_of("a long input that goes first", 28, again);
    hex_of("abc", 3, again);
    assert_string_equal(first, again);
}

/* A million 'a' (the long NIST vector), hashed from another thread: each thread has its own context. */
static void *million_a(void *out)
{
    static char input[1000000];
    memset(input, 'a', sizeof(input));
    hex_of(input, sizeof(input), out);
    return NULL;
}

static void test_other_thread(void **state)
{
    (void)state;
    char hex[2 * TG_SHA256_SIZE + 1] = {0};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, million_a, hex), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nist_vectors),
        cmocka_unit_test(test_repeated_calls_are_independent),
        cmocka_unit_test(test_other_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
