/* The configuration loader on good input: every field of config/example.yaml lands where it
 * should, defaults, durations, relative paths, lookups, reference counts and the summary. */
#include "config_test_util.h"

#include <fcntl.h>
#include <limits.h>

#include "config_decode.h"

#define GW                                                                                                   \
    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: istio-system}\n"   \
    "spec:\n  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[1 << 16];
    *len = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[*len] = '\0';
    fclose(fp);
    return buf;
}

/* The 1-based line of config/example.yaml where marker first occurs. */
static unsigned example_line(const char *marker)
{
    size_t len;
    const char *text = read_file(TG_SOURCE_DIR "/config/example.yaml", &len);
    const char *at = strstr(text, marker);
    assert_non_null(at);
    unsigned line = 1;
    for (const char *p = text; p < at; ++p)
        line += *p == '\n';
    return line;
}

static gw_config_t *load_example(void)
{
    size_t len;
    const char *yaml = read_file(TG_SOURCE_DIR "/config/example.yaml", &len);
    char name[256], err[GW_CONFIG_ERROR_SIZE];
    snprintf(name, sizeof(name), "%s/example.yaml", scratch_dir);
    gw_config_t *config = gw_config_load_buffer(name, yaml, len, err);
    if (config == NULL)
        fail_msg("config/example.yaml does not load: %s", err);
    return config;
}

static void assert_scratch_path(const char *path, const char *rel)
{
    char want[256];
    snprintf(want, sizeof(want), "%s/%s", scratch_dir, rel);
    assert_non_null(path);
    assert_string_equal(path, want);
}

static void test_example_request_auth(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    assert_int_equal(config->request_auth_count, 1);
    const gw_request_auth_t *ra = &config->request_auths[0];
    assert_string_equal(ra->meta.namespace_, "istio-system");
    assert_int_equal(ra->meta.mark.line, example_line("apiVersion: security.istio.io/v1beta1"));
    assert_int_equal(ra->jwt_rule_count, 1);
    const gw_jwt_rule_t *r = &ra->jwt_rules[0];
    assert_string_equal(r->issuer, "https://idp.example.com");
    assert_string_equal(r->jwks_uri, "https://idp.example.com/jwks");
    assert_int_equal(r->audiences.count, 1);
    assert_string_equal(r->audiences.items[0], "https://tenantgate.example.com/api");
    assert_string_equal(r->userid_claim, "email");
    assert_string_equal(r->groups_claim, "groups");
    assert_false(r->forward_original_token);
    assert_false(r->allow_insecure);
    gw_config_release(config);
}

static void test_example_settings(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    const gw_settings_t *s = &config->settings;
    assert_int_equal(config->refcount, 1);
    assert_string_equal(s->meta.name, "edge");
    assert_string_equal(s->meta.namespace_, "default");
    assert_int_equal(s->meta.mark.line, example_line("apiVersion: tenantgate.io/v1alpha1"));
    assert_int_equal(s->meta.mark.column, 1);
    assert_string_equal(s->admin.address, "127.0.0.1");
    assert_int_equal(s->admin.port, 9901);
    assert_int_equal(s->threads, 2);
    assert_string_equal(s->log_level, "info");
    assert_int_equal(s->limits.max_header_bytes, 16384);
    assert_int_equal(s->limits.max_header_count, 100);
    assert_int_equal(s->limits.max_body_bytes, 8388608);
    assert_int_equal(s->limits.request_timeout_ms, 30000);
    assert_int_equal(s->limits.idle_timeout_ms, 60000);
    assert_int_equal(s->strip_headers.count, 1);
    assert_string_equal(s->strip_headers.items[0], "x-forwarded-user");
    gw_config_release(config);
}

