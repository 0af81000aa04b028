/* Store front end: URL parsing, options, argument checks, key prefixes, dispatch to a backend. */
#include "authservice/store.h"

#include "util/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "store_int.h"

#define URL_MAX 4096
#define SECRET_MAX 4096
#define MASTER_NAME_MAX 128

const char *as_store_status_text(as_store_status_t status)
{
    switch (status) {
    case AS_STORE_OK:
        return "ok";
    case AS_STORE_NOT_FOUND:
        return "not_found";
    case AS_STORE_EXISTS:
        return "exists";
    case AS_STORE_UNAVAILABLE:
        return "unavailable";
    case AS_STORE_TIMEOUT:
        return "timeout";
    case AS_STORE_ERROR:
        return "error";
    }
    return "unknown";
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err, errlen, fmt, args);
        va_end(args);
    }
    return -1;
}

/* ---- URL parsing ---- */

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 3986 userinfo characters other than ':' and '%' (unreserved and sub-delims). */
static int is_userinfo_char(char c)
{
    return is_alnum(c) || strchr("-._~!$&'()*+,;=", c) != NULL;
}

/* Percent-decodes [p, end) into a fresh string; -1 on a bad escape, a decoded control byte or a raw
 * character that should have been encoded. */
static int decode_userinfo_part(const char *p, const char *end, char **out)
{
    char *dst = malloc((size_t)(end - p) + 1);
    if (dst == NULL)
        return -1;
    size_t n = 0;
    while (p < end) {
        char c = *p;
        if (c == '%') {
            int hi = end - p >= 3 ? tg_hex_digit(p[1]) : -1;
            int lo = end - p >= 3 ? tg_hex_digit(p[2]) : -1;
            if (hi < 0 || lo < 0)
                goto bad;
            c = (char)(hi * 16 + lo);
            if ((unsigned char)c < 0x20 || c == 0x7f)
                goto bad;
            p += 3;
        } else if (is_userinfo_char(c) || c == ':') {
            ++p;
        } else {
            goto bad;
        }
        dst[n++] = c;
    }
    dst[n] = '\0';
    *out = dst;
    return 0;
bad:
    explicit_bzero(dst, n);
    free(dst);
    return -1;
}

/* Decimal without sign or leading zeros, at most max. */
static int parse_number(const char *p, const char *end, unsigned long max, unsigned long *out)
{
    if (p == end || end - p > 10 || (*p == '0' && end - p > 1))
        return -1;
    unsigned long v = 0;
    for (; p < end; ++p) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static int valid_host_name(const char *p, const char *end)
{
    size_t len = (size_t)(end - p);
    if (len == 0 || len > 253 || *p == '.' || *p == '-' || end[-1] == '.' || end[-1] == '-')
        return 0;
    for (const char *q = p; q < end; ++q) {
        if (!(is_alnum(*q) || *q == '-' || *q == '.'))
            return 0;
        if (*q == '.' && q + 1 < end && q[1] == '.')
            return 0;
    }
    return 1;
}

/* One host[:port] or [v6][:port] in [p, end). */
static int parse_host(const char *p, const char *end, unsigned index, uint16_t default_port,
                      as_store_url_t *out, char *err, size_t errlen)
{
    const char *host = p, *host_end, *after;
    if (p == end)
        return fail(err, errlen, "store URL: host %u is empty", index);
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        char v6[64];
        unsigned char addr[16];
        if (close == NULL || (size_t)(close - p - 1) >= sizeof(v6))
            return fail(err, errlen, "store URL: host %u has an unterminated or oversized IPv6 literal",
                        index);
        memcpy(v6, p + 1, (size_t)(close - p - 1));
        v6[close - p - 1] = '\0';
        if (inet_pton(AF_INET6, v6, addr) != 1)
            return fail(err, errlen, "store URL: host %u is not a valid IPv6 address", index);
        host = p + 1;
        host_end = close;
        after = close + 1;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        host_end = colon != NULL ? colon : end;
        if (!valid_host_name(p, host_end))
            return fail(err, errlen, "store URL: host %u is not a valid host name or IPv4 address", index);
        after = host_end;
    }
    unsigned long port = default_port;
    if (after < end) {
        if (*after != ':')
            return fail(err, errlen, "store URL: unexpected character after host %u", index);
        if (parse_number(after + 1, end, 65535, &port) != 0 || port == 0)
            return fail(err, errlen, "store URL: port of host %u must be a number from 1 to 65535", index);
    }
    size_t i = out->host_count;
    out->hosts[i].host = strndup(host, (size_t)(host_end - host));
    if (out->hosts[i].host == NULL)
        return fail(err, errlen, "store URL: out of memory");
    out->hosts[i].port = (uint16_t)port;
    out->host_count = i + 1;
    return 0;
}

