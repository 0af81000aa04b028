#include "oidc/http_client.h"

#include "http_client_int.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct oidc_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    uv_async_t wake;
    pthread_t thread;
    char *ca_file;
    char *user_agent;
    char *proxy;
    long connect_timeout_ms;
    long total_timeout_ms;
    size_t max_response;
    oidc_http_request_t *requests; /* in flight, doubly linked */
    size_t pending;
    oidc_http_job_t *jobs; /* attached, loop thread only */
    size_t job_count;
    pthread_mutex_t lock; /* guards ready and the jobs' _queued */
    oidc_http_job_t *ready;
    int closing;
    int open_handles; /* uv handles whose close callback has not run yet */
};

struct oidc_http_request {
    oidc_http_t *http;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t body_len;
    char *data;
    size_t len, cap;
    int too_large;
    int done; /* its callback is running */
    oidc_http_cb cb;
    void *cb_data;
    oidc_http_request_t *prev, *next;
};

/* One per socket curl watches. */
struct sock {
    uv_poll_t poll;
    oidc_http_t *http;
    curl_socket_t fd;
};

static const char *const error_codes[] = {
#define CODE(name, code, message) code,
    OIDC_HTTP_ERROR_MAP(CODE)
#undef CODE
};

static const char *const error_messages[] = {
#define MESSAGE(name, code, message) message,
    OIDC_HTTP_ERROR_MAP(MESSAGE)
#undef MESSAGE
};

const char *oidc_http_error_code(oidc_http_error_t error)
{
    if ((unsigned)error >= (unsigned)OIDC_HTTP_ERROR_COUNT)
        return "unknown";
    return error_codes[error];
}

const char *oidc_http_error_message(oidc_http_error_t error)
{
    if ((unsigned)error >= (unsigned)OIDC_HTTP_ERROR_COUNT)
        return "unknown error";
    return error_messages[error];
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;

static void curl_init_once(void)
{
    /* thread-safe in this libcurl (CURL_VERSION_THREADSAFE); never cleaned up: other users may share it */
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static void wipe_free(char *p, size_t len)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, len);
        free(p);
    }
}