static void test_example_gateway(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    assert_int_equal(config->gateway_count, 1);
    const gw_gateway_t *gw = &config->gateways[0];
    assert_string_equal(gw->meta.name, "tenantgate");
    assert_string_equal(gw->meta.namespace_, "istio-system");
    assert_int_equal(gw->selector.count, 1);
    assert_string_equal(gw->selector.keys[0], "istio");
    assert_string_equal(gw->selector.values[0], "ingressgateway");
    assert_int_equal(gw->server_count, 2);
    const gw_server_t *https = &gw->servers[0], *http = &gw->servers[1];
    assert_int_equal(https->port, 8443);
    assert_string_equal(https->port_name, "https");
    assert_int_equal(https->protocol, GW_PROTO_HTTPS);
    assert_string_equal(https->bind, "127.0.0.1");
    assert_int_equal(https->hosts.count, 1);
    assert_string_equal(https->hosts.items[0], "*");
    assert_scratch_path(https->tls.server_certificate, "certs/server.pem");
    assert_scratch_path(https->tls.private_key, "certs/server.key");
    assert_string_equal(https->tls.min_protocol, "TLSV1_2");
    assert_false(https->tls.https_redirect);
    assert_int_equal(https->mark.line, example_line("  - name: https"));
    assert_int_equal(https->mark.column, 5);
    assert_ptr_equal(https->mark.file, config->file);
    assert_int_equal(http->port, 8080);
    assert_int_equal(http->protocol, GW_PROTO_HTTP);
    assert_true(http->tls.https_redirect);
    assert_null(http->tls.server_certificate);
    gw_config_release(config);
}

static void test_example_service(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    assert_int_equal(config->service_entry_count, 1);
    const gw_service_entry_t *se = &config->service_entries[0];
    assert_string_equal(se->meta.name, "mnist");
    assert_string_equal(se->meta.namespace_, "kubeflow-alice");
    assert_int_equal(se->hosts.count, 1);
    assert_string_equal(se->hosts.items[0], "mnist.kubeflow-alice.svc.cluster.local");
    assert_string_equal(se->location, "MESH_INTERNAL");
    assert_string_equal(se->resolution, "STATIC");
    assert_int_equal(se->port_count, 1);
    assert_int_equal(se->ports[0].number, 8500);
    assert_string_equal(se->ports[0].name, "http");
    assert_string_equal(se->ports[0].protocol, "HTTP");
    assert_int_equal(se->endpoint_count, 2);
    const gw_endpoint_t *v1 = &se->endpoints[0], *v2 = &se->endpoints[1];
    assert_string_equal(v1->address, "127.0.0.1");
    assert_int_equal(v1->ports.count, 1);
    assert_string_equal(v1->ports.keys[0], "http");
    assert_string_equal(v1->ports.values[0], "18501");
    assert_string_equal(v1->labels.keys[0], "version");
    assert_string_equal(v1->labels.values[0], "v1");
    assert_string_equal(v1->service_account, "default-editor");
    assert_string_equal(v2->ports.values[0], "18502");
    assert_null(v2->service_account);
    gw_config_release(config);
}

static void test_example_destination_rule(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    assert_int_equal(config->destination_rule_count, 1);
    const gw_destination_rule_t *dr = &config->destination_rules[0];
    assert_string_equal(dr->host, "mnist.kubeflow-alice.svc.cluster.local");
    const gw_traffic_policy_t *p = &dr->traffic_policy;
    assert_int_equal(p->connect_timeout_ms, 2000);
    assert_int_equal(p->max_connections, 100);
    assert_int_equal(p->idle_timeout_ms, 60000);
    assert_true(p->tls.set);
    assert_int_equal(p->tls.mode, GW_UPSTREAM_TLS_MUTUAL);
    assert_scratch_path(p->tls.client_certificate, "certs/gateway-client.pem");
    assert_scratch_path(p->tls.private_key, "certs/gateway-client.key");
    assert_scratch_path(p->tls.ca_certificates, "certs/mesh-ca.pem");
    assert_string_equal(p->tls.sni, "mnist.kubeflow-alice.svc.cluster.local");
    assert_int_equal(p->tls.subject_alt_names.count, 1);
    assert_string_equal(p->tls.subject_alt_names.items[0],
                        "spiffe://cluster.local/ns/kubeflow-alice/sa/default-editor");
    assert_int_equal(dr->subset_count, 2);
    const gw_subset_t *v1 = &dr->subsets[0], *v2 = &dr->subsets[1];
    assert_string_equal(v1->name, "v1");
    assert_string_equal(v1->labels.values[0], "v1");
    /* no trafficPolicy: the rule's, whole */
    assert_int_equal(v1->traffic_policy.connect_timeout_ms, 2000);
    assert_true(v1->traffic_policy.tls.set);
    assert_int_equal(v1->traffic_policy.tls.mode, GW_UPSTREAM_TLS_MUTUAL);
    /* a trafficPolicy overrides what it sets and inherits the rest */
    assert_string_equal(v2->name, "v2");
    assert_int_equal(v2->traffic_policy.connect_timeout_ms, 1000);
    assert_int_equal(v2->traffic_policy.max_connections, 100);
    assert_true(v2->traffic_policy.tls.set);
    assert_string_equal(v2->traffic_policy.tls.sni, "mnist.kubeflow-alice.svc.cluster.local");
    gw_config_release(config);
}

