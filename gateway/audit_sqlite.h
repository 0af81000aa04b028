#ifndef GW_AUDIT_SQLITE_H
#define GW_AUDIT_SQLITE_H

/*
 * The audit trail as a table (`tenantgate_audit`) in the sqlite session
 * database. Records are queued and inserted by a thread of its own in short
 * transactions, so a request never waits for the disk; a full queue drops
 * records (counted) rather than blocking.
 */

#include <stddef.h>

#include "audit_log.h"

typedef struct gw_audit_sqlite gw_audit_sqlite_t;

/** Opens path (creating the table) and starts the writer thread. NULL + err on failure. */
gw_audit_sqlite_t *gw_audit_sqlite_open(const char *path, char *err, size_t err_size);

/** Writes what is queued, stops the thread and closes the database (NULL is allowed). */
void gw_audit_sqlite_close(gw_audit_sqlite_t *sink);

/** Queues a copy of record stamped with time (thread-safe, never blocks on the database). */
void gw_audit_sqlite_add(gw_audit_sqlite_t *sink, const char *time, const gw_audit_record_t *record);

/** Records dropped because the queue was full. */
unsigned long gw_audit_sqlite_dropped(gw_audit_sqlite_t *sink);

#endif
