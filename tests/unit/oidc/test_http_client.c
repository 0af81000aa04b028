/* The libcurl-on-libuv HTTP client against a real local server (tests/fixtures/http_peer.mjs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "node_peer.h"
#include "oidc/http_client.h"

static np_peer_t peer;
static char base[256];

/* What one request produced, copied out of the callback. */
struct result {
    int calls;
    oidc_http_error_t error;
    char error_text[128];
    long status;
    char *body;
    size_t body_len;
    char content_type[128];
    uint64_t elapsed_ms;
    uint64_t done_at; /* uv_hrtime() in ms */
};

static void record(const oidc_http_response_t *res, void *data)
{
    struct result *r = data;
    r->calls++;
    r->error = res->error;
    snprintf(r->error_text, sizeof(r->error_text), "%s", res->error_text);
    r->status = res->status;
    free(r->body);
    r->body = malloc(res->body_len + 1);
    memcpy(r->body, res->body, res->body_len + 1);
    r->body_len = res->body_len;
    snprintf(r->content_type, sizeof(r->content_type), "%s", res->content_type ? res->content_type : "");
    r->elapsed_ms = res->elapsed_ms;
    r->done_at = uv_hrtime() / 1000000u;
}

static void result_clear(struct result *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static char *url(const char *path)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%s%s", base, path);
    return buf;
}

/* Frees the client, lets its handles close, and checks nothing is left on the loop. */
static void finish(uv_loop_t *loop, oidc_http_t *http)
{
    oidc_http_free(http);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static int group_setup(void **state)
{
    if (np_start(&peer, "http_peer.mjs", NULL) != 0)
        return -1;
    snprintf(base, sizeof(base), "%s", peer.ready);
    return 0;
}

static int group_teardown(void **state)
{
    np_stop(&peer);
    return 0;
}

static void test_error_strings(void **state)
{
    for (int e = 0; e < OIDC_HTTP_ERROR_COUNT; ++e) {
        assert_true(strlen(oidc_http_error_code((oidc_http_error_t)e)) > 0);
        assert_string_not_equal(oidc_http_error_code((oidc_http_error_t)e), "unknown");
        assert_string_not_equal(oidc_http_error_message((oidc_http_error_t)e), "unknown error");
    }
    assert_string_equal(oidc_http_error_code(OIDC_HTTP_TIMEOUT), "timeout");
    assert_string_equal(oidc_http_error_code(OIDC_HTTP_ERROR_COUNT), "unknown");
    assert_string_equal(oidc_http_error_code((oidc_http_error_t)-1), "unknown");
}

static void test_get(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_t *http = oidc_http_new(&loop, NULL);
    assert_non_null(http);
    assert_ptr_equal(oidc_http_loop(http), &loop);
    struct result r = {0};
    assert_non_null(oidc_http_request(http, OIDC_HTTP_GET, url("/hello"), NULL, NULL, 0, record, &r));
    assert_int_equal(oidc_http_pending(http), 1);
    assert_int_equal(r.calls, 0); /* never synchronous */
    np_run_loop(&loop);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.error, OIDC_HTTP_OK);
    assert_string_equal(r.error_text, "");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_int_equal(r.body_len, 5);
    assert_string_equal(r.content_type, "text/plain");
    assert_int_equal(oidc_http_pending(http), 0);
    result_clear(&r);
    finish(&loop, http);
}

static void test_post_form(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_options_t opt = {.user_agent = "tg-test/1"};
    oidc_http_t *http = oidc_http_new(&loop, &opt);
    assert_non_null(http);
    static const char body[] = "grant_type=authorization_code&code=a%20b&x=%00y";
    const char *const headers[] = {"Accept: application/json", "Authorization: Basic dGVzdDp0ZXN0", NULL};
    struct result r = {0};
    assert_non_null(
        oidc_http_request(http, OIDC_HTTP_POST, url("/echo"), headers, body, strlen(body), record, &r));
    np_run_loop(&loop);
    assert_int_equal(r.error, OIDC_HTTP_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    json_t *echo = json_loads(r.body, 0, NULL);
    assert_non_null(echo);
    assert_string_equal(json_string_value(json_object_get(echo, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(echo, "contentType")),
                        "application/x-www-form-urlencoded");
    assert_string_equal(json_string_value(json_object_get(echo, "accept")), "application/json");
    assert_string_equal(json_string_value(json_object_get(echo, "authorization")), "Basic dGVzdDp0ZXN0");
    assert_string_equal(json_string_value(json_object_get(echo, "userAgent")), "tg-test/1");
    assert_string_equal(json_string_value(json_object_get(echo, "body")), body);
    json_decref(echo);

    /* an empty POST body is a body of length 0 */
    result_clear(&r);
    assert_non_null(oidc_http_request(http, OIDC_HTTP_POST, url("/echo"), NULL, "", 0, record, &r));
    np_run_loop(&loop);
    assert_int_equal(r.status, 200);
    echo = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(echo, "body")), "");
    assert_string_equal(json_string_value(json_object_get(echo, "userAgent")), "tg-test/1");
    json_decref(echo);
    result_clear(&r);
    finish(&loop, http);
}

