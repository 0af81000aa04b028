/*
 * Tenant isolation at load: a document in namespace N routes to and grants access to destinations in N
 * only, and no two namespaces claim the same requests. The policy engine only ever looks at the
 * destination's namespace, so these checks turn a config that would silently do nothing (or steal another
 * tenant's traffic) into a load error naming both documents.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_kinds.h"

/* "Kind ns/name (file:line)" of a document, for messages. */
static const char *describe(char *dst, size_t size, const char *kind, const gw_meta_t *meta)
{
    snprintf(dst, size, "%s %s/%s (%s:%u)", kind, meta->namespace_, meta->name, meta->mark.file,
             meta->mark.line);
    return dst;
}

/* The ServiceEntry of another namespace than ns that lists host exactly, or NULL. */
static const gw_service_entry_t *foreign_service(const gw_config_t *config, const char *ns, const char *host)
{
    const gw_service_entry_t *se = gw_config_find_service(config, host);
    return se != NULL && strcmp(se->meta.namespace_, ns) != 0 ? se : NULL;
}

static int fail_foreign(gw__cfg_t *c, const gw_config_mark_t *mark, const char *path, const char *kind,
                        const gw_meta_t *meta, const char *what, const char *host,
                        const gw_service_entry_t *se)
{
    char self[400], other[400], shown[200];
    return gw__cfg_fail_at(
        c, mark, path, "%s %s \"%s\", a host of %s: a document can only %s its own namespace",
        describe(self, sizeof(self), kind, meta), what, gw__cfg_show(shown, sizeof(shown), host),
        describe(other, sizeof(other), "ServiceEntry", &se->meta),
        strcmp(what, "routes to") == 0 ? "route to" : "grant access to");
}

/* ---- VirtualService: destinations ---- */

static int check_destinations(gw__cfg_t *c, const gw_virtual_service_t *vs)
{
    char path[128];
    for (size_t r = 0; r < vs->http_count; ++r)
        for (size_t d = 0; d < vs->http[r].route_count; ++d) {
            const gw_route_destination_t *dest = &vs->http[r].routes[d];
            const gw_service_entry_t *se = foreign_service(c->config, vs->meta.namespace_, dest->host);
            if (se == NULL)
                continue;
            snprintf(path, sizeof(path), "spec.http[%zu].route[%zu].destination.host", r, d);
            return fail_foreign(c, &dest->mark, path, "VirtualService", &vs->meta, "routes to", dest->host,
                                se);
        }
    return 0;
}

/* ---- VirtualService: uri claims across namespaces ---- */

static int host_overlap(const char *a, const char *b)
{
    if (strcmp(a, "*") == 0 || strcmp(b, "*") == 0 || strcasecmp(a, b) == 0)
        return 1;
    for (int swap = 0; swap < 2; ++swap) {
        const char *wild = swap ? b : a, *name = swap ? a : b;
        size_t wl = strlen(wild), nl = strlen(name);
        if (wild[0] == '*' && nl >= wl - 1 && strcasecmp(name + nl - (wl - 1), wild + 1) == 0)
            return 1;
    }
    return 0;
}

static int hosts_overlap(const gw_strings_t *a, const gw_strings_t *b)
{
    for (size_t i = 0; i < a->count; ++i)
        for (size_t j = 0; j < b->count; ++j)
            if (host_overlap(a->items[i], b->items[j]))
                return 1;
    return 0;
}

/* What one match claims: an exact path or a prefix ("" for a match without uri: everything). Regexes are
 * not compared (undecidable in general); docs/internals/authorization.md says so. */
typedef struct {
    const gw_virtual_service_t *vs;
    gw_string_match_kind_t kind;
    const char *value;
    int nocase;
    gw_config_mark_t mark;
} claim_t;

static int starts_with(const char *s, const char *prefix, int nocase)
{
    size_t len = strlen(prefix);
    return nocase ? strncasecmp(s, prefix, len) == 0 : strncmp(s, prefix, len) == 0;
}

static int claims_overlap(const claim_t *a, const claim_t *b)
{
    int nocase = a->nocase || b->nocase;
    if (a->kind == GW_MATCH_EXACT && b->kind == GW_MATCH_EXACT)
        return nocase ? strcasecmp(a->value, b->value) == 0 : strcmp(a->value, b->value) == 0;
    if (a->kind == GW_MATCH_EXACT)
        return starts_with(a->value, b->value, nocase);
    if (b->kind == GW_MATCH_EXACT)
        return starts_with(b->value, a->value, nocase);
    return starts_with(a->value, b->value, nocase) || starts_with(b->value, a->value, nocase);
}

