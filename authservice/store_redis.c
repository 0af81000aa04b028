/*
 * Redis store backend: hiredis 0.14 async on the handle's libuv loop, direct or through Sentinel.
 *
 * hiredis has no command timeout, so every op sits in `waiting` (ordered by deadline) until its reply or
 * its deadline, whichever comes first; one timer walks that list. An op that timed out after being sent
 * becomes an orphan: its caller has had TIMEOUT, and the op record lives on, owned by hiredis, until the
 * late reply (or the connection's end) frees it. A connection whose oldest orphan has waited dead_after_ms
 * is dropped and reconnected.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>

#include "store_int.h"
#include "util/log.h"
#include "util/random.h"

#define MAX_CMDS 5
#define PEER_MAX 300
/* While connected through Sentinel, how often the Sentinel that answered is asked again: a forced failover
 * leaves the old master writable until Sentinel demotes it, which takes seconds. */
#define SENTINEL_WATCH_MS 1000

typedef enum { R_GET, R_SET, R_ADD, R_COUNT, R_MEMBERS, R_EXEC } reply_kind_t;
typedef enum { OP_QUEUED, OP_SENT, OP_ORPHAN, OP_DEFERRED } op_state_t;
/* BACKOFF: no attempt in progress, ops fail fast; SENTINEL: asking for the master; DATA: resolving,
 * connecting or handshaking with the data server (ops wait); READY: connected. */
typedef enum { PH_BACKOFF, PH_SENTINEL, PH_DATA, PH_READY } phase_t;

typedef struct rd_store rd_store_t;
typedef struct op op_t;

struct op {
    op_t *prev, *next;
    rd_store_t *st;
    reply_kind_t kind;
    op_state_t state;
    as_store_status_t status; /* OP_DEFERRED: what to deliver */
    as_store_cb cb;           /* one of cb and mcb is set */
    as_store_members_cb mcb;
    void *data;
    uint64_t deadline; /* loop time, ms */
    uint64_t sent_at;
    int ncmd; /* formatted commands, kept while OP_QUEUED */
    char *cmd[MAX_CMDS];
    size_t cmdlen[MAX_CMDS];
};

typedef struct {
    op_t *head, *tail;
    size_t count;
} op_list_t;

typedef struct resolve resolve_t;
struct resolve {
    uv_getaddrinfo_t req;
    rd_store_t *st;
    resolve_t *prev, *next;
    unsigned gen;
    uint16_t port;
    int sentinel;
};

struct rd_store {
    as_store_t base; /* first: the handle is cast both ways */
    uv_loop_t *loop;

    int sentinel;
    char *hosts[AS_STORE_URL_MAX_HOSTS];
    uint16_t ports[AS_STORE_URL_MAX_HOSTS];
    size_t host_count;
    char *master_name;
    char *username;
    char *password;
    char *password_file;
    unsigned db;
    uint32_t command_timeout_ms, connect_timeout_ms, reconnect_min_ms, reconnect_max_ms, max_pending;
    uint32_t dead_after_ms;

    phase_t phase;
    redisAsyncContext *ac;  /* data connection: connecting, handshaking or ready */
    redisAsyncContext *sac; /* Sentinel being asked */
    redisAsyncContext *wac; /* Sentinel watched while connected */
    int wac_busy;           /* a question to wac is unanswered */
    char sac_ip[INET6_ADDRSTRLEN], sentinel_ip[INET6_ADDRSTRLEN];
    char master_ip[256]; /* an address, or a name when Sentinel announces host names */
    uint16_t sac_port, sentinel_port, master_port; /* numeric: being asked, answered last, its answer */
    size_t sentinel_next, sentinel_tried, sentinel_current, sentinel_first;
    unsigned conn_gen; /* bumped per connection; stale resolutions compare it */
    char peer[PEER_MAX];
    uint32_t backoff_ms;
    uint32_t failed_attempts; /* since the last successful connection */
    int was_ready;
    uint64_t rng;

    uv_timer_t connect_timer, reconnect_timer, cmd_timer, watch_timer;
    uint64_t cmd_timer_due; /* loop time the cmd_timer fires at, UINT64_MAX when stopped */
    uv_idle_t idle;         /* delivers deferred results on the next loop iteration */
    op_list_t waiting, orphans, deferred;
    resolve_t *resolving;

    int closing;
    int refs; /* libuv handles not yet closed + resolutions in flight */
};

static void start_attempt(rd_store_t *st);
static void ask_next_sentinel(rd_store_t *st);
static void open_conn(rd_store_t *st, const char *host, uint16_t port, int sentinel);
static void on_reply(redisAsyncContext *c, void *reply, void *privdata);
static void on_idle(uv_idle_t *idle);
static void on_cmd_timer(uv_timer_t *timer);
static void on_reconnect_timer(uv_timer_t *timer);
static void on_watch_timer(uv_timer_t *timer);
static void flush_queued(rd_store_t *st);

/* ---- lists and ops ---- */

static void list_push(op_list_t *l, op_t *op)
{
    op->next = NULL;
    op->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = op;
    else
        l->head = op;
    l->tail = op;
    ++l->count;
}

static void list_remove(op_list_t *l, op_t *op)
{
    if (op->prev != NULL)
        op->prev->next = op->next;
    else
        l->head = op->next;
    if (op->next != NULL)
        op->next->prev = op->prev;
    else
        l->tail = op->prev;
    op->prev = op->next = NULL;
    --l->count;
}