static int parse_db(const char *p, const char *end, as_store_url_t *out, char *err, size_t errlen)
{
    unsigned long db;
    if (p == end)
        return fail(err, errlen, "store URL: empty database number after '/'");
    if (parse_number(p, end, 65535, &db) != 0)
        return fail(err, errlen, "store URL: database must be a number from 0 to 65535");
    out->db = (unsigned)db;
    return 0;
}

static int parse_sqlite(const char *rest, as_store_url_t *out, char *err, size_t errlen)
{
    const char *path = rest;
    if (strncmp(rest, "//", 2) == 0) {
        if (rest[2] != '/')
            return fail(err, errlen,
                        "sqlite URL has a host part: write sqlite:///absolute/path or sqlite:relative/path");
        path = rest + 2;
    }
    if (*path == '\0')
        return fail(err, errlen, "sqlite URL has no file path");
    if (strpbrk(path, "?#") != NULL)
        return fail(err, errlen, "sqlite URL must not have a query or fragment");
    if (path[strlen(path) - 1] == '/')
        return fail(err, errlen, "sqlite URL names a directory, not a file");
    if (*path == ':' || strncasecmp(path, "file:", 5) == 0)
        return fail(err, errlen,
                    "sqlite URL must name a file (no :memory: or file: URIs; workers share the file)");
    out->kind = AS_STORE_URL_SQLITE;
    out->path = strdup(path);
    return out->path != NULL ? 0 : fail(err, errlen, "store URL: out of memory");
}

/* redis:// and redis+sentinel:// after the "://". */
static int parse_redis(const char *rest, int sentinel, as_store_url_t *out, char *err, size_t errlen)
{
    const char *slash = strchr(rest, '/');
    const char *auth_end = slash != NULL ? slash : rest + strlen(rest);
    const char *at = memchr(rest, '@', (size_t)(auth_end - rest));
    const char *hosts = rest;

    if (strchr(rest, '?') != NULL || strchr(rest, '#') != NULL)
        return fail(err, errlen, "store URL: query parameters and fragments are not supported");
    if (slash != NULL && strchr(slash, '@') != NULL)
        return fail(err, errlen, "store URL: '@' after the host; percent-encode '/' and '@' in a password");
    if (at != NULL) {
        if (memchr(at + 1, '@', (size_t)(auth_end - at - 1)) != NULL)
            return fail(err, errlen,
                        "store URL: more than one '@'; percent-encode '@' in a password as %%40");
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        if (colon == NULL)
            return fail(err, errlen, "store URL: credentials must be ':password@' or 'user:password@'");
        if (colon == at - 1)
            return fail(err, errlen, "store URL: empty password");
        if (colon > rest && decode_userinfo_part(rest, colon, &out->username) != 0)
            return fail(err, errlen, "store URL: invalid character or percent-encoding in the user name");
        if (decode_userinfo_part(colon + 1, at, &out->password) != 0)
            return fail(err, errlen,
                        "store URL: invalid character or percent-encoding in the password "
                        "(percent-encode reserved characters)");
        hosts = at + 1;
    }

    uint16_t default_port = sentinel ? 26379 : 6379;
    unsigned index = 1;
    for (const char *p = hosts;; ++index) {
        const char *comma = memchr(p, ',', (size_t)(auth_end - p));
        const char *host_end = comma != NULL ? comma : auth_end;
        if (!sentinel && comma != NULL)
            return fail(err, errlen, "store URL: redis:// takes one host; use redis+sentinel:// for several");
        if (out->host_count == AS_STORE_URL_MAX_HOSTS)
            return fail(err, errlen, "store URL: more than %d hosts", AS_STORE_URL_MAX_HOSTS);
        if (parse_host(p, host_end, index, default_port, out, err, errlen) != 0)
            return -1;
        if (comma == NULL)
            break;
        p = comma + 1;
    }

    if (!sentinel) {
        out->kind = AS_STORE_URL_REDIS;
        return slash != NULL ? parse_db(slash + 1, slash + strlen(slash), out, err, errlen) : 0;
    }
    out->kind = AS_STORE_URL_SENTINEL;
    if (slash == NULL || slash[1] == '\0')
        return fail(err, errlen, "store URL: redis+sentinel:// needs the master name: .../mastername[/db]");
    const char *name = slash + 1;
    const char *name_end = strchr(name, '/');
    if (name_end == NULL)
        name_end = name + strlen(name);
    if (name_end - name > MASTER_NAME_MAX)
        return fail(err, errlen, "store URL: master name longer than %d bytes", MASTER_NAME_MAX);
    for (const char *q = name; q < name_end; ++q)
        if (!(is_alnum(*q) || *q == '-' || *q == '_' || *q == '.'))
            return fail(err, errlen,
                        "store URL: master name may hold only letters, digits, '-', '_' and '.'");
    if (name_end == name)
        return fail(err, errlen, "store URL: empty master name");
    out->master_name = strndup(name, (size_t)(name_end - name));
    if (out->master_name == NULL)
        return fail(err, errlen, "store URL: out of memory");
    return *name_end == '/' ? parse_db(name_end + 1, name_end + strlen(name_end), out, err, errlen) : 0;
}

