/* kind VirtualService (networking.istio.io): HTTP routes from matches to weighted destinations. */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "config_kinds.h"

/* A regex must compile (POSIX extended, matched against the whole value by the router). */
static int check_regex(gw__cfg_t *c, const gw_yaml_node_t *node, const char *pattern)
{
    /* RE2 (Envoy's dialect) classes that POSIX would read as plain letters: refuse rather than mean less */
    for (const char *p = pattern; *p != '\0'; ++p) {
        if (*p == '\\' && p[1] != '\0' && strchr("dDwWsSbBpPQEAzC", p[1]) != NULL)
            return gw__cfg_fail(c, node,
                                "the RE2 escape \\%c is not supported here (POSIX regex): use a bracket "
                                "expression such as [0-9] or [[:space:]]",
                                p[1]);
        if (*p == '\\' && p[1] != '\0')
            ++p;
    }
    regex_t compiled;
    char anchored[4096];
    if (snprintf(anchored, sizeof(anchored), "^(%s)$", pattern) >= (int)sizeof(anchored))
        return gw__cfg_fail(c, node, "regex is longer than 4000 characters");
    int rc = regcomp(&compiled, anchored, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128], shown[128];
        regerror(rc, &compiled, why, sizeof(why));
        return gw__cfg_fail(c, node, "invalid regex \"%s\": %s", gw__cfg_show(shown, sizeof(shown), pattern),
                            why);
    }
    regfree(&compiled);
    return 0;
}

/* Istio's StringMatch: a map with exactly one of exact, prefix or regex. With allow_empty, an empty map (or
 * no value) means "present, any value" (headers and query parameters). */
static int decode_string_match(gw__cfg_t *c, const gw_yaml_node_t *node, int allow_empty,
                               gw_string_match_t *out)
{
    static const char *const fields[] = {"exact", "prefix", "regex", NULL};
    out->kind = GW_MATCH_ANY;
    out->value = NULL;
    if (node == NULL || (allow_empty && gw_yaml_is_null(node)))
        return 0;
    if (gw__cfg_expect_map(c, node) != 0 || gw__cfg_fields(c, node, fields, NULL) != 0)
        return -1;
    if (node->count == 0)
        return allow_empty ? 0 : gw__cfg_fail(c, node, "needs one of exact, prefix or regex");
    if (node->count != 1)
        return gw__cfg_fail(c, node, "needs exactly one of exact, prefix or regex");
    const char *field = gw__cfg_get(node, "exact") != NULL    ? "exact"
                        : gw__cfg_get(node, "prefix") != NULL ? "prefix"
                                                              : "regex";
    if (gw__cfg_string(c, node, field, 0, &out->value) < 0)
        return -1;
    out->kind = field[0] == 'e' ? GW_MATCH_EXACT : field[0] == 'p' ? GW_MATCH_PREFIX : GW_MATCH_REGEX;
    if (out->kind == GW_MATCH_REGEX) {
        size_t saved = gw__cfg_push(c, field);
        int rc = check_regex(c, gw__cfg_get(node, field), out->value);
        gw__cfg_pop(c, saved);
        return rc;
    }
    return 0;
}

static int decode_uri_match(gw__cfg_t *c, const gw_yaml_node_t *match, gw_string_match_t *out)
{
    const gw_yaml_node_t *uri = gw__cfg_get(match, "uri");
    size_t saved = gw__cfg_push(c, "uri");
    int rc = decode_string_match(c, uri, 0, out);
    if (rc == 0 && out->kind != GW_MATCH_ANY && out->kind != GW_MATCH_REGEX && out->value[0] != '/') {
        gw__cfg_push(c, out->kind == GW_MATCH_EXACT ? "exact" : "prefix");
        rc = gw__cfg_fail(c, gw__cfg_get(uri, out->kind == GW_MATCH_EXACT ? "exact" : "prefix"),
                          "must start with /");
    }
    gw__cfg_pop(c, saved);
    return rc;
}

