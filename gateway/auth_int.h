#ifndef GW_AUTH_INT_H
#define GW_AUTH_INT_H

/*
 * Internal to the browser login files (auth_*.c): the operation that carries
 * a request across async store and IdP calls, the session lookup shared by
 * the identity step, /me and logout, and the small request and response
 * helpers. Not for the rest of the gateway: its API is auth_handler.h.
 */

#include <h2o.h>
#include <stdint.h>

#include "auth_handler.h"
#include "authservice/backchannel.h"
#include "authservice/login_cookie.h"
#include "authservice/login_state.h"
#include "authservice/session_id.h"

#define GW_AUTH_SESSION_COOKIE "__Host-tenantgate"
#define GW_AUTH_LOGIN_TTL_MS (10u * 60 * 1000)
#define GW_AUTH_PREFIX "/authservice/"
#define GW_AUTH_STORE_DOWN "The session store is not available. Try again shortly."

/** What an operation is for; decides where a finished session lookup goes (gw__auth_lookup_finish). */
typedef enum {
    GW_AUTH_OP_IDENTIFY,
    GW_AUTH_OP_LOGIN,
    GW_AUTH_OP_CALLBACK,
    GW_AUTH_OP_ME,
    GW_AUTH_OP_LOGOUT_PAGE,
    GW_AUTH_OP_LOGOUT,
    GW_AUTH_OP_LOGOUT_DELETED, /* logout whose store delete is under way */
    GW_AUTH_OP_BACKCHANNEL,    /* POST /authservice/backchannel-logout */
} gw_auth_op_kind_t;

typedef struct gw_auth_op gw_auth_op_t;

/** Pool-shared back pointer from a request to its operation; cleared when the request goes away. */
typedef struct {
    gw_auth_op_t *op;
} gw_auth_op_link_t;

/** One request's async work (malloc'd; outlives the request when it goes away meanwhile). */
struct gw_auth_op {
    h2o_req_t *req; /* NULL once the request is gone */
    gw_auth_op_link_t *link;
    gw_auth_worker_t *w;
    gw_auth_op_kind_t kind;
    int in_call, done_in_call; /* a completion that ran inside the call that started it (sqlite) */
    char request_id[48];
    char key[AS_SESSION_KEY_LEN + 1];       /* session store key */
    char session_id[AS_SESSION_ID_LEN + 1]; /* the cookie's id (logout) or a new one (callback) */
    uint64_t epoch;
    as_store_status_t status;
    as_cached_session_t *session;
    as_login_state_t *login;
    char state[AS_LOGIN_STATE_LEN + 1];
    char *code;
    char *refresh_token; /* callback: from the code exchange until it is sealed into the record */
    char *return_to;
    char *redirect; /* Location of a pending 302 */
    char login_cookie[AS_LOGIN_COOKIE_VALUE_SIZE];
    char *store_key;
    as_session_record_t *pending;  /* read from the store, waiting for the idle check */
    int reads_pending;             /* lookup miss: store reads not answered yet */
    as_store_status_t seen_status; /* lookup miss: the idle marker's read */
    gw_auth_op_t *next_miss;       /* lookup miss: the worker's next miss in flight (w->misses) */
    gw_auth_op_t *waiters;         /* lookup miss: lookups of the same key waiting for this one's answer */
    gw_auth_op_t *next_waiter;     /* waiting lookup: the next one waiting for the same miss */
    gw_auth_resume_cb resume;
    h2o_handler_t *handler;
    char index[AS_BACKCHANNEL_NAME_SIZE]; /* back-channel logout: the session index being ended */
    size_t deletes_pending;               /* back-channel logout: store deletes not answered yet */
    int failed;                           /* back-channel logout: one of them failed */
};

/* ---- operations (auth_op.c) ---- */

/** A new operation linked to req, or NULL when memory is short. */
gw_auth_op_t *gw__auth_op_new(gw_auth_worker_t *w, h2o_req_t *req, gw_auth_op_kind_t kind,
                              const char *request_id);

/** Frees op and returns its request (NULL when it went away), detached: op is gone. */
h2o_req_t *gw__auth_op_end(gw_auth_op_t *op);

/** Ends op and answers its request (if still there) with an error page. */
void gw__auth_op_fail(gw_auth_op_t *op, int status, const char *message);

/** A store completion of op: finishes it now, or marks it done when it ran inside the starting call. */
void gw__auth_lookup_done(gw_auth_op_t *op);

/** Goes on with op once its session lookup (or logout delete) has its answer, by op->kind. */
void gw__auth_lookup_finish(gw_auth_op_t *op);

/* ---- session lookup (auth_lookup.c) ---- */

/**
 * Looks the session of the request's cookie up: 1 when the answer is in op
 * (status, session; a store that cannot be asked is a status too), 0 when it
 * will come through gw__auth_lookup_finish.
 */
int gw__auth_lookup_session(gw_auth_op_t *op);

/**
 * The first half of a lookup, without an operation (the identity step's cache
 * hit needs none): finds the well-formed session cookie of req, writes its
 * store key into key (AS_SESSION_KEY_LEN + 1 bytes) and asks this process's
 * cache (counted in the metrics, hit or miss). Returns 1 when that is the
 * answer: *status AS_STORE_OK with *session (retained: the caller releases
 * it) on a hit, AS_STORE_NOT_FOUND without a usable cookie,
 * AS_STORE_UNAVAILABLE on a miss without a store. Returns 0 on a miss the
 * store must answer: gw__auth_read_session with that key.
 */
int gw__auth_probe_session(gw_auth_worker_t *w, h2o_req_t *req, char *key, as_store_status_t *status,
                           as_cached_session_t **session);

