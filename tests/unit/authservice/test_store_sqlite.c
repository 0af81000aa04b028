/* The sqlite store backend: the shared contract on a temp file, plus file modes, schema, locking and purge.
 */
#include "store_contract.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../../authservice/store_int.h"

typedef struct {
    char dir[64];
    char path[128];
    char url[160];
} sq_fixture_t;

static void fixture_paths(sq_fixture_t *fx)
{
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/tg-store-sqlite-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/sessions.db", fx->dir);
    snprintf(fx->url, sizeof(fx->url), "sqlite://%s", fx->path);
}

static void fixture_remove(sq_fixture_t *fx)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[192];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); ++i) {
        snprintf(path, sizeof(path), "%s%s", fx->path, suffixes[i]);
        unlink(path);
    }
    rmdir(fx->dir);
}

static as_store_t *open_with(contract_env_t *env, const as_store_options_t *options)
{
    sq_fixture_t *fx = env->backend;
    char err[256] = "";
    as_store_t *s = NULL;
    if (as_store_open(fx->url, options, &env->loop, &s, err, sizeof(err)) != 0)
        print_error("open %s failed: %s\n", fx->url, err);
    return s;
}

static as_store_t *sq_open_other(contract_env_t *env, const char *prefix)
{
    as_store_options_t options = {.key_prefix = prefix};
    return open_with(env, &options);
}

static int env_setup(void **state, const as_store_options_t *options)
{
    contract_env_t *env = calloc(1, sizeof(*env));
    sq_fixture_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(env);
    assert_non_null(fx);
    fixture_paths(fx);
    contract_env_init(env);
    env->backend = fx;
    env->open_other = sq_open_other;
    env->async = 0;
    env->store = open_with(env, options);
    assert_non_null(env->store);
    assert_string_equal(as_store_backend(env->store), "sqlite");
    *state = env;
    return 0;
}

static int sq_setup(void **state)
{
    return env_setup(state, NULL);
}

static int sq_teardown(void **state)
{
    contract_env_t *env = *state;
    sq_fixture_t *fx = env->backend;
    contract_env_free(env);
    fixture_remove(fx);
    free(fx);
    free(env);
    return 0;
}

static sqlite3 *raw_open(contract_env_t *env)
{
    sq_fixture_t *fx = env->backend;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    long long v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

static void test_sqlite_file_modes(void **state)
{
    contract_env_t *env = *state;
    sq_fixture_t *fx = env->backend;
    char path[192];
    struct stat sb;
    /* the setup opened with the process umask; open a fresh file with a permissive one to prove it is not the
     * umask */
    as_store_close(env->store);
    env->store = NULL;
    fixture_remove(fx);
    assert_int_equal(mkdir(fx->dir, 0700), 0);
    mode_t old = umask(0);
    env->store = open_with(env, NULL);
    umask(old);
    assert_non_null(env->store);
    assert_int_equal(c_set(env, env->store, "k", "v", 1, 60000), AS_STORE_OK);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; ++i) {
        snprintf(path, sizeof(path), "%s%s", fx->path, suffixes[i]);
        assert_int_equal(stat(path, &sb), 0);
        if ((sb.st_mode & 0777) != 0600)
            fail_msg("%s has mode %03o, want 600", path, (unsigned)(sb.st_mode & 0777));
    }
}

static void test_sqlite_schema_and_pragmas(void **state)
{
    contract_env_t *env = *state;
    sqlite3 *db = raw_open(env);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
    assert_int_equal(
        raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('kv', 'kv_set', 'kv_expires', "
                    "'kv_set_expires')"),
        4);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    /* what the store writes is what the docs say: prefixed key, value blob, absolute expiry */
    uint64_t before = (uint64_t)time(NULL) * 1000;
    assert_int_equal(c_set(env, env->store, "layout", "v", 1, 60000), AS_STORE_OK);
    long long expires = raw_int(db, "SELECT expires_at FROM kv WHERE key = 'tenantgate:layout'");
    assert_true(expires >= (long long)(before + 59000) && expires <= (long long)(before + 62000));
    sqlite3_close(db);
}

static void test_sqlite_newer_schema_refused(void **state)
{
    contract_env_t *env = *state;
    sq_fixture_t *fx = env->backend;
    sqlite3 *db = raw_open(env);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256] = "";
    as_store_t *s = (as_store_t *)1;
    assert_int_equal(as_store_open(fx->url, NULL, &env->loop, &s, err, sizeof(err)), -1);
    assert_null(s);
    assert_non_null(strstr(err, "schema version 99"));
    /* the running handle still works */
    assert_int_equal(c_set(env, env->store, "k", "v", 1, 60000), AS_STORE_OK);
}

