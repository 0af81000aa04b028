/* The session cache: hits and misses, TTL, invalidation and epochs, the bound, LRU order, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "authservice/login_flow.h"
#include "authservice/session_cache.h"
#include "authservice/session_id.h"

typedef struct {
    char s[AS_SESSION_KEY_LEN + 1];
} test_key_t;

static test_key_t key_of(unsigned n)
{
    char id[32];
    test_key_t k;
    int len = snprintf(id, sizeof(id), "session-%u", n);
    as_session_key(id, (size_t)len, k.s);
    return k;
}

static as_session_record_t *record_named(const char *subject)
{
    as_session_record_t *r = calloc(1, sizeof(*r));
    r->subject = strdup(subject);
    r->issuer = strdup("https://idp.example");
    r->id_token = strdup("a.b.c");
    r->version = AS_SESSION_RECORD_VERSION;
    return r;
}

static as_session_cache_t *cache_with(size_t max_entries, unsigned shards, int64_t ttl_ms)
{
    as_session_cache_options_t opts;
    as_session_cache_options_init(&opts);
    opts.max_entries = max_entries;
    opts.shards = shards;
    opts.ttl_ms = ttl_ms;
    char err[128] = "";
    as_session_cache_t *cache = as_session_cache_new(&opts, err, sizeof(err));
    if (cache == NULL)
        fail_msg("cache: %s", err);
    return cache;
}

/* put with the current epoch; returns put's result */
static int put(as_session_cache_t *cache, const test_key_t *k, const char *subject, int64_t now)
{
    return as_session_cache_put(cache, k->s, record_named(subject), as_session_cache_epoch(cache, k->s), now,
                                NULL);
}

/* 1 if key is cached (fresh at now) with this subject, 0 if not cached; fails on another subject. */
static int cached(as_session_cache_t *cache, const test_key_t *k, const char *subject, int64_t now)
{
    as_cached_session_t *s = as_session_cache_get(cache, k->s, now);
    if (s == NULL)
        return 0;
    if (subject != NULL && strcmp(as_cached_session_record(s)->subject, subject) != 0)
        fail_msg("cached %s, expected %s", as_cached_session_record(s)->subject, subject);
    as_cached_session_release(s);
    return 1;
}

static void test_options(void **state)
{
    (void)state;
    as_session_cache_options_t opts;
    as_session_cache_options_init(&opts);
    assert_int_equal(opts.max_entries, 10000);
    assert_int_equal(opts.shards, 16);
    assert_int_equal(opts.ttl_ms, 5000);
    static const struct {
        size_t max_entries;
        unsigned shards;
        int64_t ttl_ms;
        const char *expected;
    } bad[] = {
        {0, 16, 5000, "max_entries 0 is outside"},
        {AS_SESSION_CACHE_MAX_ENTRIES + 1, 16, 5000, "max_entries 16777217 is outside"},
        {100, 0, 5000, "shards 0 is not a power of two"},
        {100, 3, 5000, "shards 3 is not a power of two"},
        {100, 512, 5000, "shards 512 is not a power of two in 1..256"},
        {100, 16, 0, "ttl 0 ms is outside"},
        {100, 16, -5, "ttl -5 ms is outside"},
        {100, 16, 3600001, "ttl 3600001 ms is outside 1..3600000"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        opts.max_entries = bad[i].max_entries;
        opts.shards = bad[i].shards;
        opts.ttl_ms = bad[i].ttl_ms;
        char err[128] = "";
        assert_null(as_session_cache_new(&opts, err, sizeof(err)));
        if (strstr(err, bad[i].expected) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].expected);
    }
    assert_null(as_session_cache_new(NULL, NULL, 0));

    /* fewer entries than shards: the bound still holds exactly */
    as_session_cache_t *cache = cache_with(3, 256, 1000);
    for (unsigned i = 0; i < 100; ++i) {
        test_key_t k = key_of(i);
        put(cache, &k, "x", 0);
    }
    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.size, 3);
    assert_int_equal(st.capacity, 3);
    as_session_cache_free(cache);
}

