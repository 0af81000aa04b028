/* Bearer tokens from API clients: RequestAuthentication rules -> verified identity
 * (docs/internals/bearer.md). */
#include "bearer_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authservice/bearer_cache.h"
#include "authservice/bearer_token.h"
#include "authservice/cli_token.h"
#include "authservice/rctoken.h"
#include "error_page.h"
#include "oidc/provider.h"
#include "util/hex.h"
#include "util/log.h"

/* Algorithms a bearer token may use: no HMAC, no none (they are not representable anyway), no RS384+. */
#define BEARER_ALGS (OIDC_JWS_RS256 | OIDC_JWS_PS256 | OIDC_JWS_ES256)
/* Longest a verified token is trusted without looking at it again, in ms. */
#define VALID_BOUND_MS (5 * 60 * 1000)
/* How long a refused token is answered from the cache, in ms. */
#define REFUSED_TTL_MS (5 * 1000)
/* Cache slots per worker. */
#define CACHE_SLOTS 4096
/* Groups taken from a token at most. */
#define MAX_GROUPS 256
/* Longest kubeflow-groups value. */
#define GROUPS_HEADER_SIZE 8192

typedef struct {
    const gw_jwt_rule_t *config;
    const char *namespace_;
    oidc_provider_t *provider;    /* NULL for the gateway's own issuer */
    as_cli_verifier_t *cli;       /* the gateway's own issuer: its CLI tokens, verified with its keys */
    const char **extra_audiences; /* audiences after the first, NULL-terminated */
} bearer_rule_t;

struct gw_bearer {
    bearer_rule_t *rules; /* the gateway's own issuer, then root namespace, then document order */
    size_t rule_count;
    gw_jwt_rule_t self;      /* the rule of the gateway's own issuer (rctoken.issuer, aud the same) */
    char *self_audiences[1]; /* its one audience */
};

struct gw_bearer_worker {
    gw_bearer_t *bearer;
    oidc_http_t *http;
    as_bearer_cache_t *cache;
    gw_bearer_stats_t stats;
};

/* ---- generation and worker state ---- */

static int add_rule(gw_bearer_t *b, const gw_request_auth_t *ra, const gw_jwt_rule_t *rule, char *err,
                    size_t err_size)
{
    bearer_rule_t *r = &b->rules[b->rule_count];
    oidc_provider_options_t opt = {
        .issuer = rule->issuer,
        .allow_insecure = rule->allow_insecure,
        .jwks_uri = rule->jwks_uri,
        .algs = BEARER_ALGS,
    };
    char why[256] = "";
    if ((r->provider = oidc_provider_new(&opt, why, sizeof(why))) == NULL) {
        snprintf(err, err_size, "RequestAuthentication %s/%s issuer %s: %s", ra->meta.namespace_,
                 ra->meta.name, rule->issuer, why);
        return -1;
    }
    r->config = rule;
    r->namespace_ = ra->meta.namespace_;
    ++b->rule_count;
    if ((r->extra_audiences = calloc(rule->audiences.count, sizeof(char *))) == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 1; i < rule->audiences.count; ++i)
        r->extra_audiences[i - 1] = rule->audiences.items[i];
    return 0;
}

/* The rule of the gateway's own issuer: its CLI tokens, trusted for every namespace (its own login). */
static int add_self_rule(gw_bearer_t *b, const gw_rctoken_t *rctoken, char *err, size_t err_size)
{
    bearer_rule_t *r = &b->rules[b->rule_count];
    char why[256] = "";
    if ((r->cli = as_cli_verifier_new(rctoken->keys, rctoken->settings->issuer, why, sizeof(why))) == NULL) {
        snprintf(err, err_size, "rctoken: CLI tokens: %s", why);
        return -1;
    }
    b->self_audiences[0] = rctoken->settings->issuer;
    b->self = (gw_jwt_rule_t){
        .issuer = rctoken->settings->issuer, .audiences = {b->self_audiences, 1}, .groups_claim = "groups"};
    r->config = &b->self;
    r->namespace_ = GW_ROOT_NAMESPACE;
    ++b->rule_count;
    return 0;
}

