/* sqlite3 store backend: one file shared by the workers (WAL), one connection per handle, synchronous ops. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_int.h"
#include "util/log.h"

#define SCHEMA_VERSION 1
/* Opening waits longer for the lock than ops do: several workers create the schema at once at startup. */
#define OPEN_BUSY_TIMEOUT_MS 2000
/* Delay before the next purge pass when the last one hit its batch limit. */
#define PURGE_CATCH_UP_MS 10

static const char *const schema_sql = "CREATE TABLE IF NOT EXISTS kv("
                                      "  key TEXT PRIMARY KEY,"
                                      "  value BLOB NOT NULL,"
                                      "  expires_at INTEGER NOT NULL);"
                                      "CREATE INDEX IF NOT EXISTS kv_expires ON kv(expires_at);"
                                      "CREATE TABLE IF NOT EXISTS kv_set("
                                      "  name TEXT NOT NULL,"
                                      "  member TEXT NOT NULL,"
                                      "  expires_at INTEGER NOT NULL,"
                                      "  PRIMARY KEY(name, member));"
                                      "CREATE INDEX IF NOT EXISTS kv_set_expires ON kv_set(expires_at);"
                                      "PRAGMA user_version = 1;";

enum {
    Q_GET,
    Q_SET,
    Q_ADD,
    Q_TAKE,
    Q_DEL_KV,
    Q_DEL_SET,
    Q_SADD_PURGE,
    Q_SADD_INSERT,
    Q_SADD_EXTEND,
    Q_SREM,
    Q_SMEMBERS,
    Q_PURGE_KV,
    Q_PURGE_SET,
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_COUNT
};

/* Times are wall-clock milliseconds: several processes share the file. A row is live while expires_at > now.
 */
static const char *const statements[Q_COUNT] = {
    [Q_GET] = "SELECT value FROM kv WHERE key = ?1 AND expires_at > ?2",
    [Q_SET] = "INSERT INTO kv(key, value, expires_at) VALUES (?1, ?2, ?3) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
    /* replaces an expired row; leaves a live one alone (then no row changes) */
    [Q_ADD] = "INSERT INTO kv(key, value, expires_at) VALUES (?1, ?2, ?3) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
              "WHERE kv.expires_at <= ?4",
    [Q_TAKE] = "DELETE FROM kv WHERE key = ?1 RETURNING value, expires_at",
    [Q_DEL_KV] = "DELETE FROM kv WHERE key = ?1 RETURNING expires_at",
    [Q_DEL_SET] = "DELETE FROM kv_set WHERE name = ?1 RETURNING expires_at",
    /* an expired set is gone: its old members must not come back with a new add */
    [Q_SADD_PURGE] = "DELETE FROM kv_set WHERE name = ?1 AND expires_at <= ?2",
    [Q_SADD_INSERT] = "INSERT INTO kv_set(name, member, expires_at) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT(name, member) DO NOTHING",
    /* one expiry per set, never shortened */
    [Q_SADD_EXTEND] =
        "UPDATE kv_set SET expires_at = max(?2, (SELECT max(expires_at) FROM kv_set WHERE name = ?1)) "
        "WHERE name = ?1",
    [Q_SREM] = "DELETE FROM kv_set WHERE name = ?1 AND member = ?2 RETURNING expires_at",
    [Q_SMEMBERS] = "SELECT member FROM kv_set WHERE name = ?1 AND expires_at > ?2 ORDER BY member",
    [Q_PURGE_KV] = "DELETE FROM kv WHERE rowid IN (SELECT rowid FROM kv WHERE expires_at <= ?1 LIMIT ?2)",
    [Q_PURGE_SET] =
        "DELETE FROM kv_set WHERE rowid IN (SELECT rowid FROM kv_set WHERE expires_at <= ?1 LIMIT ?2)",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
};

typedef struct {
    as_store_t base; /* first: the handle is cast both ways */
    sqlite3 *db;
    sqlite3_stmt *stmt[Q_COUNT];
    uv_timer_t purge_timer;
    uint32_t purge_interval_ms;
    uint32_t purge_batch;
    int closing;
} sq_store_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Status of a failed step; the message is sqlite's (it never quotes bound values). */
static as_store_status_t failure(sq_store_t *st, int rc, const char *what)
{
    int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        tg_log_debug("store", "sqlite %s: database busy", what);
        return AS_STORE_UNAVAILABLE;
    }
    tg_log_warn("store", "sqlite %s failed: %s (%d)", what, sqlite3_errmsg(st->db), rc);
    return AS_STORE_ERROR;
}