static void test_status_and_redirect(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_t *http = oidc_http_new(&loop, NULL);
    struct result r503 = {0}, r302 = {0}, r404 = {0};
    size_t hello_before = np_count(&peer, "REQ GET /hello");
    assert_non_null(
        oidc_http_request(http, OIDC_HTTP_GET, url("/status?code=503"), NULL, NULL, 0, record, &r503));
    assert_non_null(oidc_http_request(http, OIDC_HTTP_GET, url("/redirect"), NULL, NULL, 0, record, &r302));
    assert_non_null(oidc_http_request(http, OIDC_HTTP_GET, url("/nowhere"), NULL, NULL, 0, record, &r404));
    np_run_loop(&loop);
    /* any HTTP status is a response: the transport worked */
    assert_int_equal(r503.error, OIDC_HTTP_OK);
    assert_int_equal(r503.status, 503);
    assert_string_equal(r503.body, "status 503");
    /* redirects are never followed */
    assert_int_equal(r302.error, OIDC_HTTP_OK);
    assert_int_equal(r302.status, 302);
    assert_string_equal(r302.body, "moved");
    assert_int_equal(r404.status, 404);
    /* nothing went to the redirect's target */
    assert_int_equal(np_count(&peer, "REQ GET /hello"), hello_before);
    result_clear(&r503);
    result_clear(&r302);
    result_clear(&r404);
    finish(&loop, http);
}

static void never_called(const oidc_http_response_t *res, void *data)
{
    fail_msg("callback of a refused or cancelled request ran (error %s)", oidc_http_error_code(res->error));
}

