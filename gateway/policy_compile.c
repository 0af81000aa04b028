/* Compiling a config's AuthorizationPolicies and ServiceRoleBindings into the per-namespace form of
 * policy_int.h: patterns into matchers, condition keys resolved, constant parts decided, a hash index
 * over namespaces. */
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

/* ---- the arena ---- */

typedef struct {
    gw_policy_t *set;
    size_t used, cap; /* bytes of set->arena */
    int failed;       /* out of memory: everything after is a no-op, gw_policy_new returns NULL */
    const char *headers[GW_POLICY_HEADER_SLOTS]; /* header names of the namespace being compiled */
    size_t header_count;
} builder_t;

/* Every compiled struct holds at most pointers and 32-bit numbers. */
#define ALIGN 8
_Static_assert(_Alignof(gw_policy_condition_t) <= ALIGN && _Alignof(gw_policy_item_t) <= ALIGN &&
                   _Alignof(gw_policy_subject_t) <= ALIGN && _Alignof(gw_matcher_t) <= ALIGN,
               "compiled structs fit the arena's alignment");

/* Zeroed room for size bytes at the end of the arena (aligned to align); their offset, 0 on failure. */
static uint32_t reserve(builder_t *b, size_t size, size_t align)
{
    size_t at = (b->used + align - 1) / align * align;
    /* offsets are 32-bit: a config this large is refused as "out of memory" */
    if (b->failed || at + size > UINT32_MAX) {
        b->failed = 1;
        return 0;
    }
    if (at + size > b->cap) {
        size_t cap = b->cap > 0 ? b->cap : 4096;
        while (cap < at + size)
            cap *= 2;
        char *grown = realloc(b->set->arena, cap);
        if (grown == NULL) {
            b->failed = 1;
            return 0;
        }
        b->set->arena = grown;
        b->cap = cap;
    }
    memset(b->set->arena + b->used, 0, at + size - b->used);
    b->used = at + size;
    return (uint32_t)at;
}

/* Writes the index-th object (of size bytes) of the array reserved at offset at. */
static void put(builder_t *b, uint32_t at, size_t index, const void *object, size_t size)
{
    if (!b->failed)
        memcpy(b->set->arena + at + index * size, object, size);
}

/* A span of count objects of size bytes, reserved now so they stay contiguous: their children follow. */
static gw_policy_span_t reserve_span(builder_t *b, size_t count, size_t size)
{
    return (gw_policy_span_t){reserve(b, count * size, ALIGN), (uint32_t)count};
}

static uint32_t add_text(builder_t *b, const char *text, size_t len)
{
    uint32_t at = reserve(b, len, 1);
    if (!b->failed && len > 0)
        memcpy(b->set->arena + at, text, len);
    return at;
}

/* ---- parts ---- */

static gw_policy_span_t compile_patterns(builder_t *b, const gw_strings_t *list)
{
    gw_policy_span_t span = reserve_span(b, list->count, sizeof(gw_matcher_t));
    for (size_t i = 0; i < list->count; ++i) {
        size_t start, len;
        gw_pattern_kind_t kind = gw_pattern_parse(list->items[i], &start, &len);
        gw_matcher_t m = {
            .offset = add_text(b, list->items[i] + start, len), .len = (uint32_t)len, .kind = kind};
        put(b, span.first, i, &m, sizeof(m));
    }
    return span;
}

static gw_policy_filter_t compile_filter(builder_t *b, const gw_strings_t *yes, const gw_strings_t *no)
{
    gw_policy_filter_t filter;
    filter.yes = compile_patterns(b, yes);
    filter.no = compile_patterns(b, no);
    return filter;
}

/* The cache slot of header name in the namespace being compiled (GW_POLICY_NO_SLOT when all are taken). */
static uint8_t header_slot(builder_t *b, const char *name)
{
    for (size_t i = 0; i < b->header_count; ++i)
        if (strcmp(b->headers[i], name) == 0)
            return (uint8_t)i;
    if (b->header_count == GW_POLICY_HEADER_SLOTS)
        return GW_POLICY_NO_SLOT;
    b->headers[b->header_count] = name;
    return (uint8_t)b->header_count++;
}