static void free_cmds(op_t *op)
{
    for (int i = 0; i < op->ncmd; ++i)
        redisFreeCommand(op->cmd[i]);
    op->ncmd = 0;
}

static void free_op(op_t *op)
{
    free_cmds(op);
    free(op);
}

/* Calls the op's callback with a result that carries no value. */
static void call_plain(op_t *op, as_store_status_t status)
{
    if (op->mcb != NULL)
        op->mcb(op->data, status, NULL, NULL, 0);
    else
        op->cb(op->data, status, NULL, 0);
}

static void defer(rd_store_t *st, op_t *op, as_store_status_t status)
{
    free_cmds(op);
    op->state = OP_DEFERRED;
    op->status = status;
    list_push(&st->deferred, op);
    if (!uv_is_active((uv_handle_t *)&st->idle))
        uv_idle_start(&st->idle, on_idle);
}

static void on_idle(uv_idle_t *idle)
{
    rd_store_t *st = idle->data;
    op_t *last = st->deferred.tail; /* results deferred by these callbacks wait for the next iteration */
    op_t *op;
    while (!st->closing && (op = st->deferred.head) != NULL) {
        int was_last = op == last;
        list_remove(&st->deferred, op);
        call_plain(op, op->status);
        free_op(op);
        if (was_last)
            break;
    }
    if (!st->closing && st->deferred.head == NULL)
        uv_idle_stop(idle);
}

static void arm_cmd_timer(rd_store_t *st)
{
    uint64_t next = UINT64_MAX, now = uv_now(st->loop);
    if (st->waiting.head != NULL)
        next = st->waiting.head->deadline;
    if (st->orphans.head != NULL && st->ac != NULL && st->orphans.head->sent_at + st->dead_after_ms < next)
        next = st->orphans.head->sent_at + st->dead_after_ms;
    st->cmd_timer_due = next;
    if (next == UINT64_MAX)
        uv_timer_stop(&st->cmd_timer);
    else
        uv_timer_start(&st->cmd_timer, on_cmd_timer, next > now ? next - now : 0, 0);
}

/* ---- connection state ---- */

static uint32_t jittered(rd_store_t *st, uint32_t ms)
{
    /* xorshift64: spreads reconnects of many workers; not a secret */
    st->rng ^= st->rng << 13;
    st->rng ^= st->rng >> 7;
    st->rng ^= st->rng << 17;
    return ms / 2 + (uint32_t)(st->rng % (ms / 2 + 1));
}

/* Level for a line about a failed connection attempt: full level for the 1st, 2nd, 4th, 8th... failure in a
 * row, debug in between, so an outage of hours writes a few dozen lines and not thousands. */
static tg_log_level_t streak_level(const rd_store_t *st, tg_log_level_t level)
{
    uint32_t n = st->failed_attempts + 1;
    return (n & (n - 1)) == 0 ? level : TG_LOG_DEBUG;
}

/* The current attempt failed: ops that were waiting for it fail, the next attempt comes after a backoff. */
static void attempt_failed(rd_store_t *st)
{
    if (st->closing)
        return;
    uv_timer_stop(&st->connect_timer);
    uv_timer_stop(&st->watch_timer);
    st->phase = PH_BACKOFF;
    st->conn_gen++;
    st->failed_attempts++;
    redisAsyncContext *watched = st->wac;
    st->wac = NULL;
    if (watched != NULL)
        redisAsyncFree(watched);
    for (op_t *op = st->waiting.head, *next; op != NULL; op = next) {
        next = op->next;
        if (op->state == OP_QUEUED) {
            list_remove(&st->waiting, op);
            defer(st, op, AS_STORE_UNAVAILABLE);
        }
    }
    uint32_t delay = jittered(st, st->backoff_ms);
    st->backoff_ms = st->backoff_ms >= st->reconnect_max_ms / 2 ? st->reconnect_max_ms : st->backoff_ms * 2;
    tg_log_debug("store", "redis: next connection attempt in %u ms (%u failed)", delay, st->failed_attempts);
    uv_timer_start(&st->reconnect_timer, on_reconnect_timer, delay, 0);
}

/* Forgets the data connection (if c is it) and schedules a reconnect; hiredis frees c itself. */
static void data_lost(rd_store_t *st, redisAsyncContext *c)
{
    if (c != st->ac)
        return;
    st->ac = NULL;
    if (st->closing)
        return;
    const char *why = c->c.errstr[0] != '\0' ? c->c.errstr : "connection closed";
    if (st->phase == PH_READY)
        tg_log_warn("store", "redis: lost the connection to %s: %s", st->peer, why);
    else
        tg_log(streak_level(st, TG_LOG_WARN), "store", "redis: cannot connect to %s: %s", st->peer, why);
    attempt_failed(st);
}

/* Drops the data connection on purpose (handshake refused, dead, read-only) and schedules a reconnect. */
static void drop_data(rd_store_t *st)
{
    redisAsyncContext *c = st->ac;
    if (c == NULL)
        return;
    st->ac = NULL;
    attempt_failed(st);
    redisAsyncFree(c); /* pending callbacks run with NULL now, or right after the current callback */
}

static void conn_failed(rd_store_t *st, int sentinel, const char *why)
{
    if (sentinel) {
        tg_log(streak_level(st, TG_LOG_WARN), "store", "redis: Sentinel %s: %s", st->peer, why);
        ask_next_sentinel(st);
    } else {
        tg_log(streak_level(st, TG_LOG_WARN), "store", "redis: cannot connect to %s: %s", st->peer, why);
        attempt_failed(st);
    }
}