static void test_bad_arguments(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_t *http = oidc_http_new(&loop, NULL);
    static const char *const bad_urls[] = {
        "",
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http//127.0.0.1/",
        "http://",
        "https://",
        "http://exa mple/",
        "http://127.0.0.1/\r\nX: y",
        "/relative/path",
        "127.0.0.1:80/",
        "http://127.0.0.1/\x80",
    };
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); ++i) {
        if (oidc_http_request(http, OIDC_HTTP_GET, bad_urls[i], NULL, NULL, 0, never_called, NULL) != NULL)
            fail_msg("URL accepted: \"%s\"", bad_urls[i]);
    }
    char *long_url = malloc(OIDC_HTTP_MAX_URL + 32);
    snprintf(long_url, OIDC_HTTP_MAX_URL + 32, "%s/", base);
    memset(long_url + strlen(long_url), 'a', OIDC_HTTP_MAX_URL);
    long_url[OIDC_HTTP_MAX_URL + 1] = '\0';
    assert_null(oidc_http_request(http, OIDC_HTTP_GET, long_url, NULL, NULL, 0, never_called, NULL));
    free(long_url);

    const char *ok = url("/hello");
    /* GET with a body, POST beyond the body limit, unknown method, no callback */
    assert_null(oidc_http_request(http, OIDC_HTTP_GET, ok, NULL, "a=b", 3, never_called, NULL));
    assert_null(oidc_http_request(http, OIDC_HTTP_POST, ok, NULL, NULL, 5, never_called, NULL));
    assert_null(
        oidc_http_request(http, OIDC_HTTP_POST, ok, NULL, "x", OIDC_HTTP_MAX_BODY + 1, never_called, NULL));
    assert_null(oidc_http_request(http, (oidc_http_method_t)7, ok, NULL, NULL, 0, never_called, NULL));
    assert_null(oidc_http_request(http, OIDC_HTTP_GET, ok, NULL, NULL, 0, NULL, NULL));
    assert_null(oidc_http_request(http, OIDC_HTTP_GET, NULL, NULL, NULL, 0, never_called, NULL));
    assert_null(oidc_http_request(NULL, OIDC_HTTP_GET, ok, NULL, NULL, 0, never_called, NULL));
    /* header injection and malformed headers */
    static const char *const bad_headers[][2] = {{"X-A: 1\r\nX-B: 2", NULL},
                                                 {"no colon", NULL},
                                                 {": empty name", NULL},
                                                 {"", NULL},
                                                 {"X: a\nb", NULL}};
    for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); ++i)
        assert_null(oidc_http_request(http, OIDC_HTTP_GET, ok, bad_headers[i], NULL, 0, never_called, NULL));
    const char *many[OIDC_HTTP_MAX_HEADERS + 2];
    for (size_t i = 0; i < OIDC_HTTP_MAX_HEADERS + 1; ++i)
        many[i] = "X-Many: 1";
    many[OIDC_HTTP_MAX_HEADERS + 1] = NULL;
    assert_null(oidc_http_request(http, OIDC_HTTP_GET, ok, many, NULL, 0, never_called, NULL));
    assert_int_equal(oidc_http_pending(http), 0);

    /* upper-case schemes are fine */
    char upper[300];
    snprintf(upper, sizeof(upper), "HTTP://%s/hello", base + strlen("http://"));
    struct result r = {0};
    assert_non_null(oidc_http_request(http, OIDC_HTTP_GET, upper, NULL, NULL, 0, record, &r));
    np_run_loop(&loop);
    assert_int_equal(r.status, 200);
    result_clear(&r);

    /* options out of range */
    static const oidc_http_options_t bad_opts[] = {
        {.connect_timeout_ms = -1},
        {.total_timeout_ms = -5},
        {.total_timeout_ms = OIDC_HTTP_MAX_TIMEOUT_MS + 1},
        {.max_response = OIDC_HTTP_MAX_RESPONSE_LIMIT + 1},
        {.ca_file = ""},
        {.proxy = ""},
        {.user_agent = "a\r\nX-Injected: 1"},
    };
    for (size_t i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); ++i)
        assert_null(oidc_http_new(&loop, &bad_opts[i]));
    assert_null(oidc_http_new(NULL, NULL));
    finish(&loop, http);
}

struct ticker {
    int ticks;
    int done;
};

static void on_tick(uv_timer_t *t)
{
    struct ticker *tk = t->data;
    tk->ticks++;
    if (tk->done)
        uv_close((uv_handle_t *)t, NULL);
}

struct timed {
    struct result r;
    struct ticker *tk;
};

static void record_and_stop_ticker(const oidc_http_response_t *res, void *data)
{
    struct timed *t = data;
    record(res, &t->r);
    t->tk->done = 1;
}

static void test_total_timeout_keeps_loop_running(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_options_t opt = {.total_timeout_ms = 600, .connect_timeout_ms = 300};
    oidc_http_t *http = oidc_http_new(&loop, &opt);
    struct ticker tk = {0};
    struct timed t = {.tk = &tk};
    uv_timer_t ticker;
    uv_timer_init(&loop, &ticker);
    ticker.data = &tk;
    uv_timer_start(&ticker, on_tick, 20, 20);
    uint64_t start = uv_hrtime() / 1000000u;
    assert_non_null(
        oidc_http_request(http, OIDC_HTTP_GET, url("/hang"), NULL, NULL, 0, record_and_stop_ticker, &t));
    np_run_loop(&loop);
    uint64_t took = t.r.done_at - start;
    assert_int_equal(t.r.calls, 1);
    assert_int_equal(t.r.error, OIDC_HTTP_TIMEOUT);
    assert_int_equal(t.r.status, 0);
    assert_string_equal(t.r.body, "");
    assert_true(strlen(t.r.error_text) > 0);
    /* the connect timeout (300 ms) does not apply once connected: the total one does */
    if (took < 550 || took > 1100)
        fail_msg("timed out after %llu ms, configured 600", (unsigned long long)took);
    /* the loop kept running: a 20 ms timer fired throughout */
    if (tk.ticks < 20)
        fail_msg("only %d ticks of a 20 ms timer in %llu ms: the loop was blocked", tk.ticks,
                 (unsigned long long)took);
    print_message("timeout after %llu ms (configured 600), %d ticks of 20 ms meanwhile\n",
                  (unsigned long long)took, tk.ticks);
    result_clear(&t.r);
    finish(&loop, http);
}

