#include "oidc/provider.h"

#include "http_client_int.h"
#include "oidc/jws.h"
#include "oidc/url.h"
#include "util/log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMPONENT "oidc"
/* Most extra parameters of an authorization request. */
#define MAX_EXTRA_PARAMS 16

typedef enum { DOC_DISCOVERY = 0, DOC_JWKS = 1 } doc_kind_t;

static const char *const doc_names[] = {"discovery document", "key set"};

/* One cached document; guarded by the provider's lock. */
struct cache {
    void *doc;           /* oidc_discovery_t * or oidc_jwks_t * */
    char *source;        /* the URL it came from */
    uint64_t fetched_at; /* monotonic ms of the last success */
    int stale;           /* to be fetched again at once (jwks_uri changed) */
    int failed;          /* the last fetch failed */
    uint64_t failed_at;  /* monotonic ms of that failure */
    oidc_provider_status_t last_error;
    int fetching;         /* a fetch is in flight on some worker */
    uint64_t generation;  /* successful fetches */
    uint64_t completions; /* fetches that ended with a result (not cut short by a client's shutdown) */
    uint32_t refresh_ms;
};

struct op;

struct oidc_provider {
    char *issuer;
    char *jwks_uri;
    unsigned url_flags;
    unsigned algs;
    char *client_id;
    char *client_secret;
    size_t client_secret_len;
    oidc_client_auth_t client_auth;
    uint32_t refetch_interval_ms;
    uint32_t retry_ms;
    pthread_mutex_t lock;
    struct cache caches[2];
    int on_demand_started;
    uint64_t last_on_demand;
    struct op *waiters;
    oidc_provider_stats_t stats;
};

struct fetch {
    oidc_provider_t *p;
    doc_kind_t kind;
    int on_demand;
    char *url;
};

typedef enum { OP_LOAD, OP_VERIFY, OP_TOKEN } op_kind_t;

typedef enum { NEED_HAVE, NEED_WAIT, NEED_FAILED } need_t;

/* One call that may have to wait: load, verify or a token endpoint request. */
struct op {
    oidc_http_job_t job; /* first: the job pointer is the op's */
    oidc_provider_t *p;
    oidc_http_t *http;
    op_kind_t kind;
    struct op *prev, *next; /* waiter list, provider lock */
    int waiting;
    /* load */
    int force;
    uint64_t start_completions[2];
    /* verify */
    char *token;
    size_t token_len;
    oidc_claims_options_t opts;
    char **owned; /* strings and arrays copied for opts */
    size_t owned_count;
    int tried;
    uint64_t tried_generation;
    int refetch_requested;
    /* token endpoint */
    char *form;
    size_t form_len;
    char *auth_header;
    int require_id_token;
    const char *grant;
    oidc_http_request_t *request;
    /* completion */
    oidc_provider_done_cb load_cb;
    oidc_provider_verify_cb verify_cb;
    oidc_provider_token_cb token_cb;
    void *data;
};

static void op_step(struct op *op);

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void doc_release(doc_kind_t kind, void *doc)
{
    if (kind == DOC_DISCOVERY)
        oidc_discovery_free(doc);
    else
        oidc_jwks_free(doc);
}

