/* kind ServiceEntry (networking.istio.io): upstream services, their ports and endpoints. */
#include <stdio.h>
#include <string.h>

#include "config_kinds.h"

static const gw__cfg_choice_t locations[] = {
    {"MESH_EXTERNAL", 0, NULL}, {"MESH_INTERNAL", 1, NULL}, {NULL, 0, NULL}};
static const char *const location_names[] = {"MESH_EXTERNAL", "MESH_INTERNAL"};

static const gw__cfg_choice_t resolutions[] = {
    {"NONE", 0, NULL}, {"STATIC", 1, NULL},
    {"DNS", 2, NULL},  {"DNS_ROUND_ROBIN", 0, "is not supported yet (NONE, STATIC or DNS)"},
    {NULL, 0, NULL},
};
static const char *const resolution_names[] = {"NONE", "STATIC", "DNS"};
enum { RESOLUTION_STATIC = 1 };

static const gw__cfg_choice_t port_protocols[] = {
    {"HTTP", 0, NULL},     {"HTTPS", 0, NULL}, {"HTTP2", 0, NULL}, {"GRPC", 0, NULL},
    {"GRPC-WEB", 0, NULL}, {"TCP", 0, NULL},   {"TLS", 0, NULL},   {"MONGO", 0, NULL},
    {"MYSQL", 0, NULL},    {"REDIS", 0, NULL}, {"UDP", 0, NULL},   {NULL, 0, NULL},
};

