/*
 * The behaviour every session store backend must show, written once and run by
 * test_store_sqlite.c and test_store_redis.c against real backends. A backend's
 * test file provides a setup that fills a contract_env_t (loop, an open handle,
 * a way to open another handle on the same backend) and a teardown that calls
 * contract_env_free, then lists CONTRACT_TESTS(setup, teardown).
 */
#ifndef TG_TEST_STORE_CONTRACT_H
#define TG_TEST_STORE_CONTRACT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "authservice/store.h"

typedef struct contract_env contract_env_t;
struct contract_env {
    uv_loop_t loop;
    uv_timer_t watchdog;
    int watchdog_fired;
    uv_prepare_t settle; /* ends a loop turn before it sleeps once the wait is over (contract_wait) */
    const int *awaited;  /* the wait in progress: counter and target */
    int target;
    as_store_t *store;
    /* opens one more handle on the same backend and loop with this key prefix (NULL: env->store's) */
    as_store_t *(*open_other)(contract_env_t *env, const char *prefix);
    int async;     /* 1: callbacks always run after the op returned (Redis); 0: before (sqlite) */
    void *backend; /* the backend test's own data */
};

/* What one op's callback reported. */
typedef struct {
    int calls;
    int returned;   /* set once the op returned: tells whether the callback ran before */
    int ran_early;  /* the (last) callback ran before the op returned */
    uint64_t at_ms; /* when the (last) callback ran, uv_hrtime in ms */
    as_store_status_t status;
    char *value; /* NUL-terminated copy, or NULL when the callback got NULL */
    size_t len;
    char **members; /* sorted copies */
    size_t count;
} contract_result_t;

static inline void contract_result_reset(contract_result_t *r)
{
    free(r->value);
    for (size_t i = 0; i < r->count; ++i)
        free(r->members[i]);
    free(r->members);
    memset(r, 0, sizeof(*r));
}

static inline void contract_on_value(void *data, as_store_status_t status, const char *value, size_t len)
{
    contract_result_t *r = data;
    r->calls++;
    r->ran_early = !r->returned;
    r->at_ms = uv_hrtime() / 1000000;
    r->status = status;
    free(r->value);
    r->value = NULL;
    r->len = len;
    if (value != NULL) {
        r->value = malloc(len + 1);
        assert_non_null(r->value);
        memcpy(r->value, value, len);
        r->value[len] = '\0';
    }
}

static inline int contract_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline void contract_on_members(void *data, as_store_status_t status, const char *const *members,
                                       const size_t *lens, size_t count)
{
    contract_result_t *r = data;
    r->calls++;
    r->ran_early = !r->returned;
    r->at_ms = uv_hrtime() / 1000000;
    r->status = status;
    r->count = 0;
    if (status != AS_STORE_OK) {
        assert_null(members);
        assert_int_equal(count, 0);
        return;
    }
    r->members = calloc(count > 0 ? count : 1, sizeof(char *));
    assert_non_null(r->members);
    for (size_t i = 0; i < count; ++i) {
        assert_int_equal(strlen(members[i]), lens[i]);
        r->members[i] = strdup(members[i]);
    }
    r->count = count;
    qsort(r->members, count, sizeof(char *), contract_cmp_str);
}

static inline void contract_watchdog_fired(uv_timer_t *timer)
{
    *(int *)timer->data = 1;
}

/* Runs before each turn's poll: a callback (or the watchdog) may have run in the turn's first timer pass,
 * when its timer fell due while the test was not running the loop; UV_RUN_ONCE would then sleep in poll until
 * the next event, seconds later (the next timer) or for ever (an idle connection). Stopping makes it poll
 * with a zero timeout and return. */
static inline void contract_settle(uv_prepare_t *prepare)
{
    contract_env_t *env = prepare->data;
    if (*env->awaited >= env->target || env->watchdog_fired)
        uv_stop(prepare->loop);
}

/* Sets up env's loop and the handles contract_wait uses; contract_env_free releases them. */
static inline void contract_env_init(contract_env_t *env)
{
    assert_int_equal(uv_loop_init(&env->loop), 0);
    uv_timer_init(&env->loop, &env->watchdog);
    uv_prepare_init(&env->loop, &env->settle);
    env->settle.data = env;
}

