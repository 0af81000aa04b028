#include "audit_log.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_sqlite.h"
#include "jsonl.h"
#include "util/log.h"

struct gw_audit_log {
    gw_jsonl_t *file;
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
    char why[256];
    if ((log->file = gw_jsonl_open(path, why, sizeof(why))) == NULL) {
        snprintf(err, err_size, "audit file %s", why);
        free(log);
        return NULL;
    }
    if (sqlite_path != NULL && (log->table = gw_audit_sqlite_open(sqlite_path, err, err_size)) == NULL) {
        gw_jsonl_release(log->file);
        free(log);
        return NULL;
    }
    log->sample = sample_allows;
    atomic_init(&log->allows, 0);
    return log;
}

void gw_audit_log_close(gw_audit_log_t *log)
{
    if (log == NULL)
        return;
    gw_audit_sqlite_close(log->table);
    gw_jsonl_release(log->file);
    free(log);
}

int gw_audit_log_sample(gw_audit_log_t *log)
{
    if (log->sample <= 0.0)
        return 0;
    uint_fast64_t n = atomic_fetch_add_explicit(&log->allows, 1, memory_order_relaxed);
    return (uint_fast64_t)((double)(n + 1) * log->sample) > (uint_fast64_t)((double)n * log->sample);
}

void gw_audit_log_write(gw_audit_log_t *log, const gw_audit_record_t *r)
{
    size_t size = 256 + 6 * (gw_jsonl_text_len(r->user) + gw_jsonl_text_len(r->namespace_) + r->method_len +
                             r->path_len + gw_jsonl_text_len(r->decision) + gw_jsonl_text_len(r->policy) +
                             gw_jsonl_text_len(r->reason));
    char when[TG_LOG_TIMESTAMP_SIZE];
    tg_log_timestamp(when);
    char *p, *line = gw_jsonl_line_start(size, when, r->request_id, &p);
    if (line == NULL)
        return;
    p = gw_jsonl_put_string(p, "user", r->user, gw_jsonl_text_len(r->user), 0);
    p = gw_jsonl_put_string(p, "namespace", r->namespace_, gw_jsonl_text_len(r->namespace_), 0);
    p = gw_jsonl_put_string(p, "method", r->method, r->method_len, 0);
    p = gw_jsonl_put_string(p, "path", r->path, r->path_len, 0);
    p = gw_jsonl_put_string(p, "decision", r->decision, gw_jsonl_text_len(r->decision), 0);
    p = gw_jsonl_put_string(p, "policy", r->policy, gw_jsonl_text_len(r->policy), 0);
    p += r->rule >= 0 ? sprintf(p, ",\"rule\":%ld", r->rule) : sprintf(p, ",\"rule\":null");
    p = gw_jsonl_put_string(p, "reason", r->reason, gw_jsonl_text_len(r->reason), 0);
    p += sprintf(p, ",\"audit\":%s}\n", r->audit ? "true" : "false");
    if (log->table != NULL)
        gw_audit_sqlite_add(log->table, when, r);
    gw_jsonl_write(log->file, line, (size_t)(p - line));
    free(line);
}