static const char *gateway_namespace(const builder_t *b)
{
    return b->set->config->settings.meta.namespace_;
}

/* values: the one value must match one pattern; notValues: it must match none. */
static int constant_matches(const gw_authz_condition_t *cond, const char *value)
{
    size_t len = strlen(value);
    if (cond->values.count > 0 && !gw_policy_match_any(&cond->values, value, len, 0))
        return 0;
    return cond->not_values.count == 0 || !gw_policy_match_any(&cond->not_values, value, len, 0);
}

static gw_policy_span_t compile_conditions(builder_t *b, const gw_authz_condition_t *conds, size_t count)
{
    gw_policy_span_t span = reserve_span(b, count, sizeof(gw_policy_condition_t));
    for (size_t i = 0; i < count; ++i) {
        const gw_authz_condition_t *c = &conds[i];
        gw_policy_condition_t out = {
            .key = (uint8_t)c->kind, .name = c->name, .header_slot = GW_POLICY_NO_SLOT};
        out.values = compile_patterns(b, &c->values);
        out.not_values = compile_patterns(b, &c->not_values);
        if (c->kind == GW_AUTHZ_KEY_CLAIM)
            out.claim = (uint8_t)as_identity_claim_id(c->name);
        else if (c->kind == GW_AUTHZ_KEY_HEADER)
            out.header_slot = header_slot(b, c->name);
        else if (c->kind == GW_AUTHZ_KEY_SOURCE_NAMESPACE) {
            /* every request comes through the gateway, whose namespace the config fixes */
            out.key = GW_POLICY_KEY_CONSTANT;
            out.constant = (uint8_t)constant_matches(c, gateway_namespace(b));
        }
        put(b, span.first, i, &out, sizeof(out));
    }
    return span;
}

static gw_policy_span_t compile_sources(builder_t *b, const gw_authz_source_t *from, size_t count)
{
    const char *ns = gateway_namespace(b);
    size_t ns_len = strlen(ns);
    gw_policy_span_t span = reserve_span(b, count, sizeof(gw_policy_source_t));
    for (size_t i = 0; i < count; ++i) {
        const gw_authz_source_t *s = &from[i];
        gw_policy_source_t source = {
            .principals = compile_filter(b, &s->request_principals, &s->not_request_principals),
            .namespace_ok =
                (s->namespaces.count == 0 || gw_policy_match_any(&s->namespaces, ns, ns_len, 0)) &&
                !gw_policy_match_any(&s->not_namespaces, ns, ns_len, 0)};
        put(b, span.first, i, &source, sizeof(source));
    }
    return span;
}

static gw_policy_span_t compile_operations(builder_t *b, const gw_authz_operation_t *to, size_t count)
{
    gw_policy_span_t span = reserve_span(b, count, sizeof(gw_policy_operation_t));
    for (size_t i = 0; i < count; ++i) {
        gw_policy_operation_t op = {.hosts = compile_filter(b, &to[i].hosts, &to[i].not_hosts),
                                    .methods = compile_filter(b, &to[i].methods, &to[i].not_methods),
                                    .paths = compile_filter(b, &to[i].paths, &to[i].not_paths)};
        put(b, span.first, i, &op, sizeof(op));
    }
    return span;
}

static gw_policy_span_t compile_rules(builder_t *b, const gw_authorization_policy_t *p)
{
    gw_policy_span_t span = reserve_span(b, p->rule_count, sizeof(gw_policy_rule_t));
    for (size_t i = 0; i < p->rule_count; ++i) {
        const gw_authz_rule_t *r = &p->rules[i];
        gw_policy_rule_t rule = {.from = compile_sources(b, r->from, r->from_count),
                                 .to = compile_operations(b, r->to, r->to_count),
                                 .when = compile_conditions(b, r->when, r->when_count)};
        put(b, span.first, i, &rule, sizeof(rule));
    }
    return span;
}