/* Runs the loop until *counter reaches target or timeout_ms pass. Returns 0 when reached, as soon as it is
 * (also when the callback ran at the start of a loop turn). */
static inline int contract_wait(contract_env_t *env, const int *counter, int target, uint64_t timeout_ms)
{
    env->watchdog_fired = 0;
    env->watchdog.data = &env->watchdog_fired;
    env->awaited = counter;
    env->target = target;
    uv_update_time(&env->loop); /* the test may have blocked since the loop last ran: count from now */
    uv_timer_start(&env->watchdog, contract_watchdog_fired, timeout_ms, 0);
    uv_prepare_start(&env->settle, contract_settle);
    while (*counter < target && !env->watchdog_fired)
        uv_run(&env->loop, UV_RUN_ONCE);
    uv_prepare_stop(&env->settle);
    uv_timer_stop(&env->watchdog);
    return *counter >= target ? 0 : -1;
}

/* Lets the loop run for ms (the store keeps serving its connections meanwhile). */
static inline void contract_sleep(contract_env_t *env, uint64_t ms)
{
    static const int never = 0;
    contract_wait(env, &never, 1, ms);
}

/* After an op returned 0: waits for its one callback, checks it came exactly once and at the documented time.
 */
static inline as_store_status_t contract_finish(contract_env_t *env, contract_result_t *r, int rc)
{
    assert_int_equal(rc, 0);
    r->returned = 1;
    if (contract_wait(env, &r->calls, 1, 3000) != 0)
        fail_msg("callback not called within 3 s");
    uv_run(&env->loop, UV_RUN_NOWAIT);
    assert_int_equal(r->calls, 1);
    if (env->async)
        assert_false(r->ran_early);
    else
        assert_true(r->ran_early);
    if (r->status != AS_STORE_OK)
        assert_null(r->value);
    return r->status;
}

static inline as_store_status_t c_get(contract_env_t *env, as_store_t *s, const char *key,
                                      contract_result_t *r)
{
    contract_result_reset(r);
    return contract_finish(env, r, as_store_get(s, key, contract_on_value, r));
}

static inline as_store_status_t c_set(contract_env_t *env, as_store_t *s, const char *key, const char *value,
                                      size_t len, uint64_t ttl_ms)
{
    contract_result_t r = {0};
    as_store_status_t status =
        contract_finish(env, &r, as_store_set(s, key, value, len, ttl_ms, contract_on_value, &r));
    assert_null(r.value);
    contract_result_reset(&r);
    return status;
}

static inline as_store_status_t c_add(contract_env_t *env, as_store_t *s, const char *key, const char *value,
                                      uint64_t ttl_ms)
{
    contract_result_t r = {0};
    as_store_status_t status =
        contract_finish(env, &r, as_store_add(s, key, value, strlen(value), ttl_ms, contract_on_value, &r));
    assert_null(r.value);
    contract_result_reset(&r);
    return status;
}

static inline as_store_status_t c_take(contract_env_t *env, as_store_t *s, const char *key,
                                       contract_result_t *r)
{
    contract_result_reset(r);
    return contract_finish(env, r, as_store_take(s, key, contract_on_value, r));
}

static inline as_store_status_t c_del(contract_env_t *env, as_store_t *s, const char *key)
{
    contract_result_t r = {0};
    as_store_status_t status = contract_finish(env, &r, as_store_del(s, key, contract_on_value, &r));
    contract_result_reset(&r);
    return status;
}

static inline as_store_status_t c_sadd(contract_env_t *env, as_store_t *s, const char *set,
                                       const char *member, uint64_t ttl_ms)
{
    contract_result_t r = {0};
    as_store_status_t status =
        contract_finish(env, &r, as_store_set_add(s, set, member, ttl_ms, contract_on_value, &r));
    contract_result_reset(&r);
    return status;
}

static inline as_store_status_t c_srem(contract_env_t *env, as_store_t *s, const char *set,
                                       const char *member)
{
    contract_result_t r = {0};
    as_store_status_t status =
        contract_finish(env, &r, as_store_set_remove(s, set, member, contract_on_value, &r));
    contract_result_reset(&r);
    return status;
}

