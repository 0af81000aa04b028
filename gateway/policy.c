/* The authorization engine: per-namespace compiled policies and Istio's matching rules. */
#include "policy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SERVICE_NAME_ANNOTATION "tenantgate.io/service-name"
#define MAX_CLAIM_VALUES 256

/* ---- compiled form ---- */

enum { SLOT_AUDIT, SLOT_DENY, SLOT_ALLOW, SLOT_BINDING, SLOT_COUNT };

typedef struct {
    const char *ns;
    int slot;
    size_t order; /* document order within its kind */
    const gw_authorization_policy_t *policy;
    const gw_service_role_binding_t *binding;
    const gw_service_role_t *role; /* of binding */
} item_t;

typedef struct {
    const char *name;
    const item_t *items[SLOT_COUNT];
    size_t counts[SLOT_COUNT];
} ns_entry_t;

struct gw_policy {
    const gw_config_t *config;
    item_t *items;
    ns_entry_t *namespaces;
    size_t namespace_count;
};

static int item_order(const void *pa, const void *pb)
{
    const item_t *a = pa, *b = pb;
    int rc = strcmp(a->ns, b->ns);
    if (rc == 0)
        rc = a->slot - b->slot;
    if (rc == 0)
        rc = a->order < b->order ? -1 : a->order > b->order;
    return rc;
}

static const gw_service_role_t *find_role(const gw_config_t *config, const char *ns, const char *name)
{
    for (size_t i = 0; i < config->service_role_count; ++i)
        if (strcmp(config->service_roles[i].meta.namespace_, ns) == 0 &&
            strcmp(config->service_roles[i].meta.name, name) == 0)
            return &config->service_roles[i];
    return NULL;
}

static const int action_slot[] = {
    [GW_AUTHZ_ALLOW] = SLOT_ALLOW, [GW_AUTHZ_DENY] = SLOT_DENY, [GW_AUTHZ_AUDIT] = SLOT_AUDIT};

gw_policy_t *gw_policy_new(const gw_config_t *config)
{
    gw_policy_t *policy = calloc(1, sizeof(*policy));
    size_t count = config->authorization_policy_count + config->service_role_binding_count;
    if (policy == NULL)
        return NULL;
    policy->config = config;
    if (count == 0)
        return policy;
    policy->items = calloc(count, sizeof(*policy->items));
    policy->namespaces = calloc(count, sizeof(*policy->namespaces));
    if (policy->items == NULL || policy->namespaces == NULL) {
        gw_policy_free(policy);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < config->authorization_policy_count; ++i) {
        const gw_authorization_policy_t *p = &config->authorization_policies[i];
        policy->items[n++] =
            (item_t){.ns = p->meta.namespace_, .slot = action_slot[p->action], .order = i, .policy = p};
    }
    for (size_t i = 0; i < config->service_role_binding_count; ++i) {
        const gw_service_role_binding_t *b = &config->service_role_bindings[i];
        policy->items[n++] = (item_t){.ns = b->meta.namespace_,
                                      .slot = SLOT_BINDING,
                                      .order = i,
                                      .binding = b,
                                      .role = find_role(config, b->meta.namespace_, b->role)};
    }
    qsort(policy->items, n, sizeof(*policy->items), item_order);
    ns_entry_t *entry = NULL;
    for (size_t i = 0; i < n; ++i) {
        const item_t *item = &policy->items[i];
        if (entry == NULL || strcmp(entry->name, item->ns) != 0) {
            entry = &policy->namespaces[policy->namespace_count++];
            entry->name = item->ns;
        }
        if (entry->counts[item->slot]++ == 0)
            entry->items[item->slot] = item;
    }
    return policy;
}

void gw_policy_free(gw_policy_t *policy)
{
    if (policy == NULL)
        return;
    free(policy->items);
    free(policy->namespaces);
    free(policy);
}