/* A DNS name, optionally starting with a "*." wildcard (hosts) or not (addresses). */
static int host_name(const char *s, int wildcard)
{
    if (wildcard && s[0] == '*' && (s[1] == '\0' || s[1] == '.'))
        s += s[1] == '\0' ? 1 : 2;
    else if (*s == '\0')
        return 0;
    size_t total = 0, label = 0;
    for (const char *p = s; *p != '\0'; ++p, ++total) {
        char ch = *p;
        if (ch == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   (ch == '-' && label > 0 && p[1] != '.' && p[1] != '\0') || ch == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return total <= 253;
}

static int decode_hosts(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_service_entry_t *se)
{
    if (gw__cfg_strings(c, spec, "hosts", GW__CFG_REQUIRED, &se->hosts) < 0)
        return -1;
    const gw_yaml_node_t *list = gw__cfg_get(spec, "hosts");
    size_t saved = gw__cfg_push(c, "hosts");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < se->hosts.count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        char shown[300];
        if (!host_name(se->hosts.items[i], 1))
            rc = gw__cfg_fail(c, list->items[i], "\"%s\" is not a valid host name",
                              gw__cfg_show(shown, sizeof(shown), se->hosts.items[i]));
        else
            rc = gw__host_index_add(c, &c->impl->services, se->hosts.items[i], list->items[i]);
        gw__cfg_pop(c, item);
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_port(gw__cfg_t *c, const gw_yaml_node_t *node, gw_service_port_t *port)
{
    static const char *const fields[] = {"number", "name", "protocol", NULL};
    static const char *const unsupported[] = {"targetPort", NULL};
    int protocol;
    if (gw__cfg_fields(c, node, fields, unsupported) != 0 ||
        gw__cfg_port(c, node, "number", GW__CFG_REQUIRED, &port->number) < 0 ||
        gw__cfg_string(c, node, "name", GW__CFG_REQUIRED, &port->name) < 0 ||
        gw__cfg_choice(c, node, "protocol", 0, port_protocols, 1, &protocol) < 0 ||
        gw__cfg_string(c, node, "protocol", 0, &port->protocol) < 0) /* kept as written */
        return -1;
    return 0;
}

static int decode_ports(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_service_entry_t *se)
{
    const gw_yaml_node_t *ports = gw__cfg_get(spec, "ports");
    if (ports == NULL)
        return gw__cfg_missing(c, spec, "ports");
    size_t saved = gw__cfg_push(c, "ports");
    int rc = gw__cfg_expect_list(c, ports);
    if (rc == 0 && ports->count == 0)
        rc = gw__cfg_fail(c, ports, "must list at least one port");
    if (rc == 0 && (se->ports = gw_arena_calloc(c->arena, ports->count, sizeof(*se->ports))) == NULL)
        rc = gw__cfg_fail(c, ports, "out of memory");
    for (size_t i = 0; rc == 0 && i < ports->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        gw_service_port_t *port = &se->ports[i];
        rc = decode_port(c, ports->items[i], port);
        for (size_t j = 0; rc == 0 && j < i; ++j) {
            if (se->ports[j].number == port->number)
                rc =
                    gw__cfg_fail(c, ports->items[i], "port %u is listed twice (ports[%zu])", port->number, j);
            else if (strcmp(se->ports[j].name, port->name) == 0)
                rc = gw__cfg_fail(c, ports->items[i], "port name \"%s\" is used twice (ports[%zu])",
                                  port->name, j);
        }
        gw__cfg_pop(c, item);
        se->port_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static const gw_service_port_t *port_named(const gw_service_entry_t *se, const char *name)
{
    for (size_t i = 0; i < se->port_count; ++i)
        if (strcmp(se->ports[i].name, name) == 0)
            return &se->ports[i];
    return NULL;
}

static int labels_alloc(gw__cfg_t *c, const gw_yaml_node_t *at, gw_labels_t *labels, size_t count)
{
    if ((labels->keys = gw_arena_calloc(c->arena, count, sizeof(char *))) == NULL ||
        (labels->values = gw_arena_calloc(c->arena, count, sizeof(char *))) == NULL)
        return gw__cfg_fail(c, at, "out of memory");
    return 0;
}

/* endpoint.ports maps service port names to the endpoint's port numbers (kept as decimal text).
 * Without it, an endpoint of a one-port service serves that port on the service's number. */
static int decode_endpoint_ports(gw__cfg_t *c, const gw_yaml_node_t *node, const gw_service_entry_t *se,
                                 gw_endpoint_t *ep)
{
    const gw_yaml_node_t *ports = gw__cfg_get(node, "ports");
    size_t saved = gw__cfg_push(c, "ports");
    int rc = 0;
    char text[8];
    if (ports == NULL && se->port_count == 1) {
        snprintf(text, sizeof(text), "%u", se->ports[0].number);
        rc = labels_alloc(c, node, &ep->ports, 1);
        if (rc == 0 && (ep->ports.values[0] = gw_arena_strdup(c->arena, text)) == NULL)
            rc = gw__cfg_fail(c, node, "out of memory");
        if (rc == 0) {
            ep->ports.keys[0] = se->ports[0].name;
            ep->ports.count = 1;
        }
        gw__cfg_pop(c, saved);
        return rc;
    }
    if (ports == NULL)
        rc = gw__cfg_fail(c, node, "missing required field (the service has several ports: map each name)");
    else if (gw__cfg_expect_map(c, ports) != 0 || labels_alloc(c, ports, &ep->ports, ports->count) != 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < ports->count; ++i) {
        const gw_yaml_node_t *key = ports->items[2 * i], *value = ports->items[2 * i + 1];
        const gw_service_port_t *port = port_named(se, key->value);
        char shown[80];
        uint16_t number = 0;
        size_t item = gw__cfg_push(c, gw__cfg_show(shown, sizeof(shown), key->value));
        if (port == NULL)
            rc = gw__cfg_fail(c, key, "spec.ports has no port named \"%s\"", shown);
        else if (gw__cfg_node_port(c, value, &number) != 0)
            rc = -1;
        gw__cfg_pop(c, item);
        if (rc != 0)
            break;
        snprintf(text, sizeof(text), "%u", number);
        ep->ports.keys[i] = port->name;
        if ((ep->ports.values[i] = gw_arena_strdup(c->arena, text)) == NULL)
            rc = gw__cfg_fail(c, value, "out of memory");
        ep->ports.count = i + 1;
    }
    for (size_t i = 0; rc == 0 && i < se->port_count; ++i) {
        size_t j = 0;
        while (j < ep->ports.count && strcmp(ep->ports.keys[j], se->ports[i].name) != 0)
            ++j;
        if (j == ep->ports.count)
            rc = gw__cfg_fail(c, ports, "no port for \"%s\" (every port of spec.ports needs one)",
                              se->ports[i].name);
    }
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_endpoint(gw__cfg_t *c, const gw_yaml_node_t *node, const gw_service_entry_t *se,
                           int resolution, gw_endpoint_t *ep)
{
    static const char *const fields[] = {"address", "ports", "labels", "serviceAccount", NULL};
    static const char *const unsupported[] = {"network", "locality", "weight", NULL};
    ep->mark = gw__cfg_mark(c, node);
    if (gw__cfg_fields(c, node, fields, unsupported) != 0 ||
        gw__cfg_string(c, node, "address", GW__CFG_REQUIRED, &ep->address) < 0)
        return -1;
    unsigned char addr[16];
    int wildcard, is_ip = gw__cfg_parse_ip(ep->address, addr, &wildcard) == 0;
    const char *problem = NULL;
    if (strncmp(ep->address, "unix://", 7) == 0)
        problem = "unix domain sockets are not supported yet";
    else if (is_ip && wildcard)
        problem = "must be a concrete address, not a wildcard";
    else if (!is_ip && resolution == RESOLUTION_STATIC)
        problem = "must be an IP address (resolution STATIC)";
    else if (!is_ip && !host_name(ep->address, 0))
        problem = "must be an IP address or a host name";
    if (problem != NULL) {
        gw__cfg_push(c, "address");
        return gw__cfg_fail(c, gw__cfg_get(node, "address"), "%s", problem);
    }
    if (decode_endpoint_ports(c, node, se, ep) != 0 ||
        gw__cfg_labels(c, node, "labels", 0, &ep->labels) < 0 ||
        gw__cfg_string(c, node, "serviceAccount", 0, &ep->service_account) < 0)
        return -1;
    return 0;
}

static int decode_endpoints(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_service_entry_t *se, int resolution)
{
    const gw_yaml_node_t *endpoints = gw__cfg_get(spec, "endpoints");
    if (endpoints == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "endpoints");
    int rc = gw__cfg_expect_list(c, endpoints);
    if (rc == 0 && endpoints->count > 0 &&
        (se->endpoints = gw_arena_calloc(c->arena, endpoints->count, sizeof(*se->endpoints))) == NULL)
        rc = gw__cfg_fail(c, endpoints, "out of memory");
    for (size_t i = 0; rc == 0 && i < endpoints->count; ++i) {
        size_t item = gw__cfg_push_index(c, i);
        rc = decode_endpoint(c, endpoints->items[i], se, resolution, &se->endpoints[i]);
        gw__cfg_pop(c, item);
        se->endpoint_count = i + 1;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

int gw__decode_service_entry(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"hosts", "ports", "location", "resolution", "endpoints", NULL};
    static const char *const unsupported[] = {"addresses", "workloadSelector", "exportTo", "subjectAltNames",
                                              NULL};
    gw_service_entry_t *se = out;
    int location = 0, resolution = 0;
    if (gw__cfg_fields(c, spec, fields, unsupported) != 0 || decode_hosts(c, spec, se) != 0 ||
        decode_ports(c, spec, se) != 0 ||
        gw__cfg_choice(c, spec, "location", 0, locations, 0, &location) < 0 ||
        gw__cfg_choice(c, spec, "resolution", 0, resolutions, 0, &resolution) < 0)
        return -1;
    se->location = (char *)location_names[location];
    se->resolution = (char *)resolution_names[resolution];
    return decode_endpoints(c, spec, se, resolution);
}

int gw__finish_service_entries(gw__cfg_t *c)
{
    return gw__host_index_finish(c, &c->impl->services, "ServiceEntry");
}