static void finish(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

/* Copies a blob column: the caller's callback may run another op, which would reset the statement. */
static as_store_status_t copy_column(sqlite3_stmt *q, int col, char **out, size_t *len)
{
    const void *blob = sqlite3_column_blob(q, col);
    size_t n = (size_t)sqlite3_column_bytes(q, col);
    char *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL)
        return AS_STORE_ERROR;
    if (n > 0)
        memcpy(copy, blob, n);
    *out = copy;
    *len = n;
    return AS_STORE_OK;
}

/* Runs a statement that returns an expires_at column per deleted row; counts the rows that were live. */
static int count_live(sqlite3_stmt *q, int64_t now, int *live)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (sqlite3_column_int64(q, sqlite3_column_count(q) - 1) > now)
            ++*live;
    return rc;
}

static int step_done(sq_store_t *st, int index)
{
    sqlite3_stmt *q = st->stmt[index];
    int rc = sqlite3_step(q);
    finish(q);
    return rc;
}

static int begin(sq_store_t *st)
{
    return step_done(st, Q_BEGIN);
}

static int end(sq_store_t *st, int rc)
{
    if (rc == SQLITE_DONE) {
        rc = step_done(st, Q_COMMIT);
        if (rc == SQLITE_DONE)
            return rc;
    }
    step_done(st, Q_ROLLBACK);
    return rc;
}

static int sq_get(as_store_t *s, const char *key, as_store_cb cb, void *data)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return -1;
    sqlite3_stmt *q = st->stmt[Q_GET];
    char *value = NULL;
    size_t len = 0;
    as_store_status_t status;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now_ms());
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        status = copy_column(q, 0, &value, &len);
    else if (rc == SQLITE_DONE)
        status = AS_STORE_NOT_FOUND;
    else
        status = failure(st, rc, "get");
    finish(q);
    cb(data, status, status == AS_STORE_OK ? value : NULL, len);
    free(value);
    return 0;
}

static int put(as_store_t *s, int index, const char *key, const char *value, size_t len, uint64_t ttl_ms,
               as_store_cb cb, void *data)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return -1;
    sqlite3_stmt *q = st->stmt[index];
    int64_t now = now_ms();
    as_store_status_t status;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, value, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, now + (int64_t)ttl_ms);
    if (index == Q_ADD)
        sqlite3_bind_int64(q, 4, now);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        status = failure(st, rc, index == Q_ADD ? "add" : "set");
    else if (index == Q_ADD && sqlite3_changes(st->db) == 0)
        status = AS_STORE_EXISTS;
    else
        status = AS_STORE_OK;
    finish(q);
    cb(data, status, NULL, 0);
    return 0;
}

static int sq_set(as_store_t *s, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                  as_store_cb cb, void *data)
{
    return put(s, Q_SET, key, value, len, ttl_ms, cb, data);
}

static int sq_add(as_store_t *s, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                  as_store_cb cb, void *data)
{
    return put(s, Q_ADD, key, value, len, ttl_ms, cb, data);
}

static int sq_take(as_store_t *s, const char *key, as_store_cb cb, void *data)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return -1;
    sqlite3_stmt *q = st->stmt[Q_TAKE];
    char *value = NULL;
    size_t len = 0;
    as_store_status_t status = AS_STORE_NOT_FOUND;
    int64_t now = now_ms();
    int rc;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (sqlite3_column_int64(q, 1) > now && value == NULL)
            status = copy_column(q, 0, &value, &len);
    if (rc != SQLITE_DONE) {
        status = failure(st, rc, "take");
        free(value);
        value = NULL;
    }
    finish(q);
    cb(data, status, status == AS_STORE_OK ? value : NULL, len);
    free(value);
    return 0;
}

static int sq_del(as_store_t *s, const char *key, as_store_cb cb, void *data)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return -1;
    int64_t now = now_ms();
    int live = 0;
    int rc = begin(st);
    if (rc == SQLITE_DONE) {
        sqlite3_stmt *q = st->stmt[Q_DEL_KV];
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        rc = count_live(q, now, &live);
        finish(q);
        if (rc == SQLITE_DONE) {
            q = st->stmt[Q_DEL_SET];
            sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
            rc = count_live(q, now, &live);
            finish(q);
        }
        rc = end(st, rc);
    }
    as_store_status_t status = rc != SQLITE_DONE ? failure(st, rc, "del")
                               : live > 0        ? AS_STORE_OK
                                                 : AS_STORE_NOT_FOUND;
    cb(data, status, NULL, 0);
    return 0;
}

