/* The ended-session feed over the sqlite backend: two handles on one file stand for two replicas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "authservice/session_ended.h"
#include "authservice/session_id.h"

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define T0 ((int64_t)1700000000000 / AS_SESSION_ENDED_BUCKET_MS * AS_SESSION_ENDED_BUCKET_MS + 1000)

typedef struct {
    uv_loop_t loop;
    char dir[64], path[128], url[160];
    as_store_t *a, *b;
    as_session_cache_t *cache; /* b's */
    char ended[8][AS_SESSION_KEY_LEN + 1];
    size_t ended_count;
} env_t;

static void on_ended(void *data, const char *key)
{
    env_t *env = data;
    if (env->ended_count < 8)
        snprintf(env->ended[env->ended_count++], AS_SESSION_KEY_LEN + 1, "%s", key);
}

static int setup(void **state)
{
    env_t *env = calloc(1, sizeof(*env));
    assert_non_null(env);
    assert_int_equal(uv_loop_init(&env->loop), 0);
    snprintf(env->dir, sizeof(env->dir), "/tmp/tg-ended-XXXXXX");
    assert_non_null(mkdtemp(env->dir));
    snprintf(env->path, sizeof(env->path), "%s/s.db", env->dir);
    snprintf(env->url, sizeof(env->url), "sqlite://%s", env->path);
    char err[256];
    assert_int_equal(as_store_open(env->url, NULL, &env->loop, &env->a, err, sizeof(err)), 0);
    assert_int_equal(as_store_open(env->url, NULL, &env->loop, &env->b, err, sizeof(err)), 0);
    as_session_cache_options_t opts;
    as_session_cache_options_init(&opts);
    opts.ttl_ms = 3600000;
    assert_non_null(env->cache = as_session_cache_new(&opts, err, sizeof(err)));
    *state = env;
    return 0;
}

static int teardown(void **state)
{
    env_t *env = *state;
    as_store_close(env->a);
    as_store_close(env->b);
    uv_run(&env->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&env->loop), 0);
    as_session_cache_free(env->cache);
    char path[192];
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; ++i) {
        snprintf(path, sizeof(path), "%s%s", env->path, suffixes[i]);
        unlink(path);
    }
    rmdir(env->dir);
    free(env);
    return 0;
}

static void cache(env_t *env, const char *key)
{
    as_session_record_t *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_int_equal(
        as_session_cache_put(env->cache, key, r, as_session_cache_epoch(env->cache, key), 0, NULL), 0);
}

static int cached(env_t *env, const char *key)
{
    as_cached_session_t *s = as_session_cache_get(env->cache, key, 1);
    as_cached_session_release(s);
    return s != NULL;
}

/* Polls b at wall-clock now (sqlite answers inside the call) and returns how many keys were reported. */
static size_t poll_at(env_t *env, int64_t now)
{
    env->ended_count = 0;
    assert_int_equal(as_session_ended_poll(env->b, env->cache, now, 1, on_ended, env), 0);
    uv_run(&env->loop, UV_RUN_NOWAIT);
    return env->ended_count;
}

static void test_a_logout_reaches_the_other_replicas_cache(void **state)
{
    env_t *env = *state;
    cache(env, K1);
    cache(env, K2);
    assert_int_equal(poll_at(env, T0), 0);
    assert_true(cached(env, K1));

    assert_int_equal(as_session_ended_publish(env->a, K1, T0), 0);
    uv_run(&env->loop, UV_RUN_NOWAIT);
    assert_int_equal(poll_at(env, T0 + 100), 1);
    assert_string_equal(env->ended[0], K1);
    assert_false(cached(env, K1));
    assert_true(cached(env, K2)); /* only what was ended */

    /* still visible in the next bucket (a late poll), gone two buckets later */
    assert_int_equal(poll_at(env, T0 + AS_SESSION_ENDED_BUCKET_MS), 1);
    assert_int_equal(poll_at(env, T0 + 2 * AS_SESSION_ENDED_BUCKET_MS), 0);
}

static void test_a_key_cached_after_the_poll_is_dropped_by_the_next(void **state)
{
    env_t *env = *state;
    assert_int_equal(as_session_ended_publish(env->a, K2, T0), 0);
    assert_int_equal(poll_at(env, T0 + 10), 1);
    cache(env, K2); /* a lookup that read the store before the logout, cached after the poll */
    assert_true(cached(env, K2));
    assert_int_equal(poll_at(env, T0 + 20), 1);
    assert_false(cached(env, K2));
}

static void test_bucket_names(void **state)
{
    (void)state;
    char a[AS_SESSION_ENDED_NAME_SIZE], b[AS_SESSION_ENDED_NAME_SIZE], c[AS_SESSION_ENDED_NAME_SIZE];
    as_session_ended_bucket(T0, a);
    as_session_ended_bucket(T0 + AS_SESSION_ENDED_BUCKET_MS - 1001, b);
    as_session_ended_bucket(T0 + AS_SESSION_ENDED_BUCKET_MS, c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_memory_equal(a, "ended:", 6);
    as_session_ended_bucket(-5, a); /* a clock before 1970 does not wrap */
    assert_string_equal(a, "ended:0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_logout_reaches_the_other_replicas_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_key_cached_after_the_poll_is_dropped_by_the_next, setup,
                                        teardown),
        cmocka_unit_test(test_bucket_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
