#include "audit_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_sqlite.h"
#include "template.h"
#include "util/log.h"

struct gw_audit_log {
    FILE *fp;
    pthread_mutex_t lock;
    double sample;
    atomic_uint_fast64_t allows;
    gw_audit_sqlite_t *table; /* NULL: file only */
};

gw_audit_log_t *gw_audit_log_open(const char *path, double sample_allows, const char *sqlite_path, char *err,
                                  size_t err_size)
{
    gw_audit_log_t *log = calloc(1, sizeof(*log));
    if (log == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if ((log->fp = fopen(path, "a")) == NULL) {
        snprintf(err, err_size, "audit file %s: %s", path, strerror(errno));
        free(log);
        return NULL;
    }
    if (sqlite_path != NULL && (log->table = gw_audit_sqlite_open(sqlite_path, err, err_size)) == NULL) {
        fclose(log->fp);
        free(log);
        return NULL;
    }
    pthread_mutex_init(&log->lock, NULL);
    log->sample = sample_allows;
    atomic_init(&log->allows, 0);
    return log;
}

void gw_audit_log_close(gw_audit_log_t *log)
{
    if (log == NULL)
        return;
    gw_audit_sqlite_close(log->table);
    fclose(log->fp);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

int gw_audit_log_sample(gw_audit_log_t *log)
{
    if (log->sample <= 0.0)
        return 0;
    uint_fast64_t n = atomic_fetch_add_explicit(&log->allows, 1, memory_order_relaxed);
    return (uint_fast64_t)((double)(n + 1) * log->sample) > (uint_fast64_t)((double)n * log->sample);
}

/* "name":"escaped value" or "name":null, with a leading comma unless first. */
static char *put_string(char *p, const char *name, const char *value, size_t len, int first)
{
    p += sprintf(p, "%s\"%s\":", first ? "{" : ",", name);
    if (value == NULL)
        return p + sprintf(p, "null");
    char *copy = strndup(value, len);
    *p++ = '"';
    if (copy != NULL)
        p += gw_json_escape(p, copy);
    free(copy);
    *p++ = '"';
    return p;
}

static size_t text_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

void gw_audit_log_write(gw_audit_log_t *log, const gw_audit_record_t *r)
{
    size_t size =
        256 + 6 * (text_len(r->request_id) + text_len(r->user) + text_len(r->namespace_) + r->method_len +
                   r->path_len + text_len(r->decision) + text_len(r->policy) + text_len(r->reason));
    char *line = malloc(size), *p = line;
    if (line == NULL)
        return;
    char when[TG_LOG_TIMESTAMP_SIZE];
    tg_log_timestamp(when);
    p = put_string(p, "time", when, strlen(when), 1);
    p = put_string(p, "request_id", r->request_id, text_len(r->request_id), 0);
    p = put_string(p, "user", r->user, text_len(r->user), 0);
    p = put_string(p, "namespace", r->namespace_, text_len(r->namespace_), 0);
    p = put_string(p, "method", r->method, r->method_len, 0);
    p = put_string(p, "path", r->path, r->path_len, 0);
    p = put_string(p, "decision", r->decision, text_len(r->decision), 0);
    p = put_string(p, "policy", r->policy, text_len(r->policy), 0);
    p += r->rule >= 0 ? sprintf(p, ",\"rule\":%ld", r->rule) : sprintf(p, ",\"rule\":null");
    p = put_string(p, "reason", r->reason, text_len(r->reason), 0);
    p += sprintf(p, ",\"audit\":%s}\n", r->audit ? "true" : "false");
    if (log->table != NULL)
        gw_audit_sqlite_add(log->table, when, r);
    pthread_mutex_lock(&log->lock);
    fwrite(line, 1, (size_t)(p - line), log->fp);
    fflush(log->fp);
    pthread_mutex_unlock(&log->lock);
    free(line);
}
