#include "audit_sqlite.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUED 10000
#define BUSY_TIMEOUT_MS 1000

enum { F_TIME, F_REQUEST_ID, F_USER, F_NAMESPACE, F_METHOD, F_PATH, F_DECISION, F_POLICY, F_REASON, F_COUNT };

typedef struct row {
    struct row *next;
    char *text[F_COUNT]; /* NULL = SQL NULL */
    long rule;
    int audit;
} row_t;

struct gw_audit_sqlite {
    sqlite3 *db;
    sqlite3_stmt *insert;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    row_t *head, *tail;
    size_t queued;
    int stopping;
    unsigned long dropped;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS tenantgate_audit ("
                             "time TEXT NOT NULL, request_id TEXT, user TEXT, namespace TEXT, method TEXT, "
                             "path TEXT, decision TEXT NOT NULL, policy TEXT, rule INTEGER, reason TEXT, "
                             "audit INTEGER NOT NULL)";
static const char insert_sql[] =
    "INSERT INTO tenantgate_audit (time, request_id, user, namespace, method, path, "
    "decision, policy, reason, rule, audit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static void row_free(row_t *row)
{
    for (int i = 0; i < F_COUNT; ++i)
        free(row->text[i]);
    free(row);
}

static void insert_batch(gw_audit_sqlite_t *sink, row_t *rows)
{
    sqlite3_exec(sink->db, "BEGIN", NULL, NULL, NULL);
    for (row_t *row = rows; row != NULL; row = row->next) {
        for (int i = 0; i < F_COUNT; ++i) {
            if (row->text[i] != NULL)
                sqlite3_bind_text(sink->insert, i + 1, row->text[i], -1, SQLITE_STATIC);
            else
                sqlite3_bind_null(sink->insert, i + 1);
        }
        if (row->rule >= 0)
            sqlite3_bind_int64(sink->insert, F_COUNT + 1, row->rule);
        else
            sqlite3_bind_null(sink->insert, F_COUNT + 1);
        sqlite3_bind_int(sink->insert, F_COUNT + 2, row->audit);
        sqlite3_step(sink->insert);
        sqlite3_reset(sink->insert);
    }
    sqlite3_exec(sink->db, "COMMIT", NULL, NULL, NULL);
}

static void *writer(void *arg)
{
    gw_audit_sqlite_t *sink = arg;
    pthread_mutex_lock(&sink->lock);
    for (;;) {
        while (sink->head == NULL && !sink->stopping)
            pthread_cond_wait(&sink->wake, &sink->lock);
        row_t *rows = sink->head;
        sink->head = sink->tail = NULL;
        sink->queued = 0;
        int stop = sink->stopping;
        pthread_mutex_unlock(&sink->lock);
        if (rows != NULL)
            insert_batch(sink, rows);
        while (rows != NULL) {
            row_t *next = rows->next;
            row_free(rows);
            rows = next;
        }
        pthread_mutex_lock(&sink->lock);
        if (stop && sink->head == NULL)
            break;
    }
    pthread_mutex_unlock(&sink->lock);
    return NULL;
}

gw_audit_sqlite_t *gw_audit_sqlite_open(const char *path, char *err, size_t err_size)
{
    gw_audit_sqlite_t *sink = calloc(1, sizeof(*sink));
    if (sink == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &sink->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(sink->db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_exec(sink->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(sink->db, insert_sql, -1, &sink->insert, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "audit table in %s: %s", path,
                 sink->db != NULL ? sqlite3_errmsg(sink->db) : "");
        sqlite3_finalize(sink->insert);
        sqlite3_close(sink->db);
        free(sink);
        return NULL;
    }
    pthread_mutex_init(&sink->lock, NULL);
    pthread_cond_init(&sink->wake, NULL);
    if (pthread_create(&sink->thread, NULL, writer, sink) != 0) {
        snprintf(err, err_size, "audit table: cannot start its writer thread");
        pthread_mutex_destroy(&sink->lock);
        pthread_cond_destroy(&sink->wake);
        sqlite3_finalize(sink->insert);
        sqlite3_close(sink->db);
        free(sink);
        return NULL;
    }
    return sink;
}

void gw_audit_sqlite_close(gw_audit_sqlite_t *sink)
{
    if (sink == NULL)
        return;
    pthread_mutex_lock(&sink->lock);
    sink->stopping = 1;
    pthread_cond_signal(&sink->wake);
    pthread_mutex_unlock(&sink->lock);
    pthread_join(sink->thread, NULL);
    sqlite3_finalize(sink->insert);
    sqlite3_close(sink->db);
    pthread_mutex_destroy(&sink->lock);
    pthread_cond_destroy(&sink->wake);
    free(sink);
}

static char *copy(const char *s, size_t len)
{
    return s != NULL ? strndup(s, len) : NULL;
}

static size_t length(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

void gw_audit_sqlite_add(gw_audit_sqlite_t *sink, const char *time, const gw_audit_record_t *r)
{
    row_t *row = calloc(1, sizeof(*row));
    if (row == NULL)
        return;
    row->text[F_TIME] = copy(time, length(time));
    row->text[F_REQUEST_ID] = copy(r->request_id, length(r->request_id));
    row->text[F_USER] = copy(r->user, length(r->user));
    row->text[F_NAMESPACE] = copy(r->namespace_, length(r->namespace_));
    row->text[F_METHOD] = copy(r->method, r->method_len);
    row->text[F_PATH] = copy(r->path, r->path_len);
    row->text[F_DECISION] = copy(r->decision, length(r->decision));
    row->text[F_POLICY] = copy(r->policy, length(r->policy));
    row->text[F_REASON] = copy(r->reason, length(r->reason));
    row->rule = r->rule;
    row->audit = r->audit;
    pthread_mutex_lock(&sink->lock);
    if (sink->queued >= MAX_QUEUED) {
        ++sink->dropped;
        pthread_mutex_unlock(&sink->lock);
        row_free(row);
        return;
    }
    if (sink->tail != NULL)
        sink->tail->next = row;
    else
        sink->head = row;
    sink->tail = row;
    ++sink->queued;
    pthread_cond_signal(&sink->wake);
    pthread_mutex_unlock(&sink->lock);
}

unsigned long gw_audit_sqlite_dropped(gw_audit_sqlite_t *sink)
{
    pthread_mutex_lock(&sink->lock);
    unsigned long dropped = sink->dropped;
    pthread_mutex_unlock(&sink->lock);
    return dropped;
}