int as_store_url_parse(const char *url, as_store_url_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (url == NULL || *url == '\0')
        return fail(err, errlen, "store URL is empty");
    size_t len = strnlen(url, URL_MAX + 1);
    if (len > URL_MAX)
        return fail(err, errlen, "store URL is longer than %d bytes", URL_MAX);
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return fail(err, errlen, "store URL has a space, control or non-ASCII byte at offset %zu", i);
    }

    int rc;
    if (strncasecmp(url, "sqlite:", 7) == 0) {
        rc = parse_sqlite(url + 7, out, err, errlen);
    } else if (strncasecmp(url, "redis://", 8) == 0) {
        rc = parse_redis(url + 8, 0, out, err, errlen);
    } else if (strncasecmp(url, "redis+sentinel://", 17) == 0) {
        rc = parse_redis(url + 17, 1, out, err, errlen);
    } else if (strncasecmp(url, "rediss://", 9) == 0) {
        rc = fail(err, errlen, "store URL: rediss:// (TLS) is not supported (hiredis 0.14 has no TLS)");
    } else {
        size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
        if (scheme > 0 && scheme <= 16 && url[scheme] == ':')
            rc = fail(err, errlen,
                      "store URL scheme '%.*s' is not supported (use sqlite:, redis:// or "
                      "redis+sentinel://)",
                      (int)scheme, url);
        else
            rc = fail(err, errlen, "store URL has no scheme (use sqlite:, redis:// or redis+sentinel://)");
    }
    if (rc != 0) {
        as_store_url_free(out);
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

void as_store_url_free(as_store_url_t *url)
{
    if (url == NULL)
        return;
    free(url->path);
    for (size_t i = 0; i < url->host_count; ++i)
        free(url->hosts[i].host);
    free(url->master_name);
    free(url->username);
    as__store_secret_free(url->password);
    memset(url, 0, sizeof(*url));
}

/* ---- secrets ---- */

char *as__store_read_secret_file(const char *path, char *err, size_t errlen)
{
    char buf[SECRET_MAX + 3];
    size_t len = 0;
    char *secret = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        fail(err, errlen, "cannot open password file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(err, errlen, "password file %s is not a regular file", path);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail(err, errlen, "cannot read password file %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf)) {
            fail(err, errlen, "password file %s is longer than %d bytes", path, SECRET_MAX);
            goto out;
        }
    }
    if (len > 0 && buf[len - 1] == '\n')
        --len;
    if (len > 0 && buf[len - 1] == '\r')
        --len;
    if (len == 0) {
        fail(err, errlen, "password file %s is empty", path);
        goto out;
    }
    if (len > SECRET_MAX) {
        fail(err, errlen, "password file %s is longer than %d bytes", path, SECRET_MAX);
        goto out;
    }
    for (size_t i = 0; i < len; ++i) {
        if (buf[i] == '\0' || buf[i] == '\r' || buf[i] == '\n') {
            fail(err, errlen, "password file %s must hold one line (the password) and no NUL byte", path);
            goto out;
        }
    }
    secret = malloc(len + 1);
    if (secret == NULL) {
        fail(err, errlen, "out of memory reading password file %s", path);
        goto out;
    }
    memcpy(secret, buf, len);
    secret[len] = '\0';
out:
    explicit_bzero(buf, sizeof(buf));
    close(fd);
    return secret;
}