/**
 * The second half: reads op->key from the store after a cache miss (or waits
 * for the miss of that key already in flight). 1 when the answer is in op,
 * 0 when it will come through gw__auth_lookup_finish.
 */
int gw__auth_read_session(gw_auth_op_t *op);

/** Looks the session up and goes on through gw__auth_lookup_finish, now or later. */
void gw__auth_start_lookup(gw_auth_op_t *op);

/** The record of a lookup's answer when it is live, or NULL (no session, expired); *down when the store
 * failed. */
const as_session_record_t *gw__auth_live_record(as_store_status_t status, const as_cached_session_t *session,
                                                int *down);

/** gw__auth_live_record of op's lookup. */
const as_session_record_t *gw__auth_found_record(const gw_auth_op_t *op, int *down);

/** The idle marker's store key of session key key (malloc'd), NULL when memory is short. */
char *gw__auth_seen_key(const char *key);

/**
 * Ends the session of store key key everywhere: this process's cache, the
 * other replicas' caches (ended-session feed), its idle marker, and its
 * record, whose delete reports to cb (which may run before this returns).
 * Returns 0 when cb will run, -1 when the delete could not be started.
 */
int gw__auth_end_session(gw_auth_worker_t *w, const char *key, as_store_cb cb, void *data);

/** A store callback for writes whose result nobody waits for. */
void gw__auth_ignore_result(void *data, as_store_status_t status, const char *value, size_t len);

/* ---- per-flow steps ---- */

/** The identity step's continuation (auth_identify.c). */
void gw__auth_identify_done(gw_auth_op_t *op);

/** /authservice/me after the lookup (auth_me.c). */
void gw__auth_send_me(gw_auth_op_t *op);

/** GET /authservice/logout after the lookup (auth_logout.c). */
void gw__auth_send_logout_page(gw_auth_op_t *op);

/** POST /authservice/logout after the lookup (auth_logout.c). */
void gw__auth_do_logout(gw_auth_op_t *op);

/** POST /authservice/logout once the store delete answered (auth_logout.c). */
void gw__auth_finish_logout(gw_auth_op_t *op);

/** Checks the CSRF token of a logout POST; 0 when it may go on, else the request was answered 403. */
int gw__auth_logout_check(h2o_req_t *req, const char *request_id);

/**
 * Starts a background refresh of the IdP tokens of session r (store key key)
 * when they end within sessions.refreshBefore and no other worker or replica
 * is refreshing it; never delays the caller (auth_refresh.c).
 */
void gw__auth_maybe_refresh(gw_auth_worker_t *w, const as_session_record_t *r, const char *key);

/** Remembers req's client connection when req is a websocket request of session key (auth_websockets.c). */
void gw__auth_ws_track(h2o_req_t *req, const char *key);

/** Shuts down this worker's websocket connections of session key; returns how many. */
size_t gw__auth_ws_close(const char *key);

/** Closes this worker's websockets whose session record is gone (reads each tracked session's record). */
void gw__auth_ws_recheck(gw_auth_worker_t *w);

/** POST /authservice/backchannel-logout (auth_backchannel.c). */
void gw__auth_start_backchannel(gw_auth_op_t *op);

/**
 * Adds (add != 0) or removes the session of store key key to or from the
 * back-channel logout indexes of its IdP session and user (auth_backchannel.c).
 * Fire and forget: a failure is logged.
 */
void gw__auth_index_session(gw_auth_worker_t *w, const as_session_record_t *r, const char *key, int add);

/** /authservice/login (auth_login.c). */
void gw__auth_start_login(gw_auth_op_t *op, const char *query, size_t query_len);

/** /authservice/callback (auth_login.c). */
void gw__auth_start_callback(gw_auth_op_t *op, const char *query, size_t query_len);

/* ---- request and response helpers (auth_http.c) ---- */

/** Monotonic milliseconds (the session cache's clock). */
int64_t gw__auth_now_ms(void);

/** Wall-clock milliseconds since the epoch (shared by replicas: the ended-session feed's buckets). */
int64_t gw__auth_wall_ms(void);

/** prefix followed by s, malloc'd; NULL when memory is short. */
char *gw__auth_prefixed(const char *prefix, const char *s);

/** The value of cookie name in any Cookie header of req: 1 when found. */
int gw__auth_find_cookie(h2o_req_t *req, const char *name, const char **value, size_t *len);

/** The value of the first header token of req, or NULL. */
const char *gw__auth_header_value(h2o_req_t *req, const h2o_token_t *token, size_t *len);

/** The raw (still encoded) value of name in a query or form body: 1 when found. */
int gw__auth_form_param(const char *s, size_t len, const char *name, const char **value, size_t *value_len);

/** Percent-decodes a form value into a new string; NULL on a bad escape, NUL or control byte. */
char *gw__auth_form_decode(const char *s, size_t len);

/** A copy of s in the request's pool (NULL stays NULL). */
const char *gw__auth_pool_strdup(h2o_req_t *req, const char *s);

/** Adds a response header (value copied into the pool). */
void gw__auth_add_header(h2o_req_t *req, const h2o_token_t *token, const char *value);

/** Adds a Set-Cookie for one of the gateway's cookies (host-only, Secure, HttpOnly, Lax). */
void gw__auth_set_cookie(h2o_req_t *req, const char *name, const char *value, int64_t max_age);

/** A 302 that keeps the Set-Cookie headers already on req->res (h2o_send_redirect drops them). */
void gw__auth_send_redirect(h2o_req_t *req, const char *location);

/** A JSON response that is never cached. */
void gw__auth_send_json(h2o_req_t *req, int status, const char *json);

/** 401 for API clients, with WWW-Authenticate. */
void gw__auth_send_401_json(h2o_req_t *req, const char *request_id);

#endif
