/* Policy decisions over the compiled form (policy_int.h, built by policy_compile.c), in Istio's order. */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define SERVICE_NAME_ANNOTATION "tenantgate.io/service-name"
#define MAX_CLAIM_VALUES 256

/* ---- Istio string matching, uncompiled (tests, compile-time constants) ---- */

int gw_policy_match(const char *pattern, const char *value, size_t len, int nocase)
{
    size_t start, plen;
    gw_matcher_t m = {.kind = gw_pattern_parse(pattern, &start, &plen)};
    m.offset = (uint32_t)start;
    m.len = (uint32_t)plen;
    return gw_matcher_matches(&m, pattern, value, len, nocase);
}

int gw_policy_match_any(const gw_strings_t *list, const char *value, size_t len, int nocase)
{
    for (size_t i = 0; i < list->count; ++i)
        if (gw_policy_match(list->items[i], value, len, nocase))
            return 1;
    return 0;
}

/* ---- what a request carries, looked up at most once per decision ---- */

typedef struct {
    const gw_policy_t *set;
    const gw_policy_request_t *request;
    size_t host_len; /* without a port */
    /* request.auth.principal (iss/sub), built on first use; NULL when anonymous */
    int principal_done;
    const char *principal;
    size_t principal_len;
    char principal_buf[512];
    char *principal_heap; /* when iss/sub does not fit principal_buf */
    /* header values by the namespace's cache slot (policy_compile.c header_slot) */
    uint32_t headers_done; /* bit per slot */
    const char *headers[GW_POLICY_HEADER_SLOTS];
    size_t header_lens[GW_POLICY_HEADER_SLOTS];
} ctx_t;

static void find_principal(ctx_t *ctx)
{
    const as_identity_t *id = ctx->request->identity;
    ctx->principal_done = 1;
    if (id->subject == NULL || id->issuer == NULL)
        return;
    size_t iss = strlen(id->issuer), sub = strlen(id->subject), len = iss + 1 + sub;
    char *p = len < sizeof(ctx->principal_buf) ? ctx->principal_buf : (ctx->principal_heap = malloc(len + 1));
    if (p == NULL)
        return; /* out of memory: no principal, so requestPrincipals fail and nothing more is allowed */
    memcpy(p, id->issuer, iss);
    p[iss] = '/';
    memcpy(p + iss + 1, id->subject, sub + 1);
    ctx->principal = p;
    ctx->principal_len = len;
}

static const char *principal(ctx_t *ctx, size_t *len)
{
    if (!ctx->principal_done)
        find_principal(ctx);
    *len = ctx->principal_len;
    return ctx->principal;
}

static const char *header(ctx_t *ctx, const gw_policy_condition_t *cond, size_t *len)
{
    const gw_policy_request_t *r = ctx->request;
    unsigned slot = cond->header_slot;
    if (slot == GW_POLICY_NO_SLOT || !(ctx->headers_done & (1u << slot))) {
        size_t n = 0;
        const char *value = r->header != NULL ? r->header(r->ctx, cond->name, &n) : NULL;
        if (slot == GW_POLICY_NO_SLOT) {
            *len = n;
            return value;
        }
        ctx->headers[slot] = value;
        ctx->header_lens[slot] = n;
        ctx->headers_done |= 1u << slot;
    }
    *len = ctx->header_lens[slot];
    return ctx->headers[slot];
}

/* ---- matching ---- */

static inline int any_matches(const ctx_t *ctx, gw_policy_span_t span, const char *value, size_t len,
                              int nocase)
{
    const gw_matcher_t *m = gw_policy_at(ctx->set, span.first);
    for (uint32_t i = 0; i < span.count; ++i)
        if (gw_matcher_matches(&m[i], ctx->set->arena, value, len, nocase))
            return 1;
    return 0;
}

/* The yes list must match when set (an absent value fails it); the no list must not (an absent value passes).
 */
static inline int passes(const ctx_t *ctx, const gw_policy_filter_t *f, const char *value, size_t len,
                         int nocase)
{
    if (f->yes.count > 0 && (value == NULL || !any_matches(ctx, f->yes, value, len, nocase)))
        return 0;
    return f->no.count == 0 || value == NULL || !any_matches(ctx, f->no, value, len, nocase);
}

/* Whether one value of the condition's key matches one pattern of span (claims may have several values). */
static int some_value_matches(ctx_t *ctx, const gw_policy_condition_t *cond, gw_policy_span_t span)
{
    const char *value = NULL;
    size_t len = 0;
    switch (cond->key) {
    case GW_AUTHZ_KEY_CLAIM:
        for (size_t i = 0; i < MAX_CLAIM_VALUES; ++i) {
            const char *v = as_identity_claim_by_id(ctx->request->identity,
                                                    (as_identity_claim_id_t)cond->claim, cond->name, i);
            if (v == NULL)
                return 0;
            if (any_matches(ctx, span, v, strlen(v), 0))
                return 1;
        }
        return 0;
    case GW_AUTHZ_KEY_HEADER:
        value = header(ctx, cond, &len);
        break;
    case GW_AUTHZ_KEY_PRINCIPAL:
        value = principal(ctx, &len);
        break;
    }
    return value != NULL && any_matches(ctx, span, value, len, 0);
}