static int fail_msg(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_msg(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- creation ----------------------------------------------------------- */

oidc_provider_t *oidc_provider_new(const oidc_provider_options_t *opt, char *err, size_t err_size)
{
    const char *reason = NULL;
    if (opt == NULL || opt->issuer == NULL) {
        fail_msg(err, err_size, "issuer is required");
        return NULL;
    }
    unsigned flags = opt->allow_insecure ? OIDC_URL_ALLOW_INSECURE_LOOPBACK : 0;
    if (oidc_url_check(opt->issuer, flags | OIDC_URL_NO_QUERY, &reason) != 0) {
        fail_msg(err, err_size, "issuer: %s", reason);
        return NULL;
    }
    if (opt->jwks_uri != NULL && oidc_url_check(opt->jwks_uri, flags, &reason) != 0) {
        fail_msg(err, err_size, "jwks_uri: %s", reason);
        return NULL;
    }
    if ((opt->algs & ~OIDC_JWS_ALGS_ALL) != 0) {
        fail_msg(err, err_size, "algs holds unknown algorithms");
        return NULL;
    }
    if ((opt->client_id == NULL) != (opt->client_secret == NULL)) {
        fail_msg(err, err_size, "client id and client secret go together");
        return NULL;
    }
    if (opt->client_id != NULL) {
        size_t id_len = strnlen(opt->client_id, 1025);
        if (id_len == 0 || id_len > 1024) {
            fail_msg(err, err_size, "client id must be 1 to 1024 bytes");
            return NULL;
        }
        if (opt->client_secret_len == 0 || opt->client_secret_len > OIDC_PROVIDER_MAX_SECRET ||
            memchr(opt->client_secret, '\0', opt->client_secret_len) != NULL) {
            fail_msg(err, err_size, "client secret must be 1 to %d bytes without NUL",
                     OIDC_PROVIDER_MAX_SECRET);
            return NULL;
        }
    }
    if (opt->client_auth != OIDC_CLIENT_SECRET_BASIC && opt->client_auth != OIDC_CLIENT_SECRET_POST) {
        fail_msg(err, err_size, "unknown client authentication method");
        return NULL;
    }

    oidc_provider_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        fail_msg(err, err_size, "out of memory");
        return NULL;
    }
    p->issuer = strdup(opt->issuer);
    p->jwks_uri = opt->jwks_uri != NULL ? strdup(opt->jwks_uri) : NULL;
    p->client_id = opt->client_id != NULL ? strdup(opt->client_id) : NULL;
    if (opt->client_secret != NULL && (p->client_secret = malloc(opt->client_secret_len + 1)) != NULL) {
        memcpy(p->client_secret, opt->client_secret, opt->client_secret_len);
        p->client_secret[opt->client_secret_len] = '\0';
        p->client_secret_len = opt->client_secret_len;
    }
    if (p->issuer == NULL || (opt->jwks_uri != NULL && p->jwks_uri == NULL) ||
        (opt->client_id != NULL && (p->client_id == NULL || p->client_secret == NULL)) ||
        pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->issuer);
        free(p->jwks_uri);
        free(p->client_id);
        wipe_free(p->client_secret);
        free(p);
        fail_msg(err, err_size, "out of memory");
        return NULL;
    }
    p->url_flags = flags;
    p->algs = opt->algs != 0 ? opt->algs : OIDC_JWS_ALGS_ALL;
    p->client_auth = opt->client_auth;
    p->caches[DOC_DISCOVERY].refresh_ms = opt->discovery_refresh_ms != 0
                                              ? opt->discovery_refresh_ms
                                              : OIDC_PROVIDER_DEFAULT_DISCOVERY_REFRESH_MS;
    p->caches[DOC_JWKS].refresh_ms =
        opt->jwks_refresh_ms != 0 ? opt->jwks_refresh_ms : OIDC_PROVIDER_DEFAULT_JWKS_REFRESH_MS;
    p->refetch_interval_ms = opt->jwks_refetch_interval_ms != 0
                                 ? opt->jwks_refetch_interval_ms
                                 : OIDC_PROVIDER_DEFAULT_JWKS_REFETCH_INTERVAL_MS;
    p->retry_ms = opt->retry_after_failure_ms != 0 ? opt->retry_after_failure_ms
                                                   : OIDC_PROVIDER_DEFAULT_RETRY_AFTER_FAILURE_MS;
    return p;
}

void oidc_provider_free(oidc_provider_t *p)
{
    if (p == NULL)
        return;
    if (p->waiters != NULL || p->caches[0].fetching || p->caches[1].fetching)
        tg_log_error(COMPONENT,
                     "provider %s freed with operations still waiting: free the HTTP clients first",
                     p->issuer);
    for (int k = 0; k < 2; ++k) {
        doc_release((doc_kind_t)k, p->caches[k].doc);
        free(p->caches[k].source);
    }
    pthread_mutex_destroy(&p->lock);
    free(p->issuer);
    free(p->jwks_uri);
    free(p->client_id);
    if (p->client_secret != NULL) {
        OPENSSL_cleanse(p->client_secret, p->client_secret_len);
        free(p->client_secret);
    }
    free(p);
}

const char *oidc_provider_issuer(const oidc_provider_t *p)
{
    return p != NULL ? p->issuer : NULL;
}

oidc_discovery_t *oidc_provider_discovery(oidc_provider_t *p)
{
    if (p == NULL)
        return NULL;
    pthread_mutex_lock(&p->lock);
    oidc_discovery_t *doc = oidc_discovery_ref(p->caches[DOC_DISCOVERY].doc);
    pthread_mutex_unlock(&p->lock);
    return doc;
}

oidc_jwks_t *oidc_provider_jwks(oidc_provider_t *p)
{
    if (p == NULL)
        return NULL;
    pthread_mutex_lock(&p->lock);
    oidc_jwks_t *set = p->caches[DOC_JWKS].doc != NULL ? oidc_jwks_ref(p->caches[DOC_JWKS].doc) : NULL;
    pthread_mutex_unlock(&p->lock);
    return set;
}