gw_bearer_t *gw_bearer_new(const gw_config_t *config, const gw_rctoken_t *rctoken, char *err, size_t err_size)
{
    err[0] = '\0';
    int self = rctoken != NULL && config->settings.auth.enabled;
    size_t count = (size_t)self;
    for (size_t i = 0; i < config->request_auth_count; ++i)
        count += config->request_auths[i].jwt_rule_count;
    if (count == 0)
        return NULL;
    gw_bearer_t *b = calloc(1, sizeof(*b));
    if (b == NULL || (b->rules = calloc(count, sizeof(*b->rules))) == NULL) {
        free(b);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (self && add_self_rule(b, rctoken, err, err_size) != 0) {
        gw_bearer_free(b);
        return NULL;
    }
    for (int root = 1; root >= 0; --root)
        for (size_t i = 0; i < config->request_auth_count; ++i) {
            const gw_request_auth_t *ra = &config->request_auths[i];
            if ((strcmp(ra->meta.namespace_, GW_ROOT_NAMESPACE) == 0) != root)
                continue;
            for (size_t j = 0; j < ra->jwt_rule_count; ++j)
                if (add_rule(b, ra, &ra->jwt_rules[j], err, err_size) != 0) {
                    gw_bearer_free(b);
                    return NULL;
                }
        }
    return b;
}

void gw_bearer_free(gw_bearer_t *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->rule_count; ++i) {
        oidc_provider_free(b->rules[i].provider);
        as_cli_verifier_free(b->rules[i].cli);
        free(b->rules[i].extra_audiences);
    }
    free(b->rules);
    free(b);
}

gw_bearer_worker_t *gw_bearer_worker_new(gw_bearer_t *bearer, uv_loop_t *loop)
{
    gw_bearer_worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->bearer = bearer;
    if ((w->http = oidc_http_new(loop, NULL)) == NULL ||
        (w->cache = as_bearer_cache_new(CACHE_SLOTS)) == NULL) {
        gw_bearer_worker_free(w);
        return NULL;
    }
    return w;
}

void gw_bearer_worker_free(gw_bearer_worker_t *w)
{
    if (w == NULL)
        return;
    oidc_http_free(w->http);
    as_bearer_cache_free(w->cache);
    free(w);
}

void gw_bearer_worker_stats(const gw_bearer_worker_t *w, gw_bearer_stats_t *stats)
{
    *stats = w->stats;
}

/* ---- answers ---- */

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, strlen(value));
}

/* 401 with RFC 6750's invalid_token and nothing about why: the log has the reason. */
static void send_invalid_token(h2o_req_t *req, const char *request_id)
{
    char *body = h2o_mem_alloc_pool(&req->pool, 160);
    int len = snprintf(body, 160, "{\"error\":\"invalid_token\",\"status\":401,\"request_id\":\"%s\"}\n",
                       request_id != NULL ? request_id : "");
    req->res.status = 401;
    req->res.reason = gw_status_reason(401);
    req->res.content_length = (size_t)len;
    add_header(req, H2O_TOKEN_WWW_AUTHENTICATE, "Bearer realm=\"tenantgate\", error=\"invalid_token\"");
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "application/json");
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, body, (size_t)len);
}

/* Logs why a token was refused (a reason code and the configured issuer, never the token) and answers 401. */
static int refuse(gw_bearer_worker_t *w, h2o_req_t *req, const char *reason, const char *issuer,
                  const char *request_id)
{
    ++w->stats.refused;
    tg_log_info("bearer", "token refused: %s issuer=%s request_id=%s", reason, issuer != NULL ? issuer : "-",
                request_id != NULL ? request_id : "");
    send_invalid_token(req, request_id);
    return 1;
}

/* ---- identity from verified claims ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int header_safe(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s != '\0'; ++s)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* A copy in req's pool (NULL stays NULL). */
static const char *pool_strdup(h2o_req_t *req, const char *s)
{
    return s != NULL ? h2o_strdup(&req->pool, s, SIZE_MAX).base : NULL;
}

