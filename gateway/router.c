#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One way a path can select a route: an exact path, a prefix, or anything. */
typedef struct {
    gw_string_match_kind_t kind;
    const char *value;
    size_t len;
    size_t order; /* document order, breaks ties */
    const gw_route_t *route;
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

static int compare_rules(const void *a, const void *b)
{
    const match_rule_t *x = a, *y = b;
    /* exact first, then prefixes (longest first), then match-all */
    int rank_x = x->kind == GW_MATCH_EXACT ? 0 : x->kind == GW_MATCH_PREFIX ? 1 : 2;
    int rank_y = y->kind == GW_MATCH_EXACT ? 0 : y->kind == GW_MATCH_PREFIX ? 1 : 2;
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

static int build_route(gw_router_t *router, const gw_config_t *config, const gw_virtual_service_t *vs,
                       const gw_http_route_t *http, gw_route_t *route, char *err, size_t err_size)
{
    route->config = http;
    route->service = vs;
    route->targets = calloc(http->route_count, sizeof(*route->targets));
    if (route->targets == NULL) {
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
        router->slots[router->slot_count] = target;
        router->slot_routes[router->slot_count++] = route;
        route->total_weight += target->weight;
    }
    return 0;
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
                router->rules[router->rule_count] =
                    (match_rule_t){GW_MATCH_ANY, "", 0, router->rule_count, route};
                ++router->rule_count;
            }
            for (size_t m = 0; m < http->match_count; ++m) {
                const gw_string_match_t *uri = &http->matches[m].uri;
                const char *value = uri->value != NULL ? uri->value : "";
                router->rules[router->rule_count] =
                    (match_rule_t){uri->kind, value, strlen(value), router->rule_count, route};
                ++router->rule_count;
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
    for (size_t i = 0; i < router->route_count; ++i)
        free(router->routes[i].targets);
    free(router->routes);
    free(router->rules);
    free(router->slots);
    free(router->slot_routes);
    gw_cluster_table_dispose(&router->clusters);
    free(router);
}

const gw_route_t *gw_router_match(const gw_router_t *router, const char *path, size_t path_len,
                                  size_t *matched_len)
{
    for (size_t i = 0; i < router->rule_count; ++i) {
        const match_rule_t *rule = &router->rules[i];
        switch (rule->kind) {
        case GW_MATCH_EXACT:
            if (rule->len == path_len && memcmp(rule->value, path, path_len) == 0) {
                *matched_len = path_len;
                return rule->route;
            }
            break;
        case GW_MATCH_PREFIX:
            if (rule->len <= path_len && memcmp(rule->value, path, rule->len) == 0) {
                *matched_len = rule->len;
                return rule->route;
            }
            break;
        case GW_MATCH_ANY:
            *matched_len = 0;
            return rule->route;
        }
    }
    return NULL;
}

const gw_route_target_t *gw_route_pick(const gw_route_t *route, unsigned roll)
{
    for (size_t i = 0; i < route->target_count; ++i) {
        if (roll < route->targets[i].weight)
            return &route->targets[i];
        roll -= route->targets[i].weight;
    }
    return &route->targets[route->target_count - 1];
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
