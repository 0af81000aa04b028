/*
 * Websockets of ended sessions (docs/internals/identity.md, "Websockets of
 * ended sessions"). A websocket request with a session is remembered on its
 * worker: the client connection's fd, its peer address (to tell a reused fd
 * from the tunnel's) and the session's store key. When the session ends, the
 * connection is shut down (as reset_flood_guard.c does): the tunnel sees the
 * end of the stream and closes both sides. Sessions end here (logout,
 * back-channel logout, a refused refresh), through the ended-session feed
 * (other workers and replicas, every logoutPollInterval) and through a
 * re-check of every tracked session's record every 30 s.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth_int.h"
#include "util/log.h"

#define MAX_TRACKED 65536

typedef struct {
    int fd;
    socklen_t peer_len;
    struct sockaddr_storage peer;
    char key[AS_SESSION_KEY_LEN + 1];
} tracked_t;

/* This worker's websockets (only its loop's thread touches them). */
static _Thread_local struct {
    tracked_t *items;
    size_t count, capacity;
} tracked;

/* Whether fd is still the connection that was tracked (a closed tunnel's fd may have been reused). */
static int still_same(const tracked_t *t)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    return getpeername(t->fd, (struct sockaddr *)&peer, &len) == 0 && len == t->peer_len &&
           memcmp(&peer, &t->peer, len) == 0;
}

static void remove_at(size_t i)
{
    tracked.items[i] = tracked.items[--tracked.count];
}

static void prune(void)
{
    for (size_t i = 0; i < tracked.count;)
        if (still_same(&tracked.items[i]))
            ++i;
        else
            remove_at(i);
}

void gw__auth_ws_track(h2o_req_t *req, const char *key)
{
    if (!h2o_lcstris(req->upgrade.base, req->upgrade.len, H2O_STRLIT("websocket")) ||
        req->conn->callbacks->get_socket == NULL)
        return;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL)
        return;
    tracked_t t = {.fd = h2o_socket_get_fd(sock), .peer_len = sizeof(t.peer)};
    if (getpeername(t.fd, (struct sockaddr *)&t.peer, &t.peer_len) != 0)
        return;
    memcpy(t.key, key, AS_SESSION_KEY_LEN + 1);
    for (size_t i = 0; i < tracked.count; ++i)
        if (tracked.items[i].fd == t.fd) { /* the fd of a tunnel that closed, reused */
            tracked.items[i] = t;
            return;
        }
    if (tracked.count == tracked.capacity) {
        prune();
        size_t capacity = tracked.capacity == 0 ? 16 : 2 * tracked.capacity;
        tracked_t *items = tracked.count < tracked.capacity || capacity > MAX_TRACKED
                               ? tracked.items
                               : realloc(tracked.items, capacity * sizeof(*items));
        if (items == NULL || tracked.count == MAX_TRACKED) {
            tg_log_warn("auth",
                        "too many websockets tracked on this worker: one will not be closed at logout");
            return;
        }
        if (items != tracked.items) {
            tracked.items = items;
            tracked.capacity = capacity;
        }
    }
    tracked.items[tracked.count++] = t;
}

size_t gw__auth_ws_close(const char *key)
{
    size_t closed = 0;
    for (size_t i = 0; i < tracked.count;) {
        tracked_t *t = &tracked.items[i];
        if (strcmp(t->key, key) != 0) {
            ++i;
            continue;
        }
        if (still_same(t)) {
            shutdown(t->fd,
                     SHUT_RDWR); /* h2o reads the end of the stream and closes the tunnel its own way */
            ++closed;
        }
        remove_at(i);
    }
    if (closed > 0)
        tg_log_info("auth", "closed %zu websocket(s) of an ended session", closed);
    return closed;
}

static void on_record_checked(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    char *key = data;
    if (status == AS_STORE_NOT_FOUND)
        gw__auth_ws_close(key);
    free(key);
}

void gw__auth_ws_recheck(gw_auth_worker_t *w)
{
    prune();
    for (size_t i = 0; i < tracked.count && w->store != NULL; ++i) {
        int seen_before = 0;
        for (size_t j = 0; j < i && !seen_before; ++j)
            seen_before = strcmp(tracked.items[j].key, tracked.items[i].key) == 0;
        if (seen_before)
            continue;
        char *key = strdup(tracked.items[i].key),
             *stored = gw__auth_prefixed("session:", tracked.items[i].key);
        if (key == NULL || stored == NULL || as_store_get(w->store, stored, on_record_checked, key) != 0)
            free(key);
        free(stored);
    }
}
