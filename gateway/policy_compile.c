/* Compiling a config's AuthorizationPolicies and ServiceRoleBindings into the per-namespace form of
 * policy_int.h: patterns into matchers, condition keys resolved, constant parts decided, a hash index
 * over namespaces. */
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

/* ---- growing the arrays ---- */

typedef struct {
    size_t count, cap;
} fill_t;

typedef struct {
    gw_policy_t *set;
    int failed; /* out of memory: everything after is a no-op, gw_policy_new returns NULL */
    struct {
        fill_t items, rules, sources, operations, conditions, role_rules, subjects, matchers, text;
    } fill;
    const char *headers[GW_POLICY_HEADER_SLOTS]; /* header names of the namespace being compiled */
    size_t header_count;
} builder_t;

/* array with room for n more elements of size (grown, or unchanged with b->failed set). */
static void *room(builder_t *b, void *array, fill_t *fill, size_t size, size_t n)
{
    if (fill->cap - fill->count >= n)
        return array;
    size_t cap = fill->cap > 0 ? fill->cap : 16;
    while (cap - fill->count < n)
        cap *= 2;
    /* spans and text offsets are 32-bit: a config this large is refused as "out of memory" */
    void *grown = cap <= UINT32_MAX ? realloc(array, cap * size) : NULL;
    if (grown == NULL) {
        b->failed = 1;
        return array;
    }
    fill->cap = cap;
    return grown;
}

/* Appends value to the array `field` of b->set; the new element's index is b->fill.field.count - 1. */
#define APPEND(b, field, value)                                                                              \
    do {                                                                                                     \
        (b)->set->field = room((b), (b)->set->field, &(b)->fill.field, sizeof(*(b)->set->field), 1);         \
        if (!(b)->failed)                                                                                    \
            (b)->set->field[(b)->fill.field.count++] = (value);                                              \
    } while (0)

static uint32_t add_text(builder_t *b, const char *text, size_t len)
{
    if (len == 0)
        return (uint32_t)b->fill.text.count;
    b->set->text = room(b, b->set->text, &b->fill.text, 1, len);
    if (b->failed)
        return 0;
    memcpy(b->set->text + b->fill.text.count, text, len);
    b->fill.text.count += len;
    return (uint32_t)(b->fill.text.count - len);
}

/* ---- parts ---- */

static gw_policy_span_t compile_patterns(builder_t *b, const gw_strings_t *list)
{
    gw_policy_span_t span = {(uint32_t)b->fill.matchers.count, (uint32_t)list->count};
    for (size_t i = 0; i < list->count; ++i) {
        size_t start, len;
        gw_pattern_kind_t kind = gw_pattern_parse(list->items[i], &start, &len);
        gw_matcher_t m = {
            .offset = add_text(b, list->items[i] + start, len), .len = (uint32_t)len, .kind = kind};
        APPEND(b, matchers, m);
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
    gw_policy_span_t span = {(uint32_t)b->fill.conditions.count, (uint32_t)count};
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
        APPEND(b, conditions, out);
    }
    return span;
}