static inline as_store_status_t c_members(contract_env_t *env, as_store_t *s, const char *set,
                                          contract_result_t *r)
{
    contract_result_reset(r);
    return contract_finish(env, r, as_store_set_members(s, set, contract_on_members, r));
}

static inline void contract_expect_value(const contract_result_t *r, const char *value, size_t len)
{
    assert_int_equal(r->status, AS_STORE_OK);
    assert_non_null(r->value);
    assert_int_equal(r->len, len);
    assert_memory_equal(r->value, value, len);
}

/* Checks the sorted member list against want (a NULL-terminated sorted list). */
static inline void contract_expect_members(const contract_result_t *r, const char *const *want)
{
    size_t n = 0;
    while (want[n] != NULL)
        ++n;
    assert_int_equal(r->status, AS_STORE_OK);
    if (r->count != n)
        fail_msg("expected %zu members, got %zu", n, r->count);
    for (size_t i = 0; i < n; ++i)
        assert_string_equal(r->members[i], want[i]);
}

/* Frees what a backend setup made: closes the handle(s), runs the loop dry, and proves nothing was left open.
 */
static inline void contract_env_free(contract_env_t *env)
{
    if (env->store != NULL)
        as_store_close(env->store);
    env->store = NULL;
    uv_close((uv_handle_t *)&env->watchdog, NULL);
    uv_close((uv_handle_t *)&env->settle, NULL);
    uv_run(&env->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&env->loop), 0);
}

/* ---- the contract
 * ------------------------------------------------------------------------------------------ */

static contract_env_t *contract_env(void **state)
{
    return *state;
}

static void contract_set_get_overwrite(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    assert_int_equal(c_get(env, env->store, "k1", &r), AS_STORE_NOT_FOUND);
    assert_int_equal(c_set(env, env->store, "k1", "one", 3, 60000), AS_STORE_OK);
    c_get(env, env->store, "k1", &r);
    contract_expect_value(&r, "one", 3);
    assert_int_equal(c_set(env, env->store, "k1", "second", 6, 60000), AS_STORE_OK);
    c_get(env, env->store, "k1", &r);
    contract_expect_value(&r, "second", 6);
    /* another key is untouched */
    assert_int_equal(c_get(env, env->store, "k2", &r), AS_STORE_NOT_FOUND);
    contract_result_reset(&r);
}

static void contract_missing_keys(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    assert_int_equal(c_get(env, env->store, "nothing", &r), AS_STORE_NOT_FOUND);
    assert_null(r.value);
    assert_int_equal(c_take(env, env->store, "nothing", &r), AS_STORE_NOT_FOUND);
    assert_null(r.value);
    assert_int_equal(c_del(env, env->store, "nothing"), AS_STORE_NOT_FOUND);
    assert_int_equal(c_srem(env, env->store, "noset", "m"), AS_STORE_NOT_FOUND);
    assert_int_equal(c_members(env, env->store, "noset", &r), AS_STORE_OK);
    assert_int_equal(r.count, 0);
    contract_result_reset(&r);
}

static void contract_binary_and_empty_values(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    char bytes[256];
    for (int i = 0; i < 256; ++i)
        bytes[i] = (char)(255 - i); /* every byte value, NUL and CR/LF included */
    assert_int_equal(c_set(env, env->store, "bin", bytes, sizeof(bytes), 60000), AS_STORE_OK);
    c_get(env, env->store, "bin", &r);
    contract_expect_value(&r, bytes, sizeof(bytes));
    assert_int_equal(c_set(env, env->store, "empty", "", 0, 60000), AS_STORE_OK);
    c_get(env, env->store, "empty", &r);
    contract_expect_value(&r, "", 0);
    assert_int_equal(c_set(env, env->store, "nullempty", NULL, 0, 60000), AS_STORE_OK);
    c_take(env, env->store, "nullempty", &r);
    contract_expect_value(&r, "", 0);
    /* every printable character is a valid key character */
    char key[95];
    for (int i = 0; i < 94; ++i)
        key[i] = (char)(0x21 + i);
    key[94] = '\0';
    assert_int_equal(c_set(env, env->store, key, "p", 1, 60000), AS_STORE_OK);
    c_get(env, env->store, key, &r);
    contract_expect_value(&r, "p", 1);
    contract_result_reset(&r);
}

