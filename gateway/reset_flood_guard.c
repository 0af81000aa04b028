#include "reset_flood_guard.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

/* Connections followed per worker; the least recently active one makes room for a new one. */
#define SLOTS 1024
#define PROBE 8

typedef struct {
    uint64_t conn_id; /* 0 = free (h2o numbers connections from 1) */
    uint64_t window_start;
    uint64_t last_seen;
    uint32_t started;
    uint32_t cancelled;
} slot_t;

/* Each worker runs one loop on one thread: its table needs no locking. */
static _Thread_local slot_t slots[SLOTS];

static slot_t *find(uint64_t conn_id, int create, uint64_t now)
{
    size_t base = (size_t)(conn_id * 0x9e3779b97f4a7c15ULL >> 54) % SLOTS;
    slot_t *victim = &slots[base];
    for (size_t i = 0; i < PROBE; ++i) {
        slot_t *slot = &slots[(base + i) % SLOTS];
        if (slot->conn_id == conn_id)
            return slot;
        if (slot->conn_id == 0 || slot->last_seen < victim->last_seen)
            victim = slot;
    }
    if (!create)
        return NULL;
    *victim = (slot_t){.conn_id = conn_id, .window_start = now, .last_seen = now};
    return victim;
}

void gw_reset_flood_guard_release(const gw_reset_flood_ticket_t *ticket)
{
    /* no response began: the client cancelled the stream (or the connection went away) */
    if (ticket->req == NULL || ticket->req->res.status != 0)
        return;
    slot_t *slot = find(ticket->conn_id, 0, 0);
    if (slot != NULL)
        ++slot->cancelled;
}

static void shut_down(h2o_req_t *req, const slot_t *slot)
{
    char peer[INET6_ADDRSTRLEN] = "unknown";
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len != 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof(peer));
    else if (len != 0 && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof(peer));
    tg_log_warn("guard",
                "closing HTTP/2 connection from %s: %u of %u streams cancelled before a response "
                "within %u ms (rapid reset)",
                peer, slot->cancelled, slot->started, GW_RESET_FLOOD_WINDOW_MS);
    h2o_socket_t *sock =
        req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    /* h2o sees the end of the stream on its next read and closes the connection its own way */
    if (sock != NULL)
        shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
}

int gw_reset_flood_guard_check(h2o_req_t *req, gw_reset_flood_ticket_t *ticket)
{
    if (req->version < 0x200)
        return 0;
    uint64_t now = h2o_now(req->conn->ctx->loop);
    slot_t *slot = find(req->conn->id, 1, now);
    if (now - slot->window_start > GW_RESET_FLOOD_WINDOW_MS) {
        slot->window_start = now;
        slot->started = slot->cancelled = 0;
    }
    slot->last_seen = now;
    if (slot->cancelled >= GW_RESET_FLOOD_LIMIT && slot->cancelled * 2 >= slot->started) {
        shut_down(req, slot);
        slot->conn_id = 0;
        return 1;
    }
    ++slot->started;
    *ticket = (gw_reset_flood_ticket_t){req->conn->id, req};
    return 0;
}
