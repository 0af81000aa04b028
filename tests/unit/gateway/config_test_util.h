/* Shared by the configuration loader's unit tests: a scratch directory with
 * the certificate files configs name, and loading helpers. Header-only: every
 * test_*.c is its own executable. */
#ifndef TG_TEST_CONFIG_UTIL_H
#define TG_TEST_CONFIG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

/* Contents of every scratch key file: it must never show up in any output. */
#define SCRATCH_SECRET "SECRET-KEY-MATERIAL-0123456789"

static char scratch_dir[64];
static char scratch_config[128]; /* scratch_dir/test.yaml: the name configs are loaded under */

static inline void scratch_write(const char *rel, const char *text)
{
    char path[256];
    int n = snprintf(path, sizeof(path), "%s/%s", scratch_dir, rel);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int scratch_setup(void **state)
{
    (void)state;
    snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/tg-config-test-XXXXXX");
    if (mkdtemp(scratch_dir) == NULL)
        return -1;
    snprintf(scratch_config, sizeof(scratch_config), "%s/test.yaml", scratch_dir);
    char path[256];
    snprintf(path, sizeof(path), "%s/certs", scratch_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/certs/dir.pem", scratch_dir);
    mkdir(path, 0700);
    static const char *const pems[] = {"server.pem", "gateway-client.pem", "mesh-ca.pem"};
    static const char *const keys[] = {"server.key", "gateway-client.key"};
    for (size_t i = 0; i < sizeof(pems) / sizeof(pems[0]); ++i) {
        snprintf(path, sizeof(path), "certs/%s", pems[i]);
        scratch_write(path,
                      "-----BEGIN CERTIFICATE-----\nnot parsed by the loader\n-----END CERTIFICATE-----\n");
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); ++i) {
        snprintf(path, sizeof(path), "certs/%s", keys[i]);
        scratch_write(path, "-----BEGIN PRIVATE KEY-----\n" SCRATCH_SECRET "\n-----END PRIVATE KEY-----\n");
    }
    return 0;
}

static int scratch_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Loads yaml as if it were scratch_dir/test.yaml. */
static gw_config_t *load_text(const char *yaml, char *err)
{
    return gw_config_load_buffer(scratch_config, yaml, strlen(yaml), err);
}

/* Loads yaml and fails the test with the error when it does not load. */
static inline gw_config_t *load_ok(const char *yaml)
{
    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = load_text(yaml, err);
    if (config == NULL)
        fail_msg("expected the config to load, got: %s", err);
    return config;
}

/* The summary gw_config_print_summary writes for config, malloc'd. */
static inline char *summary_of(const gw_config_t *config)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    gw_config_print_summary(config, fp);
    fclose(fp);
    return text;
}

/* Whether text holds the pieces of pattern (split at '*') in order. */
static inline int matches_pieces(const char *text, const char *pattern)
{
    char piece[512];
    const char *p = pattern;
    while (*p != '\0') {
        const char *star = strchr(p, '*');
        size_t len = star != NULL ? (size_t)(star - p) : strlen(p);
        if (len >= sizeof(piece))
            return 0;
        memcpy(piece, p, len);
        piece[len] = '\0';
        const char *at = strstr(text, piece);
        if (at == NULL)
            return 0;
        text = at + len;
        p += len + (star != NULL);
    }
    return 1;
}

/* One row of a table of configs that must not load: the YAML and the error pattern it must give. */
typedef struct {
    const char *name;
    const char *yaml;
    const char *error;
} row_t;

/* Loads every row; each must fail with its error (FILE:LINE:COL first), in one line, never showing key
 * material. Reports every failing row, then fails the test. */
static inline void check_error_rows(const row_t *rows, size_t count)
{
    size_t failures = 0;
    for (size_t i = 0; i < count; ++i) {
        char err[GW_CONFIG_ERROR_SIZE] = "";
        gw_config_t *config = load_text(rows[i].yaml, err);
        if (config != NULL) {
            print_error("row \"%s\": loaded, expected %s\n", rows[i].name, rows[i].error);
            gw_config_release(config);
            ++failures;
        } else if (!matches_pieces(err, rows[i].error) ||
                   strncmp(err, scratch_config, strlen(scratch_config)) != 0 || strchr(err, '\n') != NULL ||
                   strstr(err, SCRATCH_SECRET) != NULL) {
            print_error("row \"%s\":\n  got  %s\n  want %s\n", rows[i].name, err, rows[i].error);
            ++failures;
        }
    }
    if (failures > 0)
        fail_msg("%zu of %zu rows failed", failures, count);
}

#endif