void oidc_provider_stats(oidc_provider_t *p, oidc_provider_stats_t *stats)
{
    if (p == NULL || stats == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    *stats = p->stats;
    pthread_mutex_unlock(&p->lock);
}

/* ---- fetching documents ------------------------------------------------- */

static oidc_provider_status_t transport_status(const oidc_http_response_t *res)
{
    switch (res->error) {
    case OIDC_HTTP_OK:
        return res->status == 200 ? OIDC_PROVIDER_OK : OIDC_PROVIDER_IDP_BAD_STATUS;
    case OIDC_HTTP_TOO_LARGE:
        return OIDC_PROVIDER_IDP_BAD_RESPONSE;
    case OIDC_HTTP_SHUTDOWN:
        return OIDC_PROVIDER_SHUTDOWN;
    case OIDC_HTTP_INVALID_ARGUMENT:
    case OIDC_HTTP_INTERNAL:
        return OIDC_PROVIDER_INTERNAL;
    default:
        return OIDC_PROVIDER_IDP_UNREACHABLE;
    }
}

/* Under the lock: hands every waiting op back to its own loop. */
static void wake_waiters(oidc_provider_t *p)
{
    while (p->waiters != NULL) {
        struct op *op = p->waiters;
        p->waiters = op->next;
        if (p->waiters != NULL)
            p->waiters->prev = NULL;
        op->prev = op->next = NULL;
        op->waiting = 0;
        oidc_http__job_post(&op->job);
    }
}

static void on_fetched(const oidc_http_response_t *res, void *data)
{
    struct fetch *f = data;
    oidc_provider_t *p = f->p;
    struct cache *c = &p->caches[f->kind];
    oidc_provider_status_t status = transport_status(res);
    char detail[256] = "";
    void *doc = NULL;
    if (status == OIDC_PROVIDER_OK) {
        if (f->kind == DOC_DISCOVERY) {
            oidc_discovery_t *d = NULL;
            if (oidc_discovery_parse(res->body, res->body_len, p->issuer, p->url_flags, &d, detail,
                                     sizeof(detail)) == 0)
                doc = d;
            else
                status = OIDC_PROVIDER_DISCOVERY_INVALID;
        } else {
            oidc_jwks_t *set = NULL;
            if (oidc_jwks_parse(res->body, res->body_len, &set, detail, sizeof(detail)) == 0)
                doc = set;
            else
                status = OIDC_PROVIDER_JWKS_INVALID;
        }
    } else if (status == OIDC_PROVIDER_IDP_BAD_STATUS) {
        snprintf(detail, sizeof(detail), "HTTP status %ld%s", res->status,
                 res->status >= 300 && res->status < 400 ? " (redirects are not followed: fix the URL)" : "");
    } else {
        snprintf(detail, sizeof(detail), "%s", res->error_text);
    }

    void *old = NULL;
    size_t keys = 0, skipped = 0;
    pthread_mutex_lock(&p->lock);
    c->fetching = 0;
    if (status == OIDC_PROVIDER_OK) {
        old = c->doc;
        c->doc = doc;
        free(c->source);
        c->source = f->url;
        f->url = NULL;
        c->fetched_at = now_ms();
        c->stale = 0;
        c->failed = 0;
        c->generation++;
        c->completions++;
        if (f->kind == DOC_DISCOVERY) {
            /* a new jwks_uri makes the cached set stale (it keeps serving until the new one is in) */
            struct cache *k = &p->caches[DOC_JWKS];
            const char *uri = p->jwks_uri != NULL ? p->jwks_uri : ((oidc_discovery_t *)doc)->jwks_uri;
            if (k->source != NULL && strcmp(k->source, uri) != 0)
                k->stale = 1;
        } else {
            keys = oidc_jwks_count(doc);
            skipped = oidc_jwks_skipped_count(doc);
        }
    } else if (status == OIDC_PROVIDER_SHUTDOWN) {
        /* cut short by a client's shutdown: says nothing about the IdP, and another worker may ask again */
        if (f->on_demand)
            p->on_demand_started = 0;
    } else {
        c->failed = 1;
        c->failed_at = now_ms();
        c->last_error = status;
        c->completions++;
        if (f->kind == DOC_DISCOVERY)
            p->stats.discovery_failures++;
        else
            p->stats.jwks_failures++;
    }
    wake_waiters(p);
    pthread_mutex_unlock(&p->lock);

    if (status == OIDC_PROVIDER_OK && f->kind == DOC_JWKS)
        tg_log_debug(COMPONENT, "key set of %s: %zu usable keys, %zu skipped", p->issuer, keys, skipped);
    else if (status != OIDC_PROVIDER_OK && status != OIDC_PROVIDER_SHUTDOWN)
        tg_log_warn(COMPONENT, "%s of %s not fetched: %s: %s", doc_names[f->kind], p->issuer,
                    oidc_provider_status_code(status), detail);
    doc_release(f->kind, old);
    free(f->url);
    free(f);
}

/* Under the lock, on http's loop thread: starts fetching one document. */
static oidc_provider_status_t start_fetch(oidc_provider_t *p, doc_kind_t kind, oidc_http_t *http,
                                          int on_demand)
{
    if (kind == DOC_JWKS && p->jwks_uri == NULL && p->caches[DOC_DISCOVERY].doc == NULL)
        return OIDC_PROVIDER_NOT_READY;
    struct fetch *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return OIDC_PROVIDER_INTERNAL;
    f->p = p;
    f->kind = kind;
    f->on_demand = on_demand;
    if (kind == DOC_DISCOVERY)
        f->url = oidc_discovery_url(p->issuer);
    else if (p->jwks_uri != NULL)
        f->url = strdup(p->jwks_uri);
    else
        f->url = strdup(((oidc_discovery_t *)p->caches[DOC_DISCOVERY].doc)->jwks_uri);
    static const char *const headers[] = {"Accept: application/json", NULL};
    if (f->url == NULL ||
        oidc_http_request(http, OIDC_HTTP_GET, f->url, headers, NULL, 0, on_fetched, f) == NULL) {
        free(f->url);
        free(f);
        return oidc_http__closing(http) ? OIDC_PROVIDER_SHUTDOWN : OIDC_PROVIDER_INTERNAL;
    }
    p->caches[kind].fetching = 1;
    if (kind == DOC_DISCOVERY)
        p->stats.discovery_fetches++;
    else
        p->stats.jwks_fetches++;
    return OIDC_PROVIDER_OK;
}

/*
 * Under the lock: whether document kind can be used now for op, starting a
 * fetch on op's client when it is missing or stale. A stale copy is used
 * while its refresh runs.
 */
static need_t ensure(oidc_provider_t *p, doc_kind_t kind, struct op *op, oidc_provider_status_t *status)
{
    struct cache *c = &p->caches[kind];
    if (op->force) {
        if (c->completions == op->start_completions[kind]) {
            if (c->fetching)
                return NEED_WAIT;
            *status = start_fetch(p, kind, op->http, 0);
            return *status == OIDC_PROVIDER_OK ? NEED_WAIT : NEED_FAILED;
        }
        /* a fetch ended since the call: its outcome is the answer */
        if (c->failed || c->doc == NULL) {
            *status = c->failed ? c->last_error : OIDC_PROVIDER_INTERNAL;
            return NEED_FAILED;
        }
        return NEED_HAVE;
    }
    uint64_t now = now_ms();
    if (c->doc != NULL && !c->stale && now - c->fetched_at < c->refresh_ms)
        return NEED_HAVE;
    int backing_off = c->failed && now - c->failed_at < p->retry_ms;
    if (c->doc != NULL) {
        if (!c->fetching && !backing_off)
            start_fetch(p, kind, op->http, 0); /* in the background; a failure shows at the next try */
        return NEED_HAVE;
    }
    if (c->fetching)
        return NEED_WAIT;
    if (backing_off) {
        *status = c->last_error;
        return NEED_FAILED;
    }
    *status = start_fetch(p, kind, op->http, 0);
    return *status == OIDC_PROVIDER_OK ? NEED_WAIT : NEED_FAILED;
}

/* ---- operations --------------------------------------------------------- */

static void op_free(struct op *op)
{
    if (op->token != NULL) {
        OPENSSL_cleanse(op->token, op->token_len);
        free(op->token);
    }
    for (size_t i = 0; i < op->owned_count; ++i)
        free(op->owned[i]);
    free(op->owned);
    if (op->form != NULL) {
        OPENSSL_cleanse(op->form, op->form_len);
        free(op->form);
    }
    wipe_free(op->auth_header);
    free(op);
}

static void finish_load(struct op *op, oidc_provider_status_t status)
{
    op->load_cb(status, op->data);
    op_free(op);
}

static void finish_verify(struct op *op, oidc_provider_status_t status, oidc_verify_status_t verify,
                          const char *failed_claim, json_t *header, json_t *claims)
{
    oidc_provider_verify_result_t result = {
        .status = status, .verify = verify, .failed_claim = failed_claim, .header = header, .claims = claims};
    op->verify_cb(&result, op->data);
    op_free(op);
}

static void finish_token(struct op *op, oidc_provider_status_t status, long http_status,
                         const oidc_token_error_t *error, const char *error_text, oidc_tokens_t *tokens)
{
    oidc_token_result_t result = {
        .status = status,
        .http_status = http_status,
        .error = error != NULL ? error->error : "",
        .error_description = error != NULL ? error->description : "",
        .error_text = error_text != NULL ? error_text : "",
        .tokens = tokens,
    };
    if (result.error_text[0] == '\0' && status != OIDC_PROVIDER_OK)
        result.error_text = oidc_provider_status_message(status);
    op->token_cb(&result, op->data);
    op_free(op);
}

static void finish_failed(struct op *op, oidc_provider_status_t status)
{
    switch (op->kind) {
    case OP_LOAD:
        finish_load(op, status);
        break;
    case OP_VERIFY:
        finish_verify(op, status, OIDC_VERIFY_OK, NULL, NULL, NULL);
        break;
    case OP_TOKEN:
        finish_token(op, status, 0, NULL, NULL, NULL);
        break;
    }
}

static void op_run(oidc_http_job_t *job, int shutdown)
{
    struct op *op = (struct op *)job;
    if (shutdown)
        finish_failed(op, OIDC_PROVIDER_SHUTDOWN);
    else
        op_step(op);
}

static void op_detach(oidc_http_job_t *job)
{
    struct op *op = (struct op *)job;
    oidc_provider_t *p = op->p;
    pthread_mutex_lock(&p->lock);
    if (op->waiting) {
        if (op->prev != NULL)
            op->prev->next = op->next;
        else
            p->waiters = op->next;
        if (op->next != NULL)
            op->next->prev = op->prev;
        op->prev = op->next = NULL;
        op->waiting = 0;
    }
    pthread_mutex_unlock(&p->lock);
}

static struct op *op_new(oidc_provider_t *p, oidc_http_t *http, op_kind_t kind, void *data)
{
    struct op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    op->p = p;
    op->http = http;
    op->kind = kind;
    op->data = data;
    op->job.run = op_run;
    op->job.detach = op_detach;
    return op;
}

/* Under the lock: puts op on the waiter list. Returns 0, or -1 when its client is shutting down. */
static int op_wait(struct op *op)
{
    oidc_provider_t *p = op->p;
    if (oidc_http__job_attach(op->http, &op->job) != 0)
        return -1;
    op->waiting = 1;
    op->prev = NULL;
    op->next = p->waiters;
    if (p->waiters != NULL)
        p->waiters->prev = op;
    p->waiters = op;
    return 0;
}

static int needs_discovery(const struct op *op)
{
    const oidc_provider_t *p = op->p;
    switch (op->kind) {
    case OP_VERIFY:
        return p->jwks_uri == NULL;
    case OP_LOAD:
        return p->jwks_uri == NULL || p->client_id != NULL;
    default:
        return 1;
    }
}

static void on_token_response(const oidc_http_response_t *res, void *data)
{
    struct op *op = data;
    op->request = NULL;
    oidc_provider_status_t status = transport_status(res);
    if (res->error != OIDC_HTTP_OK) {
        tg_log_warn(COMPONENT, "token endpoint of %s (%s grant): %s: %s", op->p->issuer, op->grant,
                    oidc_http_error_code(res->error), res->error_text);
        finish_token(op, status, 0, NULL, res->error_text, NULL);
        return;
    }
    oidc_tokens_t *tokens = NULL;
    oidc_token_error_t error;
    status = oidc_token_response_parse(res->status, res->body, res->body_len, op->require_id_token, &tokens,
                                       &error);
    if (status != OIDC_PROVIDER_OK)
        tg_log_warn(COMPONENT, "token endpoint of %s (%s grant): HTTP %ld: %s: %s%s%s", op->p->issuer,
                    op->grant, res->status, oidc_provider_status_code(status), error.reason,
                    error.error[0] != '\0' ? ", error " : "", error.error);
    finish_token(op, status, res->status, &error, error.reason, tokens);
}

/* Sends the token request of op to the cached token endpoint. */
static void send_token_request(struct op *op, const char *endpoint)
{
    const char *headers[3] = {"Accept: application/json", NULL, NULL};
    if (op->auth_header != NULL)
        headers[1] = op->auth_header;
    op->request = oidc_http_request(op->http, OIDC_HTTP_POST, endpoint, headers, op->form, op->form_len,
                                    on_token_response, op);
    if (op->request == NULL)
        finish_failed(op, oidc_http__closing(op->http) ? OIDC_PROVIDER_SHUTDOWN : OIDC_PROVIDER_INTERNAL);
}

/* Ends a verify op with the outcome of oidc_jws_verify, validating the claims of a verified token. */
static void finish_verified(struct op *op, oidc_verify_status_t v, json_t *header, json_t *claims)
{
    const char *failed_claim = NULL;
    if (v == OIDC_VERIFY_OK)
        v = oidc_claims_validate(claims, &op->opts, &failed_claim);
    if (v == OIDC_VERIFY_OK) {
        finish_verify(op, OIDC_PROVIDER_OK, OIDC_VERIFY_OK, NULL, header, claims);
        return;
    }
    json_decref(header);
    json_decref(claims);
    oidc_provider_status_t status = v == OIDC_VERIFY_INTERNAL           ? OIDC_PROVIDER_INTERNAL
                                    : v == OIDC_VERIFY_INVALID_ARGUMENT ? OIDC_PROVIDER_INVALID_ARGUMENT
                                                                        : OIDC_PROVIDER_TOKEN_INVALID;
    finish_verify(op, status, v, failed_claim, NULL, NULL);
}

/* Moves op on as far as it goes without waiting; runs on op's loop thread. */
static void op_step(struct op *op)
{
    oidc_provider_t *p = op->p;
    struct cache *keys = &p->caches[DOC_JWKS];
    oidc_provider_status_t status = OIDC_PROVIDER_OK;
    need_t need;
again:
    pthread_mutex_lock(&p->lock);
    if (needs_discovery(op)) {
        need = ensure(p, DOC_DISCOVERY, op, &status);
        if (need != NEED_HAVE)
            goto not_yet;
    }
    if (op->kind != OP_TOKEN) {
        need = ensure(p, DOC_JWKS, op, &status);
        if (need != NEED_HAVE)
            goto not_yet;
    }

    if (op->kind == OP_LOAD) {
        pthread_mutex_unlock(&p->lock);
        finish_load(op, OIDC_PROVIDER_OK);
        return;
    }
    if (op->kind == OP_TOKEN) {
        oidc_discovery_t *doc = oidc_discovery_ref(p->caches[DOC_DISCOVERY].doc);
        pthread_mutex_unlock(&p->lock);
        send_token_request(op, doc->token_endpoint);
        oidc_discovery_free(doc);
        return;
    }

    /* verify, outside the lock, with a reference on the current set */
    oidc_jwks_t *set = oidc_jwks_ref(keys->doc);
    uint64_t generation = keys->generation;
    pthread_mutex_unlock(&p->lock);
    json_t *header = NULL, *claims = NULL;
    oidc_verify_status_t v = oidc_jws_verify(op->token, op->token_len, set, p->algs, &header, &claims);
    oidc_jwks_free(set);
    /* an unknown kid gets exactly one more try, with a newer set (fetched on demand when needed) */
    if (v != OIDC_VERIFY_UNKNOWN_KID || (op->tried && generation != op->tried_generation)) {
        finish_verified(op, v, header, claims);
        return;
    }
    if (!op->tried) {
        op->tried = 1;
        op->tried_generation = generation;
    }
    pthread_mutex_lock(&p->lock);
    if (keys->generation != op->tried_generation) {
        pthread_mutex_unlock(&p->lock);
        goto again;
    }
    if (keys->fetching) {
        need = NEED_WAIT;
        goto not_yet;
    }
    if (op->refetch_requested) {
        /* our on-demand fetch ended without a newer set: the IdP failed */
        status = keys->failed ? keys->last_error : OIDC_PROVIDER_IDP_UNREACHABLE;
        pthread_mutex_unlock(&p->lock);
        finish_failed(op, status);
        return;
    }
    uint64_t now = now_ms();
    if (p->on_demand_started && now - p->last_on_demand < p->refetch_interval_ms) {
        p->stats.jwks_rate_limited++;
        pthread_mutex_unlock(&p->lock);
        finish_verify(op, OIDC_PROVIDER_TOKEN_INVALID, OIDC_VERIFY_UNKNOWN_KID, NULL, NULL, NULL);
        return;
    }
    status = start_fetch(p, DOC_JWKS, op->http, 1);
    if (status != OIDC_PROVIDER_OK) {
        need = NEED_FAILED;
        goto not_yet;
    }
    p->on_demand_started = 1;
    p->last_on_demand = now;
    p->stats.jwks_on_demand++;
    op->refetch_requested = 1;
    need = NEED_WAIT;

not_yet:
    if (need == NEED_WAIT && op_wait(op) == 0) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    pthread_mutex_unlock(&p->lock);
    finish_failed(op, need == NEED_WAIT ? OIDC_PROVIDER_SHUTDOWN : status);
}

/* ---- public operations -------------------------------------------------- */

static int caller_ok(const oidc_provider_t *p, const oidc_http_t *http)
{
    return p != NULL && http != NULL && oidc_http__on_loop_thread(http);
}

oidc_provider_status_t oidc_provider_load(oidc_provider_t *p, oidc_http_t *http, int force,
                                          oidc_provider_done_cb cb, void *data)
{
    if (!caller_ok(p, http) || cb == NULL)
        return OIDC_PROVIDER_INVALID_ARGUMENT;
    struct op *op = op_new(p, http, OP_LOAD, data);
    if (op == NULL)
        return OIDC_PROVIDER_INTERNAL;
    op->load_cb = cb;
    op->force = force != 0;
    pthread_mutex_lock(&p->lock);
    op->start_completions[DOC_DISCOVERY] = p->caches[DOC_DISCOVERY].completions;
    op->start_completions[DOC_JWKS] = p->caches[DOC_JWKS].completions;
    pthread_mutex_unlock(&p->lock);
    op_step(op);
    return OIDC_PROVIDER_OK;
}

/* Keeps a copy of s for op; NULL stays NULL. Returns 0, or -1 when memory is short. */
static int own_string(struct op *op, const char *s, const char **out)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    char *copy = strdup(s);
    if (copy == NULL)
        return -1;
    op->owned[op->owned_count++] = copy;
    *out = copy;
    return 0;
}