static void test_hit_and_miss(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(100, 4, 5000);
    test_key_t a = key_of(1), b = key_of(2);
    assert_null(as_session_cache_get(cache, a.s, 0));

    as_session_record_t *rec = record_named("alice");
    as_cached_session_t *handle = NULL;
    assert_int_equal(as_session_cache_put(cache, a.s, rec, as_session_cache_epoch(cache, a.s), 100, &handle),
                     0);
    assert_ptr_equal(as_cached_session_record(handle), rec);
    assert_int_equal(as_cached_session_cached_at(handle), 100);

    as_cached_session_t *hit = as_session_cache_get(cache, a.s, 200);
    assert_ptr_equal(hit, handle);
    assert_string_equal(as_cached_session_record(hit)->subject, "alice");
    assert_ptr_equal(as_cached_session_retain(hit), hit);
    as_cached_session_release(hit);
    as_cached_session_release(hit);
    as_cached_session_release(handle);
    as_cached_session_release(NULL);
    assert_int_equal(cached(cache, &b, NULL, 200), 0);

    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.insertions, 1);
    assert_int_equal(st.size, 1);
    assert_int_equal(st.capacity, 100);
    as_session_cache_free(cache);
}

/* The digest lookup finds what was put under the hex key of that digest, and nothing else. */
static void test_get_by_digest(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(100, 4, 5000);
    char key[AS_SESSION_KEY_LEN + 1], plain[AS_SESSION_KEY_LEN + 1];
    uint8_t digest[AS_SESSION_KEY_BYTES];
    as_session_key_digest("session-1", 9, key, digest);
    as_session_key("session-1", 9, plain);
    assert_string_equal(key, plain); /* the same store key as as_session_key */
    assert_null(as_session_cache_get_digest(cache, digest, 0));
    as_cached_session_t *handle = NULL;
    assert_int_equal(as_session_cache_put(cache, key, record_named("alice"),
                                          as_session_cache_epoch(cache, key), 100, &handle),
                     0);
    as_cached_session_t *hit = as_session_cache_get_digest(cache, digest, 200);
    assert_ptr_equal(hit, handle);
    as_cached_session_release(hit);
    digest[AS_SESSION_KEY_BYTES - 1] ^= 1; /* another key */
    assert_null(as_session_cache_get_digest(cache, digest, 200));
    digest[AS_SESSION_KEY_BYTES - 1] ^= 1;
    assert_null(as_session_cache_get_digest(cache, digest, 5100)); /* past the TTL, like get */
    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st); /* counted like get: one hit, three misses (one of them expired) */
    assert_true(st.hits == 1 && st.misses == 3 && st.expired == 1 && st.size == 0);
    as_cached_session_release(handle);
    as_session_cache_free(cache);
}

/* A record with count groups: "g<i>" padded with 'x' to width characters; group 1 holds a comma. */
static as_session_record_t *record_with_groups(size_t count, size_t width)
{
    as_session_record_t *r = record_named("alice");
    r->groups = calloc(count, sizeof(*r->groups));
    r->group_count = count;
    for (size_t i = 0; i < count; ++i) {
        r->groups[i] = malloc(width + 1);
        memset(r->groups[i], 'x', width);
        r->groups[i][width] = '\0';
        memcpy(r->groups[i], i == 1 ? "g,1" : "g", i == 1 ? 3 : 1);
    }
    return r;
}

/* The groups header made when a record is cached is as_groups_header of it, with its bound of 8 KiB. */
static void test_groups_header_made_once(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(100, 4, 5000);
    const size_t shapes[][2] = {{0, 1}, {3, 4}, {40, 100}, {400, 100}}; /* the last is over the bound */
    for (size_t n = 0; n < sizeof(shapes) / sizeof(shapes[0]); ++n) {
        test_key_t k = key_of((unsigned)n);
        as_session_record_t *r = record_with_groups(shapes[n][0], shapes[n][1]);
        char *expected = malloc(AS_GROUPS_HEADER_MAX);
        size_t expected_len = as_groups_header(r, expected, AS_GROUPS_HEADER_MAX);
        as_cached_session_t *h = NULL;
        assert_int_equal(as_session_cache_put(cache, k.s, r, as_session_cache_epoch(cache, k.s), 0, &h), 0);
        size_t len;
        const char *header = as_cached_session_groups_header(h, &len);
        assert_int_equal(len, expected_len);
        assert_string_equal(header, expected);
        assert_true(len < AS_GROUPS_HEADER_MAX);
        assert_null(strstr(header, "g,1")); /* the group with a comma is left out */
        free(expected);
        as_cached_session_release(h);
    }
    as_session_cache_free(cache);
}

