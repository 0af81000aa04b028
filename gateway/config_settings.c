/* kind TenantGate (tenantgate.io/v1alpha1): the gateway's own settings. */
#include <string.h>

#include "config_auth.h"
#include "config_kinds.h"
#include "config_rctoken.h"

/* libh2o 2.2.5 refuses a request head over 100 header lines or about 400 KiB itself (HTTP/1.1: 400;
 * h2: stream refused) before tenantgate sees it: the configurable limits stay below that. */
#define MAX_HEADER_COUNT 100
#define MAX_HEADER_BYTES (256u << 10)

void gw__settings_defaults(gw_settings_t *s)
{
    memset(s, 0, sizeof(*s));
    s->meta.namespace_ = "default";
    s->admin.address = "127.0.0.1";
    s->admin.port = 9901;
    s->threads = 0;
    s->log_level = "info";
    s->limits.max_header_bytes = 16384;
    s->limits.max_header_count = 100;
    s->limits.max_body_bytes = 8u << 20;
    s->limits.request_timeout_ms = 30000;
    s->limits.idle_timeout_ms = 60000;
    gw__auth_defaults(&s->auth);
    s->authorization.gateway_principal = "istio-ingress-service-account";
    gw__rctoken_defaults(&s->rctoken);
}

static int decode_admin(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *s)
{
    static const char *const fields[] = {"address", "port", NULL};
    const gw_yaml_node_t *admin = gw__cfg_get(spec, "admin");
    if (admin == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "admin");
    uint64_t port = s->admin.port;
    int rc = gw__cfg_fields(c, admin, fields, NULL) != 0 ||
                     gw__cfg_string(c, admin, "address", 0, &s->admin.address) < 0 ||
                     gw__cfg_uint(c, admin, "port", 0, 0, 65535, &port) < 0
                 ? -1
                 : 0;
    unsigned char addr[16];
    int wildcard;
    if (rc == 0 && gw__cfg_parse_ip(s->admin.address, addr, &wildcard) != 0) {
        size_t field = gw__cfg_push(c, "address");
        rc = gw__cfg_fail(c, gw__cfg_get(admin, "address"), "must be an IP address");
        gw__cfg_pop(c, field);
    }
    s->admin.port = (uint16_t)port;
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_limits(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *s)
{
    static const char *const fields[] = {"maxHeaderBytes", "maxHeaderCount", "maxBodyBytes",
                                         "requestTimeout", "idleTimeout",    NULL};
    const gw_yaml_node_t *limits = gw__cfg_get(spec, "limits");
    if (limits == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "limits");
    uint64_t header_bytes = s->limits.max_header_bytes, header_count = s->limits.max_header_count,
             body_bytes = s->limits.max_body_bytes;
    int rc = gw__cfg_fields(c, limits, fields, NULL) != 0 ||
                     gw__cfg_uint(c, limits, "maxHeaderBytes", 0, 1, MAX_HEADER_BYTES, &header_bytes) < 0 ||
                     gw__cfg_uint(c, limits, "maxHeaderCount", 0, 1, MAX_HEADER_COUNT, &header_count) < 0 ||
                     gw__cfg_uint(c, limits, "maxBodyBytes", 0, 0, (uint64_t)1 << 40, &body_bytes) < 0 ||
                     gw__cfg_duration(c, limits, "requestTimeout", 0, &s->limits.request_timeout_ms) < 0 ||
                     gw__cfg_duration(c, limits, "idleTimeout", 0, &s->limits.idle_timeout_ms) < 0
                 ? -1
                 : 0;
    s->limits.max_header_bytes = (size_t)header_bytes;
    s->limits.max_header_count = (unsigned)header_count;
    s->limits.max_body_bytes = (size_t)body_bytes;
    gw__cfg_pop(c, saved);
    return rc;
}

static int decode_strip_headers(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *s)
{
    int rc = gw__cfg_strings(c, spec, "stripHeaders", 0, &s->strip_headers);
    if (rc <= 0)
        return rc;
    const gw_yaml_node_t *list = gw__cfg_get(spec, "stripHeaders");
    for (size_t i = 0; i < s->strip_headers.count; ++i) {
        if (gw__cfg_is_header_name(s->strip_headers.items[i]))
            continue;
        size_t saved = gw__cfg_push(c, "stripHeaders");
        gw__cfg_push_index(c, i);
        char shown[80];
        gw__cfg_fail(c, list->items[i], "\"%s\" is not a lower-case header name",
                     gw__cfg_show(shown, sizeof(shown), s->strip_headers.items[i]));
        gw__cfg_pop(c, saved);
        return -1;
    }
    return 0;
}

int gw__decode_settings(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out)
{
    static const char *const fields[] = {"admin",        "threads",   "logLevel", "limits",
                                         "stripHeaders", "oidc",      "sessions", "authorization",
                                         "rctoken",      "accessLog", NULL};
    static const gw__cfg_choice_t levels[] = {
        {"debug", 0, NULL}, {"info", 1, NULL}, {"warn", 2, NULL}, {"error", 3, NULL}, {NULL, 0, NULL}};
    gw_settings_t *s = out;
    if (spec == NULL)
        return 0;
    if (gw__cfg_fields(c, spec, fields, NULL) != 0 || decode_admin(c, spec, s) != 0)
        return -1;
    uint64_t threads = 0;
    if (gw__cfg_uint(c, spec, "threads", 0, 0, 1024, &threads) < 0)
        return -1;
    s->threads = (unsigned)threads;
    int level;
    int found = gw__cfg_choice(c, spec, "logLevel", 0, levels, 0, &level);
    if (found < 0)
        return -1;
    if (found > 0)
        s->log_level = (char *)levels[level].name;
    return decode_limits(c, spec, s) != 0 || decode_strip_headers(c, spec, s) < 0 ||
                   gw__decode_auth(c, spec, &s->auth) != 0 || gw__decode_authz_settings(c, spec, s) != 0 ||
                   gw__decode_rctoken(c, spec, s) != 0 || gw__decode_access_log(c, spec, s) != 0
               ? -1
               : 0;
}
