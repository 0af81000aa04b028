#include "rctoken_cli.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_page.h"
#include "static_assets.h"
#include "template.h"

static void add_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, value, strlen(value));
}

int gw_rctoken_cli_handle(const gw_rctoken_t *rctoken, h2o_req_t *req, const char *path, size_t path_len,
                          const as_identity_t *identity, const char *request_id)
{
    if (!h2o_memis(path, path_len, H2O_STRLIT("/authservice/token")))
        return 0;
    if (rctoken == NULL || identity->source == AS_IDENTITY_NONE) {
        gw_send_error(req, 404, "No such page.", request_id);
        return 1;
    }
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        gw_send_error(req, 405, "This method is not allowed here.", request_id);
        return 1;
    }
    if (identity->source != AS_IDENTITY_SESSION) { /* a CLI token must not renew itself */
        gw_send_error(req, 403, "A token is issued to a signed-in browser only.", request_id);
        return 1;
    }
    /* audience: the gateway itself, never an upstream; no tenant namespace; never past the session's end */
    int64_t now = (int64_t)req->processed_at.at.tv_sec;
    uint64_t ttl_s = rctoken->settings->cli_token_ttl_ms / 1000;
    if (identity->expires_at > 0 && identity->expires_at - now < (int64_t)ttl_s)
        ttl_s = identity->expires_at > now ? (uint64_t)(identity->expires_at - now) : 0;
    char *token = ttl_s > 0 ? as_rctoken_mint_cli(&rctoken->params, identity, now, ttl_s, 0) : NULL;
    if (token == NULL) {
        gw_send_error(req, 503, "A token could not be issued right now.", request_id);
        return 1;
    }
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%" PRIu64, ttl_s);
    const gw_static_asset_t *page = gw_static_asset_find("token.html");
    gw_template_var_t vars[] = {{"user", identity->userid != NULL ? identity->userid : identity->subject},
                                {"ttl", ttl},
                                {"token", token},
                                {"issuer", rctoken->settings->issuer}};
    h2o_iovec_t body =
        gw_template_render(&req->pool, page->data, page->size, vars, sizeof(vars) / sizeof(vars[0]));
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = body.len;
    add_header(req, "content-type", "text/html; charset=utf-8");
    add_header(req, "cache-control", "no-store");
    add_header(req, "x-frame-options", "DENY");
    add_header(req, "content-security-policy",
               "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    add_header(req, "referrer-policy", "no-referrer");
    h2o_send_inline(req, body.base, body.len);
    return 1;
}