static void on_claims_disposed(void *p)
{
    json_decref(*(json_t **)p);
}

/* Groups of the rule's groups claim: header-safe names without commas, at most MAX_GROUPS. */
static void set_groups(h2o_req_t *req, const bearer_rule_t *rule, json_t *claims, as_identity_t *identity)
{
    const char **groups = h2o_mem_alloc_pool(&req->pool, sizeof(*groups) * (MAX_GROUPS + 1));
    char *header = h2o_mem_alloc_pool(&req->pool, GROUPS_HEADER_SIZE);
    size_t count = 0, len = 0;
    const char *g;
    for (size_t i = 0;
         count < MAX_GROUPS && (g = as_bearer_claim(claims, rule->config->groups_claim, i)) != NULL; ++i) {
        size_t g_len = strlen(g);
        if (!header_safe(g) || strchr(g, ',') != NULL || len + g_len + 2 > GROUPS_HEADER_SIZE)
            continue;
        if (count > 0)
            header[len++] = ',';
        memcpy(header + len, g, g_len);
        len += g_len;
        groups[count++] = pool_strdup(req, g);
    }
    header[len] = '\0';
    groups[count] = NULL;
    identity->groups = groups;
    identity->group_count = count;
    identity->groups_header = header;
}

/* The identity of verified claims of rule (a reference to claims is kept for the request). 0, or -1 when the
 * token has no usable user id. */
static int identity_from_claims(h2o_req_t *req, const bearer_rule_t *rule, json_t *claims,
                                const uint8_t key[AS_BEARER_KEY_SIZE], as_identity_t *identity)
{
    const char *sub = as_bearer_claim(claims, "sub", 0);
    const char *email = as_bearer_claim(claims, "email", 0);
    const char *userid = rule->config->userid_claim != NULL
                             ? as_bearer_claim(claims, rule->config->userid_claim, 0)
                         : email != NULL && *email != '\0' ? email
                                                           : sub;
    if (!header_safe(userid) || !header_safe(sub))
        return -1;
    json_t **held = h2o_mem_alloc_shared(&req->pool, sizeof(*held), on_claims_disposed);
    *held = json_incref(claims);
    char *session_key = h2o_mem_alloc_pool(&req->pool, AS_BEARER_KEY_SIZE * 2 + 1);
    tg_hex_encode(session_key, key, AS_BEARER_KEY_SIZE);
    *identity = (as_identity_t){
        .source = AS_IDENTITY_BEARER,
        .subject = pool_strdup(req, sub),
        .issuer = rule->config->issuer,
        .email = email != NULL && *email != '\0' ? pool_strdup(req, email) : NULL,
        .name = pool_strdup(req, as_bearer_claim(claims, "name", 0)),
        .userid = pool_strdup(req, userid),
        .session_key = session_key,
        .claims = claims,
        .claim = as_bearer_claim,
    };
    set_groups(req, rule, claims, identity);
    return 0;
}

/* A valid token's request goes on: identity set, the token kept from the upstream unless forwarded. */
static int accept_token(gw_bearer_worker_t *w, h2o_req_t *req, const bearer_rule_t *rule, json_t *claims,
                        const uint8_t key[AS_BEARER_KEY_SIZE], const char *request_id,
                        as_identity_t *identity)
{
    if (identity_from_claims(req, rule, claims, key, identity) != 0)
        return refuse(w, req, "no_userid", rule->config->issuer, request_id);
    if (!rule->config->forward_original_token) {
        ssize_t index;
        while ((index = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1)) >= 0)
            h2o_delete_header(&req->headers, index);
    }
    return 0;
}

/* ---- verification ---- */

/* Tags a verification result handed to a resumed request (request_resume.h). */
static const char verify_tag = 'B';