static size_t list_len(const char *const *list)
{
    size_t n = 0;
    while (list != NULL && list[n] != NULL)
        n++;
    return n;
}

/* Copies a NULL-terminated list of strings for op. */
static int own_list(struct op *op, const char *const *list, const char *const **out)
{
    *out = NULL;
    if (list == NULL)
        return 0;
    size_t n = list_len(list);
    const char **copy = calloc(n + 1, sizeof(*copy));
    if (copy == NULL)
        return -1;
    op->owned[op->owned_count++] = (char *)copy;
    for (size_t i = 0; i < n; ++i)
        if (own_string(op, list[i], &copy[i]) != 0)
            return -1;
    *out = copy;
    return 0;
}

oidc_provider_status_t oidc_provider_verify(oidc_provider_t *p, oidc_http_t *http, const char *token,
                                            const oidc_claims_options_t *opts, oidc_provider_verify_cb cb,
                                            void *data)
{
    if (!caller_ok(p, http) || token == NULL || opts == NULL || cb == NULL)
        return OIDC_PROVIDER_INVALID_ARGUMENT;
    size_t token_len = strnlen(token, OIDC_JWS_MAX_TOKEN + 1);
    if (token_len == 0 || token_len > OIDC_JWS_MAX_TOKEN)
        return OIDC_PROVIDER_INVALID_ARGUMENT;
    if (opts->issuer != NULL && strcmp(opts->issuer, p->issuer) != 0)
        return OIDC_PROVIDER_INVALID_ARGUMENT;

    struct op *op = op_new(p, http, OP_VERIFY, data);
    if (op == NULL)
        return OIDC_PROVIDER_INTERNAL;
    op->verify_cb = cb;
    op->token_len = token_len;
    size_t slots = 8 + 2 * (list_len(opts->extra_audiences) + list_len(opts->required));
    op->opts = *opts;
    if ((op->token = malloc(token_len + 1)) == NULL || (op->owned = calloc(slots, sizeof(char *))) == NULL ||
        own_string(op, opts->audience, &op->opts.audience) ||
        own_string(op, opts->client_id, &op->opts.client_id) ||
        own_string(op, opts->nonce, &op->opts.nonce) ||
        own_list(op, opts->extra_audiences, &op->opts.extra_audiences) ||
        own_list(op, opts->required, &op->opts.required)) {
        op_free(op);
        return OIDC_PROVIDER_INTERNAL;
    }
    memcpy(op->token, token, token_len);
    op->token[token_len] = '\0';
    op->opts.issuer = p->issuer;
    op_step(op);
    return OIDC_PROVIDER_OK;
}