static void test_example_virtual_service(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    assert_int_equal(config->virtual_service_count, 1);
    const gw_virtual_service_t *vs = &config->virtual_services[0];
    assert_string_equal(vs->hosts.items[0], "*");
    assert_int_equal(vs->gateways.count, 1);
    assert_string_equal(vs->gateways.items[0], "istio-system/tenantgate");
    assert_int_equal(vs->http_count, 1);
    const gw_http_route_t *r = &vs->http[0];
    assert_string_equal(r->name, "mnist");
    assert_int_equal(r->match_count, 2);
    assert_int_equal(r->matches[0].uri.kind, GW_MATCH_PREFIX);
    assert_string_equal(r->matches[0].uri.value, "/serving/kubeflow-alice/mnist/");
    assert_int_equal(r->matches[1].uri.kind, GW_MATCH_EXACT);
    assert_string_equal(r->matches[1].uri.value, "/serving/kubeflow-alice/mnist");
    assert_string_equal(r->rewrite_uri, "/v1/models/mnist");
    assert_int_equal(r->timeout_ms, 30000);
    assert_int_equal(r->route_count, 2);
    assert_string_equal(r->routes[0].host, "mnist.kubeflow-alice.svc.cluster.local");
    assert_string_equal(r->routes[0].subset, "v1");
    assert_int_equal(r->routes[0].port, 8500);
    assert_int_equal(r->routes[0].weight, 95);
    assert_string_equal(r->routes[1].subset, "v2");
    assert_int_equal(r->routes[1].port, 0);
    assert_int_equal(r->routes[1].weight, 5);
    gw_config_release(config);
}

