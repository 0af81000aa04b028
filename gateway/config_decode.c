#include "config_decode.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- field paths and errors ---- */

static size_t path_append(gw__cfg_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_append(gw__cfg_t *c, const char *fmt, ...)
{
    size_t saved = c->path_len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->path_len, sizeof(c->path) - c->path_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->path_len += (size_t)n;
    if (c->path_len >= sizeof(c->path))
        c->path_len = sizeof(c->path) - 1;
    return saved;
}

size_t gw__cfg_push(gw__cfg_t *c, const char *field)
{
    return path_append(c, c->path_len == 0 ? "%s" : ".%s", field);
}

size_t gw__cfg_push_index(gw__cfg_t *c, size_t index)
{
    return path_append(c, "[%zu]", index);
}

void gw__cfg_pop(gw__cfg_t *c, size_t saved)
{
    c->path_len = saved;
    c->path[saved] = '\0';
}

const char *gw__cfg_path_copy(gw__cfg_t *c)
{
    return gw_arena_strndup(c->arena, c->path, c->path_len);
}

gw_config_mark_t gw__cfg_mark(const gw__cfg_t *c, const gw_yaml_node_t *node)
{
    return (gw_config_mark_t){.file = c->file, .line = node->line, .column = node->column};
}

static void report(gw__cfg_t *c, unsigned line, unsigned column, const char *path, const char *fmt,
                   va_list ap) __attribute__((format(printf, 5, 0)));

static void report(gw__cfg_t *c, unsigned line, unsigned column, const char *path, const char *fmt,
                   va_list ap)
{
    if (c->failed)
        return;
    c->failed = 1;
    if (c->err == NULL)
        return;
    int n = path != NULL && path[0] != '\0'
                ? snprintf(c->err, GW_CONFIG_ERROR_SIZE, "%s:%u:%u: %s: ", c->file, line, column, path)
                : snprintf(c->err, GW_CONFIG_ERROR_SIZE, "%s:%u:%u: ", c->file, line, column);
    if (n >= 0 && n < GW_CONFIG_ERROR_SIZE)
        vsnprintf(c->err + n, GW_CONFIG_ERROR_SIZE - (size_t)n, fmt, ap);
}

int gw__cfg_fail(gw__cfg_t *c, const gw_yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(c, node->line, node->column, c->path, fmt, ap);
    va_end(ap);
    return -1;
}

int gw__cfg_fail_at(gw__cfg_t *c, const gw_config_mark_t *mark, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(c, mark->line, mark->column, path, fmt, ap);
    va_end(ap);
    return -1;
}

int gw__cfg_fail_field(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, const char *message)
{
    size_t saved = gw__cfg_push(c, key);
    gw__cfg_fail(c, gw__cfg_get(map, key), "%s", message);
    gw__cfg_pop(c, saved);
    return -1;
}

int gw__cfg_missing(gw__cfg_t *c, const gw_yaml_node_t *map, const char *field)
{
    size_t saved = gw__cfg_push(c, field);
    gw__cfg_fail(c, map, "missing required field");
    gw__cfg_pop(c, saved);
    return -1;
}

const char *gw__cfg_show(char *dst, size_t size, const char *s)
{
    gw_yaml_printable(dst, size, s, strlen(s));
    return dst;
}

/* ---- shapes ---- */

static int expect(gw__cfg_t *c, const gw_yaml_node_t *node, gw_yaml_kind_t kind, const char *what)
{
    if (node->kind == kind && !(kind == GW_YAML_SCALAR && gw_yaml_is_null(node)))
        return 0;
    return gw__cfg_fail(c, node, "expected %s, got %s", what, gw_yaml_kind_name(node));
}

int gw__cfg_expect_map(gw__cfg_t *c, const gw_yaml_node_t *node)
{
    return expect(c, node, GW_YAML_MAP, "a map");
}

int gw__cfg_expect_list(gw__cfg_t *c, const gw_yaml_node_t *node)
{
    return expect(c, node, GW_YAML_LIST, "a list");
}

static int listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; ++i)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