/* "Authorization: Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 2.3.1). */
static char *basic_auth_header(const oidc_provider_t *p)
{
    char *id = oidc_url_encode(p->client_id, strlen(p->client_id));
    char *secret = oidc_url_encode(p->client_secret, p->client_secret_len);
    char *pair = NULL, *header = NULL;
    if (id == NULL || secret == NULL)
        goto out;
    size_t pair_len = strlen(id) + 1 + strlen(secret);
    if ((pair = malloc(pair_len + 1)) == NULL)
        goto out;
    snprintf(pair, pair_len + 1, "%s:%s", id, secret);
    static const char prefix[] = "Authorization: Basic ";
    size_t b64_len = 4 * ((pair_len + 2) / 3);
    if ((header = malloc(sizeof(prefix) + b64_len)) == NULL)
        goto out;
    memcpy(header, prefix, sizeof(prefix) - 1);
    EVP_EncodeBlock((unsigned char *)header + sizeof(prefix) - 1, (const unsigned char *)pair, (int)pair_len);
out:
    wipe_free(id);
    wipe_free(secret);
    wipe_free(pair);
    return header;
}

static int printable_value(const char *s, size_t max)
{
    size_t len = strnlen(s, max + 1);
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; ++i)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

/* Starts a token endpoint request with the grant's own parameters (name, value pairs). */
static oidc_provider_status_t token_request(oidc_provider_t *p, oidc_http_t *http, const char *grant,
                                            const char *const *grant_params, int require_id_token,
                                            oidc_provider_token_cb cb, void *data)
{
    if (p->client_id == NULL)
        return OIDC_PROVIDER_NO_CLIENT;
    const char *params[16];
    size_t n = 0;
    params[n++] = "grant_type";
    params[n++] = grant;
    for (size_t i = 0; grant_params[i] != NULL; i += 2) {
        params[n++] = grant_params[i];
        params[n++] = grant_params[i + 1];
    }
    if (p->client_auth == OIDC_CLIENT_SECRET_POST) {
        params[n++] = "client_id";
        params[n++] = p->client_id;
        params[n++] = "client_secret";
        params[n++] = p->client_secret;
    }
    params[n] = NULL;

    struct op *op = op_new(p, http, OP_TOKEN, data);
    if (op == NULL)
        return OIDC_PROVIDER_INTERNAL;
    op->token_cb = cb;
    op->grant = grant;
    op->require_id_token = require_id_token;
    op->form = oidc_form_encode(params, &op->form_len);
    if (op->form == NULL || op->form_len > OIDC_HTTP_MAX_BODY ||
        (p->client_auth == OIDC_CLIENT_SECRET_BASIC && (op->auth_header = basic_auth_header(p)) == NULL)) {
        op_free(op);
        return OIDC_PROVIDER_INTERNAL;
    }
    op_step(op);
    return OIDC_PROVIDER_OK;
}