void as__store_secret_free(char *secret)
{
    if (secret == NULL)
        return;
    explicit_bzero(secret, strlen(secret));
    free(secret);
}

/* ---- open / close ---- */

static int printable_no_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; ++i)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static uint32_t or_default(uint32_t value, uint32_t fallback)
{
    return value != 0 ? value : fallback;
}

static int make_config(const as_store_options_t *o, as__store_config_t *c, char *err, size_t errlen)
{
    static const as_store_options_t none;
    if (o == NULL)
        o = &none;
    c->password_file = o->password_file;
    c->command_timeout_ms = or_default(o->command_timeout_ms, 200);
    c->connect_timeout_ms = or_default(o->connect_timeout_ms, 500);
    c->reconnect_min_ms = or_default(o->reconnect_min_ms, 100);
    c->reconnect_max_ms = or_default(o->reconnect_max_ms, 5000);
    c->max_pending = or_default(o->max_pending, 4096);
    c->busy_timeout_ms = or_default(o->busy_timeout_ms, 50);
    c->purge_interval_ms = or_default(o->purge_interval_ms, 60000);
    c->purge_batch = or_default(o->purge_batch, 500);
    if (c->password_file != NULL && *c->password_file == '\0')
        return fail(err, errlen, "store options: password_file is empty");
    if (c->command_timeout_ms > 60000 || c->connect_timeout_ms > 60000)
        return fail(err, errlen, "store options: timeouts must be at most 60000 ms");
    if (c->reconnect_min_ms < 10 || c->reconnect_min_ms > c->reconnect_max_ms || c->reconnect_max_ms > 600000)
        return fail(err, errlen, "store options: need 10 <= reconnect_min_ms <= reconnect_max_ms <= 600000");
    if (c->busy_timeout_ms > 10000)
        return fail(err, errlen, "store options: busy_timeout_ms must be at most 10000");
    if (c->max_pending > 1000000 || c->purge_batch > 100000)
        return fail(err, errlen, "store options: max_pending or purge_batch too large");
    return 0;
}

int as_store_open(const char *url, const as_store_options_t *options, uv_loop_t *loop, as_store_t **out,
                  char *err, size_t errlen)
{
    as_store_url_t parsed;
    as__store_config_t config;
    const char *prefix =
        options != NULL && options->key_prefix != NULL ? options->key_prefix : AS_STORE_DEFAULT_PREFIX;
    size_t prefix_len = strnlen(prefix, AS_STORE_MAX_PREFIX + 1);
    int rc;

    if (out == NULL)
        return fail(err, errlen, "as_store_open: no output handle");
    *out = NULL;
    if (loop == NULL)
        return fail(err, errlen, "as_store_open: no loop");
    if (prefix_len > AS_STORE_MAX_PREFIX || !printable_no_space(prefix, prefix_len))
        return fail(err, errlen,
                    "store options: key_prefix must be at most %d printable characters, no spaces",
                    AS_STORE_MAX_PREFIX);
    if (make_config(options, &config, err, errlen) != 0)
        return -1;
    if (as_store_url_parse(url, &parsed, err, errlen) != 0)
        return -1;
    if (parsed.kind == AS_STORE_URL_SQLITE) {
        rc = config.password_file != NULL
                 ? fail(err, errlen, "store options: password_file applies to redis only")
                 : as__store_sqlite_open(&parsed, &config, loop, out, err, errlen);
    } else if (config.password_file != NULL && parsed.password != NULL) {
        rc = fail(err, errlen, "store: the URL has a password and password_file is set; keep only the file");
    } else {
        rc = as__store_redis_open(&parsed, &config, loop, out, err, errlen);
    }
    as_store_url_free(&parsed);
    if (rc != 0) {
        *out = NULL;
        return -1;
    }
    (*out)->loop = loop;
    memcpy((*out)->prefix, prefix, prefix_len);
    (*out)->prefix[prefix_len] = '\0';
    (*out)->prefix_len = prefix_len;
    return 0;
}

void as_store_close(as_store_t *store)
{
    if (store != NULL)
        store->ops->close(store);
}

const char *as_store_backend(const as_store_t *store)
{
    return store->ops->name;
}

/* ---- ops ---- */

/* A prefixed key: short ones on the stack, long ones on the heap. */
typedef struct {
    char *key;
    char stack[256];
} key_buf_t;

