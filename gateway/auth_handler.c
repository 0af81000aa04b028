/*
 * The /authservice/ endpoints: which flow a request goes to. The flows live
 * beside this file, one each: auth_login.c (login and callback),
 * auth_logout.c, auth_me.c and auth_identify.c (the identity step of proxied
 * requests); auth_lookup.c finds sessions, auth_op.c carries a request
 * across async calls, auth_http.c has the request and response helpers.
 */
#include <string.h>

#include "auth_int.h"
#include "error_page.h"

int gw_auth_handle(gw_auth_worker_t *w, h2o_req_t *req, const char *path, size_t path_len, size_t query_at,
                   const char *request_id)
{
    size_t plen = query_at != SIZE_MAX ? query_at : path_len;
    if (w == NULL || plen < sizeof(GW_AUTH_PREFIX) - 1 ||
        memcmp(path, GW_AUTH_PREFIX, sizeof(GW_AUTH_PREFIX) - 1) != 0)
        return 0;
    const char *name = path + sizeof(GW_AUTH_PREFIX) - 1;
    size_t name_len = plen - (sizeof(GW_AUTH_PREFIX) - 1);
    const char *query = query_at != SIZE_MAX ? path + query_at + 1 : "";
    size_t query_len = query_at != SIZE_MAX ? path_len - query_at - 1 : 0;
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    int post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
#define IS(lit) (name_len == sizeof(lit) - 1 && memcmp(name, lit, name_len) == 0)
    gw_auth_op_kind_t kind;
    if (IS("login") && get)
        kind = GW_AUTH_OP_LOGIN;
    else if (IS("callback") && get)
        kind = GW_AUTH_OP_CALLBACK;
    else if (IS("me") && get)
        kind = GW_AUTH_OP_ME;
    else if (IS("logout") && get)
        kind = GW_AUTH_OP_LOGOUT_PAGE;
    else if (IS("logout") && post)
        kind = GW_AUTH_OP_LOGOUT;
    else if (IS("backchannel-logout") && post)
        kind = GW_AUTH_OP_BACKCHANNEL;
    else if (IS("token"))
        return 0; /* needs the identity step first: the edge handler serves it (rctoken_cli.c) */
    else if (IS("login") || IS("callback") || IS("me") || IS("logout") || IS("backchannel-logout")) {
        gw_send_error(req, 405, "This method is not allowed here.", request_id);
        return 1;
    } else {
        gw_send_error(req, 404, "No such page.", request_id);
        return 1;
    }
#undef IS
    if (kind == GW_AUTH_OP_LOGOUT && gw__auth_logout_check(req, request_id) != 0)
        return 1;
    gw_auth_op_t *op = gw__auth_op_new(w, req, kind, request_id);
    if (op == NULL) {
        gw_send_error(req, 500, "Out of memory.", request_id);
        return 1;
    }
    switch (kind) {
    case GW_AUTH_OP_LOGIN:
        gw__auth_start_login(op, query, query_len);
        break;
    case GW_AUTH_OP_CALLBACK:
        gw__auth_start_callback(op, query, query_len);
        break;
    case GW_AUTH_OP_BACKCHANNEL:
        gw__auth_start_backchannel(op);
        break;
    default:
        gw__auth_start_lookup(op);
        break;
    }
    return 1;
}