/* First word of an error reply ("WRONGPASS", "NOAUTH"): the rest may quote arguments, so it is never logged.
 */
static void error_code(const redisReply *r, char *out, size_t size)
{
    size_t n = 0;
    if (r->str != NULL)
        while (n + 1 < size && n < r->len && r->str[n] >= 'A' && r->str[n] <= 'Z') {
            out[n] = r->str[n];
            ++n;
        }
    if (n == 0)
        snprintf(out, size, "ERR");
    else
        out[n] = '\0';
}

static int handshake_reply_ok(rd_store_t *st, redisAsyncContext *c, redisReply *r, const char *what)
{
    if (c != st->ac)
        return 0; /* a connection already dropped */
    if (r == NULL) {
        data_lost(st, c);
        return 0;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        char code[32];
        error_code(r, code, sizeof(code));
        if (strcmp(what, "AUTH") == 0)
            tg_log(streak_level(st, TG_LOG_ERROR), "store",
                   "redis: %s refused AUTH (%s): wrong password or user; check the password file or URL",
                   st->peer, code);
        else if (strcmp(code, "NOAUTH") == 0)
            tg_log(streak_level(st, TG_LOG_ERROR), "store",
                   "redis: %s requires a password (%s); set one in password_file", st->peer, code);
        else
            tg_log(streak_level(st, TG_LOG_ERROR), "store", "redis: %s refused %s (%s)", st->peer, what,
                   code);
        drop_data(st);
        return 0;
    }
    return 1;
}

static void on_auth(redisAsyncContext *c, void *reply, void *privdata)
{
    handshake_reply_ok(privdata, c, reply, "AUTH");
}

static void on_select(redisAsyncContext *c, void *reply, void *privdata)
{
    handshake_reply_ok(privdata, c, reply, "SELECT");
}

static void on_ready(redisAsyncContext *c, void *reply, void *privdata)
{
    rd_store_t *st = privdata;
    redisReply *r = reply;
    if (!handshake_reply_ok(st, c, r, st->sentinel ? "ROLE" : "PING"))
        return;
    if (st->sentinel) {
        int master = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                     r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;
        if (!master) {
            tg_log_warn("store", "redis: %s is not a master (failover in progress?); asking Sentinel again",
                        st->peer);
            drop_data(st);
            return;
        }
    }
    uv_timer_stop(&st->connect_timer);
    st->phase = PH_READY;
    st->backoff_ms = st->reconnect_min_ms;
    if (st->sentinel)
        uv_timer_start(&st->watch_timer, on_watch_timer, SENTINEL_WATCH_MS, SENTINEL_WATCH_MS);
    /* only now: a pipelined op behind a failed SELECT would run in database 0, behind ROLE on a replica */
    flush_queued(st);
    const char *verb = st->was_ready ? "reconnected to" : "connected to";
    if (st->failed_attempts > 0)
        tg_log_info("store", "redis: %s %s (db %u) after %u failed attempt(s)", verb, st->peer, st->db,
                    st->failed_attempts);
    else
        tg_log_info("store", "redis: %s %s (db %u)", verb, st->peer, st->db);
    st->failed_attempts = 0;
    st->was_ready = 1;
}

static void send_handshake(rd_store_t *st, redisAsyncContext *c)
{
    if (st->password != NULL && st->username != NULL)
        redisAsyncCommand(c, on_auth, st, "AUTH %s %s", st->username, st->password);
    else if (st->password != NULL)
        redisAsyncCommand(c, on_auth, st, "AUTH %s", st->password);
    if (st->db != 0)
        redisAsyncCommand(c, on_select, st, "SELECT %u", st->db);
    redisAsyncCommand(c, on_ready, st, st->sentinel ? "ROLE" : "PING");
}

static void send_op(rd_store_t *st, op_t *op)
{
    for (int i = 0; i < op->ncmd; ++i) {
        int last = i == op->ncmd - 1;
        if (redisAsyncFormattedCommand(st->ac, last ? on_reply : NULL, last ? op : NULL, op->cmd[i],
                                       op->cmdlen[i]) != REDIS_OK) {
            /* the context is going away (only the first command can fail: nothing was sent) */
            list_remove(&st->waiting, op);
            defer(st, op, AS_STORE_UNAVAILABLE);
            return;
        }
    }
    free_cmds(op);
    op->state = OP_SENT;
    op->sent_at = uv_now(st->loop);
}

static void flush_queued(rd_store_t *st)
{
    for (op_t *op = st->waiting.head, *next; op != NULL && st->ac != NULL; op = next) {
        next = op->next;
        if (op->state == OP_QUEUED)
            send_op(st, op);
    }
}

/* ---- replies ---- */

static void deliver_members(op_t *op, const redisReply *r)
{
    size_t n = r->elements;
    const char **members = malloc((n > 0 ? n : 1) * sizeof(*members));
    size_t *lens = malloc((n > 0 ? n : 1) * sizeof(*lens));
    if (members == NULL || lens == NULL) {
        free(members);
        free(lens);
        op->mcb(op->data, AS_STORE_ERROR, NULL, NULL, 0);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        if (r->element[i]->type != REDIS_REPLY_STRING) {
            free(members);
            free(lens);
            op->mcb(op->data, AS_STORE_ERROR, NULL, NULL, 0);
            return;
        }
        members[i] = r->element[i]->str; /* hiredis NUL-terminates bulk strings */
        lens[i] = r->element[i]->len;
    }
    op->mcb(op->data, AS_STORE_OK, members, lens, n);
    free(members);
    free(lens);
}

