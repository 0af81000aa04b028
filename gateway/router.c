#include "router.h"

#include "metrics.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One way a request can select a route: a uri condition (exact, prefix, regex or none) that orders the
 * rules, plus the match's other conditions. Regexes are compiled once, anchored to the whole value. */
typedef struct {
    gw_string_match_kind_t kind;
    const char *value;
    size_t len;
    size_t order; /* document order, breaks ties */
    const gw_route_t *route;
    const gw_http_match_t *match; /* NULL for a route without match */
    regex_t *regexes;             /* uri, method, headers..., withoutHeaders..., queryParams... */
    size_t regex_count;
} match_rule_t;

struct gw_router {
    gw_route_t *routes;
    size_t route_count;
    match_rule_t *rules; /* sorted by precedence */
    size_t rule_count;
    const gw_route_target_t **slots; /* every target, by slot */
    const gw_route_t **slot_routes;
    size_t slot_count;
    gw_cluster_table_t clusters;
};

static int rank(gw_string_match_kind_t kind)
{
    switch (kind) {
    case GW_MATCH_EXACT:
        return 0;
    case GW_MATCH_PREFIX:
        return 1;
    case GW_MATCH_REGEX:
        return 2;
    default:
        return 3;
    }
}

static int compare_rules(const void *a, const void *b)
{
    const match_rule_t *x = a, *y = b;
    /* exact first, then prefixes (longest first), then match-all */
    int rank_x = rank(x->kind), rank_y = rank(y->kind);
    if (rank_x != rank_y)
        return rank_x - rank_y;
    if (x->kind == GW_MATCH_PREFIX && x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static size_t count_routes(const gw_config_t *config, size_t *rule_count, size_t *target_count)
{
    size_t routes = 0;
    *rule_count = *target_count = 0;
    for (size_t v = 0; v < config->virtual_service_count; ++v) {
        const gw_virtual_service_t *vs = &config->virtual_services[v];
        for (size_t h = 0; h < vs->http_count; ++h) {
            ++routes;
            *rule_count += vs->http[h].match_count > 0 ? vs->http[h].match_count : 1;
            *target_count += vs->http[h].route_count;
        }
    }
    return routes;
}

/* The route's name in metrics and the access log: "virtualservice/route", or the rule's index when unnamed.
 */
static char *route_name(const gw_virtual_service_t *vs, const gw_http_route_t *http)
{
    char name[512];
    if (http->name != NULL)
        snprintf(name, sizeof(name), "%s/%s", vs->meta.name, http->name);
    else
        snprintf(name, sizeof(name), "%s/%zu", vs->meta.name, (size_t)(http - vs->http));
    return strdup(name);
}

static int build_route(gw_router_t *router, const gw_config_t *config, const gw_virtual_service_t *vs,
                       const gw_http_route_t *http, gw_route_t *route, char *err, size_t err_size)
{
    route->config = http;
    route->service = vs;
    route->targets = calloc(http->route_count, sizeof(*route->targets));
    route->name = route_name(vs, http);
    if (route->targets == NULL || route->name == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t d = 0; d < http->route_count; ++d) {
        const gw_route_destination_t *dest = &http->routes[d];
        char cluster_err[768];
        long cluster = gw_cluster_table_intern(&router->clusters, config, dest->host, dest->subset,
                                               dest->port, cluster_err, sizeof(cluster_err));
        if (cluster < 0) {
            snprintf(err, err_size, "%s:%u:%u: VirtualService %s/%s: %s", dest->mark.file, dest->mark.line,
                     dest->mark.column, vs->meta.namespace_, vs->meta.name, cluster_err);
            return -1;
        }
        gw_route_target_t *target = &route->targets[route->target_count++];
        target->config = dest;
        target->cluster = (size_t)cluster;
        target->weight = http->route_count == 1 && dest->weight == 0 ? 100 : dest->weight;
        target->slot = router->slot_count;
        const gw_cluster_t *c = &router->clusters.clusters[cluster];
        target->metrics_cluster = gw_metrics_cluster_label(c->namespace_, c->name);
        target->metrics_namespace = gw_metrics_namespace_label(c->namespace_);
        router->slots[router->slot_count] = target;
        router->slot_routes[router->slot_count++] = route;
        route->total_weight += target->weight;
    }
    route->metrics_route = gw_metrics_route_label(vs->meta.namespace_, route->name);
    route->metrics_namespace = gw_metrics_namespace_label(vs->meta.namespace_);
    route->mirror_cluster = -1;
    const gw_route_destination_t *mirror = http->mirror;
    if (mirror != NULL) {
        char cluster_err[768];
        route->mirror_cluster =
            gw_cluster_table_intern(&router->clusters, config, mirror->host, mirror->subset, mirror->port,
                                    cluster_err, sizeof(cluster_err));
        if (route->mirror_cluster < 0) {
            snprintf(err, err_size, "%s:%u:%u: VirtualService %s/%s: mirror: %s", mirror->mark.file,
                     mirror->mark.line, mirror->mark.column, vs->meta.namespace_, vs->meta.name, cluster_err);
            return -1;
        }
    }
    return 0;
}

/* Regex slots of a rule: [0] uri, [1] method, then headers, withoutHeaders, queryParams. */
#define SLOT_URI 0
#define SLOT_METHOD 1
#define SLOT_HEADERS 2

static int compile_one(regex_t *re, const gw_string_match_t *m, int icase, int *compiled, char *err,
                       size_t err_size)
{
    if (m->kind != GW_MATCH_REGEX)
        return 0;
    char anchored[4096];
    snprintf(anchored, sizeof(anchored), "^(%s)$", m->value);
    if (regcomp(re, anchored, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) != 0) {
        snprintf(err, err_size, "invalid regex \"%.200s\"", m->value);
        return -1;
    }
    *compiled = 1;
    return 0;
}

static int compile_regexes(match_rule_t *rule, char *err, size_t err_size)
{
    const gw_http_match_t *m = rule->match;
    size_t count = SLOT_HEADERS + m->header_count + m->without_header_count + m->query_param_count;
    rule->regexes = calloc(count, sizeof(*rule->regexes));
    int *compiled = calloc(count, sizeof(int));
    if (rule->regexes == NULL || compiled == NULL) {
        free(compiled);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    rule->regex_count = count;
    int rc = compile_one(&rule->regexes[SLOT_URI], &m->uri, m->ignore_uri_case, &compiled[SLOT_URI], err,
                         err_size) ||
             compile_one(&rule->regexes[SLOT_METHOD], &m->method, 0, &compiled[SLOT_METHOD], err, err_size);
    size_t slot = SLOT_HEADERS;
    for (size_t i = 0; rc == 0 && i < m->header_count; ++i, ++slot)
        rc = compile_one(&rule->regexes[slot], &m->headers[i].value, 0, &compiled[slot], err, err_size);
    for (size_t i = 0; rc == 0 && i < m->without_header_count; ++i, ++slot)
        rc = compile_one(&rule->regexes[slot], &m->without_headers[i].value, 0, &compiled[slot], err,
                         err_size);
    for (size_t i = 0; rc == 0 && i < m->query_param_count; ++i, ++slot)
        rc = compile_one(&rule->regexes[slot], &m->query_params[i].value, 0, &compiled[slot], err, err_size);
    if (rc != 0) {
        for (size_t i = 0; i < count; ++i)
            if (compiled[i])
                regfree(&rule->regexes[i]);
        free(rule->regexes);
        rule->regexes = NULL;
    }
    free(compiled);
    return rc ? -1 : 0;
}

static void free_regexes(match_rule_t *rule)
{
    const gw_http_match_t *m = rule->match;
    if (rule->regexes == NULL)
        return;
    if (m->uri.kind == GW_MATCH_REGEX)
        regfree(&rule->regexes[SLOT_URI]);
    if (m->method.kind == GW_MATCH_REGEX)
        regfree(&rule->regexes[SLOT_METHOD]);
    size_t slot = SLOT_HEADERS;
    const gw_named_match_t *lists[] = {m->headers, m->without_headers, m->query_params};
    const size_t counts[] = {m->header_count, m->without_header_count, m->query_param_count};
    for (size_t l = 0; l < 3; ++l)
        for (size_t i = 0; i < counts[l]; ++i, ++slot)
            if (lists[l][i].value.kind == GW_MATCH_REGEX)
                regfree(&rule->regexes[slot]);
    free(rule->regexes);
}

gw_router_t *gw_router_new(const gw_config_t *config, char *err, size_t err_size)
{
    gw_router_t *router = calloc(1, sizeof(*router));
    if (router == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    gw_cluster_table_init(&router->clusters);
    size_t rule_count, target_count;
    size_t route_count = count_routes(config, &rule_count, &target_count);
    router->routes = calloc(route_count + 1, sizeof(*router->routes));
    router->rules = calloc(rule_count + 1, sizeof(*router->rules));
    router->slots = calloc(target_count + 1, sizeof(*router->slots));
    router->slot_routes = calloc(target_count + 1, sizeof(*router->slot_routes));
    if (router->routes == NULL || router->rules == NULL || router->slots == NULL ||
        router->slot_routes == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    for (size_t v = 0; v < config->virtual_service_count; ++v) {
        const gw_virtual_service_t *vs = &config->virtual_services[v];
        for (size_t h = 0; h < vs->http_count; ++h) {
            const gw_http_route_t *http = &vs->http[h];
            gw_route_t *route = &router->routes[router->route_count++];
            if (build_route(router, config, vs, http, route, err, err_size) != 0)
                goto fail;
            if (http->match_count == 0) {
                router->rules[router->rule_count] = (match_rule_t){
                    .kind = GW_MATCH_ANY, .value = "", .order = router->rule_count, .route = route};
                ++router->rule_count;
            }
            for (size_t m = 0; m < http->match_count; ++m) {
                match_rule_t *rule = &router->rules[router->rule_count];
                const gw_string_match_t *uri = &http->matches[m].uri;
                *rule = (match_rule_t){.kind = uri->kind,
                                       .value = uri->value != NULL ? uri->value : "",
                                       .order = router->rule_count,
                                       .route = route,
                                       .match = &http->matches[m]};
                rule->len = strlen(rule->value);
                ++router->rule_count;
                if (compile_regexes(rule, err, err_size) != 0)
                    goto fail;
            }
        }
    }
    qsort(router->rules, router->rule_count, sizeof(*router->rules), compare_rules);
    return router;

fail:
    gw_router_free(router);
    return NULL;
}

void gw_router_free(gw_router_t *router)
{
    if (router == NULL)
        return;
    for (size_t i = 0; i < router->route_count; ++i) {
        free(router->routes[i].targets);
        free(router->routes[i].name);
    }
    for (size_t i = 0; i < router->rule_count; ++i)
        if (router->rules[i].match != NULL)
            free_regexes(&router->rules[i]);
    free(router->routes);
    free(router->rules);
    free(router->slots);
    free(router->slot_routes);
    gw_cluster_table_dispose(&router->clusters);
    free(router);
}

/* Whether value satisfies m (re: its compiled regex when m is one). */
static int string_matches(const gw_string_match_t *m, const regex_t *re, int icase, const char *value,
                          size_t len)
{
    size_t want = m->value != NULL ? strlen(m->value) : 0;
    switch (m->kind) {
    case GW_MATCH_ANY:
        return 1;
    case GW_MATCH_EXACT:
        return len == want && (icase ? strncasecmp(value, m->value, len) : memcmp(value, m->value, len)) == 0;
    case GW_MATCH_PREFIX:
        return len >= want &&
               (icase ? strncasecmp(value, m->value, want) : memcmp(value, m->value, want)) == 0;
    case GW_MATCH_REGEX: {
        char buf[8192];
        if (len >= sizeof(buf) || memchr(value, '\0', len) != NULL)
            return 0;
        memcpy(buf, value, len);
        buf[len] = '\0';
        return regexec(re, buf, 0, NULL, 0) == 0;
    }
    }
    return 0;
}

/* The raw value of query parameter name ("a=1&b=2"); a parameter without '=' has an empty value. */
static const char *query_param(const gw_route_request_t *request, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    const char *p = request->query, *end = request->query + request->query_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *key_end = eq != NULL ? eq : pair_end;
        if ((size_t)(key_end - p) == name_len && memcmp(p, name, name_len) == 0) {
            const char *value = eq != NULL ? eq + 1 : pair_end;
            *len = (size_t)(pair_end - value);
            return value;
        }
        p = pair_end + 1;
    }
    return NULL;
}

/* The conditions of a match besides its uri. */
static int conditions_hold(const match_rule_t *rule, const gw_route_request_t *request)
{
    const gw_http_match_t *m = rule->match;
    if (!string_matches(&m->method, &rule->regexes[SLOT_METHOD], 0, request->method, request->method_len))
        return 0;
    size_t slot = SLOT_HEADERS;
    for (size_t i = 0; i < m->header_count; ++i, ++slot) {
        size_t len;
        const char *value = request->header(request->ctx, m->headers[i].name, &len);
        if (value == NULL || !string_matches(&m->headers[i].value, &rule->regexes[slot], 0, value, len))
            return 0;
    }
    for (size_t i = 0; i < m->without_header_count; ++i, ++slot) {
        size_t len;
        const char *value = request->header(request->ctx, m->without_headers[i].name, &len);
        if (value != NULL &&
            string_matches(&m->without_headers[i].value, &rule->regexes[slot], 0, value, len))
            return 0;
    }
    for (size_t i = 0; i < m->query_param_count; ++i, ++slot) {
        size_t len;
        const char *value = query_param(request, m->query_params[i].name, &len);
        if (value == NULL || !string_matches(&m->query_params[i].value, &rule->regexes[slot], 0, value, len))
            return 0;
    }
    return 1;
}

const gw_route_t *gw_router_match(const gw_router_t *router, const gw_route_request_t *request,
                                  size_t *matched_len)
{
    for (size_t i = 0; i < router->rule_count; ++i) {
        const match_rule_t *rule = &router->rules[i];
        int icase = rule->match != NULL && rule->match->ignore_uri_case;
        const gw_string_match_t uri = {rule->kind, (char *)rule->value};
        if (rule->match != NULL &&
            !string_matches(&uri, &rule->regexes[SLOT_URI], icase, request->path, request->path_len))
            continue;
        if (rule->match != NULL && !conditions_hold(rule, request))
            continue;
        *matched_len = rule->kind == GW_MATCH_PREFIX ? rule->len
                       : rule->kind == GW_MATCH_ANY  ? 0
                                                     : request->path_len;
        return rule->route;
    }
    return NULL;
}

const gw_route_target_t *gw_route_pick(const gw_route_t *route, int *state)
{
    size_t best = 0;
    for (size_t i = 0; i < route->target_count; ++i) {
        state[i] += (int)route->targets[i].weight;
        if (state[i] > state[best])
            best = i;
    }
    state[best] -= (int)route->total_weight;
    return &route->targets[best];
}

const gw_cluster_table_t *gw_router_clusters(const gw_router_t *router)
{
    return &router->clusters;
}

size_t gw_router_slot_count(const gw_router_t *router)
{
    return router->slot_count;
}

const gw_route_target_t *gw_router_slot(const gw_router_t *router, size_t slot)
{
    return router->slots[slot];
}

const gw_route_t *gw_router_slot_route(const gw_router_t *router, size_t slot)
{
    return router->slot_routes[slot];
}