static const ns_entry_t *find_namespace(const gw_policy_t *policy, const char *ns)
{
    size_t lo = 0, hi = policy->namespace_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int rc = strcmp(policy->namespaces[mid].name, ns);
        if (rc == 0)
            return &policy->namespaces[mid];
        if (rc < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- Istio string matching ---- */

static int same(const char *a, const char *b, size_t len, int nocase)
{
    return nocase ? strncasecmp(a, b, len) == 0 : memcmp(a, b, len) == 0;
}

int gw_policy_match(const char *pattern, const char *value, size_t len, int nocase)
{
    size_t plen = strlen(pattern);
    if (plen == 1 && pattern[0] == '*')
        return 1;
    if (plen > 1 && pattern[plen - 1] == '*')
        return len >= plen - 1 && same(pattern, value, plen - 1, nocase);
    if (plen > 1 && pattern[0] == '*')
        return len >= plen - 1 && same(pattern + 1, value + len - (plen - 1), plen - 1, nocase);
    return len == plen && same(pattern, value, len, nocase);
}

int gw_policy_match_any(const gw_strings_t *list, const char *value, size_t len, int nocase)
{
    for (size_t i = 0; i < list->count; ++i)
        if (gw_policy_match(list->items[i], value, len, nocase))
            return 1;
    return 0;
}

/* A list that must match when set, and a not-list that must not. */
static int listed(const gw_strings_t *yes, const gw_strings_t *no, const char *value, size_t len, int nocase)
{
    if (yes->count > 0 && (value == NULL || !gw_policy_match_any(yes, value, len, nocase)))
        return 0;
    return no->count == 0 || value == NULL || !gw_policy_match_any(no, value, len, nocase);
}

/* ---- what a request carries ---- */

typedef struct {
    const gw_policy_t *policy;
    const gw_policy_request_t *request;
    const char *principal; /* iss/sub, NULL when anonymous */
    size_t principal_len;
    size_t host_len; /* without a port */
} ctx_t;

static const char *source_namespace(const ctx_t *ctx)
{
    return ctx->policy->config->settings.meta.namespace_;
}

/* Every value of a condition's key; stops (returning 1) when visit returns non-zero. */
typedef int (*visit_cb)(const gw_authz_condition_t *cond, const char *value, size_t len);

static int for_each_value(const ctx_t *ctx, const gw_authz_condition_t *cond, visit_cb visit, int *seen)
{
    const gw_policy_request_t *r = ctx->request;
    const char *value = NULL;
    size_t len = 0;
    switch (cond->kind) {
    case GW_AUTHZ_KEY_CLAIM:
        for (size_t i = 0; i < MAX_CLAIM_VALUES; ++i) {
            const char *v = as_identity_claim(r->identity, cond->name, i);
            if (v == NULL)
                break;
            *seen = 1;
            if (visit(cond, v, strlen(v)))
                return 1;
        }
        return 0;
    case GW_AUTHZ_KEY_HEADER:
        value = r->header != NULL ? r->header(r->ctx, cond->name, &len) : NULL;
        break;
    case GW_AUTHZ_KEY_PRINCIPAL:
        value = ctx->principal;
        len = ctx->principal_len;
        break;
    case GW_AUTHZ_KEY_SOURCE_NAMESPACE:
        value = source_namespace(ctx);
        len = strlen(value);
        break;
    }
    if (value == NULL)
        return 0;
    *seen = 1;
    return visit(cond, value, len);
}

static int hits_values(const gw_authz_condition_t *cond, const char *value, size_t len)
{
    return gw_policy_match_any(&cond->values, value, len, 0);
}

static int hits_not_values(const gw_authz_condition_t *cond, const char *value, size_t len)
{
    return gw_policy_match_any(&cond->not_values, value, len, 0);
}

/* values: one value of the key matches one; notValues: no value matches any (an absent key passes). */
static int condition_matches(const ctx_t *ctx, const gw_authz_condition_t *cond)
{
    int seen = 0;
    if (cond->values.count > 0 && !for_each_value(ctx, cond, hits_values, &seen))
        return 0;
    return cond->not_values.count == 0 || !for_each_value(ctx, cond, hits_not_values, &seen);
}

static int conditions_match(const ctx_t *ctx, const gw_authz_condition_t *conds, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        if (!condition_matches(ctx, &conds[i]))
            return 0;
    return 1;
}

/* ---- AuthorizationPolicy ---- */

static int source_matches(const ctx_t *ctx, const gw_authz_source_t *s)
{
    const char *ns = source_namespace(ctx);
    return listed(&s->request_principals, &s->not_request_principals, ctx->principal, ctx->principal_len,
                  0) &&
           listed(&s->namespaces, &s->not_namespaces, ns, strlen(ns), 0);
}

static int operation_matches(const ctx_t *ctx, const gw_authz_operation_t *op)
{
    const gw_policy_request_t *r = ctx->request;
    return listed(&op->hosts, &op->not_hosts, r->host, ctx->host_len, 1) &&
           listed(&op->methods, &op->not_methods, r->method, r->method_len, 0) &&
           listed(&op->paths, &op->not_paths, r->path, r->path_len, 0);
}

static int rule_matches(const ctx_t *ctx, const gw_authz_rule_t *rule)
{
    int from = rule->from_count == 0, to = rule->to_count == 0;
    for (size_t i = 0; !from && i < rule->from_count; ++i)
        from = source_matches(ctx, &rule->from[i]);
    for (size_t i = 0; from && !to && i < rule->to_count; ++i)
        to = operation_matches(ctx, &rule->to[i]);
    return from && to && conditions_match(ctx, rule->when, rule->when_count);
}

/* The index of the first rule of policy that matches, or SIZE_MAX (a policy without rules matches nothing).
 */
static size_t policy_matches(const ctx_t *ctx, const gw_authorization_policy_t *policy)
{
    for (size_t i = 0; i < policy->rule_count; ++i)
        if (rule_matches(ctx, &policy->rules[i]))
            return i;
    return SIZE_MAX;
}

/* ---- ServiceRole / ServiceRoleBinding ---- */

static int service_matches(const gw_strings_t *services, const gw_service_entry_t *se)
{
    for (size_t i = 0; i < se->hosts.count; ++i)
        if (gw_policy_match_any(services, se->hosts.items[i], strlen(se->hosts.items[i]), 1))
            return 1;
    const char *display = gw_labels_get(&se->meta.annotations, SERVICE_NAME_ANNOTATION);
    return gw_policy_match_any(services, se->meta.name, strlen(se->meta.name), 0) ||
           (display != NULL && gw_policy_match_any(services, display, strlen(display), 0));
}

static int role_rule_matches(const ctx_t *ctx, const gw_role_rule_t *rule)
{
    const gw_policy_request_t *r = ctx->request;
    return service_matches(&rule->services, r->service) &&
           (rule->methods.count == 0 || gw_policy_match_any(&rule->methods, r->method, r->method_len, 0)) &&
           (rule->paths.count == 0 || gw_policy_match_any(&rule->paths, r->path, r->path_len, 0)) &&
           conditions_match(ctx, rule->constraints, rule->constraint_count);
}

static int in_group(const as_identity_t *identity, const char *group)
{
    for (size_t i = 0; i < identity->group_count; ++i)
        if (strcmp(identity->groups[i], group) == 0)
            return 1;
    return 0;
}

static int subject_matches(const ctx_t *ctx, const gw_role_subject_t *subject)
{
    const as_identity_t *id = ctx->request->identity;
    const char *user = subject->user;
    if (user != NULL && strcmp(user, "*") != 0 &&
        strcmp(user, ctx->policy->config->settings.authorization.gateway_principal) != 0 &&
        (id->userid == NULL || strcmp(user, id->userid) != 0))
        return 0;
    if (subject->group != NULL && !in_group(id, subject->group))
        return 0;
    return conditions_match(ctx, subject->properties, subject->property_count);
}

/* The index of the subject that binding grants the request to, or SIZE_MAX. */
static size_t binding_grants(const ctx_t *ctx, const item_t *item)
{
    int allowed = 0;
    for (size_t i = 0; item->role != NULL && !allowed && i < item->role->rule_count; ++i)
        allowed = role_rule_matches(ctx, &item->role->rules[i]);
    for (size_t i = 0; allowed && i < item->binding->subject_count; ++i)
        if (subject_matches(ctx, &item->binding->subjects[i]))
            return i;
    return SIZE_MAX;
}

/* ---- decision ---- */

static void decided(gw_policy_decision_t *out, int allowed, const item_t *item, size_t rule,
                    const char *reason)
{
    out->allowed = allowed;
    out->kind = item == NULL ? NULL : item->policy != NULL ? "AuthorizationPolicy" : "ServiceRoleBinding";
    out->decider = item == NULL ? NULL : item->policy != NULL ? &item->policy->meta : &item->binding->meta;
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

static void decide_in(const ctx_t *ctx, const ns_entry_t *ns, gw_policy_decision_t *out)
{
    for (size_t i = 0; i < ns->counts[SLOT_AUDIT]; ++i)
        if (policy_matches(ctx, ns->items[SLOT_AUDIT][i].policy) != SIZE_MAX)
            out->audit = 1;
    for (size_t i = 0; i < ns->counts[SLOT_DENY]; ++i) {
        size_t rule = policy_matches(ctx, ns->items[SLOT_DENY][i].policy);
        if (rule != SIZE_MAX) {
            decided(out, 0, &ns->items[SLOT_DENY][i], rule, "denied by a DENY policy");
            return;
        }
    }
    for (size_t i = 0; i < ns->counts[SLOT_ALLOW]; ++i) {
        size_t rule = policy_matches(ctx, ns->items[SLOT_ALLOW][i].policy);
        if (rule != SIZE_MAX) {
            decided(out, 1, &ns->items[SLOT_ALLOW][i], rule, "allowed by an ALLOW policy");
            return;
        }
    }
    for (size_t i = 0; i < ns->counts[SLOT_BINDING]; ++i) {
        size_t subject = binding_grants(ctx, &ns->items[SLOT_BINDING][i]);
        if (subject != SIZE_MAX) {
            decided(out, 1, &ns->items[SLOT_BINDING][i], subject, "allowed by a ServiceRoleBinding");
            return;
        }
    }
    if (ns->counts[SLOT_ALLOW] + ns->counts[SLOT_BINDING] == 0) {
        decided(out, 1, NULL, 0, "no ALLOW policy in the namespace");
        return;
    }
    decided(out, 0, NULL, 0, "no policy allows this request");
}

void gw_policy_decide(const gw_policy_t *policy, const gw_policy_request_t *request,
                      gw_policy_decision_t *out)
{
    memset(out, 0, sizeof(*out));
    if (request->service == NULL) {
        decided(out, 0, NULL, 0, "no destination");
        return;
    }
    const ns_entry_t *ns = find_namespace(policy, request->service->meta.namespace_);
    if (ns == NULL) {
        decided(out, 1, NULL, 0, "no policy in the namespace");
        return;
    }
    const as_identity_t *id = request->identity;
    char buf[1024], *principal = NULL;
    size_t len = 0;
    if (id->subject != NULL && id->issuer != NULL) {
        len = strlen(id->issuer) + 1 + strlen(id->subject);
        principal = len < sizeof(buf) ? buf : malloc(len + 1);
        if (principal == NULL) {
            decided(out, 0, NULL, 0, "out of memory");
            return;
        }
        strcpy(principal, id->issuer);
        strcat(principal, "/");
        strcat(principal, id->subject);
    }
    ctx_t ctx = {policy, request, principal, len, host_without_port(request->host, request->host_len)};
    decide_in(&ctx, ns, out);
    if (principal != buf)
        free(principal);
}