static const gw_service_role_t *find_role(const gw_config_t *config, const char *ns, const char *name)
{
    for (size_t i = 0; i < config->service_role_count; ++i)
        if (strcmp(config->service_roles[i].meta.namespace_, ns) == 0 &&
            strcmp(config->service_roles[i].meta.name, name) == 0)
            return &config->service_roles[i];
    return NULL;
}

/* A binding's role rules (none when its ServiceRole is missing: it grants nothing). */
static gw_policy_span_t compile_role(builder_t *b, const gw_service_role_binding_t *binding)
{
    const gw_service_role_t *role = find_role(b->set->config, binding->meta.namespace_, binding->role);
    size_t count = role != NULL ? role->rule_count : 0;
    gw_policy_span_t span = reserve_span(b, count, sizeof(gw_policy_role_rule_t));
    for (size_t i = 0; i < count; ++i) {
        const gw_role_rule_t *r = &role->rules[i];
        gw_policy_role_rule_t rule = {.services = compile_patterns(b, &r->services),
                                      .methods = compile_patterns(b, &r->methods),
                                      .paths = compile_patterns(b, &r->paths),
                                      .constraints =
                                          compile_conditions(b, r->constraints, r->constraint_count)};
        put(b, span.first, i, &rule, sizeof(rule));
    }
    return span;
}

/* `user` matches any caller when "*" or the gateway's own principal (docs/internals/authorization.md). */
static gw_policy_span_t compile_subjects(builder_t *b, const gw_service_role_binding_t *binding)
{
    const char *gateway_principal = b->set->config->settings.authorization.gateway_principal;
    gw_policy_span_t span = reserve_span(b, binding->subject_count, sizeof(gw_policy_subject_t));
    for (size_t i = 0; i < binding->subject_count; ++i) {
        const gw_role_subject_t *s = &binding->subjects[i];
        int any_user =
            s->user == NULL || strcmp(s->user, "*") == 0 || strcmp(s->user, gateway_principal) == 0;
        gw_policy_subject_t subject = {.user = any_user ? NULL : s->user,
                                       .group = s->group,
                                       .properties = compile_conditions(b, s->properties, s->property_count)};
        put(b, span.first, i, &subject, sizeof(subject));
    }
    return span;
}

/* ---- documents in order ---- */

typedef struct {
    const char *ns;
    int slot;
    size_t order; /* document order within its kind */
    const gw_authorization_policy_t *policy;
    const gw_service_role_binding_t *binding;
} source_doc_t;

static int doc_order(const void *pa, const void *pb)
{
    const source_doc_t *a = pa, *b = pb;
    int rc = strcmp(a->ns, b->ns);
    if (rc == 0)
        rc = a->slot - b->slot;
    if (rc == 0)
        rc = a->order < b->order ? -1 : a->order > b->order;
    return rc;
}

static const int action_slot[] = {[GW_AUTHZ_ALLOW] = GW_POLICY_SLOT_ALLOW,
                                  [GW_AUTHZ_DENY] = GW_POLICY_SLOT_DENY,
                                  [GW_AUTHZ_AUDIT] = GW_POLICY_SLOT_AUDIT};

/* Every policy and binding of config, sorted by (namespace, slot, document order); *count of them. */
static source_doc_t *sorted_docs(const gw_config_t *config, size_t *count)
{
    size_t n = 0;
    *count = config->authorization_policy_count + config->service_role_binding_count;
    source_doc_t *docs = calloc(*count > 0 ? *count : 1, sizeof(*docs));
    if (docs == NULL)
        return NULL;
    for (size_t i = 0; i < config->authorization_policy_count; ++i) {
        const gw_authorization_policy_t *p = &config->authorization_policies[i];
        docs[n++] =
            (source_doc_t){.ns = p->meta.namespace_, .slot = action_slot[p->action], .order = i, .policy = p};
    }
    for (size_t i = 0; i < config->service_role_binding_count; ++i) {
        const gw_service_role_binding_t *bd = &config->service_role_bindings[i];
        docs[n++] = (source_doc_t){
            .ns = bd->meta.namespace_, .slot = GW_POLICY_SLOT_BINDING, .order = i, .binding = bd};
    }
    qsort(docs, n, sizeof(*docs), doc_order);
    return docs;
}

