#include "cluster.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream_tls.h"

void gw_cluster_table_init(gw_cluster_table_t *table)
{
    table->clusters = NULL;
    table->count = 0;
}

/* The port an endpoint serves the service port on: its own mapping by port name, else the service's number.
 */
static long endpoint_port(const gw_endpoint_t *endpoint, const gw_service_port_t *service_port)
{
    const char *mapped =
        service_port->name != NULL ? gw_labels_get(&endpoint->ports, service_port->name) : NULL;
    if (mapped == NULL)
        return service_port->number;
    char *end;
    long port = strtol(mapped, &end, 10);
    return *end == '\0' && port > 0 && port < 65536 ? port : -1;
}

static int resolve_endpoint(gw_cluster_endpoint_t *out, const char *address, long port, char *err,
                            size_t err_size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%ld", port);
    int rc = getaddrinfo(address, service, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, err_size, "cannot resolve endpoint address %s: %s", address, gai_strerror(rc));
        return -1;
    }
    memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
    out->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    size_t label_size = strlen(address) + sizeof(service) + 4;
    if ((out->label = malloc(label_size)) == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(out->label, label_size, strchr(address, ':') != NULL ? "[%s]:%ld" : "%s:%ld", address, port);
    return 0;
}

static void cluster_dispose(gw_cluster_t *cluster)
{
    for (size_t i = 0; i < cluster->endpoint_count; ++i)
        free(cluster->endpoints[i].label);
    free(cluster->endpoints);
    gw_upstream_tls_ctx_free(cluster->ssl_ctx);
    free(cluster->name);
    free(cluster->host);
    free(cluster->subset);
    free(cluster->namespace_);
    free(cluster->sni);
}

static int cluster_build(gw_cluster_t *cluster, const gw_config_t *config, const char *host,
                         const char *subset_name, uint16_t port, char *err, size_t err_size)
{
    const gw_service_entry_t *service = gw_config_find_service(config, host);
    if (service == NULL) {
        snprintf(err, err_size, "no ServiceEntry lists host %s", host);
        return -1;
    }
    const gw_service_port_t *service_port = gw_service_entry_find_port(service, port);
    if (service_port == NULL) {
        snprintf(err, err_size, "ServiceEntry %s/%s has no port %u", service->meta.namespace_,
                 service->meta.name, port);
        return -1;
    }
    const gw_destination_rule_t *rule = gw_config_find_destination_rule(config, host);
    const gw_subset_t *subset = NULL;
    if (subset_name != NULL && (subset = gw_destination_rule_find_subset(rule, subset_name)) == NULL) {
        snprintf(err, err_size, "no DestinationRule subset %s for host %s", subset_name, host);
        return -1;
    }
    if (subset != NULL) /* a subset's policy already holds what it inherits from the rule */
        cluster->policy = subset->traffic_policy;
    else if (rule != NULL)
        cluster->policy = rule->traffic_policy;
    else
        cluster->policy = (gw_traffic_policy_t){
            .connect_timeout_ms = 5000, .idle_timeout_ms = 60000, .max_connections = 1024};

    size_t name_size = strlen(host) + (subset_name != NULL ? strlen(subset_name) : 0) + 16;
    cluster->name = malloc(name_size);
    cluster->host = strdup(host);
    cluster->subset = subset_name != NULL ? strdup(subset_name) : NULL;
    cluster->port = service_port->number;
    cluster->namespace_ = strdup(service->meta.namespace_);
    cluster->service = service;
    const char *sni = cluster->policy.tls.sni != NULL ? cluster->policy.tls.sni : host;
    cluster->sni = strdup(sni);
    cluster->endpoints =
        calloc(service->endpoint_count > 0 ? service->endpoint_count : 1, sizeof(*cluster->endpoints));
    if (cluster->name == NULL || cluster->host == NULL || (subset_name != NULL && cluster->subset == NULL) ||
        cluster->namespace_ == NULL || cluster->sni == NULL || cluster->endpoints == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(cluster->name, name_size, "%s|%s|%u", host, subset_name != NULL ? subset_name : "",
             service_port->number);

    for (size_t i = 0; i < service->endpoint_count; ++i) {
        const gw_endpoint_t *endpoint = &service->endpoints[i];
        if (subset != NULL && !gw_labels_select(&subset->labels, &endpoint->labels))
            continue;
        long endpoint_port_number = endpoint_port(endpoint, service_port);
        if (endpoint_port_number < 0) {
            snprintf(err, err_size, "endpoint %s of %s has an invalid port", endpoint->address, host);
            return -1;
        }
        if (resolve_endpoint(&cluster->endpoints[cluster->endpoint_count], endpoint->address,
                             endpoint_port_number, err, err_size) != 0)
            return -1;
        ++cluster->endpoint_count;
    }
    if (cluster->endpoint_count == 0) {
        snprintf(err, err_size, "cluster %s has no endpoint", cluster->name);
        return -1;
    }
    if (cluster->policy.tls.set && cluster->policy.tls.mode != GW_UPSTREAM_TLS_DISABLE) {
        char tls_err[512];
        if ((cluster->ssl_ctx =
                 gw_upstream_tls_ctx_new(&cluster->policy.tls, sni, tls_err, sizeof(tls_err))) == NULL) {
            snprintf(err, err_size, "DestinationRule for %s: %s", host, tls_err);
            return -1;
        }
    }
    return 0;
}

static int same_subset(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

long gw_cluster_table_intern(gw_cluster_table_t *table, const gw_config_t *config, const char *host,
                             const char *subset, uint16_t port, char *err, size_t err_size)
{
    const gw_service_entry_t *service = gw_config_find_service(config, host);
    const gw_service_port_t *service_port =
        service != NULL ? gw_service_entry_find_port(service, port) : NULL;
    if (service_port != NULL) {
        for (size_t i = 0; i < table->count; ++i) {
            const gw_cluster_t *cluster = &table->clusters[i];
            if (cluster->port == service_port->number && strcmp(cluster->host, host) == 0 &&
                same_subset(cluster->subset, subset))
                return (long)i;
        }
    }
    gw_cluster_t *grown = realloc(table->clusters, (table->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    table->clusters = grown;
    gw_cluster_t *cluster = &table->clusters[table->count];
    memset(cluster, 0, sizeof(*cluster));
    if (cluster_build(cluster, config, host, subset, port, err, err_size) != 0) {
        cluster_dispose(cluster);
        return -1;
    }
    return (long)table->count++;
}

void gw_cluster_table_dispose(gw_cluster_table_t *table)
{
    for (size_t i = 0; i < table->count; ++i)
        cluster_dispose(&table->clusters[i]);
    free(table->clusters);
    gw_cluster_table_init(table);
}
