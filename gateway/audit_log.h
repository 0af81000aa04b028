#ifndef GW_AUDIT_LOG_H
#define GW_AUDIT_LOG_H

/*
 * The authorization audit trail: one JSON object per line for every denied
 * request and a sample of allowed ones. Records carry who, what and which
 * rule decided; never tokens, cookies or the query string.
 */

#include <stddef.h>

typedef struct gw_audit_log gw_audit_log_t;

/**
 * Opens (appends to) path; sample_allows in 0..1 is the share of allows recorded; sqlite_path non-NULL also
 * records into the table tenantgate_audit of that database (audit_sqlite.h). NULL + err on failure.
 */
gw_audit_log_t *gw_audit_log_open(const char *path, double sample_allows, const char *sqlite_path, char *err,
                                  size_t err_size);

/** Closes the file (NULL is allowed). */
void gw_audit_log_close(gw_audit_log_t *log);

/** One decision; strings may be NULL (written as null). */
typedef struct {
    const char *request_id;
    const char *user;
    const char *namespace_;
    const char *method;
    size_t method_len;
    const char *path;
    size_t path_len;
    const char *decision; /* "allow", "deny", "ratelimit" */
    const char *policy;   /* "Kind namespace/name", NULL for a default */
    long rule;            /* rule or subject index, -1 for none */
    const char *reason;
    int audit; /* an AUDIT policy matched */
} gw_audit_record_t;

/** Whether an allow should be recorded now (deterministic: every 1/sample-th allow). Thread-safe. */
int gw_audit_log_sample(gw_audit_log_t *log);

/** Appends record as one JSON line. Thread-safe; write errors are counted, not fatal. */
void gw_audit_log_write(gw_audit_log_t *log, const gw_audit_record_t *record);

#endif