static gw_policy_item_t compile_doc(builder_t *b, const source_doc_t *doc)
{
    gw_policy_item_t item = {.is_binding = doc->binding != NULL};
    if (doc->policy != NULL) {
        item.meta = &doc->policy->meta;
        item.rules = compile_rules(b, doc->policy);
    } else {
        item.meta = &doc->binding->meta;
        item.rules = compile_role(b, doc->binding);
        item.subjects = compile_subjects(b, doc->binding);
    }
    return item;
}

/* One namespace's block: its head and name, its items by slot, then everything they hold. Returns its
 * offset; *count gets the number of docs (from docs[0] on) it took. */
static uint32_t compile_namespace(builder_t *b, const source_doc_t *docs, size_t left, size_t *count)
{
    const char *name = docs[0].ns;
    for (*count = 1; *count < left && strcmp(docs[*count].ns, name) == 0; ++*count)
        ;
    gw_policy_namespace_t head = {.name_len = (uint32_t)strlen(name)};
    uint32_t at = reserve(b, sizeof(head), ALIGN);
    add_text(b, name, head.name_len + 1); /* with its NUL: build_index hashes it */
    gw_policy_span_t items = reserve_span(b, *count, sizeof(gw_policy_item_t));
    b->header_count = 0;
    for (size_t i = 0; i < *count; ++i) {
        gw_policy_span_t *slot = &head.slots[docs[i].slot];
        if (slot->count++ == 0)
            slot->first = items.first + (uint32_t)(i * sizeof(gw_policy_item_t));
        gw_policy_item_t item = compile_doc(b, &docs[i]);
        put(b, items.first, i, &item, sizeof(item));
    }
    put(b, at, 0, &head, sizeof(head));
    return at;
}

/* ---- the namespace index ---- */

uint32_t gw_policy_name_hash(const char *name, size_t *len)
{
    uint32_t h = 2166136261u;
    const char *p = name;
    for (; *p != '\0'; ++p)
        h = (h ^ (unsigned char)*p) * 16777619u;
    *len = (size_t)(p - name);
    return h;
}

/* Buckets for blocks (offsets of namespace blocks, count of them), the one of a name found by hash. */
static int build_index(gw_policy_t *set, const uint32_t *blocks, size_t count)
{
    size_t size = 1;
    while (size < 2 * count)
        size *= 2;
    set->buckets = calloc(size, sizeof(*set->buckets));
    if (set->buckets == NULL)
        return -1;
    set->bucket_mask = size - 1;
    for (size_t i = 0; i < count; ++i) {
        const gw_policy_namespace_t *head = gw_policy_at(set, blocks[i]);
        size_t len;
        uint32_t hash = gw_policy_name_hash((const char *)(head + 1), &len);
        size_t at = hash & set->bucket_mask;
        while (set->buckets[at].block != 0)
            at = (at + 1) & set->bucket_mask;
        set->buckets[at] = (gw_policy_bucket_t){hash, blocks[i] + 1};
    }
    return 0;
}

gw_policy_t *gw_policy_new(const gw_config_t *config)
{
    gw_policy_t *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return NULL;
    set->config = config;
    size_t count;
    source_doc_t *docs = sorted_docs(config, &count);
    uint32_t *blocks = calloc(count > 0 ? count : 1, sizeof(*blocks));
    builder_t b = {.set = set, .failed = docs == NULL || blocks == NULL};
    reserve(&b, 1, 1); /* offset 0 is never an object, and the arena is never NULL */
    size_t namespaces = 0;
    for (size_t i = 0, taken; !b.failed && i < count; i += taken)
        blocks[namespaces++] = compile_namespace(&b, &docs[i], count - i, &taken);
    free(docs);
    if (b.failed || (namespaces > 0 && build_index(set, blocks, namespaces) != 0)) {
        free(blocks);
        gw_policy_free(set);
        return NULL;
    }
    free(blocks);
    return set;
}

void gw_policy_free(gw_policy_t *set)
{
    if (set == NULL)
        return;
    free(set->arena);
    free(set->buckets);
    free(set);
}