static void test_ttl(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(100, 4, 5000);
    test_key_t a = key_of(1);
    assert_int_equal(put(cache, &a, "alice", 1000), 0);
    assert_true(cached(cache, &a, "alice", 1000));
    assert_true(cached(cache, &a, "alice", 5999)); /* 4999 ms old: fresh */
    assert_false(cached(cache, &a, NULL, 6000));   /* 5000 ms old: expired and dropped */
    assert_false(cached(cache, &a, NULL, 1000));   /* it is gone, not just hidden */
    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.size, 0);

    /* a lookup with a clock before the entry's time does not trust it */
    assert_int_equal(put(cache, &a, "alice", 1000), 0);
    assert_false(cached(cache, &a, NULL, 999));
    /* extreme clock values do not overflow */
    assert_int_equal(put(cache, &a, "alice", INT64_MIN), 0);
    assert_false(cached(cache, &a, NULL, INT64_MAX));
    assert_int_equal(put(cache, &a, "alice", INT64_MAX), 0);
    assert_true(cached(cache, &a, "alice", INT64_MAX));

    /* a handle taken before expiry stays usable after the entry is dropped */
    assert_int_equal(put(cache, &a, "alice", 0), 0);
    as_cached_session_t *h = as_session_cache_get(cache, a.s, 1);
    assert_false(cached(cache, &a, NULL, 10000));
    assert_string_equal(as_cached_session_record(h)->subject, "alice");
    as_cached_session_release(h);
    as_session_cache_free(cache);
}

static void test_invalidate_and_epoch(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(100, 1, 5000);
    test_key_t a = key_of(1), b = key_of(2);
    assert_int_equal(put(cache, &a, "alice", 0), 0);
    as_cached_session_t *held = as_session_cache_get(cache, a.s, 1);
    assert_int_equal(as_session_cache_invalidate(cache, a.s), 1);
    assert_false(cached(cache, &a, NULL, 2));
    assert_int_equal(as_session_cache_invalidate(cache, a.s), 0);
    /* the holder keeps a valid record */
    assert_string_equal(as_cached_session_record(held)->subject, "alice");
    as_cached_session_release(held);

    /* a miss reads the epoch, a logout happens while the store is read: the old record is not cached */
    uint64_t epoch = as_session_cache_epoch(cache, a.s);
    assert_int_equal(as_session_cache_invalidate(cache, a.s), 0);
    as_cached_session_t *out = NULL;
    assert_int_equal(as_session_cache_put(cache, a.s, record_named("stale"), epoch, 3, &out), 1);
    assert_non_null(out); /* the caller may still use what it read for this one request */
    assert_string_equal(as_cached_session_record(out)->subject, "stale");
    as_cached_session_release(out);
    assert_false(cached(cache, &a, NULL, 3));
    /* without out, the refused record is freed (ASan would report a leak) */
    assert_int_equal(as_session_cache_put(cache, a.s, record_named("stale"), epoch, 3, NULL), 1);
    /* with a fresh epoch it is cached; one shard: an invalidation of b also moves a's epoch */
    epoch = as_session_cache_epoch(cache, a.s);
    assert_int_equal(as_session_cache_invalidate(cache, b.s), 0);
    assert_int_equal(as_session_cache_put(cache, a.s, record_named("alice"), epoch, 3, NULL), 1);
    assert_int_equal(put(cache, &a, "alice", 3), 0);
    assert_true(cached(cache, &a, "alice", 4));

    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.invalidations, 1);
    assert_int_equal(st.stale_puts, 3);
    assert_int_equal(st.size, 1);
    as_session_cache_free(cache);
}

static void test_replace_keeps_old_handle_valid(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(10, 1, 5000);
    test_key_t a = key_of(1);
    assert_int_equal(put(cache, &a, "v1", 0), 0);
    as_cached_session_t *old = as_session_cache_get(cache, a.s, 1);
    assert_int_equal(put(cache, &a, "v2", 2), 0);
    assert_true(cached(cache, &a, "v2", 3));
    assert_string_equal(as_cached_session_record(old)->subject, "v1");
    as_cached_session_release(old);
    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.size, 1);
    assert_int_equal(st.replacements, 1);
    assert_int_equal(st.evictions, 0);
    as_session_cache_free(cache);
}

