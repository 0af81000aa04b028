#include "mirror.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

typedef struct {
    h2o_linklist_t link; /* in the worker's mirror list */
    gw_worker_upstream_t *upstream;
    gw_mirror_target_t target;
    h2o_http1client_t *client;
    h2o_iovec_t request; /* the whole HTTP/1.1 request, malloc'd */
    int is_head;
} mirror_t;

size_t gw_mirror_shadow_authority(const char *authority, size_t len, char *out, size_t size)
{
    static const char suffix[] = "-shadow";
    size_t host_len = len;
    const char *bracket = memchr(authority, ']', len); /* [v6]:port */
    const char *from = bracket != NULL ? bracket : authority;
    const char *colon = memchr(from, ':', len - (size_t)(from - authority));
    if (colon != NULL)
        host_len = (size_t)(colon - authority);
    if (len + sizeof(suffix) > size)
        return 0;
    memcpy(out, authority, host_len);
    memcpy(out + host_len, suffix, sizeof(suffix) - 1);
    memcpy(out + host_len + sizeof(suffix) - 1, authority + host_len, len - host_len);
    out[len + sizeof(suffix) - 1] = '\0';
    return len + sizeof(suffix) - 1;
}

static void finish(mirror_t *m)
{
    h2o_linklist_unlink(&m->link);
    gw_worker_upstream_mirror_end(m->upstream, &m->target);
    free(m->request.base);
    free(m);
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    mirror_t *m = client->data;
    if (client->sock != NULL) /* the response is not wanted */
        h2o_buffer_consume(&client->sock->input, client->sock->input->size);
    if (errstr != NULL) {
        if (errstr != h2o_http1client_error_is_eos)
            tg_log_debug("mirror", "shadow response: %s", errstr);
        finish(m);
    }
    return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version,
                                       int status, h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers,
                                       int rlen)
{
    (void)minor_version, (void)msg, (void)headers, (void)num_headers, (void)rlen;
    mirror_t *m = client->data;
    if (errstr != NULL) {
        if (errstr != h2o_http1client_error_is_eos)
            tg_log_debug("mirror", "shadow request failed: %s", errstr);
        else
            tg_log_debug("mirror", "shadow answered %d", status);
        finish(m);
        return NULL;
    }
    tg_log_debug("mirror", "shadow answered %d", status);
    return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr,
                                          h2o_iovec_t **reqbufs, size_t *reqbufcnt, int *method_is_head)
{
    mirror_t *m = client->data;
    if (errstr != NULL) {
        tg_log_debug("mirror", "cannot reach the shadow: %s", errstr);
        finish(m);
        return NULL;
    }
    *reqbufs = &m->request;
    *reqbufcnt = 1;
    *method_is_head = m->is_head;
    return on_head;
}

/* Whether a request header is left out of the copy: hop-by-hop ones and those the copy writes itself. */
static int header_dropped(const h2o_header_t *h)
{
    if (h2o_iovec_is_token(h->name)) {
        const h2o_token_t *token = (const h2o_token_t *)h->name;
        return token->proxy_should_drop_for_req || token == H2O_TOKEN_HOST ||
               token == H2O_TOKEN_CONTENT_LENGTH || token == H2O_TOKEN_EXPECT || token == H2O_TOKEN_COOKIE;
    }
    return 0;
}

/* At least the size of the copy: request line, host and content-length lines, headers, body. */
static size_t request_size(h2o_req_t *req, h2o_iovec_t path, size_t authority_len)
{
    size_t size = req->method.len + path.len + authority_len + req->entity.len + 256;
    for (size_t i = 0; i < req->headers.size; ++i)
        size += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return size;
}

/* The copy as one HTTP/1.1 request; NULL base when out of memory. Cookie headers (several in HTTP/2) are
 * joined into one, as HTTP/1.1 wants. */
static h2o_iovec_t build_request(h2o_req_t *req, h2o_iovec_t path, const char *authority,
                                 size_t authority_len)
{
    char *buf = malloc(request_size(req, path, authority_len)), *p = buf;
    if (buf == NULL)
        return h2o_iovec_init(NULL, 0);
#define APPEND(s, l) (memcpy(p, (s), (l)), p += (l))
#define APPEND_LIT(lit) APPEND(lit, sizeof(lit) - 1)
    APPEND(req->method.base, req->method.len);
    *p++ = ' ';
    APPEND(path.base, path.len);
    APPEND_LIT(" HTTP/1.1\r\nconnection: keep-alive\r\nhost: ");
    APPEND(authority, authority_len);
    APPEND_LIT("\r\n");
    int has_body = req->entity.base != NULL ||
                   h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) ||
                   h2o_memis(req->method.base, req->method.len, H2O_STRLIT("PUT"));
    if (has_body)
        p += sprintf(p, "content-length: %zu\r\n", req->entity.len);
    int cookies = 0;
    for (size_t i = 0; i < req->headers.size; ++i) {
        const h2o_header_t *h = &req->headers.entries[i];
        cookies += h->name == &H2O_TOKEN_COOKIE->buf;
        if (header_dropped(h))
            continue;
        APPEND(h->orig_name != NULL ? h->orig_name : h->name->base, h->name->len);
        APPEND_LIT(": ");
        APPEND(h->value.base, h->value.len);
        APPEND_LIT("\r\n");
    }
    for (size_t i = 0, n = 0; cookies > 0 && i < req->headers.size; ++i) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name != &H2O_TOKEN_COOKIE->buf)
            continue;
        if (n++ == 0)
            APPEND_LIT("cookie: ");
        else
            APPEND_LIT("; ");
        APPEND(h->value.base, h->value.len);
    }
    if (cookies > 0)
        APPEND_LIT("\r\n");
    APPEND_LIT("\r\n");
    if (has_body && req->entity.len > 0)
        APPEND(req->entity.base, req->entity.len);
#undef APPEND_LIT
#undef APPEND
    return h2o_iovec_init(buf, (size_t)(p - buf));
}

void gw_mirror_send(gw_worker_upstream_t *upstream, const gw_route_t *route, h2o_req_t *req, h2o_iovec_t path)
{
    if (route->mirror_cluster < 0 || req->upgrade.base != NULL)
        return;
    char authority[1024];
    size_t authority_len =
        gw_mirror_shadow_authority(req->authority.base, req->authority.len, authority, sizeof(authority));
    gw_mirror_target_t target;
    size_t bytes = request_size(req, path, authority_len);
    if (authority_len == 0 || !gw_worker_upstream_mirror_begin(upstream, route, bytes, &target))
        return;
    mirror_t *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->request = build_request(req, path, authority, authority_len)).base == NULL) {
        free(m);
        gw_worker_upstream_mirror_end(upstream, &target);
        return;
    }
    m->upstream = upstream;
    m->target = target;
    m->is_head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    h2o_linklist_insert(gw_worker_upstream_mirror_list(upstream), &m->link);
    h2o_http1client_connect_with_pool(&m->client, m, target.client_ctx, target.pool, on_connect);
}

void gw_mirror_cancel_all(h2o_linklist_t *list)
{
    while (!h2o_linklist_is_empty(list)) {
        mirror_t *m = H2O_STRUCT_FROM_MEMBER(mirror_t, link, list->next);
        h2o_http1client_cancel(m->client);
        finish(m);
    }
}