static void deliver_reply(rd_store_t *st, redisAsyncContext *c, op_t *op, const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR) {
        char code[32];
        error_code(r, code, sizeof(code));
        tg_log_warn("store", "redis: %s refused a command (%s)", st->peer, code);
        if (strcmp(code, "READONLY") == 0 && c == st->ac) {
            tg_log_warn("store", "redis: %s is read-only now (failover?); reconnecting", st->peer);
            drop_data(st);
        }
        call_plain(op, AS_STORE_ERROR);
        return;
    }
    switch (op->kind) {
    case R_GET:
        if (r->type == REDIS_REPLY_STRING)
            op->cb(op->data, AS_STORE_OK, r->str, r->len);
        else
            op->cb(op->data, r->type == REDIS_REPLY_NIL ? AS_STORE_NOT_FOUND : AS_STORE_ERROR, NULL, 0);
        return;
    case R_SET:
        op->cb(op->data, r->type == REDIS_REPLY_STATUS ? AS_STORE_OK : AS_STORE_ERROR, NULL, 0);
        return;
    case R_ADD:
        op->cb(op->data,
               r->type == REDIS_REPLY_STATUS ? AS_STORE_OK
               : r->type == REDIS_REPLY_NIL  ? AS_STORE_EXISTS
                                             : AS_STORE_ERROR,
               NULL, 0);
        return;
    case R_COUNT:
        op->cb(op->data,
               r->type != REDIS_REPLY_INTEGER ? AS_STORE_ERROR
               : r->integer > 0               ? AS_STORE_OK
                                              : AS_STORE_NOT_FOUND,
               NULL, 0);
        return;
    case R_MEMBERS:
        if (r->type == REDIS_REPLY_ARRAY)
            deliver_members(op, r);
        else
            op->mcb(op->data, AS_STORE_ERROR, NULL, NULL, 0);
        return;
    case R_EXEC: {
        as_store_status_t status = r->type == REDIS_REPLY_ARRAY ? AS_STORE_OK : AS_STORE_ERROR;
        for (size_t i = 0; status == AS_STORE_OK && i < r->elements; ++i) {
            if (r->element[i]->type == REDIS_REPLY_ERROR) {
                char code[32];
                error_code(r->element[i], code, sizeof(code));
                tg_log_warn("store", "redis: %s refused a command in a transaction (%s)", st->peer, code);
                status = AS_STORE_ERROR;
            }
        }
        op->cb(op->data, status, NULL, 0);
        return;
    }
    }
}

static void on_reply(redisAsyncContext *c, void *reply, void *privdata)
{
    op_t *op = privdata;
    rd_store_t *st = op->st;
    if (op->state == OP_ORPHAN) {
        /* its caller already had TIMEOUT (or UNAVAILABLE at close): a late reply is dropped here */
        list_remove(&st->orphans, op);
        free_op(op);
        return;
    }
    list_remove(&st->waiting, op);
    if (reply == NULL) {
        data_lost(st, c);
        call_plain(op, AS_STORE_UNAVAILABLE);
    } else {
        deliver_reply(st, c, op, reply);
    }
    free_op(op);
}

/* ---- timers ---- */

/* Whether the connection's socket holds bytes not read yet. */
static int socket_has_data(const redisAsyncContext *ac)
{
    int pending = 0;
    return ioctl(ac->c.fd, FIONREAD, &pending) == 0 && pending > 0;
}

static void on_cmd_timer(uv_timer_t *timer)
{
    rd_store_t *st = timer->data;
    uint64_t now = uv_now(st->loop);
    op_t *op;
    /* libuv runs timers before it polls: replies that came in while this thread was not running (descheduled
     * on a busy machine, or a long loop turn) are still unread. Read them first, so that only a reply that
     * is really late counts as a timeout. */
    while (!st->closing && st->ac != NULL && st->phase == PH_READY && (op = st->waiting.head) != NULL &&
           op->deadline <= now && op->state == OP_SENT && socket_has_data(st->ac))
        redisAsyncHandleRead(st->ac); /* one buffer (16 KiB) a call */
    while (!st->closing && (op = st->waiting.head) != NULL && op->deadline <= now) {
        list_remove(&st->waiting, op);
        if (op->state == OP_QUEUED) {
            /* never sent: the connection attempt is still going on */
            call_plain(op, AS_STORE_UNAVAILABLE);
            free_op(op);
        } else {
            op->state = OP_ORPHAN;
            list_push(&st->orphans, op);
            call_plain(op, AS_STORE_TIMEOUT);
        }
    }
    if (!st->closing && st->ac != NULL && st->orphans.head != NULL &&
        now >= st->orphans.head->sent_at + st->dead_after_ms) {
        tg_log_warn("store", "redis: %s sent no reply for %u ms; reconnecting", st->peer, st->dead_after_ms);
        drop_data(st);
    }
    if (!st->closing)
        arm_cmd_timer(st);
}

static void on_connect_timeout(uv_timer_t *timer)
{
    rd_store_t *st = timer->data;
    tg_log(streak_level(st, TG_LOG_WARN), "store", "redis: %s did not answer within %u ms", st->peer,
           st->connect_timeout_ms);
    if (st->phase == PH_SENTINEL) {
        redisAsyncContext *c = st->sac;
        st->sac = NULL;
        st->conn_gen++;
        if (c != NULL)
            redisAsyncFree(c);
        ask_next_sentinel(st);
    } else if (st->phase == PH_DATA) {
        if (st->ac != NULL)
            drop_data(st);
        else
            attempt_failed(st);
    }
}