static void test_bad_keys(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(10, 1, 5000);
    test_key_t good = key_of(1);
    char upper[AS_SESSION_KEY_LEN + 1], short_key[AS_SESSION_KEY_LEN], other[AS_SESSION_KEY_LEN + 1];
    memcpy(upper, good.s, sizeof(upper));
    for (char *c = upper; *c; ++c)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    memcpy(short_key, good.s, AS_SESSION_KEY_LEN - 1);
    short_key[AS_SESSION_KEY_LEN - 1] = '\0';
    memcpy(other, good.s, sizeof(other));
    other[10] = 'g';
    const char *bad[] = {upper, short_key, other, "", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        /* the record is freed on refusal: a leak here fails the test under ASan */
        assert_int_equal(as_session_cache_put(cache, bad[i], record_named("x"), 0, 0, NULL), -1);
        assert_null(as_session_cache_get(cache, bad[i], 0));
        assert_int_equal(as_session_cache_invalidate(cache, bad[i]), -1);
    }
    assert_int_equal(as_session_cache_put(cache, good.s, NULL, 0, 0, NULL), -1);
    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.size, 0);
    assert_int_equal(st.insertions, 0);
    as_session_cache_free(cache);
}

static void test_bound_under_100k_inserts(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(10000, 16, 5000);
    as_session_cache_stats_t st;
    for (unsigned i = 0; i < 100000; ++i) {
        test_key_t k = key_of(i);
        assert_int_equal(put(cache, &k, "x", i), 0);
        if (i % 997 == 0) {
            as_session_cache_stats(cache, &st);
            if (st.size > 10000)
                fail_msg("size %zu after %u inserts", st.size, i + 1);
        }
    }
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.size, 10000); /* every shard is full */
    assert_int_equal(st.insertions, 100000);
    assert_int_equal(st.evictions, 90000);
    /* the newest entries are still there, the oldest are gone */
    size_t recent = 0, old = 0;
    for (unsigned i = 0; i < 1000; ++i) {
        test_key_t k = key_of(99999 - i);
        recent += (size_t)cached(cache, &k, NULL, 100000);
        k = key_of(i);
        old += (size_t)cached(cache, &k, NULL, 100000);
    }
    assert_int_equal(recent, 1000);
    assert_int_equal(old, 0);
    as_session_cache_free(cache);
}

static void test_lru_eviction_order(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(3, 1, 5000);
    test_key_t a = key_of(1), b = key_of(2), c = key_of(3), d = key_of(4), e = key_of(5);
    put(cache, &a, "a", 0);
    put(cache, &b, "b", 0);
    put(cache, &c, "c", 0);
    assert_true(cached(cache, &a, "a", 1)); /* order now, most recent first: a c b */
    put(cache, &d, "d", 2);                 /* evicts b: d a c */
    assert_false(cached(cache, &b, NULL, 3));
    assert_true(cached(cache, &c, "c", 3)); /* c d a */
    put(cache, &e, "e", 4);                 /* evicts a: e c d */
    assert_false(cached(cache, &a, NULL, 5));
    assert_true(cached(cache, &d, "d", 5));
    assert_true(cached(cache, &e, "e", 5));
    assert_true(cached(cache, &c, "c", 5)); /* c e d */
    put(cache, &a, "a2", 6);                /* evicts d */
    assert_false(cached(cache, &d, NULL, 7));
    assert_true(cached(cache, &a, "a2", 7));
    /* replacing an entry makes it the most recent without evicting anything */
    put(cache, &c, "c2", 8); /* c a e */
    put(cache, &b, "b2", 9); /* evicts e */
    assert_false(cached(cache, &e, NULL, 10));
    assert_true(cached(cache, &c, "c2", 10));
    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_int_equal(st.evictions, 4);
    assert_int_equal(st.size, 3);
    as_session_cache_free(cache);
}

static void test_handle_outlives_cache(void **state)
{
    (void)state;
    as_session_cache_t *cache = cache_with(10, 2, 5000);
    test_key_t a = key_of(1);
    put(cache, &a, "alice", 0);
    as_cached_session_t *h = as_session_cache_get(cache, a.s, 0);
    as_session_cache_free(cache);
    assert_string_equal(as_cached_session_record(h)->subject, "alice");
    as_cached_session_release(h);
    as_session_cache_free(NULL);
}