oidc_provider_status_t oidc_provider_exchange_code(oidc_provider_t *p, oidc_http_t *http, const char *code,
                                                   const char *code_verifier, const char *redirect_uri,
                                                   oidc_provider_token_cb cb, void *data)
{
    if (!caller_ok(p, http) || cb == NULL || code == NULL || code_verifier == NULL || redirect_uri == NULL ||
        !printable_value(code, 4096) || !printable_value(code_verifier, 128) ||
        !printable_value(redirect_uri, OIDC_URL_MAX))
        return OIDC_PROVIDER_INVALID_ARGUMENT;
    const char *const params[] = {"code",        code, "redirect_uri", redirect_uri, "code_verifier",
                                  code_verifier, NULL};
    return token_request(p, http, "authorization_code", params, 1, cb, data);
}

oidc_provider_status_t oidc_provider_refresh(oidc_provider_t *p, oidc_http_t *http, const char *refresh_token,
                                             oidc_provider_token_cb cb, void *data)
{
    if (!caller_ok(p, http) || cb == NULL || refresh_token == NULL || !printable_value(refresh_token, 16384))
        return OIDC_PROVIDER_INVALID_ARGUMENT;
    const char *const params[] = {"refresh_token", refresh_token, NULL};
    return token_request(p, http, "refresh_token", params, 0, cb, data);
}

