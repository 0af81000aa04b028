/* Loading: file -> YAML tree -> document headers -> one decoder per kind -> gw_config_t. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_kinds.h"

/* ---- the table of kinds ---- */

#define SINGLE ((size_t)-1)

typedef struct {
    const char *kind;
    const char *const *api_versions; /* NULL-terminated */
    /* NULL: a kind a later version will read; accepted and skipped whole for now */
    int (*decode)(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);
    int (*finish)(gw__cfg_t *c);
    size_t size;         /* of one decoded document */
    size_t array_offset; /* in gw_config_t: the array, or the object itself when count_offset is SINGLE */
    size_t count_offset;
} kind_t;

static const char *const tenantgate_api[] = {"tenantgate.io/v1alpha1", NULL};
static const char *const networking_api[] = {"networking.istio.io/v1alpha3", "networking.istio.io/v1beta1",
                                             "networking.istio.io/v1", NULL};
static const char *const rbac_api[] = {"rbac.istio.io/v1alpha1", NULL};
static const char *const security_api[] = {"security.istio.io/v1beta1", "security.istio.io/v1", NULL};

/*
 * Decoded in this order: a kind may check references to the kinds above it.
 * To read a kind that is skipped (none is, today): add its
 * array and count to gw_config_t, write gw__decode_<kind> (and a finish hook
 * for checks across its documents) in a config_<kind>.c, declare them in
 * config_kinds.h and fill in its row here.
 */
static const kind_t kinds[] = {
    {"TenantGate", tenantgate_api, gw__decode_settings, NULL, sizeof(gw_settings_t),
     offsetof(gw_config_t, settings), SINGLE},
    {"Gateway", networking_api, gw__decode_gateway, gw__finish_gateways, sizeof(gw_gateway_t),
     offsetof(gw_config_t, gateways), offsetof(gw_config_t, gateway_count)},
    {"ServiceEntry", networking_api, gw__decode_service_entry, gw__finish_service_entries,
     sizeof(gw_service_entry_t), offsetof(gw_config_t, service_entries),
     offsetof(gw_config_t, service_entry_count)},
    {"DestinationRule", networking_api, gw__decode_destination_rule, gw__finish_destination_rules,
     sizeof(gw_destination_rule_t), offsetof(gw_config_t, destination_rules),
     offsetof(gw_config_t, destination_rule_count)},
    {"VirtualService", networking_api, gw__decode_virtual_service, gw__finish_virtual_services,
     sizeof(gw_virtual_service_t), offsetof(gw_config_t, virtual_services),
     offsetof(gw_config_t, virtual_service_count)},
    {"ServiceRole", rbac_api, gw__decode_service_role, gw__finish_service_roles, sizeof(gw_service_role_t),
     offsetof(gw_config_t, service_roles), offsetof(gw_config_t, service_role_count)},
    {"ServiceRoleBinding", rbac_api, gw__decode_service_role_binding, NULL, sizeof(gw_service_role_binding_t),
     offsetof(gw_config_t, service_role_bindings), offsetof(gw_config_t, service_role_binding_count)},
    {"AuthorizationPolicy", security_api, gw__decode_authorization_policy, gw__finish_authorization_policies,
     sizeof(gw_authorization_policy_t), offsetof(gw_config_t, authorization_policies),
     offsetof(gw_config_t, authorization_policy_count)},
    {"RequestAuthentication", security_api, gw__decode_request_auth, NULL, sizeof(gw_request_auth_t),
     offsetof(gw_config_t, request_auths), offsetof(gw_config_t, request_auth_count)},
};

enum { KIND_COUNT = sizeof(kinds) / sizeof(kinds[0]) };

/* One document after its header (apiVersion, kind, metadata) was read. */
typedef struct {
    const kind_t *kind;
    const gw_yaml_node_t *root, *spec, *name_node;
    gw_meta_t meta;
    void *out;
} doc_t;

static const kind_t *find_kind(const char *name)
{
    for (size_t i = 0; i < KIND_COUNT; ++i)
        if (strcmp(kinds[i].kind, name) == 0)
            return &kinds[i];
    return NULL;
}

