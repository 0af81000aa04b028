#ifndef GW_CONFIG_H
#define GW_CONFIG_H

/*
 * The loaded configuration: one multi-document YAML file holding Istio-shaped
 * documents (Gateway, ServiceEntry, DestinationRule, VirtualService) and one
 * document of tenantgate's own kind (TenantGate). A loaded config is
 * immutable and reference counted so a reload can swap it while requests
 * still hold the old one.
 */

#include <stddef.h>
#include <stdint.h>

/** Where a document or field came from, for error messages. */
typedef struct {
    const char *file; /* points into gw_config_t.file */
    unsigned line;    /* 1-based */
    unsigned column;  /* 1-based */
} gw_config_mark_t;

/** A list of strings. */
typedef struct {
    char **items;
    size_t count;
} gw_strings_t;

/** A label map (key=value pairs in document order). */
typedef struct {
    char **keys;
    char **values;
    size_t count;
} gw_labels_t;

/** metadata: of every Istio-shaped document. */
typedef struct {
    char *name;
    char *namespace_;      /* "default" when absent */
    gw_config_mark_t mark; /* the document's start */
    gw_labels_t annotations;
    gw_config_mark_t annotations_mark; /* where metadata.annotations is written (if it is) */
} gw_meta_t;

/* ---- tenantgate's own settings: kind TenantGate, apiVersion tenantgate.io/v1alpha1 ---- */

/** spec.oidc and spec.sessions: browser login. Off (enabled 0) unless the document has an oidc section. */
typedef struct {
    int enabled;
    char *issuer;
    int allow_insecure_issuer; /* allowInsecureIssuer: http issuer on loopback (development) */
    char *client_id;
    char *client_secret_file;     /* resolved path; the secret is read when the generation is built */
    int client_auth;              /* 0 client_secret_basic, 1 client_secret_post (oidc_client_auth_t) */
    gw_strings_t scopes;          /* default openid email profile groups; must hold openid */
    char *external_url;           /* origin the browser uses (scheme://host[:port]), no trailing slash */
    gw_strings_t api_prefixes;    /* paths that always get 401, never a redirect */
    char *store;                  /* sessions.store as a URL; a relative sqlite path is made absolute */
    char *key_file;               /* sessions.keyFile, resolved */
    uint64_t idle_timeout_ms;     /* sessions.idleTimeout, default 1h */
    uint64_t absolute_timeout_ms; /* sessions.absoluteTimeout, default 12h */
    uint64_t cache_ttl_ms;        /* sessions.cacheTtl, default 5s */
} gw_auth_settings_t;

typedef struct {
    gw_meta_t meta;
    struct {
        char *address; /* default "127.0.0.1" */
        uint16_t port; /* default 9901; 0 disables the admin listener */
    } admin;
    unsigned threads; /* event loops; 0 = one per core */
    char *log_level;  /* debug|info|warn|error, default info */
    struct {
        size_t max_header_bytes;     /* sum of header names+values, default 16384 -> 431 */
        unsigned max_header_count;   /* default 100 -> 431 */
        size_t max_body_bytes;       /* default 8 MiB -> 413 */
        uint64_t request_timeout_ms; /* reading a request, default 30000 */
        uint64_t idle_timeout_ms;    /* idle client connection, default 60000 */
    } limits;
    gw_strings_t strip_headers; /* extra client-sent identity headers (lower case);
                                   kubeflow-userid and kubeflow-groups are always stripped */
    gw_auth_settings_t auth;
} gw_settings_t;

/* ---- networking.istio.io Gateway ---- */

typedef enum { GW_PROTO_HTTP, GW_PROTO_HTTPS } gw_protocol_t;

/** One spec.servers[] entry: a listener. */
typedef struct {
    uint16_t port;          /* port.number */
    char *port_name;        /* port.name */
    gw_protocol_t protocol; /* port.protocol: HTTP | HTTPS */
    char *bind;             /* bind address, default "0.0.0.0" */
    gw_strings_t hosts;
    struct {
        int https_redirect;       /* tls.httpsRedirect (HTTP servers) */
        char *server_certificate; /* tls.serverCertificate: PEM chain file */
        char *private_key;        /* tls.privateKey: PEM key file */
        char *min_protocol;       /* tls.minProtocolVersion: TLSV1_2 (default) | TLSV1_3 */
    } tls;
    gw_config_mark_t mark;
} gw_server_t;

typedef struct {
    gw_meta_t meta;
    gw_labels_t selector;
    gw_server_t *servers;
    size_t server_count;
} gw_gateway_t;

/* ---- ServiceEntry ---- */