int gw__cfg_fields(gw__cfg_t *c, const gw_yaml_node_t *node, const char *const *known,
                   const char *const *unsupported)
{
    if (gw__cfg_expect_map(c, node) != 0)
        return -1;
    for (size_t i = 0; i < node->count; ++i) {
        const gw_yaml_node_t *key = node->items[2 * i];
        if (listed(unsupported, key->value)) {
            size_t saved = gw__cfg_push(c, key->value);
            gw__cfg_fail(c, key, "not supported yet");
            gw__cfg_pop(c, saved);
            return -1;
        }
        if (!listed(known, key->value)) {
            char shown[80];
            return gw__cfg_fail(c, key, "unknown field \"%s\"",
                                gw__cfg_show(shown, sizeof(shown), key->value));
        }
    }
    return 0;
}

const gw_yaml_node_t *gw__cfg_get(const gw_yaml_node_t *map, const char *key)
{
    const gw_yaml_node_t *value = gw_yaml_map_get(map, key);
    return value == NULL || gw_yaml_is_null(value) ? NULL : value;
}

/* ---- node readers ---- */

int gw__cfg_node_string(gw__cfg_t *c, const gw_yaml_node_t *node, unsigned flags, char **out)
{
    if (expect(c, node, GW_YAML_SCALAR, "a string") != 0)
        return -1;
    for (size_t i = 0; i < node->len; ++i) {
        unsigned char ch = (unsigned char)node->value[i];
        if (ch < 0x20 || ch == 0x7f)
            return gw__cfg_fail(c, node, "must not contain control characters");
    }
    if (node->len == 0 && !(flags & GW__CFG_ALLOW_EMPTY))
        return gw__cfg_fail(c, node, "must not be empty");
    if ((*out = gw_arena_strndup(c->arena, node->value, node->len)) == NULL)
        return gw__cfg_fail(c, node, "out of memory");
    return 0;
}

static int parse_uint(const char *text, uint64_t *out)
{
    if (text[0] == '\0' || (text[0] == '0' && text[1] != '\0'))
        return -1;
    uint64_t value = 0;
    for (const char *p = text; *p != '\0'; ++p) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *out = value;
    return 0;
}

int gw__cfg_node_uint(gw__cfg_t *c, const gw_yaml_node_t *node, uint64_t min, uint64_t max, uint64_t *out)
{
    if (expect(c, node, GW_YAML_SCALAR, "an integer") != 0)
        return -1;
    uint64_t value;
    if (parse_uint(node->value, &value) != 0) {
        char shown[80];
        return gw__cfg_fail(c, node, "expected an integer, got \"%s\"",
                            gw__cfg_show(shown, sizeof(shown), node->value));
    }
    if (value < min || value > max)
        return gw__cfg_fail(c, node, "must be between %" PRIu64 " and %" PRIu64 " (got %" PRIu64 ")", min,
                            max, value);
    *out = value;
    return 0;
}

int gw__cfg_node_port(gw__cfg_t *c, const gw_yaml_node_t *node, uint16_t *out)
{
    if (expect(c, node, GW_YAML_SCALAR, "a port number") != 0)
        return -1;
    uint64_t value;
    if (parse_uint(node->value, &value) != 0 || value < 1 || value > 65535) {
        char shown[80];
        return gw__cfg_fail(c, node, "expected a port number 1..65535, got \"%s\"",
                            gw__cfg_show(shown, sizeof(shown), node->value));
    }
    *out = (uint16_t)value;
    return 0;
}

/* ---- field readers ---- */

/* Looks key up; returns 0 absent (or fails if required), 1 found with *node set, -1 error. */
static int lookup(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags,
                  const gw_yaml_node_t **node)
{
    *node = gw__cfg_get(map, key);
    if (*node != NULL)
        return 1;
    return flags & GW__CFG_REQUIRED ? gw__cfg_missing(c, map, key) : 0;
}

int gw__cfg_string(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, char **out)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_node_string(c, node, flags, out);
    gw__cfg_pop(c, saved);
    return rc == 0 ? 1 : -1;
}

int gw__cfg_uint(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, uint64_t min,
                 uint64_t max, uint64_t *out)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_node_uint(c, node, min, max, out);
    gw__cfg_pop(c, saved);
    return rc == 0 ? 1 : -1;
}

