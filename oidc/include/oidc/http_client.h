#ifndef OIDC_HTTP_CLIENT_H
#define OIDC_HTTP_CLIENT_H

/*
 * Asynchronous HTTP client for talking to an identity provider: libcurl's
 * multi interface driven by a libuv loop (curl_multi_socket_action, one
 * uv_poll_t per socket, one uv_timer_t for curl's timeouts). Nothing blocks
 * the loop; DNS runs on curl's resolver thread.
 *
 * One client per loop, used only from the thread that runs that loop (the
 * gateway has one per worker). Connections are kept alive and reused per
 * client. Only http and https URLs are accepted, redirects are never followed
 * (a 3xx is returned to the caller as it is), proxies from the environment
 * are ignored, and TLS peers are always verified.
 */

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/** Defaults used when an option is 0 or NULL. */
#define OIDC_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 2000
#define OIDC_HTTP_DEFAULT_TOTAL_TIMEOUT_MS 5000
#define OIDC_HTTP_DEFAULT_MAX_RESPONSE (1024 * 1024)
#define OIDC_HTTP_DEFAULT_USER_AGENT "tenantgate-oidc/0.1"
/** Largest values accepted for the options and request parts. */
#define OIDC_HTTP_MAX_TIMEOUT_MS 600000
#define OIDC_HTTP_MAX_RESPONSE_LIMIT (64 * 1024 * 1024)
#define OIDC_HTTP_MAX_URL 4096
#define OIDC_HTTP_MAX_HEADERS 32
#define OIDC_HTTP_MAX_HEADER 8192
#define OIDC_HTTP_MAX_BODY (256 * 1024)

/*
 * Why a request produced no HTTP response. Codes are stable (logs, metrics);
 * messages are short and never hold a URL, header or body.
 *
 * X(NAME, "code", "message")
 */
#define OIDC_HTTP_ERROR_MAP(X)                                                                               \
    X(OK, "ok", "a response arrived")                                                                        \
    X(INVALID_ARGUMENT, "invalid_argument", "bad URL, method, header, body or option")                       \
    X(RESOLVE, "resolve", "host name could not be resolved")                                                 \
    X(CONNECT, "connect", "connection refused or host unreachable")                                          \
    X(TIMEOUT, "timeout", "connect or total timeout expired")                                                \
    X(TLS, "tls", "TLS handshake or certificate verification failed")                                        \
    X(TOO_LARGE, "too_large", "response body larger than the limit")                                         \
    X(PROTOCOL, "protocol", "malformed, empty or truncated HTTP response")                                   \
    X(IO, "io", "connection failed while sending or receiving")                                              \
    X(SHUTDOWN, "shutdown", "client freed while the request was in flight")                                  \
    X(INTERNAL, "internal", "out of memory or libcurl failure")

/** Transport outcome of a request; OIDC_HTTP_OK (0) whenever an HTTP response arrived, whatever its status.
 */
typedef enum {
#define OIDC_HTTP_ERROR_ENUM(name, code, message) OIDC_HTTP_##name,
    OIDC_HTTP_ERROR_MAP(OIDC_HTTP_ERROR_ENUM)
#undef OIDC_HTTP_ERROR_ENUM
        OIDC_HTTP_ERROR_COUNT
} oidc_http_error_t;

/** Stable short code ("timeout"); "unknown" outside the enum. */
const char *oidc_http_error_code(oidc_http_error_t error);

/** One-line English explanation; "unknown error" outside the enum. */
const char *oidc_http_error_message(oidc_http_error_t error);

/** Request methods. */
typedef enum { OIDC_HTTP_GET, OIDC_HTTP_POST } oidc_http_method_t;

/** Client settings. Strings are copied; zero/NULL members take the defaults above. */
typedef struct {
    /** PEM file of CAs trusted for https, or NULL for the system store. */
    const char *ca_file;
    /** Connect timeout (TCP + TLS handshake) in ms; 0 for 2 s. */
    long connect_timeout_ms;
    /** Whole-request timeout in ms; 0 for 5 s. */
    long total_timeout_ms;
    /** Largest response body in bytes; 0 for 1 MiB. */
    size_t max_response;
    /** User-Agent header; NULL for OIDC_HTTP_DEFAULT_USER_AGENT. */
    const char *user_agent;
    /** http(s) proxy URL, or NULL to connect directly (http_proxy and friends are ignored). */
    const char *proxy;
} oidc_http_options_t;

/** What a request produced; everything is borrowed for the duration of the callback. */
typedef struct {
    /** OIDC_HTTP_OK when an HTTP response arrived (any status), else why not. */
    oidc_http_error_t error;
    /** Short static text for the log ("" when error is OK); never holds a URL, header or body. */
    const char *error_text;
    /** HTTP status code, 0 when no response arrived. */
    long status;
    /** Response body, NUL-terminated, never NULL ("" when empty or on error). */
    const char *body;
    size_t body_len;
    /** Content-Type of the response, or NULL. */
    const char *content_type;
    /** Time from the request's start to its end, in ms. */
    uint64_t elapsed_ms;
} oidc_http_response_t;

/** Completion callback: runs exactly once per request, on the client's loop, unless the request is cancelled.
 */
typedef void (*oidc_http_cb)(const oidc_http_response_t *response, void *data);

/** A client bound to one loop. */
typedef struct oidc_http oidc_http_t;

/** A request in flight. */
typedef struct oidc_http_request oidc_http_request_t;

/**
 * Creates a client on loop, used only from the thread that runs loop. opt
 * may be NULL for all defaults. Returns NULL when an option is out of range
 * (negative or above the limits above, a proxy or CA path that is empty) or
 * memory is short.
 */
oidc_http_t *oidc_http_new(uv_loop_t *loop, const oidc_http_options_t *opt);

/**
 * Starts a request. url must be an absolute http or https URL of at most
 * OIDC_HTTP_MAX_URL bytes. headers is NULL or a NULL-terminated array of
 * "Name: value" lines (no CR or LF). body is for POST only (len bytes, a
 * form: Content-Type defaults to application/x-www-form-urlencoded); GET
 * takes none. The body and headers are copied, and wiped from memory when
 * the request ends (they may hold credentials). Returns a handle valid until
 * cb starts running or oidc_http_cancel returns; NULL (cb never runs) on a bad
 * argument, a call from another thread, a client being freed, or no memory.
 */
oidc_http_request_t *oidc_http_request(oidc_http_t *http, oidc_http_method_t method, const char *url,
                                       const char *const *headers, const char *body, size_t body_len,
                                       oidc_http_cb cb, void *data);

/** Aborts a request in flight; its callback then never runs. NULL is a no-op; so is a call from its own
 * callback. */
void oidc_http_cancel(oidc_http_request_t *request);

/** Number of requests in flight. */
size_t oidc_http_pending(const oidc_http_t *http);

/** The loop the client runs on. */
uv_loop_t *oidc_http_loop(const oidc_http_t *http);

/**
 * Frees the client: every request in flight completes at once (inside this
 * call) with OIDC_HTTP_SHUTDOWN, so owners can release their state, and every
 * waiting oidc_provider operation bound to it completes the same way. Its
 * libuv handles are closed; their memory is released by the close callbacks,
 * so run the loop afterwards (uv_run) before uv_loop_close. May be called
 * from one of the client's own callbacks. NULL is a no-op.
 */
void oidc_http_free(oidc_http_t *http);

#endif