/* The rules' children are appended first, so the rules themselves stay contiguous. */
static gw_policy_span_t compile_rules(builder_t *b, const gw_authorization_policy_t *p)
{
    gw_policy_span_t span = {(uint32_t)b->fill.rules.count, (uint32_t)p->rule_count};
    for (size_t i = 0; i < p->rule_count; ++i) {
        const gw_authz_rule_t *r = &p->rules[i];
        gw_policy_rule_t rule = {.from = {(uint32_t)b->fill.sources.count, (uint32_t)r->from_count},
                                 .to = {(uint32_t)b->fill.operations.count, (uint32_t)r->to_count}};
        for (size_t j = 0; j < r->from_count; ++j) {
            const gw_authz_source_t *s = &r->from[j];
            const char *ns = gateway_namespace(b);
            gw_policy_source_t source = {
                .principals = compile_filter(b, &s->request_principals, &s->not_request_principals),
                .namespace_ok =
                    (s->namespaces.count == 0 || gw_policy_match_any(&s->namespaces, ns, strlen(ns), 0)) &&
                    !gw_policy_match_any(&s->not_namespaces, ns, strlen(ns), 0)};
            APPEND(b, sources, source);
        }
        for (size_t j = 0; j < r->to_count; ++j) {
            const gw_authz_operation_t *o = &r->to[j];
            gw_policy_operation_t op = {.hosts = compile_filter(b, &o->hosts, &o->not_hosts),
                                        .methods = compile_filter(b, &o->methods, &o->not_methods),
                                        .paths = compile_filter(b, &o->paths, &o->not_paths)};
            APPEND(b, operations, op);
        }
        rule.when = compile_conditions(b, r->when, r->when_count);
        APPEND(b, rules, rule);
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
    gw_policy_span_t span = {(uint32_t)b->fill.role_rules.count, (uint32_t)count};
    for (size_t i = 0; i < count; ++i) {
        const gw_role_rule_t *r = &role->rules[i];
        gw_policy_role_rule_t rule = {.services = compile_patterns(b, &r->services),
                                      .methods = compile_patterns(b, &r->methods),
                                      .paths = compile_patterns(b, &r->paths),
                                      .constraints =
                                          compile_conditions(b, r->constraints, r->constraint_count)};
        APPEND(b, role_rules, rule);
    }
    return span;
}

/* `user` matches any caller when "*" or the gateway's own principal (docs/internals/authorization.md). */
static gw_policy_span_t compile_subjects(builder_t *b, const gw_service_role_binding_t *binding)
{
    const char *gateway_principal = b->set->config->settings.authorization.gateway_principal;
    gw_policy_span_t span = {(uint32_t)b->fill.subjects.count, (uint32_t)binding->subject_count};
    for (size_t i = 0; i < binding->subject_count; ++i) {
        const gw_role_subject_t *s = &binding->subjects[i];
        int any_user =
            s->user == NULL || strcmp(s->user, "*") == 0 || strcmp(s->user, gateway_principal) == 0;
        gw_policy_subject_t subject = {.user = any_user ? NULL : s->user,
                                       .group = s->group,
                                       .properties = compile_conditions(b, s->properties, s->property_count)};
        APPEND(b, subjects, subject);
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

static void compile_doc(builder_t *b, const source_doc_t *doc)
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
    APPEND(b, items, item);
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

static int build_index(gw_policy_t *set)
{
    size_t size = 1;
    while (size < 2 * set->namespace_count)
        size *= 2;
    set->buckets = calloc(size, sizeof(*set->buckets));
    if (set->buckets == NULL)
        return -1;
    set->bucket_mask = size - 1;
    for (size_t i = 0; i < set->namespace_count; ++i) {
        size_t at = set->namespaces[i].hash & set->bucket_mask;
        while (set->buckets[at] != 0)
            at = (at + 1) & set->bucket_mask;
        set->buckets[at] = (uint32_t)i + 1;
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
    set->namespaces = calloc(count > 0 ? count : 1, sizeof(*set->namespaces));
    builder_t b = {.set = set, .failed = docs == NULL || set->namespaces == NULL};
    set->text = room(&b, NULL, &b.fill.text, 1, 1); /* never NULL, even when every pattern is "*" */
    gw_policy_namespace_t *ns = NULL;
    for (size_t i = 0; !b.failed && i < count; ++i) {
        if (ns == NULL || strcmp(ns->name, docs[i].ns) != 0) {
            ns = &set->namespaces[set->namespace_count++];
            ns->name = docs[i].ns;
            ns->hash = gw_policy_name_hash(ns->name, &ns->name_len);
            b.header_count = 0;
        }
        gw_policy_span_t *slot = &ns->slots[docs[i].slot];
        if (slot->count++ == 0)
            slot->first = (uint32_t)b.fill.items.count;
        compile_doc(&b, &docs[i]);
    }
    free(docs);
    if (b.failed || build_index(set) != 0) {
        gw_policy_free(set);
        return NULL;
    }
    return set;
}

void gw_policy_free(gw_policy_t *set)
{
    if (set == NULL)
        return;
    free(set->namespaces);
    free(set->buckets);
    free(set->items);
    free(set->rules);
    free(set->sources);
    free(set->operations);
    free(set->conditions);
    free(set->role_rules);
    free(set->subjects);
    free(set->matchers);
    free(set->text);
    free(set);
}