/* values: one value of the key matches one; notValues: no value matches any (an absent key passes). */
static int conditions_match(ctx_t *ctx, gw_policy_span_t span)
{
    const gw_policy_condition_t *conds = gw_policy_at(ctx->set, span.first);
    for (uint32_t i = 0; i < span.count; ++i) {
        const gw_policy_condition_t *c = &conds[i];
        if (c->key == GW_POLICY_KEY_CONSTANT) {
            if (!c->constant)
                return 0;
            continue;
        }
        if (c->values.count > 0 && !some_value_matches(ctx, c, c->values))
            return 0;
        if (c->not_values.count > 0 && some_value_matches(ctx, c, c->not_values))
            return 0;
    }
    return 1;
}

/* ---- AuthorizationPolicy ---- */

static int source_matches(ctx_t *ctx, const gw_policy_source_t *s)
{
    if (!s->namespace_ok)
        return 0;
    if (s->principals.yes.count == 0 && s->principals.no.count == 0)
        return 1;
    size_t len;
    const char *value = principal(ctx, &len);
    return passes(ctx, &s->principals, value, len, 0);
}

static int operation_matches(const ctx_t *ctx, const gw_policy_operation_t *op)
{
    const gw_policy_request_t *r = ctx->request;
    return passes(ctx, &op->hosts, r->host, ctx->host_len, 1) &&
           passes(ctx, &op->methods, r->method, r->method_len, 0) &&
           passes(ctx, &op->paths, r->path, r->path_len, 0);
}

static int rule_matches(ctx_t *ctx, const gw_policy_rule_t *rule)
{
    const gw_policy_source_t *sources = gw_policy_at(ctx->set, rule->from.first);
    const gw_policy_operation_t *ops = gw_policy_at(ctx->set, rule->to.first);
    int from = rule->from.count == 0, to = rule->to.count == 0;
    for (uint32_t i = 0; !from && i < rule->from.count; ++i)
        from = source_matches(ctx, &sources[i]);
    for (uint32_t i = 0; from && !to && i < rule->to.count; ++i)
        to = operation_matches(ctx, &ops[i]);
    return from && to && conditions_match(ctx, rule->when);
}

/* The index of the first rule of item that matches, or SIZE_MAX (a policy without rules matches nothing). */
static size_t policy_matches(ctx_t *ctx, const gw_policy_item_t *item)
{
    const gw_policy_rule_t *rules = gw_policy_at(ctx->set, item->rules.first);
    for (uint32_t i = 0; i < item->rules.count; ++i)
        if (rule_matches(ctx, &rules[i]))
            return i;
    return SIZE_MAX;
}

/* ---- ServiceRole / ServiceRoleBinding ---- */

static int service_matches(const ctx_t *ctx, gw_policy_span_t services, const gw_service_entry_t *se)
{
    for (size_t i = 0; i < se->hosts.count; ++i)
        if (any_matches(ctx, services, se->hosts.items[i], strlen(se->hosts.items[i]), 1))
            return 1;
    const char *display = gw_labels_get(&se->meta.annotations, SERVICE_NAME_ANNOTATION);
    return any_matches(ctx, services, se->meta.name, strlen(se->meta.name), 0) ||
           (display != NULL && any_matches(ctx, services, display, strlen(display), 0));
}

static int role_rule_matches(ctx_t *ctx, const gw_policy_role_rule_t *rule)
{
    const gw_policy_request_t *r = ctx->request;
    return service_matches(ctx, rule->services, r->service) &&
           (rule->methods.count == 0 || any_matches(ctx, rule->methods, r->method, r->method_len, 0)) &&
           (rule->paths.count == 0 || any_matches(ctx, rule->paths, r->path, r->path_len, 0)) &&
           conditions_match(ctx, rule->constraints);
}

static int in_group(const as_identity_t *identity, const char *group)
{
    for (size_t i = 0; i < identity->group_count; ++i)
        if (strcmp(identity->groups[i], group) == 0)
            return 1;
    return 0;
}

static int subject_matches(ctx_t *ctx, const gw_policy_subject_t *subject)
{
    const as_identity_t *id = ctx->request->identity;
    if (subject->user != NULL && (id->userid == NULL || strcmp(subject->user, id->userid) != 0))
        return 0;
    if (subject->group != NULL && !in_group(id, subject->group))
        return 0;
    return conditions_match(ctx, subject->properties);
}

/* The index of the subject that binding item grants the request to, or SIZE_MAX. */
static size_t binding_grants(ctx_t *ctx, const gw_policy_item_t *item)
{
    const gw_policy_role_rule_t *rules = gw_policy_at(ctx->set, item->rules.first);
    const gw_policy_subject_t *subjects = gw_policy_at(ctx->set, item->subjects.first);
    int allowed = 0;
    for (uint32_t i = 0; !allowed && i < item->rules.count; ++i)
        allowed = role_rule_matches(ctx, &rules[i]);
    for (uint32_t i = 0; allowed && i < item->subjects.count; ++i)
        if (subject_matches(ctx, &subjects[i]))
            return i;
    return SIZE_MAX;
}