/* Only a Gateway: everything else takes its default. */
static void test_defaults(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(GW);
    const gw_settings_t *s = &config->settings;
    assert_null(s->meta.name);
    assert_string_equal(s->admin.address, "127.0.0.1");
    assert_int_equal(s->admin.port, 9901);
    assert_int_equal(s->threads, 0);
    assert_string_equal(s->log_level, "info");
    assert_int_equal(s->limits.max_header_bytes, 16384);
    assert_int_equal(s->limits.max_header_count, 100);
    assert_int_equal(s->limits.max_body_bytes, 8u << 20);
    assert_int_equal(s->limits.request_timeout_ms, 30000);
    assert_int_equal(s->limits.idle_timeout_ms, 60000);
    assert_int_equal(s->strip_headers.count, 0);
    const gw_server_t *server = &config->gateways[0].servers[0];
    assert_string_equal(server->bind, "0.0.0.0");
    assert_false(server->tls.https_redirect);
    assert_int_equal(config->service_entry_count, 0);
    assert_int_equal(config->virtual_service_count, 0);
    gw_config_release(config);

    /* namespace defaults to "default"; ServiceEntry, DestinationRule and route defaults */
    config = load_ok(
        GW "---\n"
           "apiVersion: networking.istio.io/v1alpha3\nkind: ServiceEntry\nmetadata: {name: s}\n"
           "spec: {hosts: [s.svc], ports: [{number: 80, name: http}], endpoints: [{address: 10.0.0.1}]}\n"
           "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: s}\n"
           "spec: {host: s.svc}\n"
           "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: s}\n"
           "spec: {hosts: [\"*\"], http: [{route: [{destination: {host: s.svc}}]}]}\n");
    const gw_service_entry_t *se = &config->service_entries[0];
    assert_string_equal(se->meta.namespace_, "default");
    assert_string_equal(se->location, "MESH_EXTERNAL");
    assert_string_equal(se->resolution, "NONE");
    assert_null(se->ports[0].protocol);
    /* one service port and no endpoint ports: the endpoint serves it on the service's number */
    assert_int_equal(se->endpoints[0].ports.count, 1);
    assert_string_equal(se->endpoints[0].ports.keys[0], "http");
    assert_string_equal(se->endpoints[0].ports.values[0], "80");
    const gw_traffic_policy_t *p = &config->destination_rules[0].traffic_policy;
    assert_false(p->tls.set);
    assert_int_equal(p->connect_timeout_ms, 5000);
    assert_int_equal(p->idle_timeout_ms, 60000);
    assert_int_equal(p->max_connections, 1024);
    const gw_http_route_t *r = &config->virtual_services[0].http[0];
    assert_null(r->name);
    assert_int_equal(r->match_count, 0);
    assert_null(r->rewrite_uri);
    assert_int_equal(r->timeout_ms, 0);
    assert_int_equal(r->route_count, 1);
    assert_int_equal(r->routes[0].weight, 100); /* a single destination without weight */
    assert_null(r->routes[0].subset);
    assert_int_equal(r->routes[0].port, 0);
    assert_int_equal(config->virtual_services[0].gateways.count, 0);
    gw_config_release(config);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t ms;     /* when why is NULL */
        const char *why; /* substring of the error */
    } rows[] = {
        {"0", 0, NULL},
        {"0s", 0, NULL},
        {"250ms", 250, NULL},
        {"2s", 2000, NULL},
        {"1m", 60000, NULL},
        {"1h", 3600000, NULL},
        {"1h30m", 5400000, NULL},
        {"1m30s250ms", 90250, NULL},
        {"1.5s", 1500, NULL},
        {"0.25s", 250, NULL},
        {"1500us", 1500 / 1000, "finer than a millisecond"},
        {"2000us", 2, NULL},
        {"3000000ns", 3, NULL},
        {"4000\xc2\xb5s", 4, NULL},
        {"1.000001h", 3600004, "finer than a millisecond"},
        {"", 0, "expected numbers with units"},
        {"30", 0, "expected numbers with units"},
        {"s", 0, "expected numbers with units"},
        {"-1s", 0, "expected numbers with units"},
        {"+1s", 0, "expected numbers with units"},
        {"1 s", 0, "expected numbers with units"},
        {" 1s", 0, "expected numbers with units"},
        {"1s ", 0, "expected numbers with units"},
        {"1d", 0, "expected numbers with units"},
        {"1S", 0, "expected numbers with units"},
        {".5s", 0, "expected numbers with units"},
        {"5.s", 0, "expected numbers with units"},
        {"1.0000001s", 0, "at most 6 decimals"},
        {"0.5ms", 0, "finer than a millisecond"},
        {"1ns", 0, "finer than a millisecond"},
        {"99999999999999999999h", 0, "too long"},
        {"5124096h", 0, "too long"},
        {"5124095h", 5124095ull * 3600000, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        uint64_t ms = 12345;
        const char *why = gw__cfg_parse_duration(rows[i].text, &ms);
        if (rows[i].why == NULL) {
            if (why != NULL)
                fail_msg("\"%s\": %s", rows[i].text, why);
            if (ms != rows[i].ms)
                fail_msg("\"%s\": %llu ms, want %llu", rows[i].text, (unsigned long long)ms,
                         (unsigned long long)rows[i].ms);
        } else {
            if (why == NULL || strstr(why, rows[i].why) == NULL)
                fail_msg("\"%s\": got %s, want %s", rows[i].text, why != NULL ? why : "success", rows[i].why);
            assert_int_equal(ms, 12345); /* untouched on error */
        }
    }
}

