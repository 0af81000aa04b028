/*
 * Test-only helper: runs a node fixture of tests/fixtures/ as a child process
 * (killed with the test binary through PR_SET_PDEATHSIG), waits for its
 * "READY <value>" line and keeps what it prints on stdout, so a test can
 * count the "REQ <method> <path>" lines of the requests it received.
 * A missing node or fixture is a failure, never a skip.
 */
#ifndef TG_TEST_NODE_PEER_H
#define TG_TEST_NODE_PEER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <uv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    int out; /* the child's stdout */
    char ready[256];
    char *log; /* everything read from its stdout */
    size_t log_len, log_cap;
} np_peer_t;

static inline long np_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads what the child wrote within timeout_ms; returns bytes read, 0 on EOF, -1 on timeout or error. */
static inline long np_read(np_peer_t *peer, int timeout_ms)
{
    struct pollfd pfd = {.fd = peer->out, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    if (r <= 0)
        return -1;
    if (peer->log_cap - peer->log_len < 4097) {
        size_t cap = peer->log_cap != 0 ? peer->log_cap * 2 : 16384;
        char *grown = realloc(peer->log, cap);
        if (grown == NULL)
            return -1;
        peer->log = grown;
        peer->log_cap = cap;
    }
    ssize_t n = read(peer->out, peer->log + peer->log_len, 4096);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -1 : 0;
    peer->log_len += (size_t)n;
    peer->log[peer->log_len] = '\0';
    return n;
}

/*
 * Starts "node TG_SOURCE_DIR/tests/fixtures/<fixture> args..." and waits up
 * to 15 s for READY. Returns 0, or -1 with a message on stderr.
 */
static inline int np_start(np_peer_t *peer, const char *fixture, const char *const *args)
{
    memset(peer, 0, sizeof(*peer));
    peer->pid = -1;
    peer->out = -1;
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/fixtures/%s", TG_SOURCE_DIR, fixture);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "node_peer: fixture %s is missing\n", path);
        return -1;
    }
    const char *argv[32] = {"node", path};
    size_t argc = 2;
    for (size_t i = 0; args != NULL && args[i] != NULL && argc < 31; ++i)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        dup2(fds[1], STDOUT_FILENO);
        execvp("node", (char *const *)argv);
        fprintf(stderr, "node_peer: cannot run node: %s\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    peer->pid = pid;
    peer->out = fds[0];
    fcntl(peer->out, F_SETFL, fcntl(peer->out, F_GETFL) | O_NONBLOCK);
    long deadline = np_now_ms() + 15000;
    for (;;) {
        char *line = peer->log != NULL ? strstr(peer->log, "READY ") : NULL;
        char *end = line != NULL ? strchr(line, '\n') : NULL;
        if (end != NULL) {
            size_t len = (size_t)(end - line - 6);
            if (len >= sizeof(peer->ready))
                len = sizeof(peer->ready) - 1;
            memcpy(peer->ready, line + 6, len);
            peer->ready[len] = '\0';
            return 0;
        }
        long left = deadline - np_now_ms();
        if (left <= 0) {
            fprintf(stderr, "node_peer: %s printed no READY line within 15 s\n", fixture);
            return -1;
        }
        if (np_read(peer, (int)left) == 0) {
            fprintf(stderr, "node_peer: %s exited before READY\n", fixture);
            return -1;
        }
    }
}

/* Reads whatever the child has printed so far. */
static inline void np_drain(np_peer_t *peer)
{
    while (peer->out >= 0 && np_read(peer, 0) > 0) {
    }
}

/* Number of complete lines equal to line that the child printed so far. */
static inline size_t np_count(np_peer_t *peer, const char *line)
{
    np_drain(peer);
    size_t count = 0, len = strlen(line);
    for (const char *p = peer->log; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        if (end == NULL)
            break;
        if ((size_t)(end - p) == len && memcmp(p, line, len) == 0)
            count++;
        p = end + 1;
    }
    return count;
}

/* Stops the child (SIGTERM, SIGKILL after 3 s) and frees what the peer holds. Returns its wait status. */
static inline int np_stop(np_peer_t *peer)
{
    int status = -1;
    if (peer->pid > 0) {
        kill(peer->pid, SIGTERM);
        long deadline = np_now_ms() + 3000;
        while (waitpid(peer->pid, &status, WNOHANG) == 0) {
            if (np_now_ms() > deadline) {
                kill(peer->pid, SIGKILL);
                waitpid(peer->pid, &status, 0);
                break;
            }
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        peer->pid = -1;
    }
    if (peer->out >= 0)
        close(peer->out);
    peer->out = -1;
    free(peer->log);
    peer->log = NULL;
    peer->log_len = peer->log_cap = 0;
    return status;
}

static inline void np_on_watchdog(uv_timer_t *t)
{
    uv_stop(t->loop);
    *(int *)t->data = 1;
}

/* Runs loop until nothing is left to do; fails the test if that takes over 10 s (the watchdog never keeps
 * the loop alive itself). */
static inline void np_run_loop(uv_loop_t *loop)
{
    uv_timer_t watchdog;
    int fired = 0;
    uv_timer_init(loop, &watchdog);
    watchdog.data = &fired;
    uv_timer_start(&watchdog, np_on_watchdog, 10000, 0);
    uv_unref((uv_handle_t *)&watchdog);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&watchdog, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_false(fired);
}

#endif