oidc_provider_status_t oidc_provider_client_credentials(oidc_provider_t *p, oidc_http_t *http,
                                                        const char *scope, const char *resource,
                                                        oidc_provider_token_cb cb, void *data)
{
    if (!caller_ok(p, http) || cb == NULL || (scope != NULL && !printable_value(scope, 4096)) ||
        (resource != NULL && !printable_value(resource, OIDC_URL_MAX)))
        return OIDC_PROVIDER_INVALID_ARGUMENT;
    /* a NULL value leaves its pair out of the form */
    const char *const params[] = {"scope", scope, "resource", resource, NULL};
    return token_request(p, http, "client_credentials", params, 0, cb, data);
}

/* ---- browser URLs ------------------------------------------------------- */

static oidc_discovery_t *cached_discovery(oidc_provider_t *p, oidc_provider_status_t *status)
{
    oidc_discovery_t *doc = oidc_provider_discovery(p);
    if (doc == NULL && status != NULL)
        *status = OIDC_PROVIDER_NOT_READY;
    return doc;
}

static int pkce_challenge_ok(const char *s)
{
    size_t len = strnlen(s, 129);
    if (len < 43 || len > 128)
        return 0;
    for (size_t i = 0; i < len; ++i) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_' || c == '~'))
            return 0;
    }
    return 1;
}

