/* kind Gateway (networking.istio.io): the listeners. */
#include <stdlib.h>
#include <string.h>

#include "config_kinds.h"

static const char *const not_yet_protocol = "is not supported yet (HTTP or HTTPS)";

static const gw__cfg_choice_t protocols[] = {
    {"HTTP", GW_PROTO_HTTP, NULL},  {"HTTPS", GW_PROTO_HTTPS, NULL},   {"HTTP2", 0, not_yet_protocol},
    {"GRPC", 0, not_yet_protocol},  {"GRPC-WEB", 0, not_yet_protocol}, {"TCP", 0, not_yet_protocol},
    {"TLS", 0, not_yet_protocol},   {"MONGO", 0, not_yet_protocol},    {"MYSQL", 0, not_yet_protocol},
    {"REDIS", 0, not_yet_protocol}, {"UDP", 0, not_yet_protocol},      {NULL, 0, NULL},
};

static const gw__cfg_choice_t tls_modes[] = {
    {"SIMPLE", 0, NULL},
    {"MUTUAL", 0, "is not supported yet (SIMPLE only)"},
    {"ISTIO_MUTUAL", 0, "is not supported yet (SIMPLE only)"},
    {"OPTIONAL_MUTUAL", 0, "is not supported yet (SIMPLE only)"},
    {"PASSTHROUGH", 0, "is not supported yet (SIMPLE only)"},
    {"AUTO_PASSTHROUGH", 0, "is not supported yet (SIMPLE only)"},
    {NULL, 0, NULL},
};

static const gw__cfg_choice_t tls_versions[] = {
    {"TLSV1_2", 0, NULL},
    {"TLSV1_3", 1, NULL},
    {"TLS_AUTO", 0, NULL},
    {"TLSV1_0", 0, "is not allowed (TLS 1.2 is the minimum)"},
    {"TLSV1_1", 0, "is not allowed (TLS 1.2 is the minimum)"},
    {NULL, 0, NULL},
};

static int decode_port(gw__cfg_t *c, const gw_yaml_node_t *server, gw_server_t *out)
{
    static const char *const fields[] = {"number", "name", "protocol", NULL};
    static const char *const unsupported[] = {"targetPort", NULL};
    const gw_yaml_node_t *port = gw__cfg_get(server, "port");
    if (port == NULL)
        return gw__cfg_missing(c, server, "port");
    size_t saved = gw__cfg_push(c, "port");
    int protocol = GW_PROTO_HTTP;
    int rc = gw__cfg_fields(c, port, fields, unsupported) != 0 ||
                     gw__cfg_port(c, port, "number", GW__CFG_REQUIRED, &out->port) < 0 ||
                     gw__cfg_string(c, port, "name", 0, &out->port_name) < 0 ||
                     gw__cfg_choice(c, port, "protocol", GW__CFG_REQUIRED, protocols, 1, &protocol) < 0
                 ? -1
                 : 0;
    out->protocol = (gw_protocol_t)protocol;
    gw__cfg_pop(c, saved);
    return rc;
}

/* The first field of tls that a server of this protocol must not have, or NULL. */
static const char *misplaced_tls_field(const gw_yaml_node_t *tls, gw_protocol_t protocol)
{
    static const char *const https_only[] = {"mode", "serverCertificate", "privateKey", "minProtocolVersion",
                                             NULL};
    if (protocol == GW_PROTO_HTTPS)
        return gw__cfg_get(tls, "httpsRedirect") != NULL ? "httpsRedirect" : NULL;
    for (size_t i = 0; https_only[i] != NULL; ++i)
        if (gw__cfg_get(tls, https_only[i]) != NULL)
            return https_only[i];
    return NULL;
}