/* ---- decision ---- */

static void decided(gw_policy_decision_t *out, int allowed, const gw_policy_item_t *item, size_t rule,
                    const char *reason)
{
    out->allowed = allowed;
    out->kind = item == NULL ? NULL : item->is_binding ? "ServiceRoleBinding" : "AuthorizationPolicy";
    out->decider = item == NULL ? NULL : item->meta;
    out->rule = rule;
    out->reason = reason;
}

static size_t host_without_port(const char *host, size_t len)
{
    if (host == NULL)
        return 0;
    if (len > 0 && host[0] == '[') {
        const char *end = memchr(host, ']', len);
        return end != NULL ? (size_t)(end - host) + 1 : len;
    }
    const char *colon = memchr(host, ':', len);
    return colon != NULL ? (size_t)(colon - host) : len;
}

/* The head of the namespace's block, or NULL when it has no policies: one hash of its name, then a probe. */
static const gw_policy_namespace_t *find_namespace(const gw_policy_t *set, const char *name)
{
    if (set->buckets == NULL)
        return NULL;
    size_t len;
    uint32_t hash = gw_policy_name_hash(name, &len);
    for (size_t at = hash & set->bucket_mask; set->buckets[at].block != 0; at = (at + 1) & set->bucket_mask) {
        if (set->buckets[at].hash != hash)
            continue;
        const gw_policy_namespace_t *ns = gw_policy_at(set, set->buckets[at].block - 1);
        if (ns->name_len == len && memcmp(ns + 1, name, len) == 0) /* the name follows the head */
            return ns;
    }
    return NULL;
}

/* The items of slot of ns (a span of items). */
static const gw_policy_item_t *items_of(const ctx_t *ctx, const gw_policy_namespace_t *ns, int slot)
{
    return gw_policy_at(ctx->set, ns->slots[slot].first);
}

static void decide_in(ctx_t *ctx, const gw_policy_namespace_t *ns, gw_policy_decision_t *out)
{
    const gw_policy_item_t *audit = items_of(ctx, ns, GW_POLICY_SLOT_AUDIT);
    const gw_policy_item_t *deny = items_of(ctx, ns, GW_POLICY_SLOT_DENY);
    const gw_policy_item_t *allow = items_of(ctx, ns, GW_POLICY_SLOT_ALLOW);
    const gw_policy_item_t *bind = items_of(ctx, ns, GW_POLICY_SLOT_BINDING);
    for (uint32_t i = 0; i < ns->slots[GW_POLICY_SLOT_AUDIT].count; ++i)
        if (policy_matches(ctx, &audit[i]) != SIZE_MAX)
            out->audit = 1;
    for (uint32_t i = 0; i < ns->slots[GW_POLICY_SLOT_DENY].count; ++i) {
        size_t rule = policy_matches(ctx, &deny[i]);
        if (rule != SIZE_MAX) {
            decided(out, 0, &deny[i], rule, "denied by a DENY policy");
            return;
        }
    }
    for (uint32_t i = 0; i < ns->slots[GW_POLICY_SLOT_ALLOW].count; ++i) {
        size_t rule = policy_matches(ctx, &allow[i]);
        if (rule != SIZE_MAX) {
            decided(out, 1, &allow[i], rule, "allowed by an ALLOW policy");
            return;
        }
    }
    for (uint32_t i = 0; i < ns->slots[GW_POLICY_SLOT_BINDING].count; ++i) {
        size_t subject = binding_grants(ctx, &bind[i]);
        if (subject != SIZE_MAX) {
            decided(out, 1, &bind[i], subject, "allowed by a ServiceRoleBinding");
            return;
        }
    }
    if (ns->slots[GW_POLICY_SLOT_ALLOW].count + ns->slots[GW_POLICY_SLOT_BINDING].count == 0) {
        decided(out, 1, NULL, 0, "no ALLOW policy in the namespace");
        return;
    }
    decided(out, 0, NULL, 0, "no policy allows this request");
}

void gw_policy_decide(const gw_policy_t *set, const gw_policy_request_t *request, gw_policy_decision_t *out)
{
    memset(out, 0, sizeof(*out));
    if (request->service == NULL) {
        decided(out, 0, NULL, 0, "no destination");
        return;
    }
    const gw_policy_namespace_t *ns = find_namespace(set, request->service->meta.namespace_);
    if (ns == NULL) {
        decided(out, 1, NULL, 0, "no policy in the namespace");
        return;
    }
    ctx_t ctx;
    ctx.set = set;
    ctx.request = request;
    ctx.host_len = host_without_port(request->host, request->host_len);
    ctx.principal_done = 0;
    ctx.principal = NULL;
    ctx.principal_len = 0;
    ctx.principal_heap = NULL;
    ctx.headers_done = 0;
    decide_in(&ctx, ns, out);
    free(ctx.principal_heap);
}