static int absolute_http_url(const char *s)
{
    return printable_value(s, OIDC_URL_MAX) && strchr(s, ' ') == NULL && strchr(s, '#') == NULL &&
           (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0);
}

char *oidc_provider_authorize_url(oidc_provider_t *p, const char *client_id, const char *redirect_uri,
                                  const char *scope, const char *state, const char *nonce,
                                  const char *code_challenge, const char *const *extra,
                                  oidc_provider_status_t *status)
{
    static const char *const reserved[] = {
        "response_type", "client_id", "redirect_uri",   "scope",
        "state",         "nonce",     "code_challenge", "code_challenge_method"};
    if (status != NULL)
        *status = OIDC_PROVIDER_INVALID_ARGUMENT;
    if (p == NULL)
        return NULL;
    if (client_id == NULL)
        client_id = p->client_id;
    if (client_id == NULL || redirect_uri == NULL || scope == NULL || state == NULL || nonce == NULL ||
        code_challenge == NULL || !printable_value(client_id, 1024) || !absolute_http_url(redirect_uri) ||
        !printable_value(scope, 4096) || !printable_value(state, 1024) || !printable_value(nonce, 1024) ||
        !pkce_challenge_ok(code_challenge))
        return NULL;
    /* extra: name, value pairs up to a NULL name; a NULL value leaves its pair out */
    size_t extra_count = 0;
    for (; extra != NULL && extra[extra_count] != NULL; extra_count += 2) {
        if (extra_count == 2 * MAX_EXTRA_PARAMS || !printable_value(extra[extra_count], 256) ||
            (extra[extra_count + 1] != NULL && !printable_value(extra[extra_count + 1], 4096)))
            return NULL;
        for (size_t r = 0; r < sizeof(reserved) / sizeof(reserved[0]); ++r)
            if (strcmp(extra[extra_count], reserved[r]) == 0)
                return NULL;
    }
    oidc_discovery_t *doc = cached_discovery(p, status);
    if (doc == NULL)
        return NULL;
    const char *params[16 + 2 * MAX_EXTRA_PARAMS + 1];
    size_t n = 0;
    const char *const fixed[] = {"response_type",
                                 "code",
                                 "client_id",
                                 client_id,
                                 "redirect_uri",
                                 redirect_uri,
                                 "scope",
                                 scope,
                                 "state",
                                 state,
                                 "nonce",
                                 nonce,
                                 "code_challenge",
                                 code_challenge,
                                 "code_challenge_method",
                                 "S256"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); ++i)
        params[n++] = fixed[i];
    for (size_t i = 0; i < extra_count; ++i)
        params[n++] = extra[i];
    params[n] = NULL;
    char *url = oidc_url_with_params(doc->authorization_endpoint, params);
    oidc_discovery_free(doc);
    if (status != NULL)
        *status = url != NULL ? OIDC_PROVIDER_OK : OIDC_PROVIDER_INVALID_ARGUMENT;
    return url;
}

char *oidc_provider_end_session_url(oidc_provider_t *p, const char *id_token_hint,
                                    const char *post_logout_redirect_uri, const char *state,
                                    oidc_provider_status_t *status)
{
    if (status != NULL)
        *status = OIDC_PROVIDER_INVALID_ARGUMENT;
    if (p == NULL || (id_token_hint != NULL && !printable_value(id_token_hint, OIDC_JWS_MAX_TOKEN)) ||
        (post_logout_redirect_uri != NULL && !absolute_http_url(post_logout_redirect_uri)) ||
        (state != NULL && !printable_value(state, 1024)))
        return NULL;
    oidc_discovery_t *doc = cached_discovery(p, status);
    if (doc == NULL)
        return NULL;
    if (doc->end_session_endpoint == NULL) {
        oidc_discovery_free(doc);
        if (status != NULL)
            *status = OIDC_PROVIDER_NO_ENDPOINT;
        return NULL;
    }
    const char *const params[] = {"id_token_hint",
                                  id_token_hint,
                                  "post_logout_redirect_uri",
                                  post_logout_redirect_uri,
                                  "state",
                                  state,
                                  "client_id",
                                  p->client_id,
                                  NULL};
    char *url = oidc_url_with_params(doc->end_session_endpoint, params);
    oidc_discovery_free(doc);
    if (status != NULL)
        *status = url != NULL ? OIDC_PROVIDER_OK : OIDC_PROVIDER_INVALID_ARGUMENT;
    return url;
}
