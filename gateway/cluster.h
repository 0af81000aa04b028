#ifndef GW_CLUSTER_H
#define GW_CLUSTER_H

/*
 * Upstream clusters: one per (service host, subset, port) that some route
 * sends traffic to, with its resolved endpoints and TLS client context.
 * A cluster table is built once per loaded config and shared read-only by
 * every worker; each worker keeps its own connection pools (worker_upstream.h).
 */

#include <openssl/ssl.h>
#include <sys/socket.h>

#include "config.h"

typedef struct {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *label; /* "address:port" for logs and metrics */
} gw_cluster_endpoint_t;

typedef struct {
    char *name;       /* "host|subset|port", e.g. "mnist.kubeflow-alice.svc.cluster.local|v1|8500" */
    char *host;       /* service host */
    char *subset;     /* subset name or NULL */
    uint16_t port;    /* service port number */
    char *namespace_; /* of the ServiceEntry */
    const gw_service_entry_t *service; /* the ServiceEntry, in the config the table was built from */
    char *sni;                         /* SNI and h2o's server name for TLS */
    SSL_CTX *ssl_ctx;                  /* NULL for plaintext upstreams */
    gw_traffic_policy_t policy;        /* the effective traffic policy (subset's, else the rule's) */
    gw_cluster_endpoint_t *endpoints;
    size_t endpoint_count;
} gw_cluster_t;

typedef struct {
    gw_cluster_t *clusters;
    size_t count;
} gw_cluster_table_t;

/** Initialises an empty table. */
void gw_cluster_table_init(gw_cluster_table_t *table);

/**
 * Returns the index of the cluster for (host, subset, port), creating it from
 * config on first use: selects the ServiceEntry endpoints whose labels match
 * the subset, resolves their addresses and builds the TLS context. Returns -1
 * with a message in err when it cannot.
 */
long gw_cluster_table_intern(gw_cluster_table_t *table, const gw_config_t *config, const char *host,
                             const char *subset, uint16_t port, char *err, size_t err_size);

/** Frees every cluster of the table. */
void gw_cluster_table_dispose(gw_cluster_table_t *table);

#endif
