/* kind DestinationRule (networking.istio.io): upstream TLS, pools, subsets of a ServiceEntry host. */
#include <string.h>

#include "config_kinds.h"

static const gw__cfg_choice_t tls_modes[] = {
    {"DISABLE", GW_UPSTREAM_TLS_DISABLE, NULL},
    {"SIMPLE", GW_UPSTREAM_TLS_SIMPLE, NULL},
    {"MUTUAL", GW_UPSTREAM_TLS_MUTUAL, NULL},
    {"ISTIO_MUTUAL", 0, "is not supported, use MUTUAL with files"},
    {NULL, 0, NULL},
};

void gw__traffic_policy_defaults(gw_traffic_policy_t *policy)
{
    memset(policy, 0, sizeof(*policy));
    policy->connect_timeout_ms = 5000;
    policy->idle_timeout_ms = 60000;
    policy->max_connections = 1024;
}

static int decode_pool(gw__cfg_t *c, const gw_yaml_node_t *policy, gw_traffic_policy_t *out)
{
    static const char *const fields[] = {"tcp", "http", NULL};
    static const char *const tcp_fields[] = {"connectTimeout", "maxConnections", NULL};
    static const char *const tcp_unsupported[] = {"tcpKeepalive", "maxConnectionDuration", "idleTimeout",
                                                  NULL};
    static const char *const http_fields[] = {"idleTimeout", NULL};
    static const char *const http_unsupported[] = {
        "http1MaxPendingRequests", "http2MaxRequests",  "maxRequestsPerConnection", "maxRetries",
        "h2UpgradePolicy",         "useClientProtocol", "maxConcurrentStreams",     NULL};
    const gw_yaml_node_t *pool = gw__cfg_get(policy, "connectionPool");
    if (pool == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "connectionPool");
    int rc = gw__cfg_fields(c, pool, fields, NULL);
    const gw_yaml_node_t *tcp = gw__cfg_get(pool, "tcp"), *http = gw__cfg_get(pool, "http");
    if (rc == 0 && tcp != NULL) {
        size_t field = gw__cfg_push(c, "tcp");
        uint64_t max = out->max_connections;
        if (gw__cfg_fields(c, tcp, tcp_fields, tcp_unsupported) != 0 ||
            gw__cfg_duration(c, tcp, "connectTimeout", 0, &out->connect_timeout_ms) < 0 ||
            gw__cfg_uint(c, tcp, "maxConnections", 0, 1, 1000000, &max) < 0)
            rc = -1;
        out->max_connections = (unsigned)max;
        gw__cfg_pop(c, field);
    }
    if (rc == 0 && http != NULL) {
        size_t field = gw__cfg_push(c, "http");
        if (gw__cfg_fields(c, http, http_fields, http_unsupported) != 0 ||
            gw__cfg_duration(c, http, "idleTimeout", 0, &out->idle_timeout_ms) < 0)
            rc = -1;
        gw__cfg_pop(c, field);
    }
    gw__cfg_pop(c, saved);
    return rc;
}

/* The first field of tls that mode does not use, or NULL. */
static const char *unused_tls_field(const gw_yaml_node_t *tls, gw_upstream_tls_mode_t mode)
{
    static const char *const any[] = {"clientCertificate", "privateKey", "caCertificates", "sni",
                                      "subjectAltNames",   NULL};
    static const char *const mutual_only[] = {"clientCertificate", "privateKey", NULL};
    const char *const *unused = mode == GW_UPSTREAM_TLS_DISABLE  ? any
                                : mode == GW_UPSTREAM_TLS_SIMPLE ? mutual_only
                                                                 : NULL;
    for (size_t i = 0; unused != NULL && unused[i] != NULL; ++i)
        if (gw__cfg_get(tls, unused[i]) != NULL)
            return unused[i];
    return NULL;
}