static size_t collect_claims(const gw_config_t *config, claim_t *out)
{
    size_t n = 0;
    for (size_t v = 0; v < config->virtual_service_count; ++v) {
        const gw_virtual_service_t *vs = &config->virtual_services[v];
        for (size_t r = 0; r < vs->http_count; ++r) {
            const gw_http_route_t *route = &vs->http[r];
            if (route->match_count == 0) {
                if (out != NULL)
                    out[n] = (claim_t){vs, GW_MATCH_PREFIX, "", 0, route->mark};
                ++n;
            }
            for (size_t m = 0; m < route->match_count; ++m) {
                const gw_http_match_t *match = &route->matches[m];
                if (match->uri.kind == GW_MATCH_REGEX)
                    continue;
                if (out != NULL)
                    out[n] =
                        (claim_t){vs, match->uri.kind == GW_MATCH_ANY ? GW_MATCH_PREFIX : match->uri.kind,
                                  match->uri.kind == GW_MATCH_ANY ? "" : match->uri.value,
                                  match->ignore_uri_case, match->mark};
                ++n;
            }
        }
    }
    return n;
}

static int check_claims(gw__cfg_t *c)
{
    size_t count = collect_claims(c->config, NULL);
    if (count < 2)
        return 0;
    claim_t *claims = gw_arena_calloc(c->arena, count, sizeof(*claims));
    if (claims == NULL)
        return gw__cfg_fail_at(c, &(gw_config_mark_t){c->file, 1, 1}, NULL, "out of memory");
    collect_claims(c->config, claims);
    for (size_t i = 0; i < count; ++i)
        for (size_t j = 0; j < i; ++j) {
            const claim_t *a = &claims[j], *b = &claims[i];
            if (strcmp(a->vs->meta.namespace_, b->vs->meta.namespace_) == 0 ||
                !hosts_overlap(&a->vs->hosts, &b->vs->hosts) || !claims_overlap(a, b))
                continue;
            char first[400], second[400];
            return gw__cfg_fail_at(c, &b->mark, "spec.http.match.uri",
                                   "%s claims %s \"%s\", which overlaps %s claiming \"%s\" at %s:%u:%u: "
                                   "two namespaces may not claim the same requests",
                                   describe(second, sizeof(second), "VirtualService", &b->vs->meta),
                                   b->kind == GW_MATCH_EXACT ? "path" : "prefix", b->value,
                                   describe(first, sizeof(first), "VirtualService", &a->vs->meta), a->value,
                                   a->mark.file, a->mark.line, a->mark.column);
        }
    return 0;
}

int gw__finish_virtual_services(gw__cfg_t *c)
{
    for (size_t v = 0; v < c->config->virtual_service_count; ++v)
        if (check_destinations(c, &c->config->virtual_services[v]) != 0)
            return -1;
    return check_claims(c);
}

/* ---- ServiceRole services and AuthorizationPolicy hosts ---- */

int gw__finish_service_roles(gw__cfg_t *c)
{
    char path[128];
    for (size_t i = 0; i < c->config->service_role_count; ++i) {
        const gw_service_role_t *role = &c->config->service_roles[i];
        for (size_t r = 0; r < role->rule_count; ++r)
            for (size_t s = 0; s < role->rules[r].services.count; ++s) {
                const char *service = role->rules[r].services.items[s];
                const gw_service_entry_t *se = foreign_service(c->config, role->meta.namespace_, service);
                if (se == NULL)
                    continue;
                snprintf(path, sizeof(path), "spec.rules[%zu].services[%zu]", r, s);
                return fail_foreign(c, &role->rules[r].mark, path, "ServiceRole", &role->meta, "names",
                                    service, se);
            }
    }
    return 0;
}

int gw__finish_authorization_policies(gw__cfg_t *c)
{
    char path[128];
    for (size_t i = 0; i < c->config->authorization_policy_count; ++i) {
        const gw_authorization_policy_t *policy = &c->config->authorization_policies[i];
        for (size_t r = 0; r < policy->rule_count; ++r)
            for (size_t t = 0; t < policy->rules[r].to_count; ++t) {
                const gw_authz_operation_t *op = &policy->rules[r].to[t];
                for (size_t h = 0; h < op->hosts.count; ++h) {
                    const gw_service_entry_t *se =
                        foreign_service(c->config, policy->meta.namespace_, op->hosts.items[h]);
                    if (se == NULL)
                        continue;
                    snprintf(path, sizeof(path), "spec.rules[%zu].to[%zu].operation.hosts[%zu]", r, t, h);
                    return fail_foreign(c, &op->mark, path, "AuthorizationPolicy", &policy->meta, "names",
                                        op->hosts.items[h], se);
                }
            }
    }
    return 0;
}