/* headers / withoutHeaders / queryParams: a map of name -> StringMatch. Header names are lower-cased. */
static int decode_named_matches(gw__cfg_t *c, const gw_yaml_node_t *match, const char *key, int header_names,
                                gw_named_match_t **out, size_t *count)
{
    const gw_yaml_node_t *map = gw__cfg_get(match, key);
    if (map == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, key);
    int rc = gw__cfg_expect_map(c, map);
    if (rc == 0 && map->count > 0 && (*out = gw_arena_calloc(c->arena, map->count, sizeof(**out))) == NULL)
        rc = gw__cfg_fail(c, map, "out of memory");
    for (size_t i = 0; rc == 0 && i < map->count; ++i) {
        const gw_yaml_node_t *name = map->items[2 * i], *value = map->items[2 * i + 1];
        gw_named_match_t *named = &(*out)[i];
        if ((named->name = gw_arena_strdup(c->arena, name->value)) == NULL) {
            rc = gw__cfg_fail(c, name, "out of memory");
            break;
        }
        for (char *p = named->name; header_names && *p != '\0'; ++p) {
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
            else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
                       *p == '.'))
                rc = gw__cfg_fail(c, name, "\"%s\" is not a header name", name->value);
        }
        size_t item = gw__cfg_push(c, name->value);
        if (rc == 0)
            rc = decode_string_match(c, value, 1, &named->value);
        gw__cfg_pop(c, item);
        *count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_matches(gw__cfg_t *c, const gw_yaml_node_t *http, gw_http_route_t *route)
{
    static const char *const fields[] = {
        "uri", "name", "method", "headers", "withoutHeaders", "queryParams", "ignoreUriCase", NULL};
    static const char *const unsupported[] = {"scheme",   "authority",       "port",       "sourceLabels",
                                              "gateways", "sourceNamespace", "statPrefix", NULL};
    const gw_yaml_node_t *matches = gw__cfg_get(http, "match");
    if (matches == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "match");
    int rc = gw__cfg_expect_list(c, matches);
    if (rc == 0 && matches->count > 0 &&
        (route->matches = gw_arena_calloc(c->arena, matches->count, sizeof(*route->matches))) == NULL)
        rc = gw__cfg_fail(c, matches, "out of memory");
    for (size_t i = 0; rc == 0 && i < matches->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        const gw_yaml_node_t *node = matches->items[i];
        gw_http_match_t *match = &route->matches[i];
        char *ignored_name;
        match->mark = gw__cfg_mark(c, node);
        if (gw__cfg_fields(c, node, fields, unsupported) != 0 ||
            gw__cfg_string(c, node, "name", 0, &ignored_name) < 0 ||
            decode_uri_match(c, node, &match->uri) != 0 ||
            gw__cfg_bool(c, node, "ignoreUriCase", 0, &match->ignore_uri_case) < 0)
            rc = -1;
        if (rc == 0) {
            size_t field = gw__cfg_push(c, "method");
            rc = decode_string_match(c, gw__cfg_get(node, "method"), 0, &match->method);
            gw__cfg_pop(c, field);
        }
        if (rc == 0)
            rc = decode_named_matches(c, node, "headers", 1, &match->headers, &match->header_count);
        if (rc == 0)
            rc = decode_named_matches(c, node, "withoutHeaders", 1, &match->without_headers,
                                      &match->without_header_count);
        if (rc == 0)
            rc = decode_named_matches(c, node, "queryParams", 0, &match->query_params,
                                      &match->query_param_count);
        gw__cfg_pop(c, item);
        route->match_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int check_destination(gw__cfg_t *c, const gw_yaml_node_t *dest, const gw_route_destination_t *out)
{
    const gw__host_ref_t *ref = gw__host_index_find(&c->impl->services, out->host);
    const gw_service_entry_t *se = ref != NULL ? (const gw_service_entry_t *)ref->meta : NULL;
    char shown[300];
    gw__cfg_show(shown, sizeof(shown), out->host);
    if (se == NULL) {
        gw__cfg_push(c, "host");
        return gw__cfg_fail(c, gw__cfg_get(dest, "host"), "no ServiceEntry lists host \"%s\"", shown);
    }
    if (out->subset != NULL) {
        const gw__host_ref_t *rule_ref = gw__host_index_find(&c->impl->rules, out->host);
        const gw_destination_rule_t *rule =
            rule_ref != NULL ? (const gw_destination_rule_t *)rule_ref->meta : NULL;
        gw__cfg_push(c, "subset");
        const gw_yaml_node_t *at = gw__cfg_get(dest, "subset");
        if (rule == NULL)
            return gw__cfg_fail(c, at, "no DestinationRule for host \"%s\" defines subsets", shown);
        if (gw_destination_rule_find_subset(rule, out->subset) == NULL)
            return gw__cfg_fail(c, at, "DestinationRule %s/%s has no subset \"%s\"", rule->meta.namespace_,
                                rule->meta.name, gw__cfg_show(shown, sizeof(shown), out->subset));
    } else if (se->endpoint_count == 0) {
        gw__cfg_push(c, "host");
        return gw__cfg_fail(c, gw__cfg_get(dest, "host"), "ServiceEntry %s/%s has no endpoints",
                            se->meta.namespace_, se->meta.name);
    }
    if (out->port == 0 && se->port_count != 1) {
        gw__cfg_push(c, "port");
        return gw__cfg_fail(c, dest, "required: ServiceEntry %s/%s has %zu ports", se->meta.namespace_,
                            se->meta.name, se->port_count);
    }
    if (gw_service_entry_find_port(se, out->port) != NULL)
        return 0;
    char ports[128] = "";
    size_t len = 0;
    for (size_t i = 0; i < se->port_count && len < sizeof(ports); ++i) {
        int n = snprintf(ports + len, sizeof(ports) - len, "%s%u", i == 0 ? "" : ", ", se->ports[i].number);
        len += n > 0 ? (size_t)n : 0;
    }
    gw__cfg_push(c, "port.number");
    return gw__cfg_fail(c, gw__cfg_get(gw__cfg_get(dest, "port"), "number"),
                        "ServiceEntry %s/%s has no port %u (it has %s)", se->meta.namespace_, se->meta.name,
                        out->port, ports);
}

/* An Istio Destination map (host, subset, port.number) under the current path; checked against the
 * ServiceEntry and DestinationRule documents. */
static int decode_destination_map(gw__cfg_t *c, const gw_yaml_node_t *dest, gw_route_destination_t *out)
{
    static const char *const dest_fields[] = {"host", "subset", "port", NULL};
    static const char *const port_fields[] = {"number", NULL};
    int rc = gw__cfg_fields(c, dest, dest_fields, NULL) != 0 ||
                     gw__cfg_string(c, dest, "host", GW__CFG_REQUIRED, &out->host) < 0 ||
                     gw__cfg_string(c, dest, "subset", 0, &out->subset) < 0
                 ? -1
                 : 0;
    const gw_yaml_node_t *port = gw__cfg_get(dest, "port");
    if (rc == 0 && port != NULL) {
        size_t field = gw__cfg_push(c, "port");
        if (gw__cfg_fields(c, port, port_fields, NULL) != 0 ||
            gw__cfg_port(c, port, "number", 0, &out->port) < 0)
            rc = -1;
        gw__cfg_pop(c, field);
    }
    return rc == 0 ? check_destination(c, dest, out) : -1;
}

static int decode_destination(gw__cfg_t *c, const gw_yaml_node_t *node, gw_route_destination_t *out)
{
    static const char *const fields[] = {"destination", "weight", NULL};
    static const char *const unsupported[] = {"headers", NULL};
    out->mark = gw__cfg_mark(c, node);
    if (gw__cfg_fields(c, node, fields, unsupported) != 0)
        return -1;
    uint64_t weight = 0;
    if (gw__cfg_uint(c, node, "weight", 0, 0, 100, &weight) < 0)
        return -1;
    out->weight = (unsigned)weight;
    const gw_yaml_node_t *dest = gw__cfg_get(node, "destination");
    if (dest == NULL)
        return gw__cfg_missing(c, node, "destination");
    size_t saved = gw__cfg_push(c, "destination");
    int rc = decode_destination_map(c, dest, out);
    gw__cfg_pop(c, saved);
    return rc;
}

/* A percentage 0..100 with at most 4 decimals ("5", "0.5", 12.25), as parts per million. */
static int parse_percentage(const char *text, unsigned *per_million)
{
    unsigned whole = 0, fraction = 0, digits = 0;
    const char *p = text;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; ++p)
        if ((whole = whole * 10 + (unsigned)(*p - '0')) > 100)
            return -1;
    if (*p == '.') {
        for (++p; *p >= '0' && *p <= '9'; ++p, ++digits)
            if (digits < 4)
                fraction = fraction * 10 + (unsigned)(*p - '0');
            else if (*p != '0')
                return -1;
        if (digits == 0)
            return -1;
    }
    for (; digits < 4; ++digits)
        fraction *= 10;
    if (*p != '\0' || (whole == 100 && fraction != 0))
        return -1;
    *per_million = whole * 10000 + fraction; /* 1% = 10,000 ppm; the 4th decimal is 1 ppm */
    return 0;
}

/* mirror (a Destination) and mirrorPercentage.value (default 100). */
static int decode_mirror(gw__cfg_t *c, const gw_yaml_node_t *http, gw_http_route_t *route)
{
    static const char *const percentage_fields[] = {"value", NULL};
    const gw_yaml_node_t *mirror = gw__cfg_get(http, "mirror");
    const gw_yaml_node_t *percentage = gw__cfg_get(http, "mirrorPercentage");
    if (mirror == NULL) {
        if (percentage == NULL)
            return 0;
        gw__cfg_push(c, "mirrorPercentage");
        return gw__cfg_fail(c, percentage, "needs a mirror");
    }
    size_t saved = gw__cfg_push(c, "mirror");
    route->mirror = gw_arena_calloc(c->arena, 1, sizeof(*route->mirror));
    int rc = route->mirror == NULL ? gw__cfg_fail(c, mirror, "out of memory") : 0;
    if (rc == 0) {
        route->mirror->mark = gw__cfg_mark(c, mirror);
        rc = gw__cfg_expect_map(c, mirror) != 0 ? -1 : decode_destination_map(c, mirror, route->mirror);
    }
    gw__cfg_pop(c, saved);
    route->mirror_per_million = 1000000;
    if (rc != 0 || percentage == NULL)
        return rc;
    saved = gw__cfg_push(c, "mirrorPercentage");
    char *value = NULL;
    if (gw__cfg_fields(c, percentage, percentage_fields, NULL) != 0 ||
        gw__cfg_string(c, percentage, "value", GW__CFG_REQUIRED, &value) < 0) {
        rc = -1;
    } else if (parse_percentage(value, &route->mirror_per_million) != 0) {
        char shown[64];
        gw__cfg_push(c, "value");
        rc = gw__cfg_fail(c, gw__cfg_get(percentage, "value"),
                          "expected a percentage 0..100 (at most 4 decimals), got \"%s\"",
                          gw__cfg_show(shown, sizeof(shown), value));
    }
    gw__cfg_pop(c, saved);
    return rc;
}

/* One destination may omit its weight (100); several each need one, adding up to 100. */
static int check_weights(gw__cfg_t *c, const gw_yaml_node_t *list, gw_http_route_t *route)
{
    unsigned total = 0;
    const gw_yaml_node_t *last = NULL;
    for (size_t i = 0; i < list->count; ++i) {
        const gw_yaml_node_t *weight = gw__cfg_get(list->items[i], "weight");
        if (weight == NULL && list->count == 1) {
            route->routes[i].weight = 100;
            return 0;
        }
        if (weight == NULL) {
            size_t item = gw__cfg_push_index(c, i);
            gw__cfg_push(c, "weight");
            gw__cfg_fail(c, list->items[i], "required when a route has several destinations");
            gw__cfg_pop(c, item);
            return -1;
        }
        total += route->routes[i].weight;
        last = weight;
    }
    if (total == 100)
        return 0;
    size_t item = gw__cfg_push_index(c, list->count - 1);
    gw__cfg_push(c, "weight");
    gw__cfg_fail(c, last, "weights of a route must add up to 100 (got %u)", total);
    gw__cfg_pop(c, item);
    return -1;
}

static int decode_destinations(gw__cfg_t *c, const gw_yaml_node_t *http, gw_http_route_t *route)
{
    const gw_yaml_node_t *list = gw__cfg_get(http, "route");
    if (list == NULL)
        return gw__cfg_missing(c, http, "route");
    size_t saved = gw__cfg_push(c, "route");
    int rc = gw__cfg_expect_list(c, list);
    if (rc == 0 && list->count == 0)
        rc = gw__cfg_fail(c, list, "must list at least one destination");
    if (rc == 0 && (route->routes = gw_arena_calloc(c->arena, list->count, sizeof(*route->routes))) == NULL)
        rc = gw__cfg_fail(c, list, "out of memory");
    for (size_t i = 0; rc == 0 && i < list->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = decode_destination(c, list->items[i], &route->routes[i]);
        gw__cfg_pop(c, item);
        route->route_count = i + 1;
    }
    if (rc == 0)
        rc = check_weights(c, list, route);
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_rewrite(gw__cfg_t *c, const gw_yaml_node_t *http, gw_http_route_t *route)
{
    static const char *const fields[] = {"uri", NULL};
    static const char *const unsupported[] = {"authority", "uriRegexRewrite", NULL};
    const gw_yaml_node_t *rewrite = gw__cfg_get(http, "rewrite");
    if (rewrite == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "rewrite");
    int rc = gw__cfg_fields(c, rewrite, fields, unsupported) != 0 ||
                     gw__cfg_string(c, rewrite, "uri", GW__CFG_REQUIRED, &route->rewrite_uri) < 0
                 ? -1
                 : 0;
    gw__cfg_pop(c, saved);
    return rc;
}

/* retryOn: comma-separated Istio names; gRPC and 4xx conditions are refused by name. */
static int parse_retry_on(gw__cfg_t *c, const gw_yaml_node_t *node, const char *text, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {
        {"connect-failure", GW_RETRY_CONNECT_FAILURE},
        {"reset", GW_RETRY_RESET},
        {"gateway-error", GW_RETRY_GATEWAY_ERROR},
        {"5xx", GW_RETRY_5XX},
        {"502", GW_RETRY_502},
        {"503", GW_RETRY_503},
        {"504", GW_RETRY_504},
    };
    enum { KNOWN = sizeof(known) / sizeof(known[0]) };
    *out = 0;
    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        while (len > 0 && *p == ' ')
            ++p, --len;
        while (len > 0 && p[len - 1] == ' ')
            --len;
        size_t i = 0;
        while (i < KNOWN && !(strlen(known[i].name) == len && memcmp(known[i].name, p, len) == 0))
            ++i;
        if (i == KNOWN) {
            char name[64], shown[128];
            snprintf(name, sizeof(name), "%.*s", (int)(len < 60 ? len : 60), p);
            return gw__cfg_fail(c, node,
                                "retry condition \"%s\" is not supported (supported: connect-failure, reset, "
                                "gateway-error, 5xx, 502, 503, 504)",
                                gw__cfg_show(shown, sizeof(shown), name));
        }
        *out |= known[i].bit;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return *out != 0 ? 0 : gw__cfg_fail(c, node, "names no retry condition");
}

/* retries: attempts (0..3: libh2o 2.2.5 allows 5 reprocesses of a request), perTryTimeout, retryOn. */
static int decode_retries(gw__cfg_t *c, const gw_yaml_node_t *http, gw_http_route_t *route)
{
    static const char *const fields[] = {"attempts", "perTryTimeout", "retryOn", NULL};
    static const char *const unsupported[] = {"retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff",
                                              NULL};
    const gw_yaml_node_t *retries = gw__cfg_get(http, "retries");
    if (retries == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "retries");
    uint64_t attempts = 0;
    char *retry_on = NULL;
    gw_retry_policy_t *policy = &route->retries;
    policy->retry_on = GW_RETRY_CONNECT_FAILURE | GW_RETRY_RESET | GW_RETRY_503;
    int rc = gw__cfg_fields(c, retries, fields, unsupported) != 0 ||
                     gw__cfg_uint(c, retries, "attempts", GW__CFG_REQUIRED, 0, 3, &attempts) < 0 ||
                     gw__cfg_duration(c, retries, "perTryTimeout", 0, &policy->per_try_timeout_ms) < 0 ||
                     gw__cfg_string(c, retries, "retryOn", 0, &retry_on) < 0
                 ? -1
                 : 0;
    policy->attempts = (unsigned)attempts;
    if (rc == 0 && retry_on != NULL) {
        gw__cfg_push(c, "retryOn");
        rc = parse_retry_on(c, gw__cfg_get(retries, "retryOn"), retry_on, &policy->retry_on);
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_http(gw__cfg_t *c, const gw_yaml_node_t *node, gw_http_route_t *route)
{
    static const char *const fields[] = {
        "name", "match", "route", "rewrite", "timeout", "mirror", "mirrorPercentage", "retries", NULL};
    static const char *const unsupported[] = {"redirect",   "directResponse", "delegate",
                                              "fault",      "mirrors",        "mirrorPercent",
                                              "corsPolicy", "headers",        NULL};
    route->mark = gw__cfg_mark(c, node);
    if (gw__cfg_fields(c, node, fields, unsupported) != 0 ||
        gw__cfg_string(c, node, "name", 0, &route->name) < 0 || decode_matches(c, node, route) != 0 ||
        decode_destinations(c, node, route) != 0 || decode_rewrite(c, node, route) != 0 ||
        decode_mirror(c, node, route) != 0 || decode_retries(c, node, route) != 0 ||
        gw__cfg_duration(c, node, "timeout", GW__CFG_ALLOW_ZERO, &route->timeout_ms) < 0)
        return -1;
    return 0;
}

/* gateways: "namespace/name" or "name" (the VirtualService's namespace) of a Gateway, or "mesh".
 * Stored as "namespace/name" so the server compares plain strings. */
static int decode_gateways(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_virtual_service_t *vs)
{
    if (gw__cfg_strings(c, spec, "gateways", 0, &vs->gateways) <= 0)
        return c->failed ? -1 : 0;
    const gw_yaml_node_t *list = gw__cfg_get(spec, "gateways");
    size_t saved = gw__cfg_push(c, "gateways");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < vs->gateways.count; ++i) {
        const char *ref = vs->gateways.items[i], *slash = strchr(ref, '/');
        if (strcmp(ref, "mesh") == 0)
            continue;
        size_t ns_len = slash != NULL ? (size_t)(slash - ref) : strlen(vs->meta.namespace_);
        char *ns = slash != NULL ? gw_arena_strndup(c->arena, ref, ns_len) : vs->meta.namespace_;
        const char *name = slash != NULL ? slash + 1 : ref;
        size_t item = gw__cfg_push_index(c, i);
        char shown[300];
        if (ns == NULL)
            rc = gw__cfg_fail(c, list->items[i], "out of memory");
        else if (gw__cfg_find_document(c, "Gateway", ns, name) == NULL)
            rc = gw__cfg_fail(c, list->items[i], "no Gateway %s/%s in this file",
                              gw__cfg_show(shown, 128, ns), gw__cfg_show(shown + 128, 128, name));
        else if (slash == NULL) {
            char *full = gw_arena_alloc(c->arena, ns_len + strlen(name) + 2);
            if (full == NULL)
                rc = gw__cfg_fail(c, list->items[i], "out of memory");
            else
                sprintf(full, "%s/%s", ns, name);
            vs->gateways.items[i] = full;
        }
        gw__cfg_pop(c, item);
    }
    gw__cfg_pop(c, saved);
    return rc;
}

/* metadata.annotations: tenantgate.io/sticky-split (a tenantgate extension); other tenantgate.io/ keys are
 * refused so a typo is not silently ignored, annotations of other tools are left alone. */
static int decode_annotations(gw__cfg_t *c, gw_virtual_service_t *vs)
{
    static const char prefix[] = "tenantgate.io/";
    const gw_labels_t *annotations = &vs->meta.annotations;
    char shown[300], path[400];
    for (size_t i = 0; i < annotations->count; ++i) {
        const char *key = annotations->keys[i], *value = annotations->values[i];
        if (strncmp(key, prefix, sizeof(prefix) - 1) != 0)
            continue;
        snprintf(path, sizeof(path), "metadata.annotations.%s", gw__cfg_show(shown, 128, key));
        if (strcmp(key, "tenantgate.io/sticky-split") != 0)
            return gw__cfg_fail_at(c, &vs->meta.annotations_mark, path,
                                   "unknown tenantgate annotation (known: tenantgate.io/sticky-split)");
        if (strcmp(value, "user") != 0)
            return gw__cfg_fail_at(c, &vs->meta.annotations_mark, path,
                                   "\"%s\" is not a sticky split key (expected \"user\")",
                                   gw__cfg_show(shown, sizeof(shown), value));
        vs->sticky_split = GW_STICKY_USER;
    }
    return 0;
}

int gw__decode_virtual_service(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"hosts", "gateways", "http", NULL};
    static const char *const unsupported[] = {"tcp", "tls", "exportTo", NULL};
    gw_virtual_service_t *vs = out;
    if (gw__cfg_fields(c, spec, fields, unsupported) != 0 ||
        gw__cfg_strings(c, spec, "hosts", GW__CFG_REQUIRED, &vs->hosts) < 0 ||
        decode_gateways(c, spec, vs) != 0 || decode_annotations(c, vs) != 0)
        return -1;
    const gw_yaml_node_t *http = gw__cfg_get(spec, "http");
    if (http == NULL)
        return gw__cfg_missing(c, spec, "http");
    size_t saved = gw__cfg_push(c, "http");
    int rc = gw__cfg_expect_list(c, http);
    if (rc == 0 && http->count == 0)
        rc = gw__cfg_fail(c, http, "must list at least one route");
    if (rc == 0 && (vs->http = gw_arena_calloc(c->arena, http->count, sizeof(*vs->http))) == NULL)
        rc = gw__cfg_fail(c, http, "out of memory");
    for (size_t i = 0; rc == 0 && i < http->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = decode_http(c, http->items[i], &vs->http[i]);
        gw__cfg_pop(c, item);
        vs->http_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}