static void test_max_response(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_options_t opt = {.max_response = 1000};
    oidc_http_t *http = oidc_http_new(&loop, &opt);
    static const struct {
        const char *path;
        oidc_http_error_t error;
        size_t len;
    } cases[] = {
        {"/big?n=1000", OIDC_HTTP_OK, 1000},
        {"/big?n=1000&chunked=1", OIDC_HTTP_OK, 1000},
        {"/big?n=1001", OIDC_HTTP_TOO_LARGE, 0},
        {"/big?n=1001&chunked=1", OIDC_HTTP_TOO_LARGE, 0},
        {"/big?n=5000000", OIDC_HTTP_TOO_LARGE, 0},
        {"/big?n=50000&chunked=1", OIDC_HTTP_TOO_LARGE, 0},
        {"/big?n=0", OIDC_HTTP_OK, 0},
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    struct result r[N];
    memset(r, 0, sizeof(r));
    for (size_t i = 0; i < N; ++i)
        assert_non_null(
            oidc_http_request(http, OIDC_HTTP_GET, url(cases[i].path), NULL, NULL, 0, record, &r[i]));
    np_run_loop(&loop);
    for (size_t i = 0; i < N; ++i) {
        if (r[i].calls != 1 || r[i].error != cases[i].error || r[i].body_len != cases[i].len)
            fail_msg("%s: calls %d error %s len %zu", cases[i].path, r[i].calls,
                     oidc_http_error_code(r[i].error), r[i].body_len);
        if (cases[i].error == OIDC_HTTP_OK)
            assert_int_equal(r[i].status, 200);
        else
            assert_int_equal(r[i].status, 0);
        result_clear(&r[i]);
    }
    finish(&loop, http);
}

/* A port nobody listens on: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void test_connection_errors(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_t *http = oidc_http_new(&loop, NULL);
    char refused[64];
    snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/x", closed_port());
    struct result r1 = {0}, r2 = {0};
    uint64_t start = uv_hrtime() / 1000000u;
    assert_non_null(oidc_http_request(http, OIDC_HTTP_GET, refused, NULL, NULL, 0, record, &r1));
    assert_non_null(oidc_http_request(http, OIDC_HTTP_GET, url("/close"), NULL, NULL, 0, record, &r2));
    np_run_loop(&loop);
    assert_int_equal(r1.error, OIDC_HTTP_CONNECT);
    assert_int_equal(r1.status, 0);
    assert_true(r1.done_at - start < 1000);
    /* the error text is a fixed phrase: no URL, host or port in it */
    assert_null(strstr(r1.error_text, "127.0.0.1"));
    /* a server that closes without a word */
    assert_int_equal(r2.error, OIDC_HTTP_PROTOCOL);
    result_clear(&r1);
    result_clear(&r2);
    finish(&loop, http);
}

struct cancel_case {
    oidc_http_request_t *victim;
    struct result r;
};

static void cancel_victim(const oidc_http_response_t *res, void *data)
{
    struct cancel_case *c = data;
    record(res, &c->r);
    oidc_http_cancel(c->victim); /* the other request is on the wire by now */
    c->victim = NULL;
}

static void cancel_self(const oidc_http_response_t *res, void *data)
{
    int *calls = data;
    (*calls)++;
    /* a handle is valid during its own callback, where cancelling it does nothing */
}