typedef struct {
    h2o_req_t *req; /* NULL once the request is gone */
    gw_request_link_t *link;
    const gw_bearer_t *bearer; /* the generation's rules the result is about */
    size_t rule;
    uint8_t key[AS_BEARER_KEY_SIZE];
    int in_call, done_in_call;
    oidc_provider_status_t status;
    oidc_verify_status_t verify;
    json_t *header, *claims;
    gw_resume_cb resume;
    h2o_handler_t *handler;
} bearer_op_t;

static void op_free(bearer_op_t *op)
{
    if (op->req != NULL)
        gw_request_unlink(op->link);
    json_decref(op->header);
    json_decref(op->claims);
    free(op);
}

static void on_verified(oidc_provider_verify_result_t *result, void *data)
{
    bearer_op_t *op = data;
    op->status = result->status;
    op->verify = result->verify;
    op->header = result->header;
    op->claims = result->claims;
    if (op->in_call) {
        op->done_in_call = 1;
        return;
    }
    h2o_req_t *req = op->req;
    if (req == NULL) {
        op_free(op);
        return;
    }
    gw_request_unlink(op->link); /* the second pass owns op now */
    op->req = NULL;
    bearer_op_t *left = gw_request_resume(req, op->resume, op->handler, &verify_tag, op);
    if (left != NULL)
        op_free(left);
}

/* typ of a token usable as a bearer credential: none, JWT (ID tokens) or at+jwt (RFC 9068). */
static int typ_allowed(const json_t *header)
{
    const json_t *typ = json_object_get(header, "typ");
    if (typ == NULL)
        return 1;
    const char *s = json_string_value(typ);
    return s != NULL && (strcasecmp(s, "JWT") == 0 || strcasecmp(s, "at+jwt") == 0 ||
                         strcasecmp(s, "application/at+jwt") == 0);
}

/* Uses a verification result: caches it (never an unavailable issuer) and answers or lets the request on. */
static int finish(gw_bearer_worker_t *w, h2o_req_t *req, bearer_op_t *op, const char *request_id,
                  as_identity_t *identity)
{
    const bearer_rule_t *rule = &w->bearer->rules[op->rule];
    const char *issuer = rule->config->issuer;
    int64_t now = now_ms();
    if (op->status == OIDC_PROVIDER_OK && !typ_allowed(op->header)) {
        as_bearer_cache_put_refused(w->cache, op->key, op->rule, OIDC_VERIFY_INVALID_CLAIM,
                                    now + REFUSED_TTL_MS);
        return refuse(w, req, "typ_not_allowed", issuer, request_id);
    }
    if (op->status == OIDC_PROVIDER_OK && json_object_get(op->claims, "events") != NULL) {
        as_bearer_cache_put_refused(w->cache, op->key, op->rule, OIDC_VERIFY_INVALID_CLAIM,
                                    now + REFUSED_TTL_MS);
        return refuse(w, req, "logout_token", issuer, request_id);
    }
    if (op->status == OIDC_PROVIDER_OK) {
        ++w->stats.verified;
        int64_t expires = now + VALID_BOUND_MS;
        json_int_t exp = json_integer_value(json_object_get(op->claims, "exp"));
        if (exp > 0 && exp * 1000 < expires)
            expires = exp * 1000;
        as_bearer_cache_put_valid(w->cache, op->key, op->claims, op->rule, expires);
        return accept_token(w, req, rule, op->claims, op->key, request_id, identity);
    }
    if (op->status == OIDC_PROVIDER_TOKEN_INVALID) {
        as_bearer_cache_put_refused(w->cache, op->key, op->rule, op->verify, now + REFUSED_TTL_MS);
        return refuse(w, req, oidc_verify_status_code(op->verify), issuer, request_id);
    }
    ++w->stats.unavailable;
    tg_log_warn("bearer", "issuer keys unavailable: %s issuer=%s request_id=%s",
                oidc_provider_status_code(op->status), issuer, request_id != NULL ? request_id : "");
    gw_send_error(req, 503, "The token issuer cannot be reached right now. Try again shortly.", request_id);
    return 1;
}