static int decode_tls(gw__cfg_t *c, const gw_yaml_node_t *server, gw_server_t *out)
{
    static const char *const fields[] = {"httpsRedirect",      "mode", "serverCertificate", "privateKey",
                                         "minProtocolVersion", NULL};
    static const char *const unsupported[] = {"caCertificates",
                                              "caCrl",
                                              "credentialName",
                                              "credentialNames",
                                              "tlsCertificates",
                                              "maxProtocolVersion",
                                              "cipherSuites",
                                              "subjectAltNames",
                                              "verifyCertificateSpki",
                                              "verifyCertificateHash",
                                              NULL};
    out->tls.min_protocol = "TLSV1_2";
    const gw_yaml_node_t *tls = gw__cfg_get(server, "tls");
    if (tls == NULL) {
        if (out->protocol != GW_PROTO_HTTPS)
            return 0;
        size_t saved = gw__cfg_push(c, "tls");
        gw__cfg_fail(c, server, "HTTPS servers need tls.serverCertificate and tls.privateKey");
        gw__cfg_pop(c, saved);
        return -1;
    }
    size_t saved = gw__cfg_push(c, "tls");
    int rc = gw__cfg_fields(c, tls, fields, unsupported);
    const char *misplaced = rc == 0 ? misplaced_tls_field(tls, out->protocol) : NULL;
    if (misplaced != NULL) {
        gw__cfg_push(c, misplaced);
        rc = gw__cfg_fail(c, gw__cfg_get(tls, misplaced),
                          out->protocol == GW_PROTO_HTTPS ? "applies to HTTP servers only"
                                                          : "applies to HTTPS servers only");
    }
    int mode, version = 0;
    if (rc == 0 && (gw__cfg_bool(c, tls, "httpsRedirect", 0, &out->tls.https_redirect) < 0 ||
                    gw__cfg_choice(c, tls, "mode", 0, tls_modes, 0, &mode) < 0 ||
                    gw__cfg_choice(c, tls, "minProtocolVersion", 0, tls_versions, 0, &version) < 0))
        rc = -1;
    if (rc == 0 && out->protocol == GW_PROTO_HTTPS) {
        if (gw__cfg_file(c, tls, "serverCertificate", GW__CFG_REQUIRED, &out->tls.server_certificate) < 0 ||
            gw__cfg_file(c, tls, "privateKey", GW__CFG_REQUIRED, &out->tls.private_key) < 0)
            rc = -1;
        out->tls.min_protocol = version == 1 ? "TLSV1_3" : "TLSV1_2";
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int add_listener(gw__cfg_t *c, const gw_yaml_node_t *server, gw_server_t *out)
{
    gw__listen_ref_t ref = {.port = out->port, .bind = out->bind, .meta = c->meta};
    if (gw__cfg_parse_ip(out->bind, ref.addr, &ref.wildcard) != 0) {
        size_t saved = gw__cfg_push(c, "bind");
        gw__cfg_fail(c, gw__cfg_get(server, "bind"), "must be an IP address");
        gw__cfg_pop(c, saved);
        return -1;
    }
    size_t saved = gw__cfg_push(c, "port.number");
    ref.path = gw__cfg_path_copy(c);
    gw__cfg_pop(c, saved);
    ref.mark = gw__cfg_mark(c, gw__cfg_get(gw__cfg_get(server, "port"), "number"));
    if (ref.path == NULL)
        return gw__cfg_fail(c, server, "out of memory");
    if (c->listener_count == c->listener_cap) {
        size_t cap = c->listener_cap != 0 ? c->listener_cap * 2 : 8;
        gw__listen_ref_t *grown = realloc(c->listeners, cap * sizeof(*grown));
        if (grown == NULL)
            return gw__cfg_fail(c, server, "out of memory");
        c->listeners = grown;
        c->listener_cap = cap;
    }
    c->listeners[c->listener_count++] = ref;
    return 0;
}

static int decode_server(gw__cfg_t *c, const gw_yaml_node_t *server, gw_server_t *out)
{
    static const char *const fields[] = {"port", "bind", "hosts", "tls", "name", NULL};
    static const char *const unsupported[] = {"defaultEndpoint", NULL};
    char *ignored_name;
    out->mark = gw__cfg_mark(c, server);
    out->bind = "0.0.0.0";
    if (gw__cfg_fields(c, server, fields, unsupported) != 0 || decode_port(c, server, out) != 0 ||
        gw__cfg_string(c, server, "name", 0, &ignored_name) < 0 ||
        gw__cfg_string(c, server, "bind", 0, &out->bind) < 0 ||
        gw__cfg_strings(c, server, "hosts", GW__CFG_REQUIRED, &out->hosts) < 0 ||
        decode_tls(c, server, out) != 0)
        return -1;
    return add_listener(c, server, out);
}

int gw__decode_gateway(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"selector", "servers", NULL};
    gw_gateway_t *gw = out;
    if (gw__cfg_fields(c, spec, fields, NULL) != 0 ||
        gw__cfg_labels(c, spec, "selector", 0, &gw->selector) < 0)
        return -1;
    const gw_yaml_node_t *servers = gw__cfg_get(spec, "servers");
    if (servers == NULL)
        return gw__cfg_missing(c, spec, "servers");
    size_t saved = gw__cfg_push(c, "servers");
    int rc = gw__cfg_expect_list(c, servers);
    if (rc == 0 && servers->count == 0)
        rc = gw__cfg_fail(c, servers, "must list at least one server");
    if (rc == 0 && (gw->servers = gw_arena_calloc(c->arena, servers->count, sizeof(*gw->servers))) == NULL)
        rc = gw__cfg_fail(c, servers, "out of memory");
    for (size_t i = 0; rc == 0 && i < servers->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = decode_server(c, servers->items[i], &gw->servers[i]);
        gw__cfg_pop(c, item);
        gw->server_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

/* ---- no two servers on one socket ---- */

static int mark_cmp(const gw_config_mark_t *a, const gw_config_mark_t *b)
{
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->column < b->column ? -1 : a->column > b->column;
}

static int listen_order(const void *pa, const void *pb)
{
    const gw__listen_ref_t *a = pa, *b = pb;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    int rc = memcmp(a->addr, b->addr, sizeof(a->addr));
    return rc != 0 ? rc : mark_cmp(&a->mark, &b->mark);
}

/* Two sockets clash on one port when their addresses are equal or either is a wildcard. */
int gw__finish_gateways(gw__cfg_t *c)
{
    gw__listen_ref_t *l = c->listeners;
    size_t n = c->listener_count;
    if (n < 2)
        return 0;
    qsort(l, n, sizeof(*l), listen_order);
    const gw__listen_ref_t *first = NULL, *second = NULL;
    for (size_t start = 0, end; start < n; start = end) {
        for (end = start + 1; end < n && l[end].port == l[start].port; ++end)
            ;
        if (end - start < 2)
            continue;
        const gw__listen_ref_t *wild = NULL, *earliest = NULL, *next = NULL;
        for (size_t i = start; i < end; ++i) {
            if (l[i].wildcard && (wild == NULL || mark_cmp(&l[i].mark, &wild->mark) < 0))
                wild = &l[i];
            if (i > start && memcmp(l[i].addr, l[i - 1].addr, 16) == 0 &&
                (second == NULL || mark_cmp(&l[i].mark, &second->mark) < 0)) {
                first = &l[i - 1];
                second = &l[i];
            }
        }
        if (wild == NULL)
            continue;
        for (size_t i = start; i < end; ++i) /* the earliest other socket on this port */
            if (&l[i] != wild && (earliest == NULL || mark_cmp(&l[i].mark, &earliest->mark) < 0))
                earliest = &l[i];
        next = mark_cmp(&wild->mark, &earliest->mark) < 0 ? earliest : wild;
        if (second == NULL || mark_cmp(&next->mark, &second->mark) < 0) {
            second = next;
            first = next == wild ? earliest : wild;
        }
    }
    if (second == NULL)
        return 0;
    return gw__cfg_fail_at(c, &second->mark, second->path,
                           "%s:%u conflicts with %s:%u of Gateway %s/%s at %s:%u:%u", second->bind,
                           second->port, first->bind, first->port, first->meta->namespace_, first->meta->name,
                           c->file, first->mark.line, first->mark.column);
}