static void test_cancel(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_t *http = oidc_http_new(&loop, NULL);
    size_t slow_before = np_count(&peer, "REQ GET /slow");

    /* cancelled before it started */
    oidc_http_request_t *early =
        oidc_http_request(http, OIDC_HTTP_GET, url("/slow?ms=300"), NULL, NULL, 0, never_called, NULL);
    assert_non_null(early);
    oidc_http_cancel(early);
    assert_int_equal(oidc_http_pending(http), 0);
    oidc_http_cancel(NULL);

    /* cancelled while in flight, from another request's callback */
    struct cancel_case c = {0};
    c.victim = oidc_http_request(http, OIDC_HTTP_GET, url("/slow?ms=400"), NULL, NULL, 0, never_called, NULL);
    assert_non_null(c.victim);
    assert_non_null(
        oidc_http_request(http, OIDC_HTTP_GET, url("/slow?ms=100"), NULL, NULL, 0, cancel_victim, &c));
    uint64_t start = uv_hrtime() / 1000000u;
    np_run_loop(&loop);
    /* the loop ended when the cancelled request was gone, without waiting for its answer */
    assert_true(uv_hrtime() / 1000000u - start < 350);
    assert_int_equal(c.r.calls, 1);
    assert_int_equal(c.r.status, 200);
    assert_null(c.victim);
    assert_int_equal(oidc_http_pending(http), 0);
    /* both in-flight requests reached the server (the early one never left) */
    assert_int_equal(np_count(&peer, "REQ GET /slow"), slow_before + 2);
    result_clear(&c.r);

    int calls = 0;
    assert_non_null(
        oidc_http_request(http, OIDC_HTTP_GET, url("/hello"), NULL, NULL, 0, cancel_self, &calls));
    np_run_loop(&loop);
    assert_int_equal(calls, 1);
    finish(&loop, http);
}

struct shutdown_case {
    oidc_http_t *http;
    int calls;
    int refused_new;
    oidc_http_error_t errors[3];
};

static void on_shutdown(const oidc_http_response_t *res, void *data)
{
    struct shutdown_case *s = data;
    s->errors[s->calls++] = res->error;
    /* a client being freed takes no new request */
    if (oidc_http_request(s->http, OIDC_HTTP_GET, url("/hello"), NULL, NULL, 0, never_called, NULL) == NULL)
        s->refused_new++;
}

static void free_client(uv_timer_t *t)
{
    struct shutdown_case *s = t->data;
    oidc_http_free(s->http);
    /* every callback ran inside oidc_http_free */
    assert_int_equal(s->calls, 3);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_free_with_requests_in_flight(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct shutdown_case s = {0};
    s.http = oidc_http_new(&loop, NULL);
    size_t hang_before = np_count(&peer, "REQ GET /hang");
    assert_non_null(oidc_http_request(s.http, OIDC_HTTP_GET, url("/hang"), NULL, NULL, 0, on_shutdown, &s));
    assert_non_null(
        oidc_http_request(s.http, OIDC_HTTP_GET, url("/slow?ms=5000"), NULL, NULL, 0, on_shutdown, &s));
    assert_non_null(oidc_http_request(s.http, OIDC_HTTP_POST, url("/hang"), NULL, "a=b", 3, on_shutdown, &s));
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &s;
    uv_timer_start(&t, free_client, 200, 0);
    np_run_loop(&loop);
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.refused_new, 3);
    for (int i = 0; i < 3; ++i)
        assert_int_equal(s.errors[i], OIDC_HTTP_SHUTDOWN);
    /* every handle closed: nothing left on the loop (and ASan sees no leak) */
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(np_count(&peer, "REQ GET /hang"), hang_before + 1);
}

struct free_inside {
    oidc_http_t *http;
    struct result first, other;
};

static void free_from_callback(const oidc_http_response_t *res, void *data)
{
    struct free_inside *f = data;
    record(res, &f->first);
    oidc_http_free(f->http); /* from inside its own callback */
}

static void record_other(const oidc_http_response_t *res, void *data)
{
    struct free_inside *f = data;
    record(res, &f->other);
}

static void test_free_from_own_callback(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct free_inside f = {0};
    f.http = oidc_http_new(&loop, NULL);
    assert_non_null(
        oidc_http_request(f.http, OIDC_HTTP_GET, url("/hello"), NULL, NULL, 0, free_from_callback, &f));
    assert_non_null(oidc_http_request(f.http, OIDC_HTTP_GET, url("/hang"), NULL, NULL, 0, record_other, &f));
    np_run_loop(&loop);
    assert_int_equal(f.first.calls, 1);
    assert_int_equal(f.first.status, 200);
    assert_int_equal(f.other.calls, 1);
    assert_int_equal(f.other.error, OIDC_HTTP_SHUTDOWN);
    assert_int_equal(uv_loop_close(&loop), 0);
    result_clear(&f.first);
    result_clear(&f.other);
}