typedef struct {
    char *address;         /* IP literal or host name */
    gw_labels_t ports;     /* port name -> port number (as text, validated 1..65535) */
    gw_labels_t labels;    /* e.g. version: v1 */
    char *service_account; /* serviceAccount, informational */
    gw_config_mark_t mark;
} gw_endpoint_t;

typedef struct {
    uint16_t number;
    char *name;
    char *protocol; /* HTTP | HTTPS | HTTP2 | GRPC | TCP ... as written */
} gw_service_port_t;

typedef struct {
    gw_meta_t meta;
    gw_strings_t hosts;
    gw_service_port_t *ports;
    size_t port_count;
    char *location;   /* MESH_INTERNAL | MESH_EXTERNAL */
    char *resolution; /* STATIC | DNS | NONE */
    gw_endpoint_t *endpoints;
    size_t endpoint_count;
} gw_service_entry_t;

/* ---- DestinationRule ---- */

typedef enum {
    GW_UPSTREAM_TLS_DISABLE,
    GW_UPSTREAM_TLS_SIMPLE,
    GW_UPSTREAM_TLS_MUTUAL
} gw_upstream_tls_mode_t;

typedef struct {
    int set; /* whether the document had a trafficPolicy.tls */
    gw_upstream_tls_mode_t mode;
    char *client_certificate; /* PEM chain file (MUTUAL) */
    char *private_key;        /* PEM key file (MUTUAL) */
    char *ca_certificates;    /* PEM bundle of the mesh CA */
    char *sni;
    gw_strings_t subject_alt_names; /* expected peer identity: DNS names and/or spiffe:// URIs */
} gw_upstream_tls_t;

/** loadBalancer.simple: how a cluster's endpoints share its requests (per worker). */
typedef enum {
    GW_LB_ROUND_ROBIN, /* the default */
    GW_LB_LEAST_REQUEST,
    GW_LB_RANDOM
} gw_lb_policy_t;

typedef struct {
    gw_upstream_tls_t tls;
    gw_lb_policy_t load_balancer; /* loadBalancer.simple, inherited by subsets unless they set one */
    uint64_t connect_timeout_ms;  /* connectionPool.tcp.connectTimeout, default 5000 */
    uint64_t idle_timeout_ms;     /* connectionPool.http.idleTimeout: pooled keep-alive, default 60000 */
    unsigned max_connections;     /* connectionPool.tcp.maxConnections, default 1024 */
    struct {
        int set;                       /* outlierDetection present: ejection is on */
        unsigned consecutive_5xx;      /* consecutive5xxErrors, default 5 (0 = off) */
        unsigned consecutive_gateway;  /* consecutiveGatewayErrors (502/503/504), default 0 = off */
        uint64_t base_ejection_ms;     /* baseEjectionTime, default 30s; doubles with each ejection */
        unsigned max_ejection_percent; /* default 10; at least one endpoint may always be ejected */
    } outlier;
} gw_traffic_policy_t;

typedef struct {
    char *name;
    gw_labels_t labels;
    gw_traffic_policy_t traffic_policy; /* inherits the rule's unless set */
    gw_config_mark_t mark;
} gw_subset_t;

typedef struct {
    gw_meta_t meta;
    char *host;
    gw_traffic_policy_t traffic_policy;
    gw_subset_t *subsets;
    size_t subset_count;
} gw_destination_rule_t;

/* ---- VirtualService ---- */

typedef enum { GW_MATCH_ANY, GW_MATCH_EXACT, GW_MATCH_PREFIX, GW_MATCH_REGEX } gw_string_match_kind_t;

/** Istio's StringMatch: exact, prefix or regex (a full match, POSIX extended syntax). */
typedef struct {
    gw_string_match_kind_t kind;
    char *value;
} gw_string_match_t;

/** A header or query parameter condition: name (headers in lower case) and how its value must match. */
typedef struct {
    char *name;
    gw_string_match_t value; /* GW_MATCH_ANY: present, whatever its value */
} gw_named_match_t;

typedef struct {
    gw_string_match_t uri;
    int ignore_uri_case;
    gw_string_match_t method;
    gw_named_match_t *headers; /* all must match */
    size_t header_count;
    gw_named_match_t *without_headers; /* none may match */
    size_t without_header_count;
    gw_named_match_t *query_params;
    size_t query_param_count;
    gw_config_mark_t mark;
} gw_http_match_t;

typedef struct {
    char *host;      /* destination.host */
    char *subset;    /* destination.subset or NULL */
    uint16_t port;   /* destination.port.number, 0 = the service's only port */
    unsigned weight; /* 0..100; weights of a route add up to 100 (a single destination may omit it) */
    gw_config_mark_t mark;
} gw_route_destination_t;

