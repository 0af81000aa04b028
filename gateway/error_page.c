#include "error_page.h"

#include <stdio.h>
#include <string.h>

#include "static_assets.h"
#include "template.h"

const char *gw_status_reason(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

static int header_contains(h2o_req_t *req, const h2o_token_t *token, const char *needle)
{
    ssize_t index = h2o_find_header(&req->headers, token, -1);
    if (index < 0)
        return 0;
    const h2o_iovec_t *value = &req->headers.entries[index].value;
    return h2o_strstr(value->base, value->len, needle, strlen(needle)) != SIZE_MAX;
}

int gw_client_wants_json(h2o_req_t *req)
{
    if (header_contains(req, H2O_TOKEN_ACCEPT, "application/json"))
        return 1;
    return h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-requested-with"), -1) >= 0;
}

static h2o_iovec_t json_body(h2o_req_t *req, int status, const char *message, const char *request_id)
{
    size_t size = 64 + 6 * (strlen(message) + strlen(request_id));
    char *buf = h2o_mem_alloc_pool(&req->pool, size);
    char *p = buf;
    p += sprintf(p, "{\"error\":\"");
    p += gw_json_escape(p, message);
    p += sprintf(p, "\",\"status\":%d,\"request_id\":\"", status);
    p += gw_json_escape(p, request_id);
    p += sprintf(p, "\"}\n");
    return h2o_iovec_init(buf, (size_t)(p - buf));
}

static h2o_iovec_t html_body(h2o_req_t *req, int status, const char *message, const char *request_id)
{
    const gw_static_asset_t *page = gw_static_asset_find("error.html");
    char status_text[8];
    snprintf(status_text, sizeof(status_text), "%d", status);
    gw_template_var_t vars[] = {{"status", status_text},
                                {"title", gw_status_reason(status)},
                                {"message", message},
                                {"request_id", request_id}};
    return gw_template_render(&req->pool, page->data, page->size, vars, sizeof(vars) / sizeof(vars[0]));
}

h2o_iovec_t gw_error_prepare(h2o_req_t *req, int status, const char *message, const char *request_id)
{
    return gw_error_prepare_as(req, status, message, request_id, gw_client_wants_json(req));
}

h2o_iovec_t gw_error_prepare_as(h2o_req_t *req, int status, const char *message, const char *request_id,
                                int json)
{
    if (request_id == NULL)
        request_id = "";
    h2o_iovec_t body =
        json ? json_body(req, status, message, request_id) : html_body(req, status, message, request_id);
    req->res.status = status;
    req->res.reason = gw_status_reason(status);
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   json ? "application/json" : "text/html; charset=utf-8",
                   json ? sizeof("application/json") - 1 : sizeof("text/html; charset=utf-8") - 1);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    if (request_id[0] != '\0')
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, request_id,
                              strlen(request_id));
    return body;
}

void gw_send_error(h2o_req_t *req, int status, const char *message, const char *request_id)
{
    h2o_iovec_t body = gw_error_prepare(req, status, message, request_id);
    h2o_send_inline(req, body.base, body.len);
}