static int trusted(const bearer_rule_t *rule, const char *namespace_)
{
    return strcmp(rule->namespace_, GW_ROOT_NAMESPACE) == 0 ||
           (namespace_ != NULL && strcmp(rule->namespace_, namespace_) == 0);
}

/* The first rule trusted for namespace_ whose issuer is iss, or -1. */
static long choose_rule(const gw_bearer_t *b, const char *iss, const char *namespace_)
{
    for (size_t i = 0; i < b->rule_count; ++i)
        if (trusted(&b->rules[i], namespace_) && strcmp(b->rules[i].config->issuer, iss) == 0)
            return (long)i;
    return -1;
}

/* Verifies one of the gateway's own CLI tokens at once (its keys are in memory); caches the result. */
static int verify_cli(gw_bearer_worker_t *w, h2o_req_t *req, const char *token, size_t token_len,
                      size_t rule_index, const uint8_t key[AS_BEARER_KEY_SIZE], const char *request_id,
                      as_identity_t *identity)
{
    const bearer_rule_t *rule = &w->bearer->rules[rule_index];
    int64_t now = now_ms();
    json_t *claims = NULL;
    const char *failed = NULL;
    oidc_verify_status_t status =
        as_cli_token_verify(rule->cli, token, token_len, now / 1000, &claims, &failed);
    if (status != OIDC_VERIFY_OK) {
        as_bearer_cache_put_refused(w->cache, key, rule_index, status, now + REFUSED_TTL_MS);
        return refuse(w, req,
                      failed != NULL &&
                              (strcmp(failed, "typ") == 0 || strcmp(failed, AS_RCTOKEN_USE_CLAIM) == 0)
                          ? "not_cli_token"
                          : oidc_verify_status_code(status),
                      rule->config->issuer, request_id);
    }
    ++w->stats.verified;
    int64_t expires = now + VALID_BOUND_MS;
    json_int_t exp = json_integer_value(json_object_get(claims, "exp"));
    if (exp * 1000 < expires)
        expires = exp * 1000;
    as_bearer_cache_put_valid(w->cache, key, claims, rule_index, expires);
    int rc = accept_token(w, req, rule, claims, key, request_id, identity);
    json_decref(claims);
    return rc;
}

/* Starts verifying token with rule; 1 when suspended or answered, 0 with identity. */
static int verify(gw_bearer_worker_t *w, h2o_req_t *req, const char *token, size_t rule_index,
                  const uint8_t key[AS_BEARER_KEY_SIZE], const char *request_id, gw_resume_cb resume,
                  h2o_handler_t *handler, as_identity_t *identity)
{
    const bearer_rule_t *rule = &w->bearer->rules[rule_index];
    bearer_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        gw_send_error(req, 500, "Out of memory.", request_id);
        return 1;
    }
    *op = (bearer_op_t){
        .bearer = w->bearer, .rule = rule_index, .resume = resume, .handler = handler, .in_call = 1};
    memcpy(op->key, key, AS_BEARER_KEY_SIZE);
    op->link = gw_request_link(req, &op->req);
    oidc_claims_options_t opts;
    oidc_claims_options_init(&opts, rule->config->issuer, rule->config->audiences.items[0], now_ms() / 1000);
    opts.extra_audiences = rule->extra_audiences;
    opts.azp = OIDC_AZP_IGNORE;
    opts.client_id = NULL;
    oidc_provider_status_t started =
        oidc_provider_verify(rule->provider, w->http, token, &opts, on_verified, op);
    op->in_call = 0;
    if (started != OIDC_PROVIDER_OK) { /* cb never runs: too large, or a bad argument */
        op_free(op);
        return refuse(w, req, oidc_provider_status_code(started), rule->config->issuer, request_id);
    }
    if (!op->done_in_call)
        return 1; /* suspended until the key set arrives */
    int rc = finish(w, req, op, request_id, identity);
    op_free(op);
    return rc;
}

