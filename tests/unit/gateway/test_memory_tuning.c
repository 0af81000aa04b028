/* The memory tuning of a gateway process: the trimmer thread trims on its interval and stops at once; server
 * TLS contexts release their record buffers. With glibc's own malloc (not under AddressSanitizer, which
 * replaces it), also: a trim gives freed pages in the middle of the heap back to the kernel, and an HTTP/2
 * write buffer of libh2o's size gets a mapping of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <malloc.h>

#include "memory_tuning.h"

#if defined(__SANITIZE_ADDRESS__)
#define GLIBC_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLIBC_MALLOC 0
#endif
#endif
#ifndef GLIBC_MALLOC
#define GLIBC_MALLOC 1
#endif

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to 5 s until the trimmer has made at least `runs` trims. */
static uint64_t wait_for_runs(gw_memory_trimmer_t *trimmer, uint64_t runs)
{
    double deadline = now_seconds() + 5;
    uint64_t seen;
    while ((seen = gw_memory_trimmer_runs(trimmer)) < runs && now_seconds() < deadline)
        usleep(5000);
    return seen;
}

static void test_trimmer_runs_on_its_interval(void **state)
{
    (void)state;
    gw_memory_trimmer_t *trimmer = gw_memory_trimmer_start(20);
    assert_non_null(trimmer);
    assert_true(wait_for_runs(trimmer, 3) >= 3);
    gw_memory_trimmer_stop(trimmer);
}

static void test_trimmer_stops_without_waiting_for_its_turn(void **state)
{
    (void)state;
    gw_memory_trimmer_t *trimmer = gw_memory_trimmer_start(60000);
    assert_non_null(trimmer);
    usleep(20000);
    double start = now_seconds();
    assert_int_equal(gw_memory_trimmer_runs(trimmer), 0);
    gw_memory_trimmer_stop(trimmer);
    assert_true(now_seconds() - start < 1.0);
    gw_memory_trimmer_stop(NULL);
}

static void test_server_contexts_release_record_buffers(void **state)
{
    (void)state;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS, 0);
    gw_memory_tune_ssl_ctx(ctx);
    assert_int_not_equal(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS, 0);
    SSL_CTX_free(ctx);
}

#if GLIBC_MALLOC
static size_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    unsigned long size = 0, resident = 0;
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

#define BLOCKS 1024
#define BLOCK_BYTES (32 * 1024)

/* 32 MiB of 32 KiB blocks below a block that stays: freed, they are one free chunk in the middle of the heap,
 * resident until a trim. */
static void test_trim_returns_freed_pages_in_the_middle_of_the_heap(void **state)
{
    (void)state;
    static char *blocks[BLOCKS];
    for (size_t i = 0; i < BLOCKS; ++i) {
        blocks[i] = malloc(BLOCK_BYTES);
        assert_non_null(blocks[i]);
        memset(blocks[i], 0x5a, BLOCK_BYTES);
    }
    char *pin = malloc(BLOCK_BYTES);
    assert_non_null(pin);
    memset(pin, 0x5a, BLOCK_BYTES);
    for (size_t i = 0; i < BLOCKS; ++i)
        free(blocks[i]);
    size_t before = resident_bytes();

    gw_memory_trimmer_t *trimmer = gw_memory_trimmer_start(20);
    assert_non_null(trimmer);
    assert_true(wait_for_runs(trimmer, 2) >= 2);
    gw_memory_trimmer_stop(trimmer);
    size_t after = resident_bytes();
    free(pin);
    print_message("resident before the trim %zu KiB, after %zu KiB\n", before / 1024, after / 1024);
    assert_true(before > after + (size_t)BLOCKS * BLOCK_BYTES / 2);
}

/* libh2o's HTTP/2 write buffer: an h2o_buffer_t header (40 bytes) + H2O_HTTP2_DEFAULT_OUTBUF_SIZE (81,920).
 * glibc maps a block only when neither a free chunk nor the top of the heap can hold it (it grows the heap
 * otherwise): of 64 such buffers held at once, as in a burst of PING answers, all but the few that fit the
 * heap get a mapping of their own. This test runs first, before the trim test leaves 32 MiB free in the heap.
 * With glibc's default threshold (128 KiB) none would. */
static void test_http2_write_buffers_get_their_own_mapping(void **state)
{
    (void)state;
    gw_memory_tune_process();
    enum { BUFFERS = 64 };
    static void *buffers[BUFFERS];
    size_t mapped_before = mallinfo2().hblks;
    for (size_t i = 0; i < BUFFERS; ++i)
        assert_non_null(buffers[i] = malloc(40 + 81920));
    size_t mapped = mallinfo2().hblks - mapped_before;
    for (size_t i = 0; i < BUFFERS; ++i)
        free(buffers[i]);
    print_message("%zu of %d buffers mapped\n", mapped, BUFFERS);
    assert_true(mapped >= BUFFERS - 8);
    assert_int_equal(mallinfo2().hblks, mapped_before);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
#if GLIBC_MALLOC
        cmocka_unit_test(test_http2_write_buffers_get_their_own_mapping),
#endif
        cmocka_unit_test(test_trimmer_runs_on_its_interval),
        cmocka_unit_test(test_trimmer_stops_without_waiting_for_its_turn),
        cmocka_unit_test(test_server_contexts_release_record_buffers),
#if GLIBC_MALLOC
        cmocka_unit_test(test_trim_returns_freed_pages_in_the_middle_of_the_heap),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