static void contract_largest_value_and_key(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    char *big = malloc(AS_STORE_MAX_VALUE + 1);
    char *key = malloc(AS_STORE_MAX_KEY + 2);
    assert_non_null(big);
    assert_non_null(key);
    for (size_t i = 0; i <= AS_STORE_MAX_VALUE; ++i)
        big[i] = (char)(i * 31 + 7);
    assert_int_equal(c_set(env, env->store, "big", big, AS_STORE_MAX_VALUE, 60000), AS_STORE_OK);
    c_get(env, env->store, "big", &r);
    contract_expect_value(&r, big, AS_STORE_MAX_VALUE);
    c_take(env, env->store, "big", &r);
    contract_expect_value(&r, big, AS_STORE_MAX_VALUE);
    /* one byte more is refused up front */
    assert_int_equal(
        as_store_set(env->store, "big", big, AS_STORE_MAX_VALUE + 1, 60000, contract_on_value, &r), -1);
    assert_int_equal(
        as_store_add(env->store, "big", big, AS_STORE_MAX_VALUE + 1, 60000, contract_on_value, &r), -1);
    /* the longest key works, one more byte does not */
    memset(key, 'k', AS_STORE_MAX_KEY);
    key[AS_STORE_MAX_KEY] = '\0';
    assert_int_equal(c_set(env, env->store, key, "v", 1, 60000), AS_STORE_OK);
    c_get(env, env->store, key, &r);
    contract_expect_value(&r, "v", 1);
    key[AS_STORE_MAX_KEY] = 'k';
    key[AS_STORE_MAX_KEY + 1] = '\0';
    contract_result_reset(&r);
    assert_int_equal(as_store_get(env->store, key, contract_on_value, &r), -1);
    assert_int_equal(r.calls, 0);
    free(key);
    free(big);
    contract_result_reset(&r);
}

static void contract_ttl_expiry(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    assert_int_equal(c_set(env, env->store, "short", "s", 1, 80), AS_STORE_OK);
    assert_int_equal(c_set(env, env->store, "short2", "s", 1, 80), AS_STORE_OK);
    assert_int_equal(c_set(env, env->store, "short3", "s", 1, 80), AS_STORE_OK);
    assert_int_equal(c_add(env, env->store, "lock", "l", 80), AS_STORE_OK);
    assert_int_equal(c_set(env, env->store, "long", "l", 1, 60000), AS_STORE_OK);
    c_get(env, env->store, "short", &r);
    contract_expect_value(&r, "s", 1);
    contract_sleep(env, 200);
    assert_int_equal(c_get(env, env->store, "short", &r), AS_STORE_NOT_FOUND);
    assert_int_equal(c_take(env, env->store, "short2", &r), AS_STORE_NOT_FOUND);
    assert_int_equal(c_del(env, env->store, "short3"), AS_STORE_NOT_FOUND);
    /* an expired lock can be taken again */
    assert_int_equal(c_add(env, env->store, "lock", "l2", 60000), AS_STORE_OK);
    c_get(env, env->store, "lock", &r);
    contract_expect_value(&r, "l2", 2);
    c_get(env, env->store, "long", &r);
    contract_expect_value(&r, "l", 1);
    /* set replaces the TTL too */
    assert_int_equal(c_set(env, env->store, "long", "l", 1, 80), AS_STORE_OK);
    contract_sleep(env, 200);
    assert_int_equal(c_get(env, env->store, "long", &r), AS_STORE_NOT_FOUND);
    contract_result_reset(&r);
}

static void contract_add_exists(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    assert_int_equal(c_add(env, env->store, "once", "first", 60000), AS_STORE_OK);
    assert_int_equal(c_add(env, env->store, "once", "second", 60000), AS_STORE_EXISTS);
    c_get(env, env->store, "once", &r);
    contract_expect_value(&r, "first", 5);
    assert_int_equal(c_del(env, env->store, "once"), AS_STORE_OK);
    assert_int_equal(c_add(env, env->store, "once", "third", 60000), AS_STORE_OK);
    c_get(env, env->store, "once", &r);
    contract_expect_value(&r, "third", 5);
    contract_result_reset(&r);
}