int gw_bearer_present(const gw_bearer_t *bearer, h2o_req_t *req)
{
    ssize_t index = bearer != NULL ? h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) : -1;
    if (index < 0)
        return 0;
    const char *token;
    size_t len;
    const h2o_iovec_t *v = &req->headers.entries[index].value;
    as_bearer_token_status_t status = as_bearer_token_from_header(v->base, v->len, &token, &len);
    if (status == AS_BEARER_TOKEN_NOT_BEARER)
        return 0;
    if (bearer->rule_count > 1 || bearer->rules[0].cli == NULL)
        return 1; /* RequestAuthentication rules: every bearer header is theirs */
    char iss[AS_BEARER_MAX_ISSUER];
    return status == AS_BEARER_TOKEN_OK &&
           as_bearer_token_peek_issuer(token, len, iss, sizeof(iss)) == AS_BEARER_TOKEN_OK &&
           strcmp(iss, bearer->self.issuer) == 0;
}

int gw_bearer_identify(gw_bearer_worker_t *w, h2o_req_t *req, const char *namespace_, const char *request_id,
                       gw_resume_cb resume, h2o_handler_t *handler, as_identity_t *identity)
{
    *identity = AS_IDENTITY_ANONYMOUS;
    bearer_op_t *resumed = gw_request_take_resumed(req, &verify_tag);
    if (resumed != NULL && resumed->bearer == w->bearer) {
        int rc = finish(w, req, resumed, request_id, identity);
        op_free(resumed);
        return rc;
    }
    if (resumed != NULL) /* a reload came while the keys were fetched: verify again with the new rules */
        op_free(resumed);
    ssize_t index = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (index < 0)
        return refuse(w, req, "no_token", NULL, request_id);
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, index) >= 0)
        return refuse(w, req, "several_authorization_headers", NULL, request_id);
    const h2o_iovec_t *v = &req->headers.entries[index].value;
    const char *token;
    size_t token_len;
    as_bearer_token_status_t status = as_bearer_token_from_header(v->base, v->len, &token, &token_len);
    if (status != AS_BEARER_TOKEN_OK)
        return refuse(w, req, as_bearer_token_status_name(status), NULL, request_id);

    /* the cache first: a token seen before needs no parsing at all */
    uint8_t key[AS_BEARER_KEY_SIZE];
    as_bearer_cache_key(token, token_len, key);
    json_t *claims = NULL;
    size_t rule = 0;
    int reason = 0;
    as_bearer_hit_t hit = as_bearer_cache_get(w->cache, key, now_ms(), &claims, &rule, &reason);
    if (hit != AS_BEARER_MISS && trusted(&w->bearer->rules[rule], namespace_)) {
        ++w->stats.cache_hits;
        if (hit == AS_BEARER_REFUSED)
            return refuse(w, req, oidc_verify_status_code((oidc_verify_status_t)reason),
                          w->bearer->rules[rule].config->issuer, request_id);
        int rc = accept_token(w, req, &w->bearer->rules[rule], claims, key, request_id, identity);
        json_decref(claims);
        return rc;
    }
    json_decref(claims);
    ++w->stats.cache_misses;
    char iss[AS_BEARER_MAX_ISSUER];
    if ((status = as_bearer_token_peek_issuer(token, token_len, iss, sizeof(iss))) != AS_BEARER_TOKEN_OK)
        return refuse(w, req, as_bearer_token_status_name(status), NULL, request_id);
    long chosen = choose_rule(w->bearer, iss, namespace_);
    if (chosen < 0)
        return refuse(w, req, "untrusted_issuer", NULL, request_id);
    if (w->bearer->rules[chosen].cli != NULL)
        return verify_cli(w, req, token, token_len, (size_t)chosen, key, request_id, identity);
    /* the token is copied: h2o may move headers while the request waits */
    char *copy = h2o_mem_alloc_pool(&req->pool, token_len + 1);
    memcpy(copy, token, token_len);
    copy[token_len] = '\0';
    return verify(w, req, copy, (size_t)chosen, key, request_id, resume, handler, identity);
}