#define HTTPS_GW(paths)                                                                                      \
    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: edge}\nspec:\n  servers:\n"         \
    "  - port: {number: 8443, protocol: https}\n    hosts: [\"*\"]\n    tls: {" paths "}\n"

/* Relative paths resolve against the config file's directory, made absolute; absolute ones stay. */
static void test_relative_paths(void **state)
{
    (void)state;
    char abs_key[256], yaml[1024], err[GW_CONFIG_ERROR_SIZE];
    snprintf(abs_key, sizeof(abs_key), "%s/certs/server.key", scratch_dir);
    snprintf(yaml, sizeof(yaml), HTTPS_GW("serverCertificate: certs/server.pem, privateKey: \"%s\""),
             abs_key);
    gw_config_t *config = load_ok(yaml);
    assert_scratch_path(config->gateways[0].servers[0].tls.server_certificate, "certs/server.pem");
    assert_string_equal(config->gateways[0].servers[0].tls.private_key, abs_key);
    assert_int_equal(config->gateways[0].servers[0].protocol, GW_PROTO_HTTPS); /* protocol: any case */
    gw_config_release(config);

    /* a relative config name: against the current directory at load time */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(scratch_dir), 0);
    char here[PATH_MAX];
    assert_non_null(getcwd(here, sizeof(here)));
    const char *rel = HTTPS_GW("serverCertificate: server.pem, privateKey: ../certs/server.key");
    config = gw_config_load_buffer("certs/test.yaml", rel, strlen(rel), err);
    int back = chdir(cwd);
    if (config == NULL)
        fail_msg("%s", err);
    assert_int_equal(back, 0);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof(want), "%s/certs/server.pem", here);
    assert_string_equal(config->gateways[0].servers[0].tls.server_certificate, want);
    snprintf(want, sizeof(want), "%s/certs/../certs/server.key", here);
    assert_string_equal(config->gateways[0].servers[0].tls.private_key, want);
    assert_string_equal(config->file, "certs/test.yaml");
    gw_config_release(config);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[256], err[GW_CONFIG_ERROR_SIZE];
    scratch_write("file.yaml", HTTPS_GW("serverCertificate: certs/server.pem, privateKey: certs/server.key"));
    snprintf(path, sizeof(path), "%s/file.yaml", scratch_dir);
    gw_config_t *config = gw_config_load(path, err);
    if (config == NULL)
        fail_msg("%s", err);
    assert_string_equal(config->file, path);
    assert_scratch_path(config->gateways[0].servers[0].tls.server_certificate, "certs/server.pem");
    gw_config_release(config);

    assert_null(gw_config_load("/nonexistent/tenantgate.yaml", err));
    assert_string_equal(err, "/nonexistent/tenantgate.yaml: cannot open: No such file or directory");

    snprintf(path, sizeof(path), "%s/certs", scratch_dir);
    assert_null(gw_config_load(path, err));
    assert_true(matches_pieces(err, "/certs: not a regular file"));

    /* 5 MiB (sparse): refused before parsing */
    snprintf(path, sizeof(path), "%s/big.yaml", scratch_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 5 << 20), 0);
    close(fd);
    assert_null(gw_config_load(path, err));
    assert_true(matches_pieces(err, "big.yaml: larger than 4 MiB"));
    unlink(path);

    /* the same limit on a buffer */
    static char big[(4 << 20) + 2];
    memset(big, ' ', sizeof(big) - 1);
    assert_null(gw_config_load_buffer("big.yaml", big, sizeof(big) - 1, err));
    assert_string_equal(err, "big.yaml: larger than 4194304 bytes");
}