/** retries.retryOn conditions (Istio/Envoy names). */
enum {
    GW_RETRY_CONNECT_FAILURE = 1 << 0, /* connect-failure: no connection (refused, TLS, connect timeout) */
    GW_RETRY_RESET = 1 << 1,           /* reset: the connection failed after the request went out */
    GW_RETRY_GATEWAY_ERROR = 1 << 2,   /* gateway-error: 502, 503, 504 (and the two above) */
    GW_RETRY_5XX = 1 << 3,             /* 5xx: any 5xx (and the above) */
    GW_RETRY_502 = 1 << 4,             /* a status code named as such */
    GW_RETRY_503 = 1 << 5,
    GW_RETRY_504 = 1 << 6
};

/** retries: of idempotent requests only (RFC 9110: never POST or PATCH). */
typedef struct {
    unsigned attempts;           /* retries after the first try, 0..3; 0 = none */
    uint64_t per_try_timeout_ms; /* perTryTimeout: each try's I/O timeout; 0 = the route's */
    unsigned retry_on;           /* GW_RETRY_* bits; default connect-failure,reset,503 */
} gw_retry_policy_t;

typedef struct {
    char *name;
    gw_http_match_t *matches; /* none = match everything */
    size_t match_count;
    gw_route_destination_t *routes;
    size_t route_count;
    char *rewrite_uri;              /* rewrite.uri: replaces the matched prefix, or NULL */
    uint64_t timeout_ms;            /* timeout, 0 = none */
    gw_route_destination_t *mirror; /* mirror: where a copy of each request goes (weight unused), or NULL */
    unsigned mirror_per_million;    /* mirrorPercentage.value as parts per million, default 100% */
    gw_retry_policy_t retries;
    gw_config_mark_t mark;
} gw_http_route_t;

/** How a split picks its destination (the tenantgate.io/sticky-split annotation, a tenantgate extension). */
typedef enum {
    GW_STICKY_NONE, /* smooth weighted round robin per worker */
    GW_STICKY_USER  /* a hash of the caller's user id; anonymous callers get the round robin */
} gw_sticky_split_t;

typedef struct {
    gw_meta_t meta;
    gw_strings_t hosts;
    gw_strings_t gateways;
    gw_http_route_t *http;
    size_t http_count;
    gw_sticky_split_t sticky_split;
} gw_virtual_service_t;

/* ---- the whole file ---- */

typedef struct gw_config {
    char *file; /* path it was loaded from */
    gw_settings_t settings;
    gw_gateway_t *gateways;
    size_t gateway_count;
    gw_service_entry_t *service_entries;
    size_t service_entry_count;
    gw_destination_rule_t *destination_rules;
    size_t destination_rule_count;
    gw_virtual_service_t *virtual_services;
    size_t virtual_service_count;
    int refcount; /* atomic; see gw_config_retain/release */
    void *_arena; /* owner of every allocation above */
} gw_config_t;

/** Maximum length of a load error message. */
#define GW_CONFIG_ERROR_SIZE 1024

/**
 * Loads and validates path. On success returns a config with refcount 1.
 * On failure returns NULL and writes "FILE:LINE:COL: FIELD: message" into
 * err (GW_CONFIG_ERROR_SIZE bytes); nothing else changes.
 */
gw_config_t *gw_config_load(const char *path, char *err);

/** Same as gw_config_load, from a buffer; name is used in error messages. */
gw_config_t *gw_config_load_buffer(const char *name, const char *yaml, size_t len, char *err);

/** Takes a reference. */
void gw_config_retain(gw_config_t *config);

/** Drops a reference; the last one frees the config. NULL is allowed. */
void gw_config_release(gw_config_t *config);

/** Writes a human-readable summary (listeners, services, routes) to fp (a FILE *). */
void gw_config_print_summary(const gw_config_t *config, void *fp);

/** Finds the ServiceEntry that lists host (exact, case-insensitive), or NULL. */
const gw_service_entry_t *gw_config_find_service(const gw_config_t *config, const char *host);

/** Finds the DestinationRule for host, or NULL. */
const gw_destination_rule_t *gw_config_find_destination_rule(const gw_config_t *config, const char *host);

/** Finds a subset of rule by name (rule may be NULL), or NULL. */
const gw_subset_t *gw_destination_rule_find_subset(const gw_destination_rule_t *rule, const char *name);

/** Finds the port of service with that number, or its only port when number is 0; NULL if none. */
const gw_service_port_t *gw_service_entry_find_port(const gw_service_entry_t *service, uint16_t number);

/** The value of key in labels, or NULL. */
const char *gw_labels_get(const gw_labels_t *labels, const char *key);

/** Whether labels carry every key=value of selector (an empty selector selects everything). */
int gw_labels_select(const gw_labels_t *selector, const gw_labels_t *labels);

#endif
