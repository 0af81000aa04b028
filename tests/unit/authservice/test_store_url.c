/* Store URL parsing and password files: what is accepted, what is refused with which message, and that no
 * message ever carries the password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "authservice/store.h"

#include "../../../authservice/store_int.h"

typedef struct {
    const char *url;
    as_store_url_kind_t kind;
    const char *path;   /* sqlite */
    const char *hosts;  /* "h:p,h:p" */
    const char *master; /* sentinel */
    const char *user;
    const char *password;
    unsigned db;
} good_case_t;

#define SQLITE(u, p)                                                                                         \
    {                                                                                                        \
        .url = u, .kind = AS_STORE_URL_SQLITE, .path = p                                                     \
    }
#define REDIS(u, h, ...)                                                                                     \
    {                                                                                                        \
        .url = u, .kind = AS_STORE_URL_REDIS, .hosts = h, __VA_ARGS__                                        \
    }
#define SENTINEL(u, h, m, ...)                                                                               \
    {                                                                                                        \
        .url = u, .kind = AS_STORE_URL_SENTINEL, .hosts = h, .master = m, __VA_ARGS__                        \
    }

static const good_case_t good_cases[] = {
    SQLITE("sqlite:///var/lib/tenantgate/sessions.db", "/var/lib/tenantgate/sessions.db"),
    SQLITE("sqlite:relative/sessions.db", "relative/sessions.db"),
    SQLITE("sqlite:sessions.db", "sessions.db"),
    SQLITE("SQLite:///x.db", "/x.db"),
    REDIS("redis://127.0.0.1:6379", "127.0.0.1:6379", .db = 0),
    REDIS("redis://redis.auth.svc.cluster.local", "redis.auth.svc.cluster.local:6379", .db = 0),
    REDIS("redis://h:7000/0", "h:7000", .db = 0),
    REDIS("redis://h:7000/15", "h:7000", .db = 15),
    REDIS("redis://[::1]:6380/2", "::1:6380", .db = 2),
    REDIS("redis://[fe80::1]", "fe80::1:6379", .db = 0),
    REDIS("redis://:s3cret@h:1", "h:1", .password = "s3cret"),
    REDIS("redis://app:s3cret@h:1/4", "h:1", .user = "app", .password = "s3cret", .db = 4),
    REDIS("redis://:p%40ss%2Fw%3Ard%25@h", "h:6379", .password = "p@ss/w:rd%"),
    REDIS("redis://:a:b!$&'()*+,;=-._~@h", "h:6379", .password = "a:b!$&'()*+,;=-._~"),
    SENTINEL("redis+sentinel://s1:26379,s2:26380,10.0.0.3/mymaster", "s1:26379,s2:26380,10.0.0.3:26379",
             "mymaster", .db = 0),
    SENTINEL("redis+sentinel://:pw@s1/my-master.1_x/7", "s1:26379", "my-master.1_x", .password = "pw",
             .db = 7),
    SENTINEL("redis+sentinel://a,b,c,d,e,f,g,h/m",
             "a:26379,b:26379,c:26379,d:26379,e:26379,f:26379,g:26379,h:26379", "m", .db = 0),
};

static void hosts_text(const as_store_url_t *u, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < u->host_count; ++i)
        n += (size_t)snprintf(out + n, size - n, "%s%s:%u", i ? "," : "", u->hosts[i].host, u->hosts[i].port);
}

static void test_url_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); ++i) {
        const good_case_t *c = &good_cases[i];
        as_store_url_t u;
        char err[256] = "", hosts[512];
        if (as_store_url_parse(c->url, &u, err, sizeof(err)) != 0)
            fail_msg("case %zu (%s) refused: %s", i, c->url, err);
        assert_int_equal(u.kind, c->kind);
        if (c->path != NULL)
            assert_string_equal(u.path, c->path);
        else
            assert_null(u.path);
        hosts_text(&u, hosts, sizeof(hosts));
        assert_string_equal(hosts, c->hosts != NULL ? c->hosts : "");
        if (c->master != NULL)
            assert_string_equal(u.master_name, c->master);
        else
            assert_null(u.master_name);
        if (c->user != NULL)
            assert_string_equal(u.username, c->user);
        else
            assert_null(u.username);
        if (c->password != NULL)
            assert_string_equal(u.password, c->password);
        else
            assert_null(u.password);
        assert_int_equal(u.db, c->db);
        as_store_url_free(&u);
        assert_null(u.password);
    }
}

typedef struct {
    const char *url;
    const char *message; /* a part of the expected error */
} bad_case_t;