static void on_reconnect_timer(uv_timer_t *timer)
{
    start_attempt(timer->data);
}

/* ---- connecting ---- */

static void on_connect(const redisAsyncContext *cc, int status)
{
    redisAsyncContext *c = (redisAsyncContext *)cc;
    rd_store_t *st = c->data;
    if (status == REDIS_OK)
        return; /* the handshake replies decide */
    if (c == st->wac) {
        st->wac = NULL; /* the next watch tick tries again */
    } else if (c == st->sac) {
        st->sac = NULL;
        conn_failed(st, 1, c->c.errstr[0] != '\0' ? c->c.errstr : "connection failed");
    } else {
        data_lost(st, c);
    }
}

static void on_disconnect(const redisAsyncContext *cc, int status)
{
    redisAsyncContext *c = (redisAsyncContext *)cc;
    rd_store_t *st = c->data;
    if (c == st->wac) {
        st->wac = NULL;
    } else if (c == st->sac) {
        st->sac = NULL;
        conn_failed(st, 1, "connection closed before the answer");
    } else {
        data_lost(st, c);
    }
}

/* An IP address, or a host name (Sentinel with announce-hostnames), as Sentinel may give for a master. */
static int address_ok(const char *s, size_t len)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1)
        return 1;
    if (len == 0 || len > 253 || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; ++i)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

static void on_sentinel_reply(redisAsyncContext *c, void *reply, void *privdata)
{
    rd_store_t *st = privdata;
    redisReply *r = reply;
    if (c != st->sac)
        return;
    st->sac = NULL;
    if (r == NULL) {
        conn_failed(st, 1, "connection lost before the answer");
        return;
    }
    redisAsyncDisconnect(c);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_STRING) {
        char code[32] = "no such master";
        if (r->type == REDIS_REPLY_ERROR)
            error_code(r, code, sizeof(code));
        char why[200];
        snprintf(why, sizeof(why), "no address for master '%s' (%s)", st->master_name, code);
        conn_failed(st, 1, why);
        return;
    }
    char *end;
    unsigned long port = strtoul(r->element[1]->str, &end, 10);
    const char *ip = r->element[0]->str;
    if (*end != '\0' || port == 0 || port > 65535 || !address_ok(ip, r->element[0]->len)) {
        conn_failed(st, 1, "malformed master address");
        return;
    }
    st->sentinel_first = st->sentinel_current;
    snprintf(st->sentinel_ip, sizeof(st->sentinel_ip), "%s", st->sac_ip);
    st->sentinel_port = st->sac_port;
    snprintf(st->master_ip, sizeof(st->master_ip), "%s", ip);
    st->master_port = (uint16_t)port;
    tg_log_debug("store", "redis: Sentinel %s names master '%s' at %s:%lu", st->peer, st->master_name, ip,
                 port);
    st->phase = PH_DATA;
    open_conn(st, ip, (uint16_t)port, 0);
}

/*
 * hiredis 0.14's libuv adapter returns early when libuv reports a poll error, and libuv reports POLLERR
 * (a refused connect, a reset) exactly that way, after stopping the poll: hiredis would never hear of it and
 * the connection would hang until a timer noticed. These hooks replace the adapter's four (same state, same
 * cleanup) with a callback that hands an error to hiredis as the events it waits for, so it reads the socket
 * error at once; later hiredis releases do the same.
 */
static void poll_events(uv_poll_t *handle, int status, int events)
{
    redisLibuvEvents *p = handle->data;
    int ev = status != 0 ? p->events : events;
    if (p->context != NULL && (ev & UV_READABLE))
        redisAsyncHandleRead(p->context);
    if (p->context != NULL && (ev & UV_WRITABLE))
        redisAsyncHandleWrite(p->context);
}

static void poll_update(redisLibuvEvents *p, int add, int remove)
{
    p->events = (p->events | add) & ~remove;
    if (p->events != 0)
        uv_poll_start(&p->handle, p->events, poll_events);
    else
        uv_poll_stop(&p->handle);
}

static void poll_add_read(void *privdata)
{
    poll_update(privdata, UV_READABLE, 0);
}

static void poll_del_read(void *privdata)
{
    poll_update(privdata, 0, UV_READABLE);
}

static void poll_add_write(void *privdata)
{
    poll_update(privdata, UV_WRITABLE, 0);
}

static void poll_del_write(void *privdata)
{
    poll_update(privdata, 0, UV_WRITABLE);
}

static int attach(redisAsyncContext *c, uv_loop_t *loop)
{
    if (redisLibuvAttach(c, loop) != REDIS_OK)
        return -1;
    c->ev.addRead = poll_add_read;
    c->ev.delRead = poll_del_read;
    c->ev.addWrite = poll_add_write;
    c->ev.delWrite = poll_del_write;
    return 0;
}