static void contract_take_once(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0}, a = {0}, b = {0};
    assert_int_equal(c_set(env, env->store, "state", "login-1", 7, 60000), AS_STORE_OK);
    c_take(env, env->store, "state", &r);
    contract_expect_value(&r, "login-1", 7);
    assert_int_equal(c_take(env, env->store, "state", &r), AS_STORE_NOT_FOUND);
    assert_int_equal(c_get(env, env->store, "state", &r), AS_STORE_NOT_FOUND);
    /* two takes in flight at once: exactly one gets the value */
    assert_int_equal(c_set(env, env->store, "state", "login-2", 7, 60000), AS_STORE_OK);
    assert_int_equal(as_store_take(env->store, "state", contract_on_value, &a), 0);
    assert_int_equal(as_store_take(env->store, "state", contract_on_value, &b), 0);
    a.returned = b.returned = 1;
    assert_int_equal(contract_wait(env, &a.calls, 1, 3000), 0);
    assert_int_equal(contract_wait(env, &b.calls, 1, 3000), 0);
    assert_int_equal(a.calls + b.calls, 2);
    assert_true((a.status == AS_STORE_OK) != (b.status == AS_STORE_OK));
    contract_expect_value(a.status == AS_STORE_OK ? &a : &b, "login-2", 7);
    assert_int_equal((a.status == AS_STORE_OK ? b : a).status, AS_STORE_NOT_FOUND);
    contract_result_reset(&a);
    contract_result_reset(&b);
    contract_result_reset(&r);
}

static void contract_del_value_and_set(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    assert_int_equal(c_set(env, env->store, "v", "x", 1, 60000), AS_STORE_OK);
    assert_int_equal(c_del(env, env->store, "v"), AS_STORE_OK);
    assert_int_equal(c_get(env, env->store, "v", &r), AS_STORE_NOT_FOUND);
    assert_int_equal(c_del(env, env->store, "v"), AS_STORE_NOT_FOUND);
    assert_int_equal(c_sadd(env, env->store, "s", "a", 60000), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "s", "b", 60000), AS_STORE_OK);
    assert_int_equal(c_del(env, env->store, "s"), AS_STORE_OK);
    assert_int_equal(c_members(env, env->store, "s", &r), AS_STORE_OK);
    assert_int_equal(r.count, 0);
    assert_int_equal(c_del(env, env->store, "s"), AS_STORE_NOT_FOUND);
    contract_result_reset(&r);
}

static void contract_sets(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    static const char *const abc[] = {"a", "b", "sess:c d", NULL};
    static const char *const ac[] = {"a", "sess:c d", NULL};
    assert_int_equal(c_sadd(env, env->store, "subject:alice", "b", 60000), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "subject:alice", "a", 60000), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "subject:alice", "sess:c d", 60000), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "subject:alice", "a", 60000), AS_STORE_OK); /* idempotent */
    c_members(env, env->store, "subject:alice", &r);
    contract_expect_members(&r, abc);
    assert_int_equal(c_srem(env, env->store, "subject:alice", "b"), AS_STORE_OK);
    assert_int_equal(c_srem(env, env->store, "subject:alice", "b"), AS_STORE_NOT_FOUND);
    c_members(env, env->store, "subject:alice", &r);
    contract_expect_members(&r, ac);
    /* another set is separate */
    assert_int_equal(c_members(env, env->store, "subject:bob", &r), AS_STORE_OK);
    assert_int_equal(r.count, 0);
    contract_result_reset(&r);
}

static void contract_set_ttl(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    static const char *const both[] = {"long", "short", NULL};
    static const char *const fresh[] = {"new", NULL};
    /* the set lives as long as its latest expiry: a short add never cuts a longer one */
    assert_int_equal(c_sadd(env, env->store, "keep", "long", 60000), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "keep", "short", 80), AS_STORE_OK);
    /* a short set expires, whole */
    assert_int_equal(c_sadd(env, env->store, "gone", "old1", 80), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "gone", "old2", 80), AS_STORE_OK);
    /* a later add with a longer TTL extends the whole set */
    assert_int_equal(c_sadd(env, env->store, "ext", "first", 80), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "ext", "second", 60000), AS_STORE_OK);
    contract_sleep(env, 200);
    c_members(env, env->store, "keep", &r);
    contract_expect_members(&r, both);
    assert_int_equal(c_members(env, env->store, "gone", &r), AS_STORE_OK);
    assert_int_equal(r.count, 0);
    assert_int_equal(c_srem(env, env->store, "gone", "old1"), AS_STORE_NOT_FOUND);
    c_members(env, env->store, "ext", &r);
    assert_int_equal(r.count, 2);
    /* an expired set does not come back with its old members */
    assert_int_equal(c_sadd(env, env->store, "gone", "new", 60000), AS_STORE_OK);
    c_members(env, env->store, "gone", &r);
    contract_expect_members(&r, fresh);
    contract_result_reset(&r);
}

