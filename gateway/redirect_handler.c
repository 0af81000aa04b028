#include "redirect_handler.h"

#include <stdio.h>
#include <string.h>

#include "error_page.h"

typedef struct {
    h2o_handler_t super;
    uint16_t https_port;
} redirect_handler_t;

/* Whether a Host value is a plain host name, IPv4 or bracketed IPv6 literal with an optional port. */
static int host_is_safe(h2o_iovec_t host)
{
    if (host.len == 0 || host.len > 255)
        return 0;
    for (size_t i = 0; i < host.len; ++i) {
        char c = host.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == ':' || c == '[' || c == ']'))
            return 0;
    }
    return 1;
}

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    redirect_handler_t *self = (redirect_handler_t *)_self;
    h2o_iovec_t host;
    uint16_t port;
    if (!host_is_safe(req->authority) ||
        h2o_url_parse_hostport(req->authority.base, req->authority.len, &host, &port) == NULL) {
        gw_send_error(req, 400, "Missing or invalid Host header.", NULL);
        return 0;
    }
    /* the path goes out as the client sent it: the HTTPS listener normalises and checks it */
    size_t size = sizeof("https://") + host.len + 2 + sizeof(":65535") + req->path.len;
    char *location = h2o_mem_alloc_pool(&req->pool, size);
    int bracket = memchr(host.base, ':', host.len) != NULL;
    int len = snprintf(location, size, "https://%s%.*s%s", bracket ? "[" : "", (int)host.len, host.base,
                       bracket ? "]" : "");
    if (self->https_port != 443)
        len += snprintf(location + len, size - (size_t)len, ":%u", self->https_port);
    memcpy(location + len, req->path.base, req->path.len);
    len += (int)req->path.len;
    h2o_send_redirect(req, 301, "Moved Permanently", location, (size_t)len);
    return 0;
}

void gw_redirect_handler_register(h2o_pathconf_t *pathconf, uint16_t https_port)
{
    redirect_handler_t *self = (redirect_handler_t *)h2o_create_handler(pathconf, sizeof(*self));
    self->super.on_req = on_req;
    self->https_port = https_port;
}
