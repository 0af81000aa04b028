/* Authorization on the request path: decision, 403 answer, audit trail, rate limits. */
#include "authorize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_log.h"
#include "metrics.h"
#include "auth_handler.h"
#include "authservice/store.h"
#include "error_page.h"
#include "rate_limit.h"
#include "static_assets.h"
#include "template.h"

struct gw_authorizer {
    gw_policy_t *policy;
    gw_audit_log_t *audit;   /* NULL: no audit trail */
    gw_rate_limit_t *limits; /* NULL: no rate limits */
};

/* The audit trail: the file, and the table of the sqlite session database when asked for. */
static int open_audit(gw_authorizer_t *a, const gw_settings_t *s, char *err, size_t err_size)
{
    as_store_url_t url = {0};
    if (s->authorization.audit_table && as_store_url_parse(s->auth.store, &url, err, err_size) != 0)
        return -1;
    a->audit = gw_audit_log_open(s->authorization.audit_file, s->authorization.audit_sample_allows,
                                 s->authorization.audit_table ? url.path : NULL, err, err_size);
    as_store_url_free(&url);
    return a->audit != NULL ? 0 : -1;
}

gw_authorizer_t *gw_authorizer_new(const gw_config_t *config, char *err, size_t err_size)
{
    const gw_settings_t *s = &config->settings;
    gw_authorizer_t *a = calloc(1, sizeof(*a));
    if (a == NULL || (a->policy = gw_policy_new(config)) == NULL) {
        snprintf(err, err_size, "out of memory");
        gw_authorizer_free(a);
        return NULL;
    }
    if (s->authorization.audit_file != NULL && open_audit(a, s, err, err_size) != 0) {
        gw_authorizer_free(a);
        return NULL;
    }
    if ((s->authorization.user_rate > 0 || s->authorization.namespace_rate > 0) &&
        (a->limits = gw_rate_limit_new(s->authorization.user_rate, s->authorization.user_burst,
                                       s->authorization.namespace_rate, s->authorization.namespace_burst)) ==
            NULL) {
        snprintf(err, err_size, "out of memory");
        gw_authorizer_free(a);
        return NULL;
    }
    return a;
}

void gw_authorizer_free(gw_authorizer_t *a)
{
    if (a == NULL)
        return;
    gw_policy_free(a->policy);
    gw_audit_log_close(a->audit);
    gw_rate_limit_free(a->limits);
    free(a);
}

const gw_policy_t *gw_authorizer_policy(const gw_authorizer_t *a)
{
    return a->policy;
}

static const char *user_of(const as_identity_t *identity)
{
    return identity->userid != NULL ? identity->userid : "nobody (you are not signed in)";
}

static void send_forbidden(h2o_req_t *req, const gw_authorize_request_t *r)
{
    if (gw_request_is_api(req, r->path, r->path_len, r->api_prefixes)) {
        h2o_iovec_t body = gw_error_prepare_as(req, 403, "You are not allowed to do this.", r->request_id, 1);
        h2o_send_inline(req, body.base, body.len);
        return;
    }
    char *method = h2o_mem_alloc_pool(&req->pool, req->method.len + 1);
    char *path = h2o_mem_alloc_pool(&req->pool, r->path_len + 1);
    memcpy(method, req->method.base, req->method.len);
    method[req->method.len] = '\0';
    memcpy(path, r->path, r->path_len);
    path[r->path_len] = '\0';
    const gw_static_asset_t *page = gw_static_asset_find("forbidden.html");
    gw_template_var_t vars[] = {
        {"user", user_of(r->identity)}, {"method", method}, {"path", path}, {"request_id", r->request_id}};
    h2o_iovec_t body =
        gw_template_render(&req->pool, page->data, page->size, vars, sizeof(vars) / sizeof(vars[0]));
    req->res.status = 403;
    req->res.reason = "Forbidden";
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, r->request_id,
                          strlen(r->request_id));
    h2o_send_inline(req, body.base, body.len);
}

static void audit(gw_authorizer_t *a, h2o_req_t *req, const gw_authorize_request_t *r,
                  const gw_policy_decision_t *d, const char *decision)
{
    char policy[400];
    if (d->decider != NULL)
        snprintf(policy, sizeof(policy), "%s %s/%s", d->kind, d->decider->namespace_, d->decider->name);
    gw_audit_record_t record = {
        .request_id = r->request_id,
        .user = r->identity->userid,
        .namespace_ = r->service->meta.namespace_,
        .method = req->method.base,
        .method_len = req->method.len,
        .path = r->path,
        .path_len = r->path_len,
        .decision = decision,
        .policy = d->decider != NULL ? policy : NULL,
        .rule = d->decider != NULL ? (long)d->rule : -1,
        .reason = d->reason,
        .audit = d->audit,
    };
    gw_audit_log_write(a->audit, &record);
}

int gw_authorize(gw_authorizer_t *a, h2o_req_t *req, const gw_authorize_request_t *r)
{
    gw_policy_request_t request = {
        .service = r->service,
        .host = req->authority.base,
        .host_len = req->authority.len,
        .method = req->method.base,
        .method_len = req->method.len,
        .path = r->upstream_path,
        .path_len = r->upstream_path_len,
        .header = r->header,
        .ctx = req,
        .identity = r->identity,
    };
    gw_policy_decision_t d;
    gw_policy_decide(a->policy, &request, &d);
    if (!d.allowed) {
        gw_metrics_authz(r->namespace_label, GW_METRICS_AUTHZ_DENY);
        if (a->audit != NULL)
            audit(a, req, r, &d, "deny");
        send_forbidden(req, r);
        return 1;
    }
    double retry_after = 0;
    if (a->limits != NULL && r->service != NULL &&
        !gw_rate_limit_take(a->limits, r->identity->userid, r->service->meta.namespace_, &retry_after)) {
        gw_metrics_authz(r->namespace_label, GW_METRICS_AUTHZ_RATELIMIT);
        if (a->audit != NULL) {
            d.reason = "rate limited";
            audit(a, req, r, &d, "ratelimit");
        }
        char *seconds = h2o_mem_alloc_pool(&req->pool, 24);
        int n = snprintf(seconds, 24, "%u",
                         (unsigned)(retry_after + 0.999) > 0 ? (unsigned)(retry_after + 0.999) : 1);
        h2o_iovec_t body =
            gw_error_prepare(req, 429, "Too many requests: slow down and try again.", r->request_id);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, seconds, (size_t)n);
        h2o_send_inline(req, body.base, body.len);
        return 1;
    }
    gw_metrics_authz(r->namespace_label, GW_METRICS_AUTHZ_ALLOW);
    if (a->audit != NULL && (d.audit || gw_audit_log_sample(a->audit)))
        audit(a, req, r, &d, "allow");
    return 0;
}