/* Every password here is "SECRETPW" (or a part of it): no message may contain it. */
static const bad_case_t bad_cases[] = {
    {"", "empty"},
    {NULL, "empty"},
    {"sessions.db", "no scheme"},
    {"http://h", "scheme 'http' is not supported"},
    {"rediss://:SECRETPW@h", "TLS"},
    {"redis+unix:///tmp/r.sock", "not supported"},
    {"redis://h h", "space"},
    {"redis://:SECRETPW@h\n", "control"},
    {"redis://:SECRET\xc3\xa9PW@h", "non-ASCII"},
    {"sqlite:", "no file path"},
    {"sqlite://", "host part"},
    {"sqlite://host/x.db", "host part"},
    {"sqlite:///", "directory"},
    {"sqlite:///var/lib/", "directory"},
    {"sqlite:///x.db?mode=ro", "query"},
    {"sqlite::memory:", ":memory:"},
    {"sqlite:file:x.db", "file:"},
    {"redis://", "host 1 is empty"},
    {"redis:///0", "host 1 is empty"},
    {"redis://:SECRETPW@", "host 1 is empty"},
    {"redis://h:", "port of host 1"},
    {"redis://h:0", "port of host 1"},
    {"redis://h:65536", "port of host 1"},
    {"redis://h:06379", "port of host 1"},
    {"redis://h:+1", "port of host 1"},
    {"redis://h:12ab", "port of host 1"},
    {"redis://-h", "host 1 is not a valid"},
    {"redis://h..x", "host 1 is not a valid"},
    {"redis://h_x", "host 1 is not a valid"},
    {"redis://[::1", "IPv6"},
    {"redis://[zz::1]", "IPv6"},
    {"redis://[::1]x", "after host 1"},
    {"redis://h/", "empty database"},
    {"redis://h/x", "database must be a number"},
    {"redis://h/0/1", "database must be a number"},
    {"redis://h/65536", "database must be a number"},
    {"redis://h/01", "database must be a number"},
    {"redis://h?db=1", "query"},
    {"redis://h#x", "query"},
    {"redis://a,b", "one host"},
    {"redis://SECRETPW@h", "credentials must be"},
    {"redis://:@h", "empty password"},
    {"redis://:SECRET@PW@h", "more than one '@'"},
    {"redis://:SECRET/PW@h", "'@' after the host"},
    {"redis://:SECRET%zzPW@h", "percent-encoding in the password"},
    {"redis://:SECRET%0aPW@h", "percent-encoding in the password"},
    {"redis://:SECRET%PW@h", "percent-encoding in the password"},
    {"redis://:SECRET\"PW@h", "percent-encoding in the password"},
    {"redis://:SECRET[PW@h", "percent-encoding in the password"},
    {"redis://u%zz:SECRETPW@h", "user name"},
    {"redis+sentinel://s1", "master name"},
    {"redis+sentinel://s1/", "master name"},
    {"redis+sentinel://s1//0", "empty master name"},
    {"redis+sentinel://s1/m/", "empty database"},
    {"redis+sentinel://s1/m!x", "master name may hold"},
    {"redis+sentinel://s1,/m", "host 2 is empty"},
    {"redis+sentinel://,s1/m", "host 1 is empty"},
    {"redis+sentinel://a,b,c,d,e,f,g,h,i/m", "more than 8 hosts"},
    {"redis+sentinel://:SECRETPW@s1:99999/m", "port of host 1"},
};

static void test_url_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); ++i) {
        const bad_case_t *c = &bad_cases[i];
        as_store_url_t u;
        char err[256] = "";
        memset(&u, 0x5a, sizeof(u));
        if (as_store_url_parse(c->url, &u, err, sizeof(err)) == 0)
            fail_msg("case %zu (%s) accepted", i, c->url != NULL ? c->url : "NULL");
        if (strstr(err, c->message) == NULL)
            fail_msg("case %zu (%s): error \"%s\" lacks \"%s\"", i, c->url, err, c->message);
        if (strstr(err, "SECRET") != NULL || strstr(err, "PW@") != NULL)
            fail_msg("case %zu: error \"%s\" leaks the password", i, err);
        /* nothing is left owned */
        assert_null(u.path);
        assert_null(u.password);
        assert_int_equal(u.host_count, 0);
    }
}