typedef struct {
    const char *key;
    const char *why;
} contract_bad_key_t;

static void contract_bad_input_changes_nothing(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    static const contract_bad_key_t bad_keys[] = {
        {"", "empty"},      {"has space", "space"},   {"tab\tkey", "tab"}, {"nl\nkey", "newline"},
        {"del\x7f", "DEL"}, {"caf\xc3\xa9", "UTF-8"}, {"\x01", "control"}, {NULL, "NULL"},
    };
    assert_int_equal(c_set(env, env->store, "good", "v", 1, 60000), AS_STORE_OK);
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); ++i) {
        const char *k = bad_keys[i].key;
        int rcs[] = {
            as_store_get(env->store, k, contract_on_value, &r),
            as_store_set(env->store, k, "v", 1, 1000, contract_on_value, &r),
            as_store_add(env->store, k, "v", 1, 1000, contract_on_value, &r),
            as_store_take(env->store, k, contract_on_value, &r),
            as_store_del(env->store, k, contract_on_value, &r),
            as_store_set_add(env->store, k, "m", 1000, contract_on_value, &r),
            as_store_set_remove(env->store, k, "m", contract_on_value, &r),
            as_store_set_members(env->store, k, contract_on_members, &r),
        };
        for (size_t j = 0; j < sizeof(rcs) / sizeof(rcs[0]); ++j)
            if (rcs[j] != -1)
                fail_msg("key case %s, op %zu: accepted", bad_keys[i].why, j);
    }
    /* bad TTLs, values, members, callbacks */
    assert_int_equal(as_store_set(env->store, "good", "x", 1, 0, contract_on_value, &r), -1);
    assert_int_equal(as_store_add(env->store, "good", "x", 1, 0, contract_on_value, &r), -1);
    assert_int_equal(as_store_set(env->store, "good", "x", 1, AS_STORE_MAX_TTL_MS + 1, contract_on_value, &r),
                     -1);
    assert_int_equal(as_store_set(env->store, "good", NULL, 1, 1000, contract_on_value, &r), -1);
    assert_int_equal(as_store_set(env->store, "good", "x", 1, 1000, NULL, NULL), -1);
    assert_int_equal(as_store_get(env->store, "good", NULL, NULL), -1);
    assert_int_equal(as_store_set_members(env->store, "good", NULL, NULL), -1);
    assert_int_equal(as_store_set_add(env->store, "s", "", 1000, contract_on_value, &r), -1);
    assert_int_equal(as_store_set_add(env->store, "s", NULL, 1000, contract_on_value, &r), -1);
    assert_int_equal(as_store_set_add(env->store, "s", "m", 0, contract_on_value, &r), -1);
    assert_int_equal(as_store_set_remove(env->store, "s", "", contract_on_value, &r), -1);
    assert_int_equal(as_store_get(NULL, "good", contract_on_value, &r), -1);
    /* no callback ran and nothing changed */
    contract_sleep(env, 20);
    assert_int_equal(r.calls, 0);
    c_get(env, env->store, "good", &r);
    contract_expect_value(&r, "v", 1);
    assert_int_equal(c_members(env, env->store, "s", &r), AS_STORE_OK);
    assert_int_equal(r.count, 0);
    contract_result_reset(&r);
}