int gw__cfg_port(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, uint16_t *out)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_node_port(c, node, out);
    gw__cfg_pop(c, saved);
    return rc == 0 ? 1 : -1;
}

int gw__cfg_duration(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, uint64_t *ms)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = expect(c, node, GW_YAML_SCALAR, "a duration");
    if (rc == 0) {
        uint64_t value;
        char shown[80];
        const char *why = gw__cfg_parse_duration(node->value, &value);
        if (why != NULL)
            rc = gw__cfg_fail(c, node, "invalid duration \"%s\": %s",
                              gw__cfg_show(shown, sizeof(shown), node->value), why);
        else if (value == 0 && !(flags & GW__CFG_ALLOW_ZERO))
            rc = gw__cfg_fail(c, node, "must be longer than 0");
        else
            *ms = value;
    }
    gw__cfg_pop(c, saved);
    return rc == 0 ? 1 : -1;
}

int gw__cfg_bool(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, int *out)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = expect(c, node, GW_YAML_SCALAR, "true or false");
    if (rc == 0) {
        static const char *const yes[] = {"true", "True", "TRUE", NULL};
        static const char *const no[] = {"false", "False", "FALSE", NULL};
        char shown[80];
        if (listed(yes, node->value))
            *out = 1;
        else if (listed(no, node->value))
            *out = 0;
        else
            rc = gw__cfg_fail(c, node, "expected true or false, got \"%s\"",
                              gw__cfg_show(shown, sizeof(shown), node->value));
    }
    gw__cfg_pop(c, saved);
    return rc == 0 ? 1 : -1;
}

int gw__cfg_strings(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags,
                    gw_strings_t *out)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_expect_list(c, node);
    if (rc == 0 && node->count == 0 && (flags & GW__CFG_REQUIRED))
        rc = gw__cfg_fail(c, node, "must list at least one");
    gw_strings_t list = {0};
    if (rc == 0 && node->count > 0 &&
        (list.items = gw_arena_calloc(c->arena, node->count, sizeof(char *))) == NULL)
        rc = gw__cfg_fail(c, node, "out of memory");
    for (size_t i = 0; rc == 0 && i < node->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = gw__cfg_node_string(c, node->items[i], 0, &list.items[i]);
        gw__cfg_pop(c, item);
    }
    gw__cfg_pop(c, saved);
    if (rc != 0)
        return -1;
    list.count = node->count;
    *out = list;
    return 1;
}

int gw__cfg_labels(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, gw_labels_t *out)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_expect_map(c, node);
    gw_labels_t labels = {0};
    if (rc == 0 && node->count > 0 &&
        ((labels.keys = gw_arena_calloc(c->arena, node->count, sizeof(char *))) == NULL ||
         (labels.values = gw_arena_calloc(c->arena, node->count, sizeof(char *))) == NULL))
        rc = gw__cfg_fail(c, node, "out of memory");
    for (size_t i = 0; rc == 0 && i < node->count; ++i) {
        const gw_yaml_node_t *k = node->items[2 * i], *v = node->items[2 * i + 1];
        rc = gw__cfg_node_string(c, k, 0, &labels.keys[i]);
        if (rc == 0) {
            size_t item = gw__cfg_push(c, labels.keys[i]);
            rc = gw__cfg_node_string(c, v, GW__CFG_ALLOW_EMPTY, &labels.values[i]);
            gw__cfg_pop(c, item);
        }
    }
    gw__cfg_pop(c, saved);
    if (rc != 0)
        return -1;
    labels.count = node->count;
    *out = labels;
    return 1;
}

/* The directory relative paths resolve against, made absolute without resolving symbolic links
 * (a Kubernetes ConfigMap mount swaps a symbolic link on update). */
static const char *config_dir(gw__cfg_t *c, const gw_yaml_node_t *at)
{
    if (c->dir != NULL)
        return c->dir;
    const char *slash = strrchr(c->file, '/');
    size_t dir_len = slash == NULL ? 0 : slash == c->file ? 1 : (size_t)(slash - c->file);
    if (c->file[0] == '/') {
        c->dir = gw_arena_strndup(c->arena, c->file, dir_len);
    } else {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            gw__cfg_fail(c, at, "cannot resolve a relative path: current directory: %s", strerror(errno));
            return NULL;
        }
        size_t cwd_len = strlen(cwd);
        if ((c->dir = gw_arena_alloc(c->arena, cwd_len + dir_len + 2)) != NULL) {
            memcpy(c->dir, cwd, cwd_len);
            if (dir_len > 0) {
                c->dir[cwd_len] = '/';
                memcpy(c->dir + cwd_len + 1, c->file, dir_len);
                c->dir[cwd_len + 1 + dir_len] = '\0';
            }
        }
    }
    if (c->dir == NULL)
        gw__cfg_fail(c, at, "out of memory");
    return c->dir;
}