static void connect_numeric(rd_store_t *st, const char *ip, uint16_t port, int sentinel)
{
    redisAsyncContext *c = redisAsyncConnect(ip, port);
    if (c == NULL) {
        conn_failed(st, sentinel, "out of memory");
        return;
    }
    if (c->err) {
        char why[128];
        snprintf(why, sizeof(why), "%s", c->c.errstr);
        redisAsyncFree(c);
        conn_failed(st, sentinel, why);
        return;
    }
    c->data = st;
    if (attach(c, st->loop) != 0) {
        redisAsyncFree(c);
        conn_failed(st, sentinel, "cannot watch the socket");
        return;
    }
    redisAsyncSetConnectCallback(c, on_connect);
    redisAsyncSetDisconnectCallback(c, on_disconnect);
    if (sentinel) {
        st->sac = c;
        snprintf(st->sac_ip, sizeof(st->sac_ip), "%s", ip);
        st->sac_port = port;
        redisAsyncCommand(c, on_sentinel_reply, st, "SENTINEL get-master-addr-by-name %s", st->master_name);
    } else {
        st->ac = c;
        /* hiredis holds these until the socket connects; ops wait for the answers (on_ready) */
        send_handshake(st, c);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    resolve_t *r = (resolve_t *)req;
    rd_store_t *st = r->st;
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        st->resolving = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    st->refs--;
    if (!st->closing && r->gen == st->conn_gen) {
        char ip[INET6_ADDRSTRLEN] = "";
        if (status == 0 && res != NULL) {
            const void *addr = res->ai_family == AF_INET6
                                   ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
                                   : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
            inet_ntop(res->ai_family, addr, ip, sizeof(ip));
        }
        if (ip[0] != '\0')
            connect_numeric(st, ip, r->port, r->sentinel);
        else
            conn_failed(st, r->sentinel, status != 0 ? uv_strerror(status) : "no address");
    }
    uv_freeaddrinfo(res);
    free(r);
    if (st->closing && st->refs == 0)
        free(st); /* strings were freed at close */
}

static void open_conn(rd_store_t *st, const char *host, uint16_t port, int sentinel)
{
    unsigned char addr[16];
    st->conn_gen++;
    if (strchr(host, ':') != NULL)
        snprintf(st->peer, sizeof(st->peer), "[%s]:%u", host, port);
    else
        snprintf(st->peer, sizeof(st->peer), "%s:%u", host, port);
    uv_timer_start(&st->connect_timer, on_connect_timeout, st->connect_timeout_ms, 0);
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        connect_numeric(st, host, port, sentinel);
        return;
    }
    /* names resolve off the loop thread: a slow DNS server must not stall the worker */
    resolve_t *r = calloc(1, sizeof(*r));
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (r == NULL) {
        conn_failed(st, sentinel, "out of memory");
        return;
    }
    r->st = st;
    r->gen = st->conn_gen;
    r->port = port;
    r->sentinel = sentinel;
    int rc = uv_getaddrinfo(st->loop, &r->req, on_resolved, host, NULL, &hints);
    if (rc != 0) {
        free(r);
        conn_failed(st, sentinel, uv_strerror(rc));
        return;
    }
    r->next = st->resolving;
    if (r->next != NULL)
        r->next->prev = r;
    st->resolving = r;
    st->refs++;
}

static void ask_next_sentinel(rd_store_t *st)
{
    if (st->closing)
        return;
    if (st->sentinel_tried == st->host_count) {
        tg_log(streak_level(st, TG_LOG_WARN), "store", "redis: no Sentinel gave the address of master '%s'",
               st->master_name);
        attempt_failed(st);
        return;
    }
    size_t i = st->sentinel_next;
    st->sentinel_next = (i + 1) % st->host_count;
    st->sentinel_tried++;
    st->sentinel_current = i;
    open_conn(st, st->hosts[i], st->ports[i], 1);
}

static void on_watch_reply(redisAsyncContext *c, void *reply, void *privdata)
{
    rd_store_t *st = privdata;
    redisReply *r = reply;
    if (c != st->wac)
        return;
    st->wac_busy = 0;
    if (r == NULL) {
        st->wac = NULL;
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_STRING || st->phase != PH_READY)
        return;
    if (strcmp(r->element[0]->str, st->master_ip) != 0 || atoi(r->element[1]->str) != st->master_port) {
        tg_log_warn("store", "redis: Sentinel names %s:%s as master '%s' now (was %s); reconnecting",
                    r->element[0]->str, r->element[1]->str, st->master_name, st->peer);
        drop_data(st);
    }
}

/* Re-asks the Sentinel that answered, over one connection kept for it. Failures here are quiet: the data
 * connection's own errors still lead to a full reconnect through Sentinel. */
static void on_watch_timer(uv_timer_t *timer)
{
    rd_store_t *st = timer->data;
    if (st->phase != PH_READY)
        return;
    if (st->wac != NULL && st->wac_busy) {
        redisAsyncContext *c = st->wac; /* no answer for a whole period */
        st->wac = NULL;
        redisAsyncFree(c);
    }
    if (st->wac == NULL) {
        redisAsyncContext *c = redisAsyncConnect(st->sentinel_ip, st->sentinel_port);
        if (c == NULL)
            return;
        if (c->err || attach(c, st->loop) != 0) {
            redisAsyncFree(c);
            return;
        }
        c->data = st;
        redisAsyncSetConnectCallback(c, on_connect);
        redisAsyncSetDisconnectCallback(c, on_disconnect);
        st->wac = c;
    }
    st->wac_busy = 1;
    redisAsyncCommand(st->wac, on_watch_reply, st, "SENTINEL get-master-addr-by-name %s", st->master_name);
}

static void start_attempt(rd_store_t *st)
{
    if (st->password_file != NULL) {
        /* re-read on every attempt so a rotated password is picked up without a restart */
        char err[300];
        char *fresh = as__store_read_secret_file(st->password_file, err, sizeof(err));
        if (fresh != NULL) {
            as__store_secret_free(st->password);
            st->password = fresh;
        } else {
            tg_log_warn("store", "redis: %s; keeping the previous password", err);
        }
    }
    if (st->sentinel) {
        st->phase = PH_SENTINEL;
        st->sentinel_tried = 0;
        st->sentinel_next = st->sentinel_first;
        ask_next_sentinel(st);
    } else {
        st->phase = PH_DATA;
        open_conn(st, st->hosts[0], st->ports[0], 0);
    }
}