static void contract_prefix_isolation(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t r = {0};
    as_store_t *other = env->open_other(env, "other-deployment:");
    as_store_t *same = env->open_other(env, NULL);
    assert_non_null(other);
    assert_non_null(same);
    assert_int_equal(c_set(env, env->store, "shared", "mine", 4, 60000), AS_STORE_OK);
    assert_int_equal(c_get(env, other, "shared", &r), AS_STORE_NOT_FOUND);
    assert_int_equal(c_set(env, other, "shared", "theirs", 6, 60000), AS_STORE_OK);
    c_get(env, env->store, "shared", &r);
    contract_expect_value(&r, "mine", 4);
    /* a second handle with the same prefix (another worker) sees the same data */
    c_get(env, same, "shared", &r);
    contract_expect_value(&r, "mine", 4);
    assert_int_equal(c_add(env, same, "shared", "x", 60000), AS_STORE_EXISTS);
    as_store_close(other);
    as_store_close(same);
    contract_result_reset(&r);
}

#define CONTRACT_MANY 1000

static void contract_many_in_flight(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t *res = calloc(CONTRACT_MANY, sizeof(*res));
    int done = 0;
    char key[32], value[32];
    assert_non_null(res);
    uint64_t start = uv_hrtime();
    for (int i = 0; i < CONTRACT_MANY; ++i) {
        snprintf(key, sizeof(key), "many:%d", i);
        snprintf(value, sizeof(value), "value-%d", i * 7);
        assert_int_equal(
            as_store_set(env->store, key, value, strlen(value), 60000, contract_on_value, &res[i]), 0);
    }
    for (int i = 0; i < CONTRACT_MANY; ++i)
        res[i].returned = 1;
    for (int i = 0; i < CONTRACT_MANY; ++i) {
        assert_int_equal(contract_wait(env, &res[i].calls, 1, 5000), 0);
        assert_int_equal(res[i].status, AS_STORE_OK);
        contract_result_reset(&res[i]);
    }
    uint64_t sets_done = uv_hrtime();
    for (int i = 0; i < CONTRACT_MANY; ++i) {
        snprintf(key, sizeof(key), "many:%d", i);
        assert_int_equal(as_store_get(env->store, key, contract_on_value, &res[i]), 0);
    }
    for (int i = 0; i < CONTRACT_MANY; ++i) {
        assert_int_equal(contract_wait(env, &res[i].calls, 1, 5000), 0);
        snprintf(value, sizeof(value), "value-%d", i * 7);
        contract_expect_value(&res[i], value, strlen(value));
        done += res[i].calls;
    }
    print_message("%s: %d sets, then %d gets, all in flight at once: %.1f us per set, %.1f us per get\n",
                  as_store_backend(env->store), CONTRACT_MANY, CONTRACT_MANY,
                  (double)(sets_done - start) / 1000.0 / CONTRACT_MANY,
                  (double)(uv_hrtime() - sets_done) / 1000.0 / CONTRACT_MANY);
    uv_run(&env->loop, UV_RUN_NOWAIT);
    for (int i = 0; i < CONTRACT_MANY; ++i) {
        assert_int_equal(res[i].calls, 1);
        contract_result_reset(&res[i]);
    }
    assert_int_equal(done, CONTRACT_MANY);
    free(res);
}

/* Closing a handle with ops in flight: every callback has run, exactly once, by the time close returns. */
static void contract_close_with_ops_in_flight(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_result_t res[40] = {{0}};
    as_store_t *s = env->open_other(env, NULL);
    assert_non_null(s);
    for (int i = 0; i < 40; ++i) {
        int rc = i % 2 ? as_store_get(s, "inflight", contract_on_value, &res[i])
                       : as_store_set(s, "inflight", "v", 1, 60000, contract_on_value, &res[i]);
        assert_int_equal(rc, 0);
    }
    as_store_close(s);
    for (int i = 0; i < 40; ++i) {
        assert_int_equal(res[i].calls, 1);
        contract_result_reset(&res[i]);
    }
    contract_sleep(env, 20);
}

typedef struct {
    contract_env_t *env;
    as_store_t *store;
    contract_result_t outer, inner;
} contract_reentry_t;

static void contract_on_close_in_callback(void *data, as_store_status_t status, const char *value, size_t len)
{
    contract_reentry_t *t = data;
    contract_on_value(&t->outer, status, value, len);
    as_store_close(t->store);
    /* the value stays readable for the rest of the call */
    if (value != NULL)
        assert_memory_equal(value, "closing", len);
}