int gw__cfg_node_file(gw__cfg_t *c, const gw_yaml_node_t *node, char **out)
{
    char *written;
    if (gw__cfg_node_string(c, node, 0, &written) != 0)
        return -1;
    int rc = 0;
    char *path = written;
    if (written[0] != '/') {
        const char *dir = config_dir(c, node);
        size_t dir_len = dir != NULL ? strlen(dir) : 0, len = strlen(written);
        if (dir == NULL)
            rc = -1;
        else if ((path = gw_arena_alloc(c->arena, dir_len + len + 2)) == NULL)
            rc = gw__cfg_fail(c, node, "out of memory");
        else
            snprintf(path, dir_len + len + 2, "%s%s%s", dir,
                     dir_len > 0 && dir[dir_len - 1] == '/' ? "" : "/", written);
    }
    if (rc == 0) {
        /* stat first so that nothing but a regular file is ever opened (no FIFO, no device) */
        struct stat st;
        char shown[256];
        gw__cfg_show(shown, sizeof(shown), path);
        if (stat(path, &st) != 0) {
            rc = gw__cfg_fail(c, node, "cannot read \"%s\": %s", shown, strerror(errno));
        } else if (!S_ISREG(st.st_mode)) {
            rc = gw__cfg_fail(c, node, "\"%s\" is not a regular file", shown);
        } else {
            int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            if (fd < 0)
                rc = gw__cfg_fail(c, node, "cannot read \"%s\": %s", shown, strerror(errno));
            else
                close(fd);
        }
    }
    if (rc != 0)
        return -1;
    *out = path;
    return 0;
}

int gw__cfg_file(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, char **out)
{
    const gw_yaml_node_t *node;
    int found = lookup(c, map, key, flags, &node);
    if (found <= 0)
        return found;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_node_file(c, node, out);
    gw__cfg_pop(c, saved);
    return rc == 0 ? 1 : -1;
}

int gw__cfg_choice(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags,
                   const gw__cfg_choice_t *choices, int nocase, int *out)
{
    char *text;
    int found = gw__cfg_string(c, map, key, flags, &text);
    if (found <= 0)
        return found;
    const gw_yaml_node_t *node = gw__cfg_get(map, key);
    size_t saved = gw__cfg_push(c, key);
    int rc = -1;
    char shown[80];
    gw__cfg_show(shown, sizeof(shown), text);
    for (const gw__cfg_choice_t *ch = choices; ch->name != NULL; ++ch) {
        if ((nocase ? strcasecmp(ch->name, text) : strcmp(ch->name, text)) != 0)
            continue;
        if (ch->error != NULL) {
            gw__cfg_fail(c, node, "%s %s", shown, ch->error);
        } else {
            *out = ch->value;
            rc = 0;
        }
        break;
    }
    if (rc != 0 && !c->failed) {
        char expected[256] = "";
        size_t len = 0, n = 0, total = 0;
        for (const gw__cfg_choice_t *ch = choices; ch->name != NULL; ++ch)
            total += ch->error == NULL;
        for (const gw__cfg_choice_t *ch = choices; ch->name != NULL && len < sizeof(expected); ++ch) {
            if (ch->error != NULL)
                continue;
            ++n;
            int w = snprintf(expected + len, sizeof(expected) - len, "%s%s",
                             n == 1       ? ""
                             : n == total ? " or "
                                          : ", ",
                             ch->name);
            len += w > 0 ? (size_t)w : 0;
        }
        gw__cfg_fail(c, node, "unknown value \"%s\" (expected %s)", shown, expected);
    }
    gw__cfg_pop(c, saved);
    return rc == 0 ? 1 : -1;
}