static void test_find(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    const gw_service_entry_t *se = gw_config_find_service(config, "MNIST.Kubeflow-Alice.svc.cluster.local");
    assert_ptr_equal(se, &config->service_entries[0]);
    assert_null(gw_config_find_service(config, "mnist.kubeflow-alice"));
    assert_null(gw_config_find_service(config, NULL));
    assert_null(gw_config_find_service(NULL, "x"));
    const gw_destination_rule_t *dr =
        gw_config_find_destination_rule(config, "mnist.kubeflow-alice.svc.cluster.local");
    assert_ptr_equal(dr, &config->destination_rules[0]);
    assert_null(gw_config_find_destination_rule(config, "other"));
    gw_config_release(config);

    /* several services and hosts: each host finds its own entry */
    config = load_ok(GW "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\n"
                        "spec: {hosts: [a1.svc, a2.svc], ports: [{number: 80, name: http}]}\n"
                        "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: b}\n"
                        "spec: {hosts: [b.svc, 0.svc, z.svc], ports: [{number: 80, name: http}]}\n");
    static const char *const hosts[] = {"a1.svc", "a2.svc", "b.svc", "0.svc", "z.svc"};
    for (size_t i = 0; i < 5; ++i) {
        se = gw_config_find_service(config, hosts[i]);
        assert_non_null(se);
        assert_string_equal(se->meta.name, i < 2 ? "a" : "b");
    }
    gw_config_release(config);
}

static void test_refcount(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(GW);
    assert_int_equal(config->refcount, 1);
    gw_config_retain(config);
    gw_config_retain(config);
    assert_int_equal(config->refcount, 3);
    gw_config_release(config);
    gw_config_release(config);
    assert_int_equal(config->refcount, 1);
    assert_string_equal(config->gateways[0].meta.name, "edge");
    gw_config_release(config); /* the last one frees: LeakSanitizer checks the rest */
    gw_config_release(NULL);
}

static void test_summary(void **state)
{
    (void)state;
    gw_config_t *config = load_example();
    char *text = summary_of(config);
    static const char *const expected[] = {
        "config *example.yaml\n",
        "  admin: 127.0.0.1:9901\n",
        "  limits: header bytes 16384, header count 100, body bytes 8388608, request timeout 30s, idle "
        "timeout 1m\n",
        "  strip headers: kubeflow-userid,kubeflow-groups,x-forwarded-user\n",
        "listeners:\n  127.0.0.1:8443 HTTPS gateway istio-system/tenantgate hosts * tls TLSV1_2 cert "
        "*certs/server.pem",
        "  127.0.0.1:8080 HTTP gateway istio-system/tenantgate hosts * redirect-to-https\n",
        "services:\n  kubeflow-alice/mnist hosts mnist.kubeflow-alice.svc.cluster.local ports http=8500/HTTP "
        "MESH_INTERNAL STATIC\n",
        "    endpoint 127.0.0.1 ports http=18501 labels version=v1 serviceAccount default-editor\n",
        "destination rules:\n  kubeflow-alice/mnist host mnist.kubeflow-alice.svc.cluster.local: tls MUTUAL "
        "sni "
        "mnist.kubeflow-alice.svc.cluster.local identities "
        "spiffe://cluster.local/ns/kubeflow-alice/sa/default-editor",
        ", connect timeout 2s, idle timeout 1m, max connections 100, load balancer LEAST_REQUEST\n",
        "    subset v2 labels version=v2: tls MUTUAL",
        "routes:\n  kubeflow-alice/mnist hosts * gateways istio-system/tenantgate\n",
        "    mnist: prefix /serving/kubeflow-alice/mnist/ or exact /serving/kubeflow-alice/mnist -> "
        "mnist.kubeflow-alice.svc.cluster.local:8500 subset v1 weight 95, "
        "mnist.kubeflow-alice.svc.cluster.local "
        "subset v2 weight 5; rewrite /v1/models/mnist; timeout 30s\n",
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); ++i)
        if (!matches_pieces(text, expected[i]))
            fail_msg("summary lacks\n%s\nin\n%s", expected[i], text);
    assert_null(strstr(text, SCRATCH_SECRET)); /* file paths, never contents */
    assert_null(strstr(text, "BEGIN"));
    free(text);
    gw_config_release(config);
}