static void contract_on_nested_op(void *data, as_store_status_t status, const char *value, size_t len)
{
    contract_reentry_t *t = data;
    char before[16] = "";
    if (value != NULL && len < sizeof(before))
        memcpy(before, value, len);
    /* an op started from inside a callback must not disturb the value being delivered */
    assert_int_equal(as_store_get(t->store, "reentry-b", contract_on_value, &t->inner), 0);
    t->inner.returned = 1;
    contract_on_value(&t->outer, status, value, len);
    if (value != NULL)
        assert_memory_equal(value, before, len);
}

static void contract_reentrant_callbacks(void **state)
{
    contract_env_t *env = contract_env(state);
    contract_reentry_t t = {.env = env};
    assert_int_equal(c_set(env, env->store, "reentry-a", "aaaa", 4, 60000), AS_STORE_OK);
    assert_int_equal(c_set(env, env->store, "reentry-b", "bbbbbbbb", 8, 60000), AS_STORE_OK);
    t.store = env->store;
    t.outer.returned = 1;
    assert_int_equal(as_store_get(env->store, "reentry-a", contract_on_nested_op, &t), 0);
    assert_int_equal(contract_wait(env, &t.outer.calls, 1, 3000), 0);
    assert_int_equal(contract_wait(env, &t.inner.calls, 1, 3000), 0);
    contract_expect_value(&t.outer, "aaaa", 4);
    contract_expect_value(&t.inner, "bbbbbbbb", 8);
    contract_result_reset(&t.outer);
    contract_result_reset(&t.inner);

    /* closing the handle from its own callback, with more ops behind it */
    as_store_t *s = env->open_other(env, NULL);
    contract_result_t after = {0};
    assert_non_null(s);
    assert_int_equal(c_set(env, s, "closing", "closing", 7, 60000), AS_STORE_OK);
    t.store = s;
    assert_int_equal(as_store_get(s, "closing", contract_on_close_in_callback, &t), 0);
    if (env->async) {
        assert_int_equal(as_store_get(s, "closing", contract_on_value, &after), 0);
        assert_int_equal(contract_wait(env, &t.outer.calls, 1, 3000), 0);
        assert_int_equal(after.calls, 1); /* ran by the time close returned */
    }
    contract_sleep(env, 20);
    assert_int_equal(t.outer.calls, 1);
    contract_expect_value(&t.outer, "closing", 7);
    contract_result_reset(&t.outer);
    contract_result_reset(&after);
}

static void contract_status_text(void **state)
{
    (void)state;
    assert_string_equal(as_store_status_text(AS_STORE_OK), "ok");
    assert_string_equal(as_store_status_text(AS_STORE_NOT_FOUND), "not_found");
    assert_string_equal(as_store_status_text(AS_STORE_EXISTS), "exists");
    assert_string_equal(as_store_status_text(AS_STORE_UNAVAILABLE), "unavailable");
    assert_string_equal(as_store_status_text(AS_STORE_TIMEOUT), "timeout");
    assert_string_equal(as_store_status_text(AS_STORE_ERROR), "error");
    assert_string_equal(as_store_status_text((as_store_status_t)99), "unknown");
}

#define CONTRACT_TESTS(setup, teardown)                                                                      \
    cmocka_unit_test_setup_teardown(contract_set_get_overwrite, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(contract_missing_keys, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(contract_binary_and_empty_values, setup, teardown),                  \
        cmocka_unit_test_setup_teardown(contract_largest_value_and_key, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(contract_ttl_expiry, setup, teardown),                               \
        cmocka_unit_test_setup_teardown(contract_add_exists, setup, teardown),                               \
        cmocka_unit_test_setup_teardown(contract_take_once, setup, teardown),                                \
        cmocka_unit_test_setup_teardown(contract_del_value_and_set, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(contract_sets, setup, teardown),                                     \
        cmocka_unit_test_setup_teardown(contract_set_ttl, setup, teardown),                                  \
        cmocka_unit_test_setup_teardown(contract_bad_input_changes_nothing, setup, teardown),                \
        cmocka_unit_test_setup_teardown(contract_prefix_isolation, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(contract_many_in_flight, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(contract_close_with_ops_in_flight, setup, teardown),                 \
        cmocka_unit_test_setup_teardown(contract_reentrant_callbacks, setup, teardown),                      \
        cmocka_unit_test(contract_status_text)

#endif