/* A tls section replaces the inherited one as a whole: its files belong together. */
static int decode_tls(gw__cfg_t *c, const gw_yaml_node_t *policy, gw_traffic_policy_t *out)
{
    static const char *const fields[] = {"mode", "clientCertificate", "privateKey", "caCertificates",
                                         "sni",  "subjectAltNames",   NULL};
    static const char *const unsupported[] = {"credentialName", "insecureSkipVerify", "caCrl", NULL};
    const gw_yaml_node_t *tls = gw__cfg_get(policy, "tls");
    if (tls == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "tls");
    gw_upstream_tls_t t = {.set = 1, .mode = GW_UPSTREAM_TLS_DISABLE};
    int mode = GW_UPSTREAM_TLS_DISABLE;
    int rc = gw__cfg_fields(c, tls, fields, unsupported) != 0 ||
                     gw__cfg_choice(c, tls, "mode", 0, tls_modes, 0, &mode) < 0
                 ? -1
                 : 0;
    t.mode = (gw_upstream_tls_mode_t)mode;
    const char *unused = rc == 0 ? unused_tls_field(tls, t.mode) : NULL;
    if (unused != NULL) {
        gw__cfg_push(c, unused);
        rc = gw__cfg_fail(c, gw__cfg_get(tls, unused), "not used with mode %s",
                          t.mode == GW_UPSTREAM_TLS_DISABLE ? "DISABLE"
                                                            : "SIMPLE (only MUTUAL sends a certificate)");
    }
    unsigned mutual = t.mode == GW_UPSTREAM_TLS_MUTUAL ? GW__CFG_REQUIRED : 0;
    if (rc == 0 && (gw__cfg_file(c, tls, "clientCertificate", mutual, &t.client_certificate) < 0 ||
                    gw__cfg_file(c, tls, "privateKey", mutual, &t.private_key) < 0 ||
                    gw__cfg_file(c, tls, "caCertificates", 0, &t.ca_certificates) < 0 ||
                    gw__cfg_string(c, tls, "sni", 0, &t.sni) < 0 ||
                    gw__cfg_strings(c, tls, "subjectAltNames", 0, &t.subject_alt_names) < 0))
        rc = -1;
    if (rc == 0)
        out->tls = t;
    gw__cfg_pop(c, saved);
    return rc;
}

/* outlierDetection: consecutive errors eject an endpoint for a while (Envoy semantics, see docs). */
static int decode_outlier(gw__cfg_t *c, const gw_yaml_node_t *policy, gw_traffic_policy_t *out)
{
    static const char *const fields[] = {"consecutive5xxErrors", "consecutiveGatewayErrors", "interval",
                                         "baseEjectionTime",     "maxEjectionPercent",       NULL};
    static const char *const unsupported[] = {"consecutiveErrors", "splitExternalLocalOriginErrors",
                                              "consecutiveLocalOriginFailures", "minHealthPercent", NULL};
    const gw_yaml_node_t *outlier = gw__cfg_get(policy, "outlierDetection");
    if (outlier == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "outlierDetection");
    uint64_t errors = 5, gateway = 0, percent = 10, interval = 10000;
    out->outlier.set = 1;
    out->outlier.base_ejection_ms = 30000;
    int rc = gw__cfg_fields(c, outlier, fields, unsupported) != 0 ||
                     gw__cfg_uint(c, outlier, "consecutive5xxErrors", 0, 0, 1000, &errors) < 0 ||
                     gw__cfg_uint(c, outlier, "consecutiveGatewayErrors", 0, 0, 1000, &gateway) < 0 ||
                     gw__cfg_uint(c, outlier, "maxEjectionPercent", 0, 0, 100, &percent) < 0 ||
                     gw__cfg_duration(c, outlier, "interval", 0, &interval) < 0 ||
                     gw__cfg_duration(c, outlier, "baseEjectionTime", 0, &out->outlier.base_ejection_ms) < 0
                 ? -1
                 : 0;
    out->outlier.consecutive_5xx = (unsigned)errors;
    out->outlier.consecutive_gateway = (unsigned)gateway;
    out->outlier.max_ejection_percent = (unsigned)percent;
    gw__cfg_pop(c, saved);
    return rc;
}

static const gw__cfg_choice_t lb_policies[] = {
    {"ROUND_ROBIN", GW_LB_ROUND_ROBIN, NULL},
    {"LEAST_REQUEST", GW_LB_LEAST_REQUEST, NULL},
    {"LEAST_CONN", GW_LB_LEAST_REQUEST, NULL}, /* Istio's deprecated name for LEAST_REQUEST */
    {"RANDOM", GW_LB_RANDOM, NULL},
    {"UNSPECIFIED", 0, "is not supported: name ROUND_ROBIN, LEAST_REQUEST or RANDOM"},
    {"PASSTHROUGH", 0, "is not supported: the gateway always connects to ServiceEntry endpoints"},
    {NULL, 0, NULL},
};

/* loadBalancer: simple only; hash-based and locality balancing are refused by name. */
static int decode_load_balancer(gw__cfg_t *c, const gw_yaml_node_t *policy, gw_traffic_policy_t *out)
{
    static const char *const fields[] = {"simple", NULL};
    static const char *const unsupported[] = {"consistentHash", "localityLbSetting", "warmupDurationSecs",
                                              "warmup", NULL};
    const gw_yaml_node_t *lb = gw__cfg_get(policy, "loadBalancer");
    if (lb == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "loadBalancer");
    int simple = (int)out->load_balancer;
    int rc = gw__cfg_fields(c, lb, fields, unsupported) != 0 ||
                     gw__cfg_choice(c, lb, "simple", GW__CFG_REQUIRED, lb_policies, 0, &simple) < 0
                 ? -1
                 : 0;
    out->load_balancer = (gw_lb_policy_t)simple;
    gw__cfg_pop(c, saved);
    return rc;
}

