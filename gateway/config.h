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
    gw_labels_t
        annotations; /* metadata.annotations (tenantgate.io/service-name, tenantgate.io/sticky-split) */
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
    uint64_t cache_max_entries;   /* sessions.cacheMaxEntries: the in-process cache's bound, default 10000 */
    uint64_t logout_poll_ms;      /* sessions.logoutPollInterval, default 1s; 0: off */
    uint64_t refresh_before_ms;   /* sessions.refreshBefore, default 60s; 0: never refresh */
} gw_auth_settings_t;

/** spec.rctoken: the short-lived JWT set on every forwarded request with a caller. Off unless present. */
typedef struct {
    int enabled;
    char *issuer;                  /* iss and the base of /.well-known URLs; default oidc.externalUrl */
    uint64_t ttl_ms;               /* ttl, default 5m (10s..1h) */
    int audience_namespace;        /* audience: host (0, default: the destination host) | namespace (1) */
    char *header;                  /* header, lower case, default "authorization" (value "Bearer <token>") */
    int algorithm;                 /* as_rctoken_alg_t: ES256 (default) | RS256 */
    char *signing_key_file;        /* signingKeyFile, resolved; read when the generation is built */
    gw_strings_t verify_key_files; /* verifyKeyFiles, resolved: published, never used to sign */
    char *namespace_claim;         /* namespaceClaim, default "namespace" */
    uint64_t jwks_max_age_ms;      /* jwksMaxAge: Cache-Control max-age of /.well-known, default 5m */
    uint64_t cli_token_ttl_ms; /* cliTokenTtl: lifetime of /authservice/token tokens, default 1h (10s..12h) */
} gw_rctoken_settings_t;

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
    struct {
        char *gateway_principal;      /* authorization.gatewayPrincipal: the ingress' own peer identity */
        char *audit_file;             /* authorization.audit.file: JSON lines, NULL = no audit trail */
        double audit_sample_allows;   /* authorization.audit.sampleAllows: 0..1, default 0 */
        int audit_table;              /* authorization.audit.sqliteTable: also a table in the sqlite store */
        double user_rate, user_burst; /* rateLimits.perUser: requests/s and bucket size, 0 = off */
        double namespace_rate, namespace_burst; /* rateLimits.perNamespace */
    } authorization;
    gw_rctoken_settings_t rctoken;
    char *access_log_file; /* accessLog.file: JSON lines per request, "-" = stdout, NULL = off */
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

/* ---- authorization: rbac.istio.io/v1alpha1 (ServiceRole, ServiceRoleBinding) and
 *      security.istio.io (AuthorizationPolicy); see docs/internals/authorization.md ---- */

/** What a condition key reads from a request. */
typedef enum {
    GW_AUTHZ_KEY_CLAIM,            /* request.auth.claims[NAME]: every value of a list claim */
    GW_AUTHZ_KEY_HEADER,           /* request.headers[NAME] */
    GW_AUTHZ_KEY_PRINCIPAL,        /* request.auth.principal: iss/sub */
    GW_AUTHZ_KEY_SOURCE_NAMESPACE, /* source.namespace: the gateway's own namespace */
} gw_authz_key_kind_t;

/** A `when` condition, a ServiceRole constraint or a ServiceRoleBinding property. */
typedef struct {
    char *key; /* as written */
    gw_authz_key_kind_t kind;
    char *name;              /* NAME of claims[NAME] / headers[NAME] (headers in lower case), else NULL */
    gw_strings_t values;     /* one must match (Istio exact / prefix* / *suffix / *) */
    gw_strings_t not_values; /* none may match */
    gw_config_mark_t mark;
} gw_authz_condition_t;

/** One ServiceRole rule: every listed field must match; an absent field matches anything. */
typedef struct {
    gw_strings_t services; /* ServiceEntry host, metadata.name or annotation tenantgate.io/service-name */
    gw_strings_t methods;
    gw_strings_t paths;
    gw_authz_condition_t *constraints;
    size_t constraint_count;
    gw_config_mark_t mark;
} gw_role_rule_t;

typedef struct {
    gw_meta_t meta;
    gw_role_rule_t *rules;
    size_t rule_count;
} gw_service_role_t;

/** One ServiceRoleBinding subject: user, group and properties must all match. */
typedef struct {
    char *user;  /* "*", the gateway principal, or a userid; NULL = any */
    char *group; /* NULL = any */
    gw_authz_condition_t *properties;
    size_t property_count;
    gw_config_mark_t mark;
} gw_role_subject_t;

typedef struct {
    gw_meta_t meta;
    gw_role_subject_t *subjects;
    size_t subject_count;
    char *role; /* roleRef.name: a ServiceRole of the same namespace */
} gw_service_role_binding_t;

typedef enum { GW_AUTHZ_ALLOW, GW_AUTHZ_DENY, GW_AUTHZ_AUDIT } gw_authz_action_t;

/** rules[].from[].source: every listed field must match. */
typedef struct {
    gw_strings_t request_principals, not_request_principals;
    gw_strings_t namespaces, not_namespaces;
    gw_config_mark_t mark;
} gw_authz_source_t;

/** rules[].to[].operation: every listed field must match. */
typedef struct {
    gw_strings_t hosts, not_hosts;
    gw_strings_t methods, not_methods;
    gw_strings_t paths, not_paths;
    gw_config_mark_t mark;
} gw_authz_operation_t;

/** A rule matches when one from, one to and every when match (absent parts match anything). */
typedef struct {
    gw_authz_source_t *from;
    size_t from_count;
    gw_authz_operation_t *to;
    size_t to_count;
    gw_authz_condition_t *when;
    size_t when_count;
    gw_config_mark_t mark;
} gw_authz_rule_t;

typedef struct {
    gw_meta_t meta;
    gw_authz_action_t action;
    gw_authz_rule_t *rules; /* none: matches nothing */
    size_t rule_count;
} gw_authorization_policy_t;

/* ---- RequestAuthentication (security.istio.io): trusted bearer-token issuers ---- */

/** One spec.jwtRules entry, with tenantgate's claim mapping from the document's annotations. */
typedef struct {
    char *issuer;               /* iss, compared exactly */
    char *jwks_uri;             /* key set URL, or NULL for the issuer's discovery document */
    gw_strings_t audiences;     /* at least one (tenantgate requires aud checks) */
    int forward_original_token; /* keep the client's Authorization header on the upstream request */
    int allow_insecure;         /* annotation tenantgate.io/allow-insecure-jwks-uri: http on loopback */
    const char *userid_claim;   /* annotation tenantgate.io/userid-claim, or NULL: email, else sub */
    const char *groups_claim;   /* annotation tenantgate.io/groups-claim, default "groups" */
    gw_config_mark_t mark;
} gw_jwt_rule_t;

typedef struct {
    gw_meta_t meta;
    gw_labels_t selector; /* spec.selector.matchLabels: accepted; the gateway applies rules by namespace */
    gw_jwt_rule_t *jwt_rules;
    size_t jwt_rule_count;
} gw_request_auth_t;

/** Namespace whose RequestAuthentication is trusted for every destination (Istio's root namespace). */
#define GW_ROOT_NAMESPACE "istio-system"

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
    gw_service_role_t *service_roles;
    size_t service_role_count;
    gw_service_role_binding_t *service_role_bindings;
    size_t service_role_binding_count;
    gw_authorization_policy_t *authorization_policies;
    size_t authorization_policy_count;
    gw_request_auth_t *request_auths;
    size_t request_auth_count;
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