static void join(char *dst, size_t size, const char *const *names)
{
    size_t len = 0, n = 0;
    while (names[n] != NULL)
        ++n;
    dst[0] = '\0';
    for (size_t i = 0; i < n && len < size; ++i) {
        int w = snprintf(dst + len, size - len, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
        len += w > 0 ? (size_t)w : 0;
    }
}

/* ---- document headers ---- */

static int dns_label(const char *s, size_t max, int dots)
{
    size_t len = strlen(s);
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; ++i) {
        char ch = s[i];
        int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        int edge = i == 0 || i + 1 == len || (dots && (s[i - 1] == '.' || s[i + 1] == '.'));
        if (alnum)
            continue;
        if (edge || !(ch == '-' || (dots && ch == '.')))
            return 0;
    }
    return 1;
}

static int read_metadata(gw__cfg_t *c, doc_t *doc)
{
    static const char *const fields[] = {"name", "namespace", "labels", "annotations", NULL};
    const gw_yaml_node_t *meta = gw__cfg_get(doc->root, "metadata");
    if (meta == NULL)
        return gw__cfg_missing(c, doc->root, "metadata");
    size_t saved = gw__cfg_push(c, "metadata");
    gw_labels_t ignored;
    int rc = gw__cfg_fields(c, meta, fields, NULL) != 0 ||
                     gw__cfg_string(c, meta, "name", GW__CFG_REQUIRED, &doc->meta.name) < 0 ||
                     gw__cfg_string(c, meta, "namespace", 0, &doc->meta.namespace_) < 0 ||
                     gw__cfg_labels(c, meta, "labels", 0, &ignored) < 0 ||
                     gw__cfg_labels(c, meta, "annotations", 0, &doc->meta.annotations) < 0
                 ? -1
                 : 0;
    if (rc == 0) {
        const gw_yaml_node_t *annotations = gw__cfg_get(meta, "annotations");
        if (annotations != NULL)
            doc->meta.annotations_mark = gw__cfg_mark(c, annotations);
        doc->name_node = gw__cfg_get(meta, "name");
        const gw_yaml_node_t *ns = gw__cfg_get(meta, "namespace");
        char shown[300];
        size_t field;
        if (!dns_label(doc->meta.name, 253, 1)) {
            field = gw__cfg_push(c, "name");
            rc = gw__cfg_fail(c, doc->name_node,
                              "\"%s\" is not a valid name (lower-case letters, digits, '-' and '.')",
                              gw__cfg_show(shown, sizeof(shown), doc->meta.name));
            gw__cfg_pop(c, field);
        } else if (ns != NULL && !dns_label(doc->meta.namespace_, 63, 0)) {
            field = gw__cfg_push(c, "namespace");
            rc = gw__cfg_fail(c, ns, "\"%s\" is not a valid namespace (lower-case letters, digits and '-')",
                              gw__cfg_show(shown, sizeof(shown), doc->meta.namespace_));
            gw__cfg_pop(c, field);
        } else if (ns == NULL && (doc->meta.namespace_ = gw_arena_strdup(c->arena, "default")) == NULL) {
            rc = gw__cfg_fail(c, meta, "out of memory");
        }
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int read_header(gw__cfg_t *c, const gw_yaml_node_t *root, doc_t *doc)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    doc->root = root;
    if (gw_yaml_is_null(root))
        return gw__cfg_fail(c, root, "empty document");
    if (root->kind != GW_YAML_MAP)
        return gw__cfg_fail(c, root, "a document must be a map, got %s", gw_yaml_kind_name(root));
    char *api, *kind;
    if (gw__cfg_string(c, root, "kind", GW__CFG_REQUIRED, &kind) < 0 ||
        gw__cfg_string(c, root, "apiVersion", GW__CFG_REQUIRED, &api) < 0)
        return -1;
    char shown[128], expected[512];
    if ((doc->kind = find_kind(kind)) == NULL) {
        const char *names[KIND_COUNT + 1];
        for (size_t i = 0; i < KIND_COUNT; ++i)
            names[i] = kinds[i].kind;
        names[KIND_COUNT] = NULL;
        join(expected, sizeof(expected), names);
        gw__cfg_push(c, "kind");
        return gw__cfg_fail(c, gw__cfg_get(root, "kind"), "unknown kind \"%s\" (expected %s)",
                            gw__cfg_show(shown, sizeof(shown), kind), expected);
    }
    int known_api = 0;
    for (const char *const *v = doc->kind->api_versions; *v != NULL; ++v)
        known_api |= strcmp(*v, api) == 0;
    if (!known_api) {
        join(expected, sizeof(expected), doc->kind->api_versions);
        gw__cfg_push(c, "apiVersion");
        return gw__cfg_fail(c, gw__cfg_get(root, "apiVersion"), "%s needs apiVersion %s (got \"%s\")", kind,
                            expected, gw__cfg_show(shown, sizeof(shown), api));
    }
    if (doc->kind->decode == NULL)
        return 0; /* read by a later version: skipped whole */
    if (gw__cfg_fields(c, root, fields, NULL) != 0 || read_metadata(c, doc) != 0)
        return -1;
    doc->meta.mark = gw__cfg_mark(c, root);
    doc->spec = gw__cfg_get(root, "spec");
    if (doc->spec == NULL && doc->kind->count_offset != SINGLE)
        return gw__cfg_missing(c, root, "spec");
    return 0;
}

/* ---- duplicates: (kind, namespace, name) is unique ---- */

static int mark_before(const gw_yaml_node_t *a, const gw_yaml_node_t *b)
{
    return a->line != b->line ? a->line < b->line : a->column < b->column;
}

static int doc_order(const void *pa, const void *pb)
{
    const doc_t *a = *(doc_t *const *)pa, *b = *(doc_t *const *)pb;
    int rc = strcmp(a->kind->kind, b->kind->kind);
    if (rc == 0)
        rc = strcmp(a->meta.namespace_, b->meta.namespace_);
    if (rc == 0)
        rc = strcmp(a->meta.name, b->meta.name);
    if (rc == 0 && a != b)
        rc = mark_before(a->root, b->root) ? -1 : 1;
    return rc;
}

static int check_duplicates(gw__cfg_t *c, doc_t **sorted, size_t count)
{
    if (count > 1)
        qsort(sorted, count, sizeof(*sorted), doc_order);
    const doc_t *dup = NULL, *first = NULL;
    for (size_t i = 1; i < count; ++i) {
        const doc_t *a = sorted[i - 1], *b = sorted[i];
        int same = a->kind == b->kind &&
                   (a->kind->count_offset == SINGLE || (strcmp(a->meta.namespace_, b->meta.namespace_) == 0 &&
                                                        strcmp(a->meta.name, b->meta.name) == 0));
        if (same && (dup == NULL || mark_before(b->root, dup->root))) {
            dup = b;
            first = a;
        }
    }
    if (dup == NULL)
        return 0;
    gw_config_mark_t at = gw__cfg_mark(c, dup->name_node);
    if (dup->kind->count_offset == SINGLE)
        return gw__cfg_fail_at(c, &at, "metadata.name",
                               "only one %s document is allowed (the first is at %s:%u:%u)", dup->kind->kind,
                               c->file, first->meta.mark.line, first->meta.mark.column);
    return gw__cfg_fail_at(c, &at, "metadata.name", "duplicate %s %s/%s (the first is at %s:%u:%u)",
                           dup->kind->kind, dup->meta.namespace_, dup->meta.name, c->file,
                           first->meta.mark.line, first->meta.mark.column);
}

const gw_meta_t *gw__cfg_find_document(const gw__cfg_t *c, const char *kind, const char *namespace_,
                                       const char *name)
{
    const kind_t *k = find_kind(kind);
    if (k == NULL)
        return NULL;
    doc_t *const *sorted = c->docs;
    size_t lo = 0, hi = c->doc_count;
    while (lo < hi) { /* the first document not ordered before key */
        size_t mid = lo + (hi - lo) / 2;
        const doc_t *d = sorted[mid];
        int rc = strcmp(d->kind->kind, k->kind);
        if (rc == 0)
            rc = strcmp(d->meta.namespace_, namespace_);
        if (rc == 0)
            rc = strcmp(d->meta.name, name);
        if (rc < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->doc_count && sorted[lo]->kind == k && strcmp(sorted[lo]->meta.namespace_, namespace_) == 0 &&
        strcmp(sorted[lo]->meta.name, name) == 0)
        return &sorted[lo]->meta;
    return NULL;
}

/* ---- the whole file ---- */

static int place_documents(gw__cfg_t *c, doc_t *docs, size_t count)
{
    size_t per_kind[KIND_COUNT] = {0};
    for (size_t i = 0; i < count; ++i)
        if (docs[i].kind->decode != NULL)
            ++per_kind[docs[i].kind - kinds];
    unsigned char *base = (unsigned char *)c->config;
    for (size_t k = 0; k < KIND_COUNT; ++k) {
        if (per_kind[k] == 0 || kinds[k].count_offset == SINGLE)
            continue;
        void *array = gw_arena_calloc(c->arena, per_kind[k], kinds[k].size);
        if (array == NULL)
            return gw__cfg_fail_at(c, &(gw_config_mark_t){c->file, 1, 1}, NULL, "out of memory");
        memcpy(base + kinds[k].array_offset, &array, sizeof(array));
    }
    size_t next[KIND_COUNT] = {0};
    for (size_t i = 0; i < count; ++i) {
        const kind_t *k = docs[i].kind;
        if (k->decode == NULL)
            continue;
        if (k->count_offset == SINGLE) {
            docs[i].out = base + k->array_offset;
        } else {
            unsigned char *array;
            memcpy(&array, base + k->array_offset, sizeof(array));
            docs[i].out = array + next[k - kinds]++ * k->size;
            memcpy(base + k->count_offset, &next[k - kinds], sizeof(size_t));
        }
        *(gw_meta_t *)docs[i].out = docs[i].meta;
    }
    return 0;
}

static int decode_documents(gw__cfg_t *c, doc_t *docs, size_t count)
{
    for (size_t k = 0; k < KIND_COUNT; ++k) {
        if (kinds[k].decode == NULL)
            continue;
        for (size_t i = 0; i < count; ++i) {
            if (docs[i].kind != &kinds[k])
                continue;
            c->meta = (const gw_meta_t *)docs[i].out;
            size_t saved = gw__cfg_push(c, "spec");
            int rc = kinds[k].decode(c, docs[i].spec, docs[i].out);
            gw__cfg_pop(c, saved);
            if (rc != 0)
                return -1;
        }
        c->meta = NULL;
        if (kinds[k].finish != NULL && kinds[k].finish(c) != 0)
            return -1;
    }
    size_t servers = 0;
    for (size_t i = 0; i < c->config->gateway_count; ++i)
        servers += c->config->gateways[i].server_count;
    if (servers == 0)
        return gw__cfg_fail_at(c, &(gw_config_mark_t){c->file, 1, 1}, NULL,
                               "no Gateway document: at least one Gateway server is required");
    return 0;
}

static int load_documents(gw__cfg_t *c, const gw_yaml_stream_t *stream)
{
    if (stream->count == 0)
        return gw__cfg_fail_at(c, &(gw_config_mark_t){c->file, 1, 1}, NULL, "no documents");
    doc_t *docs = calloc(stream->count, sizeof(*docs));
    doc_t **sorted = calloc(stream->count, sizeof(*sorted));
    int rc = docs == NULL || sorted == NULL
                 ? gw__cfg_fail_at(c, &(gw_config_mark_t){c->file, 1, 1}, NULL, "out of memory")
                 : 0;
    size_t decoded = 0;
    for (size_t i = 0; rc == 0 && i < stream->count; ++i) {
        rc = read_header(c, stream->docs[i], &docs[i]);
        gw__cfg_pop(c, 0);
        if (rc == 0 && docs[i].kind->decode != NULL)
            sorted[decoded++] = &docs[i];
    }
    if (rc == 0)
        rc = check_duplicates(c, sorted, decoded);
    c->docs = sorted;
    c->doc_count = decoded;
    if (rc == 0)
        rc = place_documents(c, docs, stream->count);
    if (rc == 0)
        rc = decode_documents(c, docs, stream->count);
    c->docs = NULL;
    c->doc_count = 0;
    free(docs);
    free(sorted);
    return rc;
}

static void fail_plain(char *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error without a place in the file: "NAME: message". */
static void fail_plain(char *err, const char *name, const char *fmt, ...)
{
    if (err == NULL)
        return;
    int n = snprintf(err, GW_CONFIG_ERROR_SIZE, "%s: ", name);
    if (n >= 0 && n < GW_CONFIG_ERROR_SIZE) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, GW_CONFIG_ERROR_SIZE - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

gw_config_t *gw_config_load_buffer(const char *name, const char *yaml, size_t len, char *err)
{
    if (err != NULL)
        err[0] = '\0';
    if (name == NULL)
        name = "(buffer)";
    if (yaml == NULL && len > 0) {
        fail_plain(err, name, "%s", "no input");
        return NULL;
    }
    gw_arena_t *arena = gw_arena_new();
    gw__config_impl_t *impl = arena != NULL ? gw_arena_alloc(arena, sizeof(*impl)) : NULL;
    char *file = impl != NULL ? gw_arena_strdup(arena, name) : NULL;
    if (file == NULL) {
        fail_plain(err, name, "%s", "out of memory");
        gw_arena_free(arena);
        return NULL;
    }
    gw_config_t *config = &impl->pub;
    config->file = file;
    config->refcount = 1;
    config->_arena = arena;
    gw__settings_defaults(&config->settings);
    config->settings.meta.mark.file = file;

    gw__cfg_t c = {.impl = impl, .config = config, .arena = arena, .file = file, .err = err};
    gw_yaml_error_t yerr;
    gw_yaml_stream_t *stream = gw_yaml_parse(yaml != NULL ? yaml : "", len, NULL, &yerr);
    int rc;
    if (stream == NULL) {
        if (yerr.line == 0)
            fail_plain(err, name, "%s", yerr.message);
        else
            gw__cfg_fail_at(&c, &(gw_config_mark_t){file, yerr.line, yerr.column}, NULL, "%s", yerr.message);
        rc = -1;
    } else {
        rc = load_documents(&c, stream);
    }
    gw_yaml_free(stream);
    free(c.listeners);
    if (rc != 0) {
        gw_arena_free(arena);
        return NULL;
    }
    return config;
}

gw_config_t *gw_config_load(const char *path, char *err)
{
    if (err != NULL)
        err[0] = '\0';
    if (path == NULL) {
        fail_plain(err, "(null)", "%s", "no path");
        return NULL;
    }
    /* O_NONBLOCK: opening a FIFO must not hang; fstat below rejects anything but a file */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        fail_plain(err, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    size_t max = gw_yaml_default_limits.max_bytes;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        fail_plain(err, path, "cannot stat: %s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        fail_plain(err, path, "%s", "not a regular file");
    } else if ((uint64_t)st.st_size > max) {
        fail_plain(err, path, "%s", "larger than 4 MiB");
    } else if ((buf = malloc(max + 1)) == NULL) {
        fail_plain(err, path, "%s", "out of memory");
    } else {
        size_t len = 0;
        ssize_t n;
        int failed = 0;
        while (!failed && len <= max && (n = read(fd, buf + len, max + 1 - len)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                fail_plain(err, path, "cannot read: %s", strerror(errno));
                failed = 1;
            } else {
                len += (size_t)n;
            }
        }
        close(fd);
        gw_config_t *config = NULL;
        if (!failed && len > max)
            fail_plain(err, path, "%s", "larger than 4 MiB");
        else if (!failed)
            config = gw_config_load_buffer(path, buf, len, err);
        free(buf);
        return config;
    }
    close(fd);
    return NULL;
}

void gw_config_retain(gw_config_t *config)
{
    __atomic_fetch_add(&config->refcount, 1, __ATOMIC_RELAXED);
}

void gw_config_release(gw_config_t *config)
{
    if (config == NULL)
        return;
    if (__atomic_sub_fetch(&config->refcount, 1, __ATOMIC_ACQ_REL) == 0)
        gw_arena_free(config->_arena);
}

const gw_service_entry_t *gw_config_find_service(const gw_config_t *config, const char *host)
{
    if (config == NULL || host == NULL)
        return NULL;
    const gw__config_impl_t *impl = (const gw__config_impl_t *)config;
    const gw__host_ref_t *ref = gw__host_index_find(&impl->services, host);
    return ref != NULL ? (const gw_service_entry_t *)ref->meta : NULL;
}

const gw_destination_rule_t *gw_config_find_destination_rule(const gw_config_t *config, const char *host)
{
    if (config == NULL || host == NULL)
        return NULL;
    const gw__config_impl_t *impl = (const gw__config_impl_t *)config;
    const gw__host_ref_t *ref = gw__host_index_find(&impl->rules, host);
    return ref != NULL ? (const gw_destination_rule_t *)ref->meta : NULL;
}