/* ---- ops ---- */

static op_t *op_new(rd_store_t *st, reply_kind_t kind, as_store_cb cb, as_store_members_cb mcb, void *data)
{
    if (st->closing)
        return NULL;
    op_t *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    op->st = st;
    op->kind = kind;
    op->cb = cb;
    op->mcb = mcb;
    op->data = data;
    return op;
}

static int op_cmd(op_t *op, int argc, const char **argv, const size_t *lens)
{
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0)
        return -1;
    op->cmd[op->ncmd] = cmd;
    op->cmdlen[op->ncmd++] = (size_t)len;
    return 0;
}

/* Starts a formatted op: sent now (connected), queued until a connection attempt in progress succeeds, or
 * failed fast on the next loop turn (backing off, or too many in flight). */
static int submit(rd_store_t *st, op_t *op, int format_failed)
{
    if (format_failed) {
        free_op(op);
        return -1;
    }
    if (st->phase == PH_BACKOFF || st->waiting.count + st->orphans.count >= st->max_pending) {
        defer(st, op, AS_STORE_UNAVAILABLE);
        return 0;
    }
    /* the loop's cached time is that of the iteration start: a caller that worked a while would cut the
     * timeout short */
    uv_update_time(st->loop);
    op->deadline = uv_now(st->loop) + st->command_timeout_ms;
    list_push(&st->waiting, op);
    if (st->phase == PH_READY)
        send_op(st, op);
    else
        op->state = OP_QUEUED;
    if (op->deadline < st->cmd_timer_due) /* the timer may be set for a later dead-connection check */
        arm_cmd_timer(st);
    return 0;
}

static int key_op(as_store_t *s, reply_kind_t kind, const char *verb, const char *key, as_store_cb cb,
                  as_store_members_cb mcb, void *data)
{
    rd_store_t *st = (rd_store_t *)s;
    op_t *op = op_new(st, kind, cb, mcb, data);
    if (op == NULL)
        return -1;
    const char *argv[] = {verb, key};
    size_t lens[] = {strlen(verb), strlen(key)};
    return submit(st, op, op_cmd(op, 2, argv, lens) != 0);
}

static int rd_get(as_store_t *s, const char *key, as_store_cb cb, void *data)
{
    return key_op(s, R_GET, "GET", key, cb, NULL, data);
}

static int rd_take(as_store_t *s, const char *key, as_store_cb cb, void *data)
{
    return key_op(s, R_GET, "GETDEL", key, cb, NULL, data);
}

static int rd_del(as_store_t *s, const char *key, as_store_cb cb, void *data)
{
    return key_op(s, R_COUNT, "DEL", key, cb, NULL, data);
}

static int rd_set_members(as_store_t *s, const char *set, as_store_members_cb cb, void *data)
{
    return key_op(s, R_MEMBERS, "SMEMBERS", set, NULL, cb, data);
}

static int put(as_store_t *s, int nx, const char *key, const char *value, size_t len, uint64_t ttl_ms,
               as_store_cb cb, void *data)
{
    rd_store_t *st = (rd_store_t *)s;
    op_t *op = op_new(st, nx ? R_ADD : R_SET, cb, NULL, data);
    if (op == NULL)
        return -1;
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
    const char *argv[] = {"SET", key, value, "PX", ttl, "NX"};
    size_t lens[] = {3, strlen(key), len, 2, strlen(ttl), 2};
    return submit(st, op, op_cmd(op, nx ? 6 : 5, argv, lens) != 0);
}

static int rd_set(as_store_t *s, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                  as_store_cb cb, void *data)
{
    return put(s, 0, key, value, len, ttl_ms, cb, data);
}

static int rd_add(as_store_t *s, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                  as_store_cb cb, void *data)
{
    return put(s, 1, key, value, len, ttl_ms, cb, data);
}

static int rd_set_add(as_store_t *s, const char *set, const char *member, uint64_t ttl_ms, as_store_cb cb,
                      void *data)
{
    rd_store_t *st = (rd_store_t *)s;
    op_t *op = op_new(st, R_EXEC, cb, NULL, data);
    if (op == NULL)
        return -1;
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
    size_t set_len = strlen(set), ttl_len = strlen(ttl);
    /* one transaction: the set gets an expiry if it has none (NX), a later one otherwise (GT); Redis >= 7.0
     */
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *sadd[] = {"SADD", set, member};
    const char *nx[] = {"PEXPIRE", set, ttl, "NX"}, *gt[] = {"PEXPIRE", set, ttl, "GT"};
    size_t multi_len[] = {5}, exec_len[] = {4};
    size_t sadd_len[] = {4, set_len, strlen(member)};
    size_t expire_len[] = {7, set_len, ttl_len, 2};
    int failed = op_cmd(op, 1, multi, multi_len) != 0 || op_cmd(op, 3, sadd, sadd_len) != 0 ||
                 op_cmd(op, 4, nx, expire_len) != 0 || op_cmd(op, 4, gt, expire_len) != 0 ||
                 op_cmd(op, 1, exec, exec_len) != 0;
    return submit(st, op, failed);
}