static int sq_set_add(as_store_t *s, const char *set, const char *member, uint64_t ttl_ms, as_store_cb cb,
                      void *data)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return -1;
    int64_t now = now_ms();
    int64_t expires = now + (int64_t)ttl_ms;
    int rc = begin(st);
    if (rc == SQLITE_DONE) {
        sqlite3_stmt *q = st->stmt[Q_SADD_PURGE];
        sqlite3_bind_text(q, 1, set, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, now);
        rc = sqlite3_step(q);
        finish(q);
        if (rc == SQLITE_DONE) {
            q = st->stmt[Q_SADD_INSERT];
            sqlite3_bind_text(q, 1, set, -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 2, member, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 3, expires);
            rc = sqlite3_step(q);
            finish(q);
        }
        if (rc == SQLITE_DONE) {
            q = st->stmt[Q_SADD_EXTEND];
            sqlite3_bind_text(q, 1, set, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, expires);
            rc = sqlite3_step(q);
            finish(q);
        }
        rc = end(st, rc);
    }
    cb(data, rc == SQLITE_DONE ? AS_STORE_OK : failure(st, rc, "set_add"), NULL, 0);
    return 0;
}

static int sq_set_remove(as_store_t *s, const char *set, const char *member, as_store_cb cb, void *data)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return -1;
    sqlite3_stmt *q = st->stmt[Q_SREM];
    int live = 0;
    sqlite3_bind_text(q, 1, set, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, member, -1, SQLITE_STATIC);
    int rc = count_live(q, now_ms(), &live);
    finish(q);
    as_store_status_t status = rc != SQLITE_DONE ? failure(st, rc, "set_remove")
                               : live > 0        ? AS_STORE_OK
                                                 : AS_STORE_NOT_FOUND;
    cb(data, status, NULL, 0);
    return 0;
}

static int sq_set_members(as_store_t *s, const char *set, as_store_members_cb cb, void *data)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return -1;
    sqlite3_stmt *q = st->stmt[Q_SMEMBERS];
    char **members = NULL;
    size_t *lens = NULL, count = 0, cap = 0;
    as_store_status_t status = AS_STORE_OK;
    int rc;
    sqlite3_bind_text(q, 1, set, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now_ms());
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (count == cap) {
            size_t grown = cap ? cap * 2 : 8;
            char **m = realloc(members, grown * sizeof(*m));
            if (m != NULL)
                members = m;
            size_t *l = m != NULL ? realloc(lens, grown * sizeof(*l)) : NULL;
            if (l == NULL) {
                status = AS_STORE_ERROR;
                break;
            }
            lens = l;
            cap = grown;
        }
        const unsigned char *text = sqlite3_column_text(q, 0);
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        members[count] = malloc(n + 1);
        if (text == NULL || members[count] == NULL) {
            free(members[count]);
            status = AS_STORE_ERROR;
            break;
        }
        memcpy(members[count], text, n + 1);
        lens[count++] = n;
    }
    if (status == AS_STORE_OK && rc != SQLITE_DONE)
        status = failure(st, rc, "set_members");
    finish(q);
    if (status == AS_STORE_OK)
        cb(data, status, (const char *const *)members, lens, count);
    else
        cb(data, status, NULL, NULL, 0);
    for (size_t i = 0; i < count; ++i)
        free(members[i]);
    free(members);
    free(lens);
    return 0;
}

static void free_handle(uv_handle_t *handle)
{
    free(handle->data);
}

static void sq_close(as_store_t *s)
{
    sq_store_t *st = (sq_store_t *)s;
    if (st->closing)
        return;
    st->closing = 1;
    for (int i = 0; i < Q_COUNT; ++i)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    uv_close((uv_handle_t *)&st->purge_timer, free_handle);
}

static long purge_once(sq_store_t *st)
{
    static const int tables[] = {Q_PURGE_KV, Q_PURGE_SET};
    int64_t now = now_ms();
    long total = 0;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); ++i) {
        sqlite3_stmt *q = st->stmt[tables[i]];
        sqlite3_bind_int64(q, 1, now);
        sqlite3_bind_int64(q, 2, st->purge_batch);
        int rc = sqlite3_step(q);
        finish(q);
        if (rc != SQLITE_DONE) {
            failure(st, rc, "purge");
            return -1;
        }
        total += sqlite3_changes(st->db);
    }
    return total;
}