static void test_url_longest(void **state)
{
    (void)state;
    char url[4200], err[256];
    as_store_url_t u;
    memset(url, 'a', sizeof(url));
    memcpy(url, "sqlite:/", 8);
    url[4096] = '\0';
    assert_int_equal(as_store_url_parse(url, &u, err, sizeof(err)), 0);
    as_store_url_free(&u);
    url[4096] = 'a';
    url[4097] = '\0';
    assert_int_equal(as_store_url_parse(url, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than 4096"));
    /* a small error buffer truncates, never overflows */
    char tiny[8];
    assert_int_equal(as_store_url_parse("redis://h/x", &u, tiny, sizeof(tiny)), -1);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    assert_int_equal(as_store_url_parse("redis://h/x", &u, NULL, 0), -1);
}

/* ---- password files
 * ------------------------------------------------------------------------------------------ */

typedef struct {
    const char *content;
    size_t len;
    const char *secret;  /* NULL: refused */
    const char *message; /* part of the error when refused */
} secret_case_t;

#define S(x) x, sizeof(x) - 1

static const secret_case_t secret_cases[] = {
    {S("SECRETPW"), "SECRETPW", NULL},
    {S("SECRETPW\n"), "SECRETPW", NULL},
    {S("SECRETPW\r\n"), "SECRETPW", NULL},
    {S("SECRET PW with spaces\n"), "SECRET PW with spaces", NULL},
    {S(""), NULL, "is empty"},
    {S("\n"), NULL, "is empty"},
    {S("SECRETPW\n\n"), NULL, "one line"},
    {S("SECRETPW\nmore\n"), NULL, "one line"},
    {S("SECRET\0PW"), NULL, "NUL"},
    {S("SECRET\rPW"), NULL, "one line"},
};

static void test_secret_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/tg-store-url-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/password", dir);
    for (size_t i = 0; i < sizeof(secret_cases) / sizeof(secret_cases[0]); ++i) {
        const secret_case_t *c = &secret_cases[i];
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, c->content, c->len), (ssize_t)c->len);
        close(fd);
        err[0] = '\0';
        char *secret = as__store_read_secret_file(path, err, sizeof(err));
        if (c->secret != NULL) {
            if (secret == NULL)
                fail_msg("case %zu refused: %s", i, err);
            assert_string_equal(secret, c->secret);
        } else {
            if (secret != NULL)
                fail_msg("case %zu accepted", i);
            if (strstr(err, c->message) == NULL)
                fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, c->message);
            assert_null(strstr(err, "SECRET"));
            assert_non_null(strstr(err, path)); /* names the file */
        }
        as__store_secret_free(secret);
    }
    /* too long: 4096 bytes is the limit */
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, 'x', 5000);
    for (size_t len = 4096; len <= 4097; ++len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_int_equal(write(fd, big, len), (ssize_t)len);
        close(fd);
        char *secret = as__store_read_secret_file(path, err, sizeof(err));
        if (len == 4096) {
            assert_non_null(secret);
            assert_int_equal(strlen(secret), 4096);
        } else {
            assert_null(secret);
            assert_non_null(strstr(err, "longer than 4096"));
        }
        as__store_secret_free(secret);
    }
    free(big);
    unlink(path);
    assert_null(as__store_read_secret_file(path, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot open"));
    assert_null(as__store_read_secret_file(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "not a regular file"));
    rmdir(dir);
    as__store_secret_free(NULL);
}

/* Options are checked before anything is opened or connected. */
static void test_open_refuses_bad_options(void **state)
{
    (void)state;
    uv_loop_t loop;
    as_store_t *s = (as_store_t *)1;
    char err[256];
    assert_int_equal(uv_loop_init(&loop), 0);
    static const struct {
        as_store_options_t options;
        const char *message;
    } cases[] = {
        {{.key_prefix = "a b"}, "key_prefix"},
        {{.key_prefix = "\x01"}, "key_prefix"},
        {{.password_file = ""}, "password_file is empty"},
        {{.command_timeout_ms = 60001}, "timeouts"},
        {{.connect_timeout_ms = 60001}, "timeouts"},
        {{.reconnect_min_ms = 500, .reconnect_max_ms = 100}, "reconnect_min_ms"},
        {{.reconnect_min_ms = 5}, "reconnect_min_ms"},
        {{.busy_timeout_ms = 10001}, "busy_timeout_ms"},
        {{.max_pending = 2000000}, "max_pending"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        err[0] = '\0';
        assert_int_equal(as_store_open("redis://127.0.0.1:1", &cases[i].options, &loop, &s, err, sizeof(err)),
                         -1);
        assert_null(s);
        if (strstr(err, cases[i].message) == NULL)
            fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, cases[i].message);
    }
    char prefix[AS_STORE_MAX_PREFIX + 2];
    memset(prefix, 'p', sizeof(prefix) - 1);
    prefix[sizeof(prefix) - 1] = '\0';
    as_store_options_t long_prefix = {.key_prefix = prefix};
    assert_int_equal(as_store_open("redis://127.0.0.1:1", &long_prefix, &loop, &s, err, sizeof(err)), -1);
    assert_int_equal(as_store_open("redis://127.0.0.1:1", NULL, &loop, NULL, err, sizeof(err)), -1);
    as_store_options_t missing = {.password_file = "/nonexistent/tg-password"};
    assert_int_equal(as_store_open("redis://127.0.0.1:1", &missing, &loop, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/tg-password"));
    assert_int_equal(as_store_open("redis://h:1/x", NULL, &loop, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "database"));
    /* nothing was started on the loop */
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_good),
        cmocka_unit_test(test_url_bad),
        cmocka_unit_test(test_url_longest),
        cmocka_unit_test(test_secret_files),
        cmocka_unit_test(test_open_refuses_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