static int rd_set_remove(as_store_t *s, const char *set, const char *member, as_store_cb cb, void *data)
{
    rd_store_t *st = (rd_store_t *)s;
    op_t *op = op_new(st, R_COUNT, cb, NULL, data);
    if (op == NULL)
        return -1;
    const char *argv[] = {"SREM", set, member};
    size_t lens[] = {4, strlen(set), strlen(member)};
    return submit(st, op, op_cmd(op, 3, argv, lens) != 0);
}

/* ---- lifetime ---- */

static void free_strings(rd_store_t *st)
{
    for (size_t i = 0; i < st->host_count; ++i)
        free(st->hosts[i]);
    free(st->master_name);
    free(st->username);
    free(st->password_file);
    as__store_secret_free(st->password);
    st->host_count = 0;
    st->master_name = st->username = st->password_file = st->password = NULL;
}

static void on_handle_closed(uv_handle_t *handle)
{
    rd_store_t *st = handle->data;
    if (--st->refs == 0)
        free(st);
}

static void rd_close(as_store_t *s)
{
    rd_store_t *st = (rd_store_t *)s;
    op_t *op;
    if (st->closing)
        return;
    st->closing = 1;
    /* every caller hears back now; ops still inside hiredis become orphans its NULL replies free */
    while ((op = st->waiting.head) != NULL) {
        list_remove(&st->waiting, op);
        if (op->state == OP_QUEUED) {
            call_plain(op, AS_STORE_UNAVAILABLE);
            free_op(op);
        } else {
            op->state = OP_ORPHAN;
            list_push(&st->orphans, op);
            call_plain(op, AS_STORE_UNAVAILABLE);
        }
    }
    while ((op = st->deferred.head) != NULL) {
        list_remove(&st->deferred, op);
        call_plain(op, op->status);
        free_op(op);
    }
    redisAsyncContext *c = st->sac;
    st->sac = NULL;
    if (c != NULL)
        redisAsyncFree(c);
    c = st->wac;
    st->wac = NULL;
    if (c != NULL)
        redisAsyncFree(c);
    c = st->ac;
    st->ac = NULL;
    if (c != NULL)
        redisAsyncFree(c);
    for (resolve_t *r = st->resolving; r != NULL; r = r->next)
        uv_cancel((uv_req_t *)&r->req);
    free_strings(st);
    uv_close((uv_handle_t *)&st->connect_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->reconnect_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->cmd_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->watch_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->idle, on_handle_closed);
}

static const as_store_ops_t redis_ops = {
    .name = "redis",
    .get = rd_get,
    .set = rd_set,
    .add = rd_add,
    .take = rd_take,
    .del = rd_del,
    .set_add = rd_set_add,
    .set_remove = rd_set_remove,
    .set_members = rd_set_members,
    .close = rd_close,
};

int as__store_redis_open(const as_store_url_t *url, const as__store_config_t *config, uv_loop_t *loop,
                         as_store_t **out, char *err, size_t errlen)
{
    rd_store_t *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        snprintf(err, errlen, "redis: out of memory");
        return -1;
    }
    int oom = 0;
    st->sentinel = url->kind == AS_STORE_URL_SENTINEL;
    for (size_t i = 0; i < url->host_count; ++i) {
        st->hosts[i] = strdup(url->hosts[i].host);
        st->ports[i] = url->hosts[i].port;
        oom |= st->hosts[i] == NULL;
        st->host_count = i + 1;
    }
    if (url->master_name != NULL)
        oom |= (st->master_name = strdup(url->master_name)) == NULL;
    if (url->username != NULL)
        oom |= (st->username = strdup(url->username)) == NULL;
    if (url->password != NULL)
        oom |= (st->password = strdup(url->password)) == NULL;
    if (config->password_file != NULL)
        oom |= (st->password_file = strdup(config->password_file)) == NULL;
    if (oom) {
        snprintf(err, errlen, "redis: out of memory");
        goto fail;
    }
    if (st->password_file != NULL &&
        (st->password = as__store_read_secret_file(st->password_file, err, errlen)) == NULL)
        goto fail;
    st->db = url->db;
    st->command_timeout_ms = config->command_timeout_ms;
    st->connect_timeout_ms = config->connect_timeout_ms;
    st->reconnect_min_ms = config->reconnect_min_ms;
    st->reconnect_max_ms = config->reconnect_max_ms;
    st->max_pending = config->max_pending;
    /* long enough for a slow command (or a CLIENT PAUSE) to answer late, short enough to notice a hung server
     */
    st->dead_after_ms = config->command_timeout_ms * 10 > 2000 ? config->command_timeout_ms * 10 : 2000;
    st->backoff_ms = config->reconnect_min_ms;
    if (tg_random_bytes((uint8_t *)&st->rng, sizeof(st->rng)) != 0 || st->rng == 0)
        st->rng = uv_hrtime() | 1;

    st->base.ops = &redis_ops;
    st->loop = loop;
    uv_timer_init(loop, &st->connect_timer);
    uv_timer_init(loop, &st->reconnect_timer);
    uv_timer_init(loop, &st->cmd_timer);
    uv_timer_init(loop, &st->watch_timer);
    uv_idle_init(loop, &st->idle);
    st->connect_timer.data = st->reconnect_timer.data = st->cmd_timer.data = st->watch_timer.data = st;
    st->idle.data = st;
    st->refs = 5;
    st->cmd_timer_due = UINT64_MAX;
    uv_update_time(loop); /* the loop may not have run for a while (startup): timers count from now */
    start_attempt(st);
    *out = &st->base;
    return 0;
fail:
    free_strings(st);
    free(st);
    return -1;
}