/* Reads a trafficPolicy over out, which holds what it inherits. */
static int decode_policy(gw__cfg_t *c, const gw_yaml_node_t *parent, gw_traffic_policy_t *out)
{
    static const char *const fields[] = {"connectionPool", "tls", "outlierDetection", "loadBalancer", NULL};
    static const char *const unsupported[] = {"portLevelSettings", "tunnel", "proxyProtocol", NULL};
    const gw_yaml_node_t *policy = gw__cfg_get(parent, "trafficPolicy");
    if (policy == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "trafficPolicy");
    int rc = gw__cfg_fields(c, policy, fields, unsupported) != 0 || decode_pool(c, policy, out) != 0 ||
                     decode_tls(c, policy, out) != 0 || decode_outlier(c, policy, out) != 0 ||
                     decode_load_balancer(c, policy, out) != 0
                 ? -1
                 : 0;
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_subset(gw__cfg_t *c, const gw_yaml_node_t *node, const gw_destination_rule_t *rule,
                         const gw_service_entry_t *se, size_t index, gw_subset_t *subset)
{
    static const char *const fields[] = {"name", "labels", "trafficPolicy", NULL};
    subset->mark = gw__cfg_mark(c, node);
    subset->traffic_policy = rule->traffic_policy;
    if (gw__cfg_fields(c, node, fields, NULL) != 0 ||
        gw__cfg_string(c, node, "name", GW__CFG_REQUIRED, &subset->name) < 0)
        return -1;
    for (size_t j = 0; j < index; ++j) {
        if (strcmp(rule->subsets[j].name, subset->name) == 0) {
            gw__cfg_push(c, "name");
            return gw__cfg_fail(c, gw__cfg_get(node, "name"), "subset \"%s\" is defined twice (subsets[%zu])",
                                subset->name, j);
        }
    }
    if (gw__cfg_labels(c, node, "labels", 0, &subset->labels) < 0 ||
        decode_policy(c, node, &subset->traffic_policy) != 0)
        return -1;
    for (size_t e = 0; e < se->endpoint_count; ++e)
        if (gw_labels_select(&subset->labels, &se->endpoints[e].labels))
            return 0;
    const gw_yaml_node_t *labels = gw__cfg_get(node, "labels");
    gw__cfg_push(c, "labels");
    return gw__cfg_fail(c, labels != NULL ? labels : node, "selects no endpoint of ServiceEntry %s/%s",
                        se->meta.namespace_, se->meta.name);
}

int gw__decode_destination_rule(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"host", "trafficPolicy", "subsets", NULL};
    static const char *const unsupported[] = {"exportTo", "workloadSelector", NULL};
    gw_destination_rule_t *rule = out;
    gw__traffic_policy_defaults(&rule->traffic_policy);
    if (gw__cfg_fields(c, spec, fields, unsupported) != 0 ||
        gw__cfg_string(c, spec, "host", GW__CFG_REQUIRED, &rule->host) < 0)
        return -1;
    const gw_yaml_node_t *host = gw__cfg_get(spec, "host");
    size_t saved = gw__cfg_push(c, "host");
    const gw__host_ref_t *service = gw__host_index_find(&c->impl->services, rule->host);
    char shown[300];
    int rc = service == NULL ? gw__cfg_fail(c, host, "no ServiceEntry lists host \"%s\"",
                                            gw__cfg_show(shown, sizeof(shown), rule->host))
                             : gw__host_index_add(c, &c->impl->rules, rule->host, host);
    gw__cfg_pop(c, saved);
    if (rc != 0 || decode_policy(c, spec, &rule->traffic_policy) != 0)
        return -1;
    const gw_yaml_node_t *subsets = gw__cfg_get(spec, "subsets");
    if (subsets == NULL)
        return 0;
    saved = gw__cfg_push(c, "subsets");
    rc = gw__cfg_expect_list(c, subsets);
    if (rc == 0 && subsets->count > 0 &&
        (rule->subsets = gw_arena_calloc(c->arena, subsets->count, sizeof(*rule->subsets))) == NULL)
        rc = gw__cfg_fail(c, subsets, "out of memory");
    for (size_t i = 0; rc == 0 && i < subsets->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = decode_subset(c, subsets->items[i], rule, (const gw_service_entry_t *)service->meta, i,
                           &rule->subsets[i]);
        gw__cfg_pop(c, item);
        rule->subset_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

int gw__finish_destination_rules(gw__cfg_t *c)
{
    return gw__host_index_finish(c, &c->impl->rules, "DestinationRule");
}