static void test_sqlite_open_errors(void **state)
{
    contract_env_t *env = *state;
    sq_fixture_t *fx = env->backend;
    char err[256], url[256], path[192];
    as_store_t *s = NULL;

    assert_int_equal(
        as_store_open("sqlite:///nonexistent-dir-tg/x/sessions.db", NULL, &env->loop, &s, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "/nonexistent-dir-tg/x/sessions.db"));

    /* a file that is not a database */
    snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    snprintf(url, sizeof(url), "sqlite://%s", path);
    assert_int_equal(as_store_open(url, NULL, &env->loop, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a database"));
    unlink(path);

    /* options that do not fit */
    as_store_options_t with_password = {.password_file = "/etc/hostname"};
    assert_int_equal(as_store_open(fx->url, &with_password, &env->loop, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "redis only"));
    as_store_options_t bad_prefix = {.key_prefix = "has space:"};
    assert_int_equal(as_store_open(fx->url, &bad_prefix, &env->loop, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "key_prefix"));
    as_store_options_t slow = {.busy_timeout_ms = 60000};
    assert_int_equal(as_store_open(fx->url, &slow, &env->loop, &s, err, sizeof(err)), -1);
    assert_int_equal(as_store_open(fx->url, NULL, NULL, &s, err, sizeof(err)), -1);
    assert_int_equal(as_store_open("sqlite://host/x.db", NULL, &env->loop, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "host part"));
    assert_null(s);
}

/* Another process holds the write lock: writes give UNAVAILABLE within about the busy timeout, reads go on.
 */
static void test_sqlite_busy_is_unavailable(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    assert_int_equal(c_set(env, env->store, "before", "b", 1, 60000), AS_STORE_OK);
    sqlite3 *db = raw_open(env);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    uint64_t start = now_ms();
    assert_int_equal(c_set(env, env->store, "k", "v", 1, 60000), AS_STORE_UNAVAILABLE);
    uint64_t took = now_ms() - start;
    print_message("busy set answered UNAVAILABLE in %llu ms (busy timeout 50)\n", (unsigned long long)took);
    assert_true(took >= 40 && took < 500);
    assert_int_equal(c_add(env, env->store, "k", "v", 60000), AS_STORE_UNAVAILABLE);
    assert_int_equal(c_del(env, env->store, "before"), AS_STORE_UNAVAILABLE);
    assert_int_equal(c_sadd(env, env->store, "s", "m", 60000), AS_STORE_UNAVAILABLE);
    assert_int_equal(c_take(env, env->store, "before", &r), AS_STORE_UNAVAILABLE);
    /* WAL: readers are not blocked by a writer */
    c_get(env, env->store, "before", &r);
    contract_expect_value(&r, "b", 1);

    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(c_set(env, env->store, "k", "v", 1, 60000), AS_STORE_OK);
    c_take(env, env->store, "before", &r);
    contract_expect_value(&r, "b", 1);
    contract_result_reset(&r);
}

static int purge_setup(void **state)
{
    as_store_options_t options = {.purge_batch = 100, .purge_interval_ms = 600000};
    return env_setup(state, &options);
}

/* A purge pass deletes at most purge_batch rows per table, and only expired ones. */
static void test_sqlite_purge_is_bounded(void **state)
{
    contract_env_t *env = *state;
    char key[32];
    for (int i = 0; i < 250; ++i) {
        snprintf(key, sizeof(key), "old:%d", i);
        assert_int_equal(c_set(env, env->store, key, "v", 1, 1), AS_STORE_OK);
    }
    for (int i = 0; i < 30; ++i) {
        snprintf(key, sizeof(key), "m%d", i);
        /* long enough for all 30 adds: an add drops an expired set's members first */
        assert_int_equal(c_sadd(env, env->store, "oldset", key, 150), AS_STORE_OK);
    }
    assert_int_equal(c_set(env, env->store, "live", "v", 1, 60000), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "liveset", "m", 60000), AS_STORE_OK);
    contract_sleep(env, 200);
    sqlite3 *db = raw_open(env);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kv"), 251);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kv_set"), 31);
    assert_int_equal(as__store_sqlite_purge_once(env->store), 130);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kv"), 151);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kv_set"), 1);
    assert_int_equal(as__store_sqlite_purge_once(env->store), 100);
    assert_int_equal(as__store_sqlite_purge_once(env->store), 50);
    assert_int_equal(as__store_sqlite_purge_once(env->store), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kv"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kv WHERE key = 'tenantgate:live'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kv_set WHERE name = 'tenantgate:liveset'"), 1);
    sqlite3_close(db);
    assert_int_equal(as__store_sqlite_purge_once(NULL), -1);
}

static int purge_timer_setup(void **state)
{
    as_store_options_t options = {.purge_batch = 50, .purge_interval_ms = 30};
    return env_setup(state, &options);
}

/* The timer alone empties the table, in batches, while the loop keeps running. */
static void test_sqlite_purge_timer(void **state)
{
    contract_env_t *env = *state;
    char key[32];
    for (int i = 0; i < 400; ++i) {
        snprintf(key, sizeof(key), "old:%d", i);
        assert_int_equal(c_set(env, env->store, key, "v", 1, 1), AS_STORE_OK);
    }
    sqlite3 *db = raw_open(env);
    uint64_t start = now_ms();
    long long left = -1;
    while (now_ms() - start < 3000 && (left = raw_int(db, "SELECT count(*) FROM kv")) > 0)
        contract_sleep(env, 10);
    print_message("purge timer removed 400 rows in %llu ms (batch 50)\n",
                  (unsigned long long)(now_ms() - start));
    assert_int_equal(left, 0);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CONTRACT_TESTS(sq_setup, sq_teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_file_modes, sq_setup, sq_teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_schema_and_pragmas, sq_setup, sq_teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_newer_schema_refused, sq_setup, sq_teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_open_errors, sq_setup, sq_teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_busy_is_unavailable, sq_setup, sq_teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_purge_is_bounded, purge_setup, sq_teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_purge_timer, purge_timer_setup, sq_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