/* Documents of kinds a later version reads are accepted and not looked into. */
/* Flow style throughout, explicit document ends, comments, quoted scalars. */
static void test_yaml_styles(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(
        "%YAML 1.1\n---\n"
        "{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: edge}, spec: {servers: [\n"
        "  {port: {number: '8080', protocol: \"HTTP\"}, hosts: ['*'], bind: \"::\", tls: ~},\n"
        "  {port: {number: 8081, protocol: HTTP}, hosts: [a, b], bind: \"::1\"}]}}\n"
        "...\n"
        "# a comment between documents\n"
        "---\n"
        "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata:\n  name: 'edge'\n  labels: {a: b}\n"
        "  annotations: {note: \"anything\"}\nspec:\n  logLevel: >-\n    debug\n  admin: {port: 0}\n"
        "  stripHeaders:\n  - x-forwarded-user\n  - \"x-auth-request-email\"\n");
    assert_int_equal(config->gateways[0].server_count, 2);
    assert_int_equal(config->gateways[0].servers[0].port, 8080);
    assert_string_equal(config->gateways[0].servers[0].bind, "::");
    assert_string_equal(config->gateways[0].servers[1].hosts.items[1], "b");
    assert_string_equal(config->settings.log_level, "debug");
    assert_int_equal(config->settings.admin.port, 0);
    assert_int_equal(config->settings.strip_headers.count, 2);
    gw_config_release(config);
}

/* A gateway named without namespace is the VirtualService's namespace; stored as namespace/name. */
static void test_gateway_references(void **state)
{
    (void)state;
    gw_config_t *config = load_ok(
        GW "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s, namespace: "
           "istio-system}\nspec: {hosts: [s.svc], ports: [{number: 80, name: http}], endpoints: [{address: "
           "s.example, ports: {http: 8080}}], resolution: DNS}\n"
           "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: s, namespace: "
           "istio-system}\nspec: {hosts: [\"*\"], gateways: [edge, istio-system/edge, mesh], http: [{route: "
           "[{destination: {host: s.svc, port: {number: 80}}, weight: 100}]}]}\n");
    const gw_virtual_service_t *vs = &config->virtual_services[0];
    assert_int_equal(vs->gateways.count, 3);
    assert_string_equal(vs->gateways.items[0], "istio-system/edge");
    assert_string_equal(vs->gateways.items[1], "istio-system/edge");
    assert_string_equal(vs->gateways.items[2], "mesh");
    assert_string_equal(config->service_entries[0].endpoints[0].address, "s.example");
    assert_string_equal(config->service_entries[0].endpoints[0].ports.values[0], "8080");
    gw_config_release(config);
}

/* Limits of the YAML reader apply to configs: deep nesting fails with a place. */
static void test_nesting_limit(void **state)
{
    (void)state;
    char yaml[512], err[GW_CONFIG_ERROR_SIZE];
    size_t n = 0;
    n += (size_t)snprintf(yaml, sizeof(yaml), "a: ");
    for (int i = 0; i < 100; ++i)
        yaml[n++] = '[';
    yaml[n] = '\0';
    assert_null(load_text(yaml, err));
    assert_true(matches_pieces(err, "test.yaml:1:67: nested deeper than 64 levels"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_settings),
        cmocka_unit_test(test_example_request_auth),
        cmocka_unit_test(test_example_gateway),
        cmocka_unit_test(test_example_service),
        cmocka_unit_test(test_example_destination_rule),
        cmocka_unit_test(test_example_virtual_service),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_yaml_styles),
        cmocka_unit_test(test_gateway_references),
        cmocka_unit_test(test_nesting_limit),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
