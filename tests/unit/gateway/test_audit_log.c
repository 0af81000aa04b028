/* The audit trail: JSON lines in a file and rows in the sqlite table, the same records in both; allows
 * sampled deterministically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "audit_log.h"

static char dir[64];

static void test_file_and_table(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tg-audit-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char file[128], db[128], err[256];
    snprintf(file, sizeof(file), "%s/audit.jsonl", dir);
    snprintf(db, sizeof(db), "%s/sessions.db", dir);
    gw_audit_log_t *log = gw_audit_log_open(file, 0.5, db, err, sizeof(err));
    if (log == NULL)
        fail_msg("open: %s", err);
    gw_audit_record_t deny = {.request_id = "rid-1",
                              .user = "bob@example.com",
                              .namespace_ = "kubeflow-alice",
                              .method = "GETX",
                              .method_len = 3,
                              .path = "/a\"b\n",
                              .path_len = 5,
                              .decision = "deny",
                              .policy = NULL,
                              .rule = -1,
                              .reason = "no policy allows this request"};
    gw_audit_log_write(log, &deny);
    gw_audit_record_t allow = deny;
    allow.request_id = "rid-2";
    allow.user = NULL;
    allow.decision = "allow";
    allow.policy = "AuthorizationPolicy kubeflow-alice/p";
    allow.rule = 2;
    allow.audit = 1;
    gw_audit_log_write(log, &allow);
    int sampled = 0;
    for (int i = 0; i < 10; ++i)
        sampled += gw_audit_log_sample(log);
    assert_int_equal(sampled, 5);
    gw_audit_log_close(log); /* writes what is queued */

    FILE *fp = fopen(file, "r");
    assert_non_null(fp);
    char line[1024];
    assert_non_null(fgets(line, sizeof(line), fp));
    assert_non_null(strstr(line,
                           "\"request_id\":\"rid-1\",\"user\":\"bob@example.com\",\"namespace\":"
                           "\"kubeflow-alice\",\"method\":\"GET\",\"path\":\"/a\\\"b\\u000a\",\"decision\":"
                           "\"deny\",\"policy\":null,\"rule\":null,\"reason\":\"no policy allows this "
                           "request\",\"audit\":false}\n"));
    assert_true(strncmp(line, "{\"time\":\"20", 11) == 0);
    assert_non_null(fgets(line, sizeof(line), fp));
    assert_non_null(strstr(line, "\"user\":null"));
    assert_non_null(strstr(line, "\"policy\":\"AuthorizationPolicy kubeflow-alice/p\",\"rule\":2"));
    assert_non_null(strstr(line, "\"audit\":true}"));
    assert_null(fgets(line, sizeof(line), fp));
    fclose(fp);

    sqlite3 *handle;
    assert_int_equal(sqlite3_open(db, &handle), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(handle,
                           "SELECT request_id, user, namespace, method, path, decision, policy, rule, "
                           "audit FROM tenantgate_audit ORDER BY rowid",
                           -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "rid-1");
    assert_string_equal((const char *)sqlite3_column_text(q, 1), "bob@example.com");
    assert_string_equal((const char *)sqlite3_column_text(q, 3), "GET");
    assert_string_equal((const char *)sqlite3_column_text(q, 4), "/a\"b\n");
    assert_string_equal((const char *)sqlite3_column_text(q, 5), "deny");
    assert_int_equal(sqlite3_column_type(q, 6), SQLITE_NULL);
    assert_int_equal(sqlite3_column_type(q, 7), SQLITE_NULL);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(q, 1), SQLITE_NULL);
    assert_int_equal(sqlite3_column_int(q, 7), 2);
    assert_int_equal(sqlite3_column_int(q, 8), 1);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(handle);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(gw_audit_log_open("/nonexistent-dir/audit.jsonl", 0, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent-dir/audit.jsonl"));
    assert_null(gw_audit_log_open("/dev/null", 0, "/nonexistent-dir/s.db", err, sizeof(err)));
    assert_non_null(strstr(err, "audit table in /nonexistent-dir/s.db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_and_table),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