/* 4 threads x 100k operations on 2000 keys through a 500-entry cache. Run under ASan here; under TSan by
 * hand (see docs/internals/sessions.md). */
#define STRESS_THREADS 4
#define STRESS_OPS 100000
#define STRESS_KEYS 2000

static test_key_t stress_keys[STRESS_KEYS];
static char stress_subjects[STRESS_KEYS][16];

typedef struct {
    as_session_cache_t *cache;
    unsigned seed;
    uint64_t gets, hits, wrong;
} stress_arg_t;

static void *stress_worker(void *p)
{
    stress_arg_t *arg = p;
    uint64_t x = arg->seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
    for (int i = 0; i < STRESS_OPS; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned k = (unsigned)(x % STRESS_KEYS), op = (unsigned)((x >> 32) % 100);
        int64_t now = i; /* each thread's own clock; TTL 1000 ops */
        if (op < 70) {
            ++arg->gets;
            as_cached_session_t *s = as_session_cache_get(arg->cache, stress_keys[k].s, now);
            if (s == NULL) {
                uint64_t epoch = as_session_cache_epoch(arg->cache, stress_keys[k].s);
                as_session_cache_put(arg->cache, stress_keys[k].s, record_named(stress_subjects[k]), epoch,
                                     now, NULL);
            } else {
                ++arg->hits;
                if (strcmp(as_cached_session_record(s)->subject, stress_subjects[k]) != 0)
                    ++arg->wrong;
                as_cached_session_release(s);
            }
        } else if (op < 95) {
            as_cached_session_t *out = NULL;
            as_session_cache_put(arg->cache, stress_keys[k].s, record_named(stress_subjects[k]),
                                 as_session_cache_epoch(arg->cache, stress_keys[k].s), now, &out);
            if (out != NULL && strcmp(as_cached_session_record(out)->subject, stress_subjects[k]) != 0)
                ++arg->wrong;
            as_cached_session_release(out);
        } else if (op < 99) {
            as_session_cache_invalidate(arg->cache, stress_keys[k].s);
        } else {
            as_session_cache_stats_t st;
            as_session_cache_stats(arg->cache, &st);
            if (st.size > st.capacity)
                ++arg->wrong;
        }
    }
    return NULL;
}

static void test_threads_stress(void **state)
{
    (void)state;
    for (unsigned i = 0; i < STRESS_KEYS; ++i) {
        stress_keys[i] = key_of(i);
        snprintf(stress_subjects[i], sizeof(stress_subjects[i]), "user-%u", i);
    }
    as_session_cache_t *cache = cache_with(500, 16, 1000);
    pthread_t threads[STRESS_THREADS];
    stress_arg_t args[STRESS_THREADS];
    for (int t = 0; t < STRESS_THREADS; ++t) {
        args[t] = (stress_arg_t){.cache = cache, .seed = (unsigned)t + 1};
        assert_int_equal(pthread_create(&threads[t], NULL, stress_worker, &args[t]), 0);
    }
    uint64_t gets = 0, hits = 0;
    for (int t = 0; t < STRESS_THREADS; ++t) {
        pthread_join(threads[t], NULL);
        assert_int_equal(args[t].wrong, 0);
        gets += args[t].gets;
        hits += args[t].hits;
    }
    as_session_cache_stats_t st;
    as_session_cache_stats(cache, &st);
    assert_true(st.size <= 500);
    assert_int_equal(st.hits + st.misses, gets);
    assert_int_equal(st.hits, hits);
    assert_true(hits > 0);
    /* every entry that went in either left by one of the counted ways or is still there */
    assert_int_equal(st.insertions, st.size + st.evictions + st.invalidations + st.expired + st.replacements);
    as_session_cache_free(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_hit_and_miss),
        cmocka_unit_test(test_get_by_digest),
        cmocka_unit_test(test_groups_header_made_once),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_invalidate_and_epoch),
        cmocka_unit_test(test_replace_keeps_old_handle_valid),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_bound_under_100k_inserts),
        cmocka_unit_test(test_lru_eviction_order),
        cmocka_unit_test(test_handle_outlives_cache),
        cmocka_unit_test(test_threads_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