static void on_purge_timer(uv_timer_t *timer)
{
    sq_store_t *st = timer->data;
    long purged = purge_once(st);
    if (purged > 0)
        tg_log_debug("store", "sqlite purge removed %ld expired rows", purged);
    /* a full batch means more may be waiting: come back soon, but let the loop breathe in between */
    uv_timer_start(timer, on_purge_timer,
                   purged >= (long)st->purge_batch ? PURGE_CATCH_UP_MS : st->purge_interval_ms, 0);
}

long as__store_sqlite_purge_once(as_store_t *store)
{
    if (store == NULL || strcmp(store->ops->name, "sqlite") != 0)
        return -1;
    return purge_once((sq_store_t *)store);
}

static const as_store_ops_t sqlite_ops = {
    .name = "sqlite",
    .get = sq_get,
    .set = sq_set,
    .add = sq_add,
    .take = sq_take,
    .del = sq_del,
    .set_add = sq_set_add,
    .set_remove = sq_set_remove,
    .set_members = sq_set_members,
    .close = sq_close,
};

/* Creates the file with mode 0600 if it does not exist (sqlite would use 0644); the -wal and -shm files
 * sqlite makes later copy the main file's mode. */
static int create_private(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == EEXIST) {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0)
            tg_log_warn("store", "sqlite file %s is open to group or others (mode %03o); sessions live in it",
                        path, (unsigned)(sb.st_mode & 0777));
        return 0;
    }
    snprintf(err, errlen, "sqlite: cannot create %s: %s", path, strerror(errno));
    return -1;
}

static int query_int(sqlite3 *db, const char *sql, int *value)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int(q, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Journal mode, durability and the schema, under the write lock so concurrent openers agree. */
static int prepare_database(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *q;
    int version = -1;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(q, 0) : NULL;
        if (mode != NULL && strcmp((const char *)mode, "wal") != 0) {
            snprintf(err, errlen, "sqlite: %s cannot use WAL mode (got %s)", path, (const char *)mode);
            sqlite3_finalize(q);
            return -1;
        }
        rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
        sqlite3_finalize(q);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(
            db, "PRAGMA synchronous = NORMAL; PRAGMA secure_delete = FAST; PRAGMA trusted_schema = OFF", NULL,
            NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: cannot open %s: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    rc = query_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK && version == 0)
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK && version > SCHEMA_VERSION) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        snprintf(err, errlen, "sqlite: %s has schema version %d, newer than this build's %d", path, version,
                 SCHEMA_VERSION);
        return -1;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: cannot set up the schema of %s: %s", path, sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int as__store_sqlite_open(const as_store_url_t *url, const as__store_config_t *config, uv_loop_t *loop,
                          as_store_t **out, char *err, size_t errlen)
{
    const char *path = url->path;
    if (create_private(path, err, errlen) != 0)
        return -1;
    sq_store_t *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        snprintf(err, errlen, "sqlite: out of memory");
        return -1;
    }
    /* one connection per loop thread: no mutex; extended codes so failures say exactly what happened */
    int rc = sqlite3_open_v2(path, &st->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: cannot open %s: %s", path,
                 st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(st->db, OPEN_BUSY_TIMEOUT_MS);
    if (prepare_database(st->db, path, err, errlen) != 0)
        goto fail;
    sqlite3_busy_timeout(st->db, (int)config->busy_timeout_ms);
    for (int i = 0; i < Q_COUNT; ++i) {
        rc = sqlite3_prepare_v3(st->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "sqlite: %s does not have the expected schema: %s", path,
                     sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    st->base.ops = &sqlite_ops;
    st->purge_interval_ms = config->purge_interval_ms;
    st->purge_batch = config->purge_batch;
    uv_timer_init(loop, &st->purge_timer);
    st->purge_timer.data = st;
    uv_timer_start(&st->purge_timer, on_purge_timer, st->purge_interval_ms, 0);
    /* the purge alone must not keep a loop running */
    uv_unref((uv_handle_t *)&st->purge_timer);
    *out = &st->base;
    return 0;
fail:
    for (int i = 0; i < Q_COUNT; ++i)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
    return -1;
}