static void test_concurrent_requests(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_t *http = oidc_http_new(&loop, NULL);
    enum { N = 30 };
    struct result r[N];
    memset(r, 0, sizeof(r));
    uint64_t start = uv_hrtime() / 1000000u;
    for (int i = 0; i < N; ++i)
        assert_non_null(
            oidc_http_request(http, OIDC_HTTP_GET, url("/slow?ms=200"), NULL, NULL, 0, record, &r[i]));
    assert_int_equal(oidc_http_pending(http), N);
    np_run_loop(&loop);
    uint64_t took = uv_hrtime() / 1000000u - start;
    for (int i = 0; i < N; ++i) {
        assert_int_equal(r[i].status, 200);
        assert_string_equal(r[i].body, "slow");
        result_clear(&r[i]);
    }
    /* in parallel: 30 requests of 200 ms each take far less than 30 x 200 ms */
    print_message("%d concurrent 200 ms requests took %llu ms\n", N, (unsigned long long)took);
    assert_true(took < 2000);
    finish(&loop, http);
}

struct thread_case {
    oidc_http_t *http;
    int refused;
};

static void *request_from_other_thread(void *arg)
{
    struct thread_case *c = arg;
    c->refused =
        oidc_http_request(c->http, OIDC_HTTP_GET, url("/hello"), NULL, NULL, 0, never_called, NULL) == NULL;
    return NULL;
}

static void test_other_thread_refused(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct thread_case c = {.http = oidc_http_new(&loop, NULL)};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, request_from_other_thread, &c), 0);
    pthread_join(thread, NULL);
    assert_true(c.refused);
    assert_int_equal(oidc_http_pending(c.http), 0);
    finish(&loop, c.http);
}

static void test_https(void **state)
{
    char dir[] = "/tmp/tg-http-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[2048], cert[128], key[128], other[128];
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(other, sizeof(other), "%s/other.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=tg-test "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s/other.key -out %s 2>/dev/null",
             key, cert, dir, other);
    assert_int_equal(system(cmd), 0);
    np_peer_t tls;
    const char *const args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    assert_int_equal(np_start(&tls, "http_peer.mjs", args), 0);
    char ok_url[512], localhost_url[512];
    snprintf(ok_url, sizeof(ok_url), "%s/hello", tls.ready);
    snprintf(localhost_url, sizeof(localhost_url), "https://localhost:%s/hello", strrchr(tls.ready, ':') + 1);

    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_options_t trusted = {.ca_file = cert}, wrong_ca = {.ca_file = other};
    oidc_http_t *good = oidc_http_new(&loop, &trusted);
    oidc_http_t *system_store = oidc_http_new(&loop, NULL);
    oidc_http_t *bad = oidc_http_new(&loop, &wrong_ca);
    struct result r_ok = {0}, r_name = {0}, r_system = {0}, r_bad = {0};
    assert_non_null(oidc_http_request(good, OIDC_HTTP_GET, ok_url, NULL, NULL, 0, record, &r_ok));
    assert_non_null(oidc_http_request(good, OIDC_HTTP_GET, localhost_url, NULL, NULL, 0, record, &r_name));
    assert_non_null(oidc_http_request(system_store, OIDC_HTTP_GET, ok_url, NULL, NULL, 0, record, &r_system));
    assert_non_null(oidc_http_request(bad, OIDC_HTTP_GET, ok_url, NULL, NULL, 0, record, &r_bad));
    np_run_loop(&loop);
    assert_int_equal(r_ok.error, OIDC_HTTP_OK);
    assert_int_equal(r_ok.status, 200);
    assert_string_equal(r_ok.body, "hello");
    /* the certificate names 127.0.0.1 only */
    assert_int_equal(r_name.error, OIDC_HTTP_TLS);
    /* a self-signed certificate is not in the system store, nor signed by another CA */
    assert_int_equal(r_system.error, OIDC_HTTP_TLS);
    assert_int_equal(r_bad.error, OIDC_HTTP_TLS);
    result_clear(&r_ok);
    result_clear(&r_name);
    result_clear(&r_system);
    result_clear(&r_bad);
    oidc_http_free(system_store);
    oidc_http_free(bad);
    finish(&loop, good);
    np_stop(&tls);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_strings),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_post_form),
        cmocka_unit_test(test_status_and_redirect),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_total_timeout_keeps_loop_running),
        cmocka_unit_test(test_max_response),
        cmocka_unit_test(test_connection_errors),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_free_with_requests_in_flight),
        cmocka_unit_test(test_free_from_own_callback),
        cmocka_unit_test(test_concurrent_requests),
        cmocka_unit_test(test_other_thread_refused),
        cmocka_unit_test(test_https),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