static int key_prepare(as_store_t *s, const char *key, key_buf_t *kb)
{
    if (s == NULL || key == NULL)
        return -1;
    size_t len = strnlen(key, AS_STORE_MAX_KEY + 1);
    if (len == 0 || len > AS_STORE_MAX_KEY || !printable_no_space(key, len))
        return -1;
    size_t total = s->prefix_len + len + 1;
    kb->key = total <= sizeof(kb->stack) ? kb->stack : malloc(total);
    if (kb->key == NULL)
        return -1;
    memcpy(kb->key, s->prefix, s->prefix_len);
    memcpy(kb->key + s->prefix_len, key, len + 1);
    return 0;
}

/* Touches only kb: the store may be gone after a callback closed it. */
static void key_release(key_buf_t *kb)
{
    if (kb->key != kb->stack)
        free(kb->key);
}

static int value_ok(const void *value, size_t len, uint64_t ttl_ms)
{
    return (value != NULL || len == 0) && len <= AS_STORE_MAX_VALUE && ttl_ms > 0 &&
           ttl_ms <= AS_STORE_MAX_TTL_MS;
}

static int member_ok(const char *member)
{
    if (member == NULL)
        return 0;
    size_t len = strnlen(member, AS_STORE_MAX_MEMBER + 1);
    return len > 0 && len <= AS_STORE_MAX_MEMBER;
}

int as_store_get(as_store_t *store, const char *key, as_store_cb cb, void *data)
{
    key_buf_t kb;
    if (cb == NULL || key_prepare(store, key, &kb) != 0)
        return -1;
    int rc = store->ops->get(store, kb.key, cb, data);
    key_release(&kb);
    return rc;
}

int as_store_set(as_store_t *store, const char *key, const void *value, size_t len, uint64_t ttl_ms,
                 as_store_cb cb, void *data)
{
    key_buf_t kb;
    if (cb == NULL || !value_ok(value, len, ttl_ms) || key_prepare(store, key, &kb) != 0)
        return -1;
    int rc = store->ops->set(store, kb.key, len > 0 ? value : "", len, ttl_ms, cb, data);
    key_release(&kb);
    return rc;
}

int as_store_add(as_store_t *store, const char *key, const void *value, size_t len, uint64_t ttl_ms,
                 as_store_cb cb, void *data)
{
    key_buf_t kb;
    if (cb == NULL || !value_ok(value, len, ttl_ms) || key_prepare(store, key, &kb) != 0)
        return -1;
    int rc = store->ops->add(store, kb.key, len > 0 ? value : "", len, ttl_ms, cb, data);
    key_release(&kb);
    return rc;
}

int as_store_take(as_store_t *store, const char *key, as_store_cb cb, void *data)
{
    key_buf_t kb;
    if (cb == NULL || key_prepare(store, key, &kb) != 0)
        return -1;
    int rc = store->ops->take(store, kb.key, cb, data);
    key_release(&kb);
    return rc;
}

int as_store_del(as_store_t *store, const char *key, as_store_cb cb, void *data)
{
    key_buf_t kb;
    if (cb == NULL || key_prepare(store, key, &kb) != 0)
        return -1;
    int rc = store->ops->del(store, kb.key, cb, data);
    key_release(&kb);
    return rc;
}

int as_store_set_add(as_store_t *store, const char *set, const char *member, uint64_t ttl_ms, as_store_cb cb,
                     void *data)
{
    key_buf_t kb;
    if (cb == NULL || !member_ok(member) || ttl_ms == 0 || ttl_ms > AS_STORE_MAX_TTL_MS ||
        key_prepare(store, set, &kb) != 0)
        return -1;
    int rc = store->ops->set_add(store, kb.key, member, ttl_ms, cb, data);
    key_release(&kb);
    return rc;
}

int as_store_set_remove(as_store_t *store, const char *set, const char *member, as_store_cb cb, void *data)
{
    key_buf_t kb;
    if (cb == NULL || !member_ok(member) || key_prepare(store, set, &kb) != 0)
        return -1;
    int rc = store->ops->set_remove(store, kb.key, member, cb, data);
    key_release(&kb);
    return rc;
}

int as_store_set_members(as_store_t *store, const char *set, as_store_members_cb cb, void *data)
{
    key_buf_t kb;
    if (cb == NULL || key_prepare(store, set, &kb) != 0)
        return -1;
    int rc = store->ops->set_members(store, kb.key, cb, data);
    key_release(&kb);
    return rc;
}