static void wipe_slist(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l != NULL; l = l->next)
        OPENSSL_cleanse(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

static char *copy_option(const char *s, int *bad)
{
    if (s == NULL)
        return NULL;
    if (*s == '\0' || strlen(s) > OIDC_HTTP_MAX_URL) {
        *bad = 1;
        return NULL;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        *bad = 1;
    return copy;
}

/* ---- handle lifetime ---------------------------------------------------- */

static void release_if_closed(oidc_http_t *http)
{
    if (http->closing && http->open_handles == 0) {
        pthread_mutex_destroy(&http->lock);
        free(http->ca_file);
        free(http->user_agent);
        free(http->proxy);
        free(http);
    }
}

static void on_handle_closed(uv_handle_t *handle)
{
    oidc_http_t *http = handle->data;
    http->open_handles--;
    release_if_closed(http);
}

static void on_sock_closed(uv_handle_t *handle)
{
    struct sock *s = handle->data;
    oidc_http_t *http = s->http;
    free(s);
    http->open_handles--;
    release_if_closed(http);
}

/* ---- requests ----------------------------------------------------------- */

static void unlink_request(oidc_http_request_t *req)
{
    oidc_http_t *http = req->http;
    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        http->requests = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
    http->pending--;
}

static void free_request(oidc_http_request_t *req)
{
    if (req->easy != NULL)
        curl_easy_cleanup(req->easy);
    wipe_slist(req->headers);
    wipe_free(req->body, req->body_len);
    /* responses carry tokens: wipe them too */
    wipe_free(req->data, req->cap);
    free(req);
}

static oidc_http_error_t map_curl_error(CURLcode rc, const oidc_http_request_t *req)
{
    switch (rc) {
    case CURLE_OK:
        return OIDC_HTTP_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return OIDC_HTTP_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        return OIDC_HTTP_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return OIDC_HTTP_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return OIDC_HTTP_TLS;
    case CURLE_FILESIZE_EXCEEDED:
        return OIDC_HTTP_TOO_LARGE;
    case CURLE_WRITE_ERROR:
        return req->too_large ? OIDC_HTTP_TOO_LARGE : OIDC_HTTP_INTERNAL;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP3:
        return OIDC_HTTP_PROTOCOL;
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return OIDC_HTTP_INVALID_ARGUMENT;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
        return OIDC_HTTP_INTERNAL;
    default:
        return OIDC_HTTP_IO;
    }
}

/* Runs the callback of a request already out of the multi handle, then frees it. */
static void complete(oidc_http_request_t *req, oidc_http_error_t error, const char *error_text)
{
    oidc_http_response_t res = {.error = error, .body = "", .error_text = ""};
    if (error == OIDC_HTTP_OK) {
        curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &res.status);
        char *type = NULL;
        if (curl_easy_getinfo(req->easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK)
            res.content_type = type;
        if (req->data != NULL) {
            req->data[req->len] = '\0';
            res.body = req->data;
            res.body_len = req->len;
        }
    } else {
        res.error_text = error_text != NULL ? error_text : oidc_http_error_message(error);
    }
    curl_off_t total_us = 0;
    if (req->easy != NULL && curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK &&
        total_us > 0)
        res.elapsed_ms = (uint64_t)total_us / 1000;
    req->done = 1;
    req->cb(&res, req->cb_data);
    free_request(req);
}

static void check_done(oidc_http_t *http)
{
    CURLMsg *msg;
    int left;
    while (http->multi != NULL && (msg = curl_multi_info_read(http->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        oidc_http_request_t *req = (oidc_http_request_t *)(void *)priv;
        curl_multi_remove_handle(http->multi, easy);
        unlink_request(req);
        oidc_http_error_t error = map_curl_error(rc, req);
        /* curl_easy_strerror texts are static and name no URL or data */
        complete(req, error,
                 error == OIDC_HTTP_OK          ? NULL
                 : error == OIDC_HTTP_TOO_LARGE ? oidc_http_error_message(error)
                                                : curl_easy_strerror(rc));
    }
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    oidc_http_request_t *req = userdata;
    size_t n = size * nmemb;
    size_t max = req->http->max_response;
    if (n > max - req->len) {
        req->too_large = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (req->len + n + 1 > req->cap) {
        size_t cap = req->cap != 0 ? req->cap : 4096;
        while (cap < req->len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        char *grown = malloc(cap);
        if (grown == NULL)
            return 0;
        if (req->data != NULL) {
            memcpy(grown, req->data, req->len);
            wipe_free(req->data, req->cap);
        }
        req->data = grown;
        req->cap = cap;
    }
    memcpy(req->data + req->len, ptr, n);
    req->len += n;
    return n;
}

/* ---- curl <-> libuv ----------------------------------------------------- */

static void on_poll(uv_poll_t *handle, int status, int events)
{
    struct sock *s = handle->data;
    oidc_http_t *http = s->http;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(http->multi, s->fd, flags, &running);
    check_done(http);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    oidc_http_t *http = userp;
    struct sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
            curl_multi_assign(http->multi, fd, NULL);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            return -1;
        if (uv_poll_init_socket(http->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->http = http;
        s->fd = fd;
        s->poll.data = s;
        http->open_handles++;
        curl_multi_assign(http->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) == 0 ? 0 : -1;
}

static void on_timer(uv_timer_t *timer)
{
    oidc_http_t *http = timer->data;
    int running;
    curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(http);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    oidc_http_t *http = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&http->timer);
    else /* 0 too goes through the loop: socket_action must not run from inside this callback */
        uv_timer_start(&http->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- jobs --------------------------------------------------------------- */

static void update_wake_ref(oidc_http_t *http)
{
    /* the loop stays alive while a job waits for another thread */
    if (http->job_count > 0)
        uv_ref((uv_handle_t *)&http->wake);
    else
        uv_unref((uv_handle_t *)&http->wake);
}

static void unlink_job(oidc_http_job_t *job)
{
    oidc_http_t *http = job->_http;
    if (job->_prev != NULL)
        job->_prev->_next = job->_next;
    else
        http->jobs = job->_next;
    if (job->_next != NULL)
        job->_next->_prev = job->_prev;
    job->_prev = job->_next = NULL;
    http->job_count--;
    update_wake_ref(http);
}

int oidc_http__job_attach(oidc_http_t *http, oidc_http_job_t *job)
{
    if (http->closing)
        return -1;
    job->_http = http;
    job->_prev = NULL;
    job->_next = http->jobs;
    job->_ready_next = NULL;
    job->_queued = 0;
    if (http->jobs != NULL)
        http->jobs->_prev = job;
    http->jobs = job;
    http->job_count++;
    update_wake_ref(http);
    return 0;
}

void oidc_http__job_post(oidc_http_job_t *job)
{
    oidc_http_t *http = job->_http;
    pthread_mutex_lock(&http->lock);
    if (!job->_queued) {
        job->_queued = 1;
        job->_ready_next = http->ready;
        http->ready = job;
    }
    pthread_mutex_unlock(&http->lock);
    uv_async_send(&http->wake);
}

int oidc_http__closing(const oidc_http_t *http)
{
    return http->closing;
}

int oidc_http__on_loop_thread(const oidc_http_t *http)
{
    return pthread_equal(pthread_self(), http->thread);
}

static void on_wake(uv_async_t *async)
{
    oidc_http_t *http = async->data;
    pthread_mutex_lock(&http->lock);
    oidc_http_job_t *list = http->ready;
    http->ready = NULL;
    for (oidc_http_job_t *j = list; j != NULL; j = j->_ready_next)
        j->_queued = 0;
    pthread_mutex_unlock(&http->lock);
    /* oldest first is not promised; each job re-reads shared state when it runs */
    while (list != NULL) {
        oidc_http_job_t *job = list;
        list = job->_ready_next;
        job->_ready_next = NULL;
        unlink_job(job);
        job->run(job, 0);
        /* a job may free the client: oidc_http_free then ended the rest of the list */
        if (http->closing)
            break;
    }
}

/* ---- public API --------------------------------------------------------- */

oidc_http_t *oidc_http_new(uv_loop_t *loop, const oidc_http_options_t *opt)
{
    static const oidc_http_options_t defaults = {0};
    if (opt == NULL)
        opt = &defaults;
    if (loop == NULL || opt->connect_timeout_ms < 0 || opt->connect_timeout_ms > OIDC_HTTP_MAX_TIMEOUT_MS ||
        opt->total_timeout_ms < 0 || opt->total_timeout_ms > OIDC_HTTP_MAX_TIMEOUT_MS ||
        opt->max_response > OIDC_HTTP_MAX_RESPONSE_LIMIT)
        return NULL;
    if (opt->user_agent != NULL &&
        (strpbrk(opt->user_agent, "\r\n") != NULL || strlen(opt->user_agent) > 256))
        return NULL;
    pthread_once(&curl_once, curl_init_once);
    if (!curl_ready)
        return NULL;

    oidc_http_t *http = calloc(1, sizeof(*http));
    if (http == NULL)
        return NULL;
    int bad = 0;
    http->ca_file = copy_option(opt->ca_file, &bad);
    http->proxy = copy_option(opt->proxy, &bad);
    http->user_agent = strdup(opt->user_agent != NULL ? opt->user_agent : OIDC_HTTP_DEFAULT_USER_AGENT);
    if (bad || http->user_agent == NULL || pthread_mutex_init(&http->lock, NULL) != 0) {
        free(http->ca_file);
        free(http->proxy);
        free(http->user_agent);
        free(http);
        return NULL;
    }
    http->loop = loop;
    http->thread = pthread_self();
    http->connect_timeout_ms =
        opt->connect_timeout_ms != 0 ? opt->connect_timeout_ms : OIDC_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    http->total_timeout_ms =
        opt->total_timeout_ms != 0 ? opt->total_timeout_ms : OIDC_HTTP_DEFAULT_TOTAL_TIMEOUT_MS;
    http->max_response = opt->max_response != 0 ? opt->max_response : OIDC_HTTP_DEFAULT_MAX_RESPONSE;

    http->multi = curl_multi_init();
    if (http->multi == NULL || uv_timer_init(loop, &http->timer) != 0) {
        if (http->multi != NULL)
            curl_multi_cleanup(http->multi);
        pthread_mutex_destroy(&http->lock);
        free(http->ca_file);
        free(http->proxy);
        free(http->user_agent);
        free(http);
        return NULL;
    }
    http->timer.data = http;
    http->open_handles = 1;
    if (uv_async_init(loop, &http->wake, on_wake) != 0) {
        curl_multi_cleanup(http->multi);
        http->multi = NULL;
        http->closing = 1;
        uv_close((uv_handle_t *)&http->timer, on_handle_closed);
        return NULL;
    }
    http->wake.data = http;
    http->open_handles = 2;
    uv_unref((uv_handle_t *)&http->wake);

    curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
    return http;
}

/* Accepts absolute http(s) URLs of printable ASCII that libcurl's parser takes. */
static int url_ok(const char *url)
{
    size_t len = strnlen(url, OIDC_HTTP_MAX_URL + 1);
    if (len == 0 || len > OIDC_HTTP_MAX_URL)
        return 0;
    for (size_t i = 0; i < len; ++i)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return 0;
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return 0;
    CURLU *u = curl_url();
    if (u == NULL)
        return 0;
    char *host = NULL;
    int ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host != NULL && host[0] != '\0';
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static int header_ok(const char *h)
{
    size_t len = strnlen(h, OIDC_HTTP_MAX_HEADER + 1);
    if (len == 0 || len > OIDC_HTTP_MAX_HEADER || strpbrk(h, "\r\n") != NULL)
        return 0;
    const char *colon = strchr(h, ':');
    return colon != NULL && colon != h;
}

oidc_http_request_t *oidc_http_request(oidc_http_t *http, oidc_http_method_t method, const char *url,
                                       const char *const *headers, const char *body, size_t body_len,
                                       oidc_http_cb cb, void *data)
{
    if (http == NULL || http->closing || !oidc_http__on_loop_thread(http) || url == NULL || cb == NULL ||
        !url_ok(url))
        return NULL;
    if (method == OIDC_HTTP_GET) {
        if (body != NULL || body_len != 0)
            return NULL;
    } else if (method == OIDC_HTTP_POST) {
        if ((body == NULL && body_len != 0) || body_len > OIDC_HTTP_MAX_BODY)
            return NULL;
    } else {
        return NULL;
    }
    size_t header_count = 0;
    for (; headers != NULL && headers[header_count] != NULL; ++header_count)
        if (header_count == OIDC_HTTP_MAX_HEADERS || !header_ok(headers[header_count]))
            return NULL;

    oidc_http_request_t *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->http = http;
    req->cb = cb;
    req->cb_data = data;
    if ((req->easy = curl_easy_init()) == NULL)
        goto fail;
    for (size_t i = 0; i < header_count; ++i) {
        struct curl_slist *grown = curl_slist_append(req->headers, headers[i]);
        if (grown == NULL)
            goto fail;
        req->headers = grown;
    }
    if (method == OIDC_HTTP_POST) {
        /* our own copy, so it can be wiped: curl's COPYPOSTFIELDS would free it unwiped */
        req->body = malloc(body_len + 1);
        if (req->body == NULL)
            goto fail;
        if (body_len > 0)
            memcpy(req->body, body, body_len);
        req->body[body_len] = '\0';
        req->body_len = body_len;
    }

    CURL *e = req->easy;
    int rc = 0;
    rc |= curl_easy_setopt(e, CURLOPT_URL, url);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, http->connect_timeout_ms);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, http->total_timeout_ms);
    rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)http->max_response);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)req);
    rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, http->user_agent);
    rc |= curl_easy_setopt(e, CURLOPT_PROXY, http->proxy != NULL ? http->proxy : "");
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    rc |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (http->ca_file != NULL)
        rc |= curl_easy_setopt(e, CURLOPT_CAINFO, http->ca_file);
    if (req->headers != NULL)
        rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    if (method == OIDC_HTTP_POST) {
        rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    } else {
        rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (rc != CURLE_OK)
        goto fail;

    req->next = http->requests;
    if (http->requests != NULL)
        http->requests->prev = req;
    http->requests = req;
    http->pending++;
    if (curl_multi_add_handle(http->multi, e) != CURLM_OK) {
        unlink_request(req);
        goto fail;
    }
    return req;

fail:
    free_request(req);
    return NULL;
}

void oidc_http_cancel(oidc_http_request_t *req)
{
    if (req == NULL || req->done)
        return;
    oidc_http_t *http = req->http;
    curl_multi_remove_handle(http->multi, req->easy);
    unlink_request(req);
    free_request(req);
}

size_t oidc_http_pending(const oidc_http_t *http)
{
    return http != NULL ? http->pending : 0;
}

uv_loop_t *oidc_http_loop(const oidc_http_t *http)
{
    return http != NULL ? http->loop : NULL;
}

void oidc_http_free(oidc_http_t *http)
{
    /* closing: called again from a callback of this very call */
    if (http == NULL || http->closing)
        return;
    http->closing = 1;

    /* requests in flight end now; their callbacks may not start new ones (closing) */
    while (http->requests != NULL) {
        oidc_http_request_t *req = http->requests;
        curl_multi_remove_handle(http->multi, req->easy);
        unlink_request(req);
        complete(req, OIDC_HTTP_SHUTDOWN, NULL);
    }

    /* waiting jobs: first nobody may post them any more, then drop what was posted, then end them */
    for (oidc_http_job_t *job = http->jobs; job != NULL; job = job->_next)
        job->detach(job);
    pthread_mutex_lock(&http->lock);
    for (oidc_http_job_t *j = http->ready; j != NULL; j = j->_ready_next)
        j->_queued = 0;
    http->ready = NULL;
    pthread_mutex_unlock(&http->lock);
    while (http->jobs != NULL) {
        oidc_http_job_t *job = http->jobs;
        unlink_job(job);
        job->run(job, 1);
    }

    /* closes cached connections, which closes their poll handles through on_socket */
    curl_multi_cleanup(http->multi);
    http->multi = NULL;
    uv_timer_stop(&http->timer);
    uv_close((uv_handle_t *)&http->timer, on_handle_closed);
    uv_close((uv_handle_t *)&http->wake, on_handle_closed);
}
