/*
 * The Redis store backend against real redis-server processes this test starts
 * on free loopback ports: the shared contract, then failures (server down,
 * killed and restarted, paused, stopped), passwords, databases, Sentinel,
 * backpressure and reconnect backoff. redis-server must be on PATH: missing is
 * a failure, not a skip. Every child dies with this process (PR_SET_PDEATHSIG)
 * and is killed in teardown.
 */
#include "store_contract.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <hiredis/hiredis.h>

#include "util/log.h"

/* ---- processes
 * ---------------------------------------------------------------------------------------------- */

#define MAX_PROCS 8

typedef struct {
    pid_t pid;
    int port;
    int used;
} proc_t;

static char g_dir[64];
static char *g_redis_bin;
static proc_t *g_procs[MAX_PROCS]; /* running: killed in teardown and at exit */
static proc_t g_pool[MAX_PROCS];   /* records outlive a failed test's stack frame */
static proc_t g_main;              /* the server the contract suite runs against */
static int g_prefix_seq;

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *find_on_path(const char *name)
{
    const char *path = getenv("PATH");
    char candidate[4096];
    while (path != NULL && *path != '\0') {
        const char *colon = strchr(path, ':');
        size_t len = colon != NULL ? (size_t)(colon - path) : strlen(path);
        snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, path, name);
        if (len > 0 && access(candidate, X_OK) == 0)
            return strdup(candidate);
        path = colon != NULL ? colon + 1 : NULL;
    }
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Stops a server: SIGKILL at once when crash is set (a test's crash), else SIGTERM so it also ends its own
 * children (replication forks), and SIGKILL after a second. */
static void proc_stop(proc_t *p, int crash)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, crash ? SIGKILL : SIGTERM);
    kill(p->pid, SIGCONT); /* a stopped process acts on SIGTERM only once continued */
    uint64_t start = now_ms();
    while (waitpid(p->pid, NULL, WNOHANG) == 0) {
        if (now_ms() - start > 1000) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, NULL, 0);
            break;
        }
        sleep_ms(2);
    }
    p->pid = 0;
    for (int i = 0; i < MAX_PROCS; ++i)
        if (g_procs[i] == p)
            g_procs[i] = NULL;
}

static void proc_kill(proc_t *p)
{
    proc_stop(p, 1);
}

static void stop_all(void)
{
    for (int i = 0; i < MAX_PROCS; ++i)
        if (g_procs[i] != NULL)
            proc_stop(g_procs[i], 0);
}

static proc_t *proc_new(void)
{
    for (int i = 0; i < MAX_PROCS; ++i) {
        if (!g_pool[i].used) {
            g_pool[i].used = 1;
            return &g_pool[i];
        }
    }
    fail_msg("too many processes");
    return NULL;
}

static void proc_spawn(proc_t *p, char *const argv[])
{
    char log[128];
    snprintf(log, sizeof(log), "%s/redis-%d.log", g_dir, p->port);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* dies with the test even if the test crashes before its teardown */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(g_redis_bin, argv);
        _exit(127);
    }
    p->pid = pid;
    for (int i = 0; i < MAX_PROCS; ++i) {
        if (g_procs[i] == NULL || g_procs[i] == p) {
            g_procs[i] = p;
            return;
        }
    }
    fail_msg("too many processes");
}

/* Waits until the server answers PING (after AUTH when password is set); Sentinel: until it knows mymaster.
 */
static int wait_ready(proc_t *p, const char *password, int sentinel)
{
    uint64_t start = now_ms();
    while (now_ms() - start < 5000) {
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            return -1;
        }
        struct timeval tv = {0, 200000};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", p->port, tv);
        int ok = 0;
        if (c != NULL && !c->err && redisSetTimeout(c, tv) == REDIS_OK) {
            redisReply *r = password != NULL ? redisCommand(c, "AUTH %s", password) : NULL;
            freeReplyObject(r);
            r = sentinel ? redisCommand(c, "SENTINEL get-master-addr-by-name mymaster")
                         : redisCommand(c, "PING");
            ok = r != NULL && (sentinel ? r->type == REDIS_REPLY_ARRAY : r->type == REDIS_REPLY_STATUS);
            freeReplyObject(r);
        }
        redisFree(c);
        if (ok)
            return 0;
        sleep_ms(10);
    }
    return -1;
}

/* Starts redis-server on p->port (a free one when 0); conf is an optional config file. */
static void redis_start(proc_t *p, const char *conf, const char *password)
{
    char port[16];
    if (p->port == 0)
        p->port = free_port();
    snprintf(port, sizeof(port), "%d", p->port);
    char *argv[20];
    int n = 0;
    argv[n++] = g_redis_bin;
    if (conf != NULL)
        argv[n++] = (char *)conf;
    char *rest[] = {"--port", port,    "--bind", "127.0.0.1",   "--save", "",  "--appendonly",
                    "no",     "--dir", g_dir,    "--daemonize", "no",     NULL};
    for (int i = 0; rest[i] != NULL; ++i)
        argv[n++] = rest[i];
    argv[n] = NULL;
    proc_spawn(p, argv);
    if (wait_ready(p, password, 0) != 0)
        fail_msg("redis-server on port %d did not start (see %s/redis-%d.log)", p->port, g_dir, p->port);
}

/* A blocking side connection to a test server, for CLIENT PAUSE, INFO and checks. Replies are awaited for at
 * most 5 s (hiredis 0.14's connect timeout does not cover reads): a stopped server fails the test, not
 * ctest's timeout. */
static redisContext *side(const proc_t *p, const char *password)
{
    struct timeval tv = {2, 0}, reply_tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", p->port, tv);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    assert_int_equal(redisSetTimeout(c, reply_tv), REDIS_OK);
    if (password != NULL) {
        redisReply *r = redisCommand(c, "AUTH %s", password);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
    }
    return c;
}

static void side_command(const proc_t *p, const char *cmd)
{
    redisContext *c = side(p, NULL);
    redisReply *r = redisCommand(c, cmd);
    assert_non_null(r);
    assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    redisFree(c);
}

static long long connections_received(const proc_t *p)
{
    redisContext *c = side(p, NULL);
    redisReply *r = redisCommand(c, "INFO stats");
    assert_non_null(r);
    const char *line = strstr(r->str, "total_connections_received:");
    assert_non_null(line);
    long long n = atoll(line + strlen("total_connections_received:"));
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static void write_file(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    char path[512];
    while (d != NULL && (ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

/* ---- stderr capture (log lines)
 * ------------------------------------------------------------------------------ */

typedef struct {
    int saved;
    char path[128];
} capture_t;

static void capture_start(capture_t *c)
{
    fflush(stderr);
    snprintf(c->path, sizeof(c->path), "%s/stderr-XXXXXX", g_dir);
    int fd = mkstemp(c->path);
    assert_true(fd >= 0);
    c->saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_stop(capture_t *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    FILE *fp = fopen(c->path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    unlink(c->path);
    return buf;
}

/* ---- fixtures
 * ------------------------------------------------------------------------------------------------ */

typedef struct {
    char url[256];
    char prefix[32];
    as_store_options_t options;
} rd_fixture_t;

static as_store_t *open_url(contract_env_t *env, const char *url, const as_store_options_t *options)
{
    char err[256] = "";
    as_store_t *s = NULL;
    if (as_store_open(url, options, &env->loop, &s, err, sizeof(err)) != 0)
        print_error("open failed: %s\n", err);
    return s;
}

static as_store_t *rd_open_other(contract_env_t *env, const char *prefix)
{
    rd_fixture_t *fx = env->backend;
    as_store_options_t options = fx->options;
    options.key_prefix = prefix != NULL ? prefix : fx->prefix;
    return open_url(env, fx->url, &options);
}

static int group_setup(void **state)
{
    (void)state;
    atexit(stop_all);
    g_redis_bin = find_on_path("redis-server");
    if (g_redis_bin == NULL) {
        print_error(
            "redis-server is not on PATH (Debian package redis-server; scripts/install-deps installs it)\n");
        return -1;
    }
    snprintf(g_dir, sizeof(g_dir), "/tmp/tg-store-redis-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    redis_start(&g_main, NULL, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_all();
    remove_dir(g_dir);
    free(g_redis_bin);
    return 0;
}

static contract_env_t *env_new(void)
{
    contract_env_t *env = calloc(1, sizeof(*env));
    rd_fixture_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(env);
    assert_non_null(fx);
    contract_env_init(env);
    env->backend = fx;
    env->open_other = rd_open_other;
    env->async = 1;
    snprintf(fx->prefix, sizeof(fx->prefix), "t%d:", ++g_prefix_seq);
    fx->options.key_prefix = fx->prefix;
    return env;
}

/* The contract: a handle on the shared server, its own key prefix per test. */
static int rd_setup(void **state)
{
    contract_env_t *env = env_new();
    rd_fixture_t *fx = env->backend;
    snprintf(fx->url, sizeof(fx->url), "redis://127.0.0.1:%d", g_main.port);
    env->store = open_url(env, fx->url, &fx->options);
    assert_non_null(env->store);
    assert_string_equal(as_store_backend(env->store), "redis");
    *state = env;
    return 0;
}

/* Failure tests: a loop only; each test starts its own servers and handles. */
static int bare_setup(void **state)
{
    *state = env_new();
    return 0;
}

static int rd_teardown(void **state)
{
    contract_env_t *env = *state;
    contract_env_free(env);
    for (int i = 0; i < MAX_PROCS; ++i) {
        if (g_procs[i] != NULL && g_procs[i] != &g_main)
            proc_stop(g_procs[i], 0);
        memset(&g_pool[i], 0, sizeof(g_pool[i]));
    }
    free(env->backend);
    free(env);
    tg_log_set_level(TG_LOG_INFO);
    return 0;
}

/* Repeats a set until it succeeds; returns how long that took, or fails after timeout_ms. */
static uint64_t wait_until_ok(contract_env_t *env, as_store_t *s, uint64_t timeout_ms)
{
    uint64_t start = now_ms();
    while (now_ms() - start < timeout_ms) {
        if (c_set(env, s, "probe", "p", 1, 60000) == AS_STORE_OK)
            return now_ms() - start;
        contract_sleep(env, 20);
    }
    fail_msg("store did not recover within %llu ms", (unsigned long long)timeout_ms);
    return 0;
}

/* A fresh redis-server of the test's own and env->store open on it, with "k" set to "v". */
static proc_t *start_own_server(contract_env_t *env, const as_store_options_t *options)
{
    proc_t *p = proc_new();
    char url[64];
    redis_start(p, NULL, NULL);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", p->port);
    env->store = open_url(env, url, options);
    assert_non_null(env->store);
    assert_int_equal(c_set(env, env->store, "k", "v", 1, 60000), AS_STORE_OK);
    return p;
}

/* ---- tests
 * --------------------------------------------------------------------------------------------------- */

static void test_redis_server_on_path(void **state)
{
    (void)state;
    assert_non_null(g_redis_bin);
    assert_true(g_main.pid > 0);
}

/* No server at open: ops fail fast with UNAVAILABLE; once a server comes up, the same handle works. */
static void test_redis_down_at_open_then_up(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    proc_t *p = proc_new();
    p->port = free_port();
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", p->port);
    env->store = open_url(env, url, NULL);
    assert_non_null(env->store);
    uint64_t worst = 0, start = now_ms();
    int ops = 0;
    while (now_ms() - start < 400) {
        uint64_t t0 = now_ms();
        assert_int_equal(c_get(env, env->store, "k", &r), AS_STORE_UNAVAILABLE);
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
        ++ops;
        contract_sleep(env, 5);
    }
    print_message("server down: %d ops, all UNAVAILABLE, slowest answer %llu ms\n", ops,
                  (unsigned long long)worst);
    assert_true(worst < 100);
    redis_start(p, NULL, NULL);
    uint64_t took = wait_until_ok(env, env->store, 6000);
    print_message("server up: first success after %llu ms\n", (unsigned long long)took);
    c_get(env, env->store, "probe", &r);
    contract_expect_value(&r, "p", 1);
    contract_result_reset(&r);
}

/* The server dies mid-test: answers stay prompt (UNAVAILABLE or TIMEOUT); it comes back on the same port and
 * the same handle recovers by itself. */
static void test_redis_killed_and_restarted(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    proc_t *p = start_own_server(env, NULL);

    /* ops in flight when it dies */
    contract_result_t inflight[20] = {{0}};
    for (int i = 0; i < 20; ++i)
        assert_int_equal(as_store_get(env->store, "k", contract_on_value, &inflight[i]), 0);
    proc_kill(p);
    uint64_t t0 = now_ms();
    for (int i = 0; i < 20; ++i) {
        assert_int_equal(contract_wait(env, &inflight[i].calls, 1, 1000), 0);
        assert_true(inflight[i].status == AS_STORE_OK || inflight[i].status == AS_STORE_UNAVAILABLE ||
                    inflight[i].status == AS_STORE_TIMEOUT);
        contract_result_reset(&inflight[i]);
    }
    assert_true(now_ms() - t0 < 400);

    uint64_t worst = 0, start = now_ms();
    while (now_ms() - start < 300) {
        uint64_t t1 = now_ms();
        as_store_status_t status = c_get(env, env->store, "k", &r);
        assert_true(status == AS_STORE_UNAVAILABLE || status == AS_STORE_TIMEOUT);
        if (now_ms() - t1 > worst)
            worst = now_ms() - t1;
        contract_sleep(env, 10);
    }
    print_message("server killed: slowest failing op %llu ms (command timeout 200)\n",
                  (unsigned long long)worst);
    assert_true(worst <= 300);

    redis_start(p, NULL, NULL); /* same port */
    uint64_t took = wait_until_ok(env, env->store, 6000);
    print_message("server restarted: same handle recovered after %llu ms\n", (unsigned long long)took);
    assert_int_equal(c_get(env, env->store, "k", &r),
                     AS_STORE_NOT_FOUND); /* a fresh server: no persistence */
    contract_result_reset(&r);
}

/* CLIENT PAUSE holds replies: ops time out at about the command timeout, the late replies are dropped safely,
 * and the connection stays (no reconnect). */
static void test_redis_timeout_and_late_reply(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0}, many[30] = {{0}};
    proc_t *p = start_own_server(env, NULL);
    long long conns = connections_received(p);

    side_command(p, "CLIENT PAUSE 1500 ALL");
    uint64_t t0 = now_ms();
    assert_int_equal(c_get(env, env->store, "k", &r), AS_STORE_TIMEOUT);
    uint64_t took = r.at_ms - t0; /* when the callback ran, not when the wait noticed */
    print_message("paused server: TIMEOUT after %llu ms (command timeout 200)\n", (unsigned long long)took);
    /* never early; late only by scheduling: a shared 2-core machine can add hundreds of ms, while a missing
     * timer would wait for the 1.5 s pause (and see OK); the store reconnects after 2 s of silence */
    assert_true(took >= 180 && took <= 1200);
    for (int i = 0; i < 30; ++i)
        assert_int_equal(as_store_set(env->store, "k", "late", 4, 60000, contract_on_value, &many[i]), 0);
    for (int i = 0; i < 30; ++i) {
        assert_int_equal(contract_wait(env, &many[i].calls, 1, 1000), 0);
        assert_int_equal(many[i].status, AS_STORE_TIMEOUT);
    }
    /* the pause ends, the 31 late replies arrive and are dropped: no second callback, no crash */
    contract_sleep(env, 1500);
    for (int i = 0; i < 30; ++i) {
        assert_int_equal(many[i].calls, 1);
        contract_result_reset(&many[i]);
    }
    c_get(env, env->store, "k", &r);
    contract_expect_value(&r, "late", 4); /* the timed-out sets did run: TIMEOUT means "maybe" */
    /* no reconnect: the only new connections are the test's own (INFO, CLIENT PAUSE) */
    assert_int_equal(connections_received(p), conns + 2);
    contract_result_reset(&r);
}

/* The loop was held up (a long callback elsewhere, a blocking step) while an op waited and before the next
 * was sent: the first times out on the loop's first turn after, the second gets its whole command timeout,
 * counted from when it was sent and not from the turn's stale start. */
static void test_redis_timeout_after_busy_loop(void **state)
{
    contract_env_t *env = *state;
    contract_result_t before = {0}, after = {0};
    proc_t *p = start_own_server(env, NULL);

    side_command(p, "CLIENT PAUSE 1500 ALL");
    assert_int_equal(as_store_get(env->store, "k", contract_on_value, &before), 0);
    sleep_ms(400); /* the loop is busy: the first op's deadline passes meanwhile */
    uint64_t t0 = now_ms();
    assert_int_equal(as_store_get(env->store, "k", contract_on_value, &after), 0);
    assert_int_equal(contract_wait(env, &after.calls, 1, 3000), 0);
    assert_int_equal(before.calls, 1);
    assert_int_equal(before.status, AS_STORE_TIMEOUT);
    assert_int_equal(after.status, AS_STORE_TIMEOUT);
    uint64_t late = before.at_ms - t0, took = after.at_ms - t0;
    print_message("busy loop: overdue op TIMEOUT %llu ms after the loop ran again, next op after %llu ms\n",
                  (unsigned long long)late, (unsigned long long)took);
    assert_true(late < 150);
    /* a deadline taken from the stale loop time would have fired with the first, at once */
    assert_true(took >= 180 && took <= 1000);
    contract_result_reset(&before);
    contract_result_reset(&after);
}

/* The harness itself: a wait whose callback runs at the start of a loop turn (its timer fell due while the
 * test was blocked) returns at once; UV_RUN_ONCE used to sleep on in poll until the next event. */
static void test_redis_harness_wait_returns_promptly(void **state)
{
    contract_env_t *env = *state;
    uv_timer_t timer;
    int fired = 0;
    uv_timer_init(&env->loop, &timer);
    timer.data = &fired;
    uv_timer_start(&timer, contract_watchdog_fired, 1, 0);
    sleep_ms(30);
    uint64_t t0 = now_ms();
    int waited = contract_wait(env, &fired, 1, 3000);
    uint64_t took = now_ms() - t0;
    /* and a sleep after a blocking step lasts as long as asked, counted from now */
    sleep_ms(30);
    uint64_t t1 = now_ms();
    contract_sleep(env, 100);
    uint64_t slept = now_ms() - t1;
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&env->loop, UV_RUN_NOWAIT); /* the timer lives on this stack: closed before any assertion */
    print_message("harness: wait returned after %llu ms, sleep of 100 ms took %llu ms\n",
                  (unsigned long long)took, (unsigned long long)slept);
    assert_int_equal(waited, 0);
    assert_true(took < 500);
    assert_true(slept >= 95 && slept < 1000);
}

/* A reply that came in while the loop was not running (the process descheduled on a busy machine, or a long
 * loop turn) is delivered, not timed out, although its deadline passed meanwhile: libuv runs timers before it
 * reads sockets. */
static void test_redis_reply_in_socket_is_no_timeout(void **state)
{
    contract_env_t *env = *state;
    enum { GETS = 24, VALUE = 4096 }; /* about 100 KiB of replies: several socket reads */
    static char value[VALUE];
    memset(value, 'v', sizeof(value));
    contract_result_t r[GETS] = {{0}};
    assert_int_equal(c_set(env, env->store, "k", value, sizeof(value), 60000), AS_STORE_OK);
    for (int i = 0; i < GETS; ++i)
        assert_int_equal(as_store_get(env->store, "k", contract_on_value, &r[i]), 0);
    uv_run(&env->loop, UV_RUN_NOWAIT); /* one turn: the commands are written, their replies not read yet */
    assert_int_equal(r[0].calls, 0);
    sleep_ms(400); /* the loop does not run for twice the command timeout; Redis answers meanwhile */
    for (int i = 0; i < GETS; ++i) {
        assert_int_equal(contract_wait(env, &r[i].calls, 1, 1000), 0);
        contract_expect_value(&r[i], value, sizeof(value));
        contract_result_reset(&r[i]);
    }
}

/* A server that stops answering altogether (SIGSTOP): TIMEOUTs, then the connection is dropped and retried;
 * after SIGCONT the handle recovers. */
static void test_redis_hung_server(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    capture_t cap;
    proc_t *p = start_own_server(env, NULL);

    capture_start(&cap);
    kill(p->pid, SIGSTOP);
    uint64_t t0 = now_ms();
    as_store_status_t first = c_get(env, env->store, "k", &r);
    uint64_t took = now_ms() - t0;
    uint64_t worst = 0, start = now_ms();
    int timeouts = 0, unavailable = 0;
    while (now_ms() - start < 2600) {
        uint64_t t1 = now_ms();
        as_store_status_t status = c_get(env, env->store, "k", &r);
        timeouts += status == AS_STORE_TIMEOUT;
        unavailable += status == AS_STORE_UNAVAILABLE;
        if (now_ms() - t1 > worst)
            worst = now_ms() - t1;
        contract_sleep(env, 50);
    }
    kill(p->pid, SIGCONT);
    uint64_t recovered = wait_until_ok(env, env->store, 6000);
    char *log = capture_stop(&cap);
    print_message(
        "stopped server: first TIMEOUT after %llu ms, then %d TIMEOUT / %d UNAVAILABLE, slowest %llu ms; "
        "recovered %llu ms after SIGCONT\n",
        (unsigned long long)took, timeouts, unavailable, (unsigned long long)worst,
        (unsigned long long)recovered);
    assert_int_equal(first, AS_STORE_TIMEOUT);
    /* bounds leave room for a loaded machine; the connection is dropped after 2 s of silence */
    assert_true(took >= 180 && took <= 1500);
    assert_true(worst <= 1500);
    assert_true(timeouts > 0);
    assert_non_null(strstr(log, "sent no reply for 2000 ms; reconnecting"));
    free(log);
    contract_result_reset(&r);
}

static void random_password(char *out, size_t size)
{
    /* reserved characters on purpose: the URL form must percent-encode them */
    uint8_t bytes[12];
    int fd = open("/dev/urandom", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, bytes, sizeof(bytes)), (ssize_t)sizeof(bytes));
    close(fd);
    int n = snprintf(out, size, "p@ss/w:rd%%");
    for (size_t i = 0; i < sizeof(bytes); ++i)
        n += snprintf(out + n, size - (size_t)n, "%02x", bytes[i]);
}

static void test_redis_password(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    proc_t *p = proc_new();
    char password[64], conf[128], content[256], pwfile[128], wrongfile[128], url[256];
    capture_t cap;
    random_password(password, sizeof(password));
    snprintf(conf, sizeof(conf), "%s/auth.conf", g_dir);
    snprintf(content, sizeof(content), "requirepass \"%s\"\n", password);
    write_file(conf, content);
    snprintf(pwfile, sizeof(pwfile), "%s/password", g_dir);
    snprintf(content, sizeof(content), "%s\n", password);
    write_file(pwfile, content);
    snprintf(wrongfile, sizeof(wrongfile), "%s/wrong-password", g_dir);
    write_file(wrongfile, "not-the-password-7f3a\n");
    redis_start(p, conf, password);

    /* from a file */
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", p->port);
    as_store_options_t from_file = {.password_file = pwfile};
    env->store = open_url(env, url, &from_file);
    assert_non_null(env->store);
    assert_int_equal(c_set(env, env->store, "k", "secret-session", 14, 60000), AS_STORE_OK);
    c_get(env, env->store, "k", &r);
    contract_expect_value(&r, "secret-session", 14);

    /* in the URL, percent-encoded */
    snprintf(url, sizeof(url), "redis://:");
    for (const char *c = password; *c != '\0'; ++c) {
        if (strchr("@/:%", *c) != NULL)
            snprintf(url + strlen(url), sizeof(url) - strlen(url), "%%%02X", (unsigned char)*c);
        else
            snprintf(url + strlen(url), sizeof(url) - strlen(url), "%c", *c);
    }
    snprintf(url + strlen(url), sizeof(url) - strlen(url), "@127.0.0.1:%d", p->port);
    as_store_t *in_url = open_url(env, url, NULL);
    assert_non_null(in_url);
    c_get(env, in_url, "tenantgate:x", &r);
    assert_int_equal(r.status, AS_STORE_NOT_FOUND);
    as_store_close(in_url);

    /* a wrong password and none at all: UNAVAILABLE, a clear log line, no password in it */
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", p->port);
    as_store_options_t wrong = {.password_file = wrongfile};
    capture_start(&cap);
    as_store_t *bad = open_url(env, url, &wrong);
    as_store_t *none = open_url(env, url, NULL);
    as_store_status_t bad_status = bad != NULL ? c_get(env, bad, "k", &r) : AS_STORE_OK;
    as_store_status_t none_status = none != NULL ? c_get(env, none, "k", &r) : AS_STORE_OK;
    contract_sleep(env, 50);
    as_store_close(bad);
    as_store_close(none);
    char *log = capture_stop(&cap);
    print_message("log of the refused handles:\n%s", log);
    assert_int_equal(bad_status, AS_STORE_UNAVAILABLE);
    assert_int_equal(none_status, AS_STORE_UNAVAILABLE);
    assert_non_null(strstr(log, "refused AUTH (WRONGPASS)"));
    assert_non_null(strstr(log, "requires a password (NOAUTH)"));
    assert_null(strstr(log, password));
    assert_null(strstr(log, "not-the-password"));
    free(log);

    /* the URL parser's errors never echo a password either */
    char err[256];
    as_store_t *s = NULL;
    assert_int_equal(
        as_store_open("redis://:hunter2@127.0.0.1:99999", NULL, &env->loop, &s, err, sizeof(err)), -1);
    assert_null(strstr(err, "hunter2"));
    /* password in both places is refused */
    assert_int_equal(
        as_store_open("redis://:hunter2@127.0.0.1", &from_file, &env->loop, &s, err, sizeof(err)), -1);
    assert_null(strstr(err, "hunter2"));
    contract_result_reset(&r);
}

static void test_redis_select_db(void **state)
{
    contract_env_t *env = *state;
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d/3", g_main.port);
    as_store_options_t options = {.key_prefix = "dbtest:"};
    env->store = open_url(env, url, &options);
    assert_non_null(env->store);
    assert_int_equal(c_set(env, env->store, "k", "in-db-3", 7, 60000), AS_STORE_OK);
    redisContext *c = side(&g_main, NULL);
    redisReply *rep = redisCommand(c, "GET dbtest:k");
    assert_int_equal(rep->type, REDIS_REPLY_NIL); /* not in db 0 */
    freeReplyObject(rep);
    freeReplyObject(redisCommand(c, "SELECT 3"));
    rep = redisCommand(c, "GET dbtest:k");
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_string_equal(rep->str, "in-db-3");
    freeReplyObject(rep);
    /* the TTL is set in Redis, not only checked by us */
    rep = redisCommand(c, "PTTL dbtest:k");
    assert_true(rep->integer > 55000 && rep->integer <= 60000);
    freeReplyObject(rep);
    redisFree(c);
}

/* Redis keeps values and sets apart by type: using one as the other is an ERROR, not a crash. */
static void test_redis_wrong_type(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    assert_int_equal(c_set(env, env->store, "str", "v", 1, 60000), AS_STORE_OK);
    assert_int_equal(c_sadd(env, env->store, "str", "m", 60000), AS_STORE_ERROR);
    assert_int_equal(c_members(env, env->store, "str", &r), AS_STORE_ERROR);
    assert_int_equal(c_sadd(env, env->store, "set", "m", 60000), AS_STORE_OK);
    assert_int_equal(c_get(env, env->store, "set", &r), AS_STORE_ERROR);
    assert_int_equal(c_take(env, env->store, "set", &r), AS_STORE_ERROR);
    /* the connection is fine afterwards */
    c_get(env, env->store, "str", &r);
    contract_expect_value(&r, "v", 1);
    contract_result_reset(&r);
}

static void test_redis_hostname_resolved_off_loop(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    char url[64];
    snprintf(url, sizeof(url), "redis://localhost:%d", g_main.port);
    as_store_options_t options = {.key_prefix = "hostname:"};
    env->store = open_url(env, url, &options);
    assert_non_null(env->store);
    assert_int_equal(c_set(env, env->store, "k", "v", 1, 60000), AS_STORE_OK);
    c_get(env, env->store, "k", &r);
    contract_expect_value(&r, "v", 1);
    contract_result_reset(&r);
    /* a name that does not resolve: UNAVAILABLE, no hang */
    as_store_t *s = open_url(env, "redis://no-such-host.invalid:6379", NULL);
    assert_non_null(s);
    as_store_status_t status = c_get(env, s, "k", &r);
    assert_true(status == AS_STORE_UNAVAILABLE);
    as_store_close(s);
}

/* More ops than max_pending in flight: the excess fails at once with UNAVAILABLE instead of queueing. */
static void test_redis_max_pending(void **state)
{
    contract_env_t *env = *state;
    contract_result_t res[25] = {{0}};
    as_store_options_t options = {.max_pending = 10};
    proc_t *p = start_own_server(env, &options);
    side_command(p, "CLIENT PAUSE 400 ALL");
    for (int i = 0; i < 25; ++i)
        assert_int_equal(as_store_get(env->store, "k", contract_on_value, &res[i]), 0);
    contract_sleep(env, 20);
    int unavailable = 0, waiting = 0;
    for (int i = 0; i < 25; ++i) {
        unavailable += res[i].calls == 1 && res[i].status == AS_STORE_UNAVAILABLE;
        waiting += res[i].calls == 0;
    }
    assert_int_equal(unavailable, 15);
    assert_int_equal(waiting, 10);
    /* close with orphans (timed out, reply still owed) and replies still coming: ASan checks the rest */
    contract_sleep(env, 250);
    for (int i = 0; i < 25; ++i) {
        assert_int_equal(res[i].calls, 1);
        contract_result_reset(&res[i]);
    }
}

/* Reconnect delays double from reconnect_min_ms up to reconnect_max_ms, each jittered into [d/2, d]. */
static void test_redis_reconnect_backoff(void **state)
{
    contract_env_t *env = *state;
    capture_t cap;
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", free_port());
    as_store_options_t options = {.reconnect_min_ms = 40, .reconnect_max_ms = 200};
    tg_log_set_level(TG_LOG_DEBUG);
    capture_start(&cap);
    env->store = open_url(env, url, &options);
    contract_sleep(env, 1200);
    as_store_close(env->store);
    env->store = NULL;
    char *log = capture_stop(&cap);
    tg_log_set_level(TG_LOG_INFO);
    unsigned delays[64], n = 0;
    const char *needle = "next connection attempt in ";
    for (const char *at = strstr(log, needle); at != NULL && n < 64; at = strstr(at + 1, needle))
        delays[n++] = (unsigned)atoi(at + strlen(needle));
    free(log);
    print_message("reconnect delays:");
    for (unsigned i = 0; i < n; ++i)
        print_message(" %u", delays[i]);
    print_message(" ms\n");
    assert_true(n >= 5);
    unsigned cap_ms = 40;
    for (unsigned i = 0; i < n; ++i) {
        if (delays[i] < cap_ms / 2 || delays[i] > cap_ms)
            fail_msg("delay %u = %u ms outside [%u, %u]", i, delays[i], cap_ms / 2, cap_ms);
        cap_ms = cap_ms * 2 > 200 ? 200 : cap_ms * 2;
    }
}

static void write_sentinel_conf(const char *path, int port, int master_port)
{
    char content[512];
    snprintf(content, sizeof(content),
             "port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\n"
             "sentinel monitor mymaster 127.0.0.1 %d 1\n"
             "sentinel down-after-milliseconds mymaster 1000\n"
             "sentinel failover-timeout mymaster 2000\n",
             port, g_dir, master_port);
    write_file(path, content);
}

static void test_redis_sentinel(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    proc_t *master = proc_new(), *sentinel = proc_new();
    char conf[128], url[256];
    redis_start(master, NULL, NULL);
    sentinel->port = free_port();
    snprintf(conf, sizeof(conf), "%s/sentinel-%d.conf", g_dir, sentinel->port);
    write_sentinel_conf(conf, sentinel->port, master->port);
    char *argv[] = {g_redis_bin, conf, "--sentinel", NULL};
    proc_spawn(sentinel, argv);
    if (wait_ready(sentinel, NULL, 1) != 0)
        fail_msg("redis-server --sentinel on port %d did not start", sentinel->port);

    /* the first Sentinel listed is down: the next one answers */
    snprintf(url, sizeof(url), "redis+sentinel://127.0.0.1:%d,127.0.0.1:%d/mymaster/2", free_port(),
             sentinel->port);
    env->store = open_url(env, url, NULL);
    assert_non_null(env->store);
    assert_int_equal(c_set(env, env->store, "k", "via-sentinel", 12, 60000), AS_STORE_OK);
    c_get(env, env->store, "k", &r);
    contract_expect_value(&r, "via-sentinel", 12);
    assert_int_equal(c_add(env, env->store, "k", "x", 60000), AS_STORE_EXISTS);
    assert_int_equal(c_sadd(env, env->store, "s", "m", 60000), AS_STORE_OK);
    c_take(env, env->store, "k", &r);
    contract_expect_value(&r, "via-sentinel", 12);
    /* it really is on the master, in db 2 */
    redisContext *c = side(master, NULL);
    freeReplyObject(redisCommand(c, "SELECT 2"));
    redisReply *rep = redisCommand(c, "SISMEMBER tenantgate:s m");
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    redisFree(c);

    /* a master no Sentinel knows: UNAVAILABLE and a log line that says why */
    capture_t cap;
    snprintf(url, sizeof(url), "redis+sentinel://127.0.0.1:%d/othermaster", sentinel->port);
    capture_start(&cap);
    as_store_t *s = open_url(env, url, NULL);
    as_store_status_t status = s != NULL ? c_get(env, s, "k", &r) : AS_STORE_OK;
    as_store_close(s);
    char *log = capture_stop(&cap);
    assert_int_equal(status, AS_STORE_UNAVAILABLE);
    assert_non_null(strstr(log, "no address for master 'othermaster'"));
    free(log);
    contract_result_reset(&r);
}

static int info_has(const proc_t *p, const char *section, const char *needle)
{
    redisContext *c = side(p, NULL);
    redisReply *r = redisCommand(c, "INFO %s", section);
    int has = r != NULL && r->type == REDIS_REPLY_STRING && strstr(r->str, needle) != NULL;
    freeReplyObject(r);
    redisFree(c);
    return has;
}

/* Sentinel knows the replica and can promote it. */
static int sentinel_sees_replica(const proc_t *sentinel, int replica_port)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", replica_port);
    redisContext *c = side(sentinel, NULL);
    redisReply *r = redisCommand(c, "SENTINEL replicas mymaster");
    int ok = 0;
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
        redisReply *fields = r->element[i];
        int port_ok = 0, flags_ok = 0;
        for (size_t j = 0; j + 1 < fields->elements; j += 2) {
            if (strcmp(fields->element[j]->str, "port") == 0)
                port_ok = strcmp(fields->element[j + 1]->str, port) == 0;
            if (strcmp(fields->element[j]->str, "flags") == 0)
                flags_ok = strcmp(fields->element[j + 1]->str, "slave") == 0;
        }
        ok |= port_ok && flags_ok;
    }
    freeReplyObject(r);
    redisFree(c);
    return ok;
}

/* The port Sentinel gives for mymaster. */
static int sentinel_master_port(const proc_t *sentinel)
{
    redisContext *c = side(sentinel, NULL);
    redisReply *r = redisCommand(c, "SENTINEL get-master-addr-by-name mymaster");
    int port = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? atoi(r->element[1]->str) : 0;
    freeReplyObject(r);
    redisFree(c);
    return port;
}

/* A failover while the handle is open: the old master turns replica, the handle asks Sentinel again and
 * writes to the new master, without being reopened. */
static void test_redis_sentinel_failover(void **state)
{
    contract_env_t *env = *state;
    contract_result_t r = {0};
    proc_t *master = proc_new(), *replica = proc_new(), *sentinel = proc_new();
    char conf[128], url[256], replicaof[64];
    /* sync the replica at once (Redis 7 waits 5 s by default for more replicas) */
    snprintf(conf, sizeof(conf), "%s/master.conf", g_dir);
    write_file(conf, "repl-diskless-sync-delay 0\n");
    redis_start(master, conf, NULL);
    replica->port = free_port();
    snprintf(conf, sizeof(conf), "%s/replica-%d.conf", g_dir, replica->port);
    snprintf(replicaof, sizeof(replicaof), "replicaof 127.0.0.1 %d\n", master->port);
    write_file(conf, replicaof);
    redis_start(replica, conf, NULL);
    uint64_t start = now_ms();
    while (!info_has(replica, "replication", "master_link_status:up") && now_ms() - start < 5000)
        sleep_ms(20);
    sentinel->port = free_port();
    snprintf(conf, sizeof(conf), "%s/sentinel-%d.conf", g_dir, sentinel->port);
    write_sentinel_conf(conf, sentinel->port, master->port);
    char *argv[] = {g_redis_bin, conf, "--sentinel", NULL};
    proc_spawn(sentinel, argv);
    assert_int_equal(wait_ready(sentinel, NULL, 1), 0);
    uint64_t t_linked = now_ms() - start;
    while (!sentinel_sees_replica(sentinel, replica->port) && now_ms() - start < 8000)
        sleep_ms(20);
    assert_true(sentinel_sees_replica(sentinel, replica->port));
    print_message("replica linked after %llu ms, known to Sentinel after %llu ms\n",
                  (unsigned long long)t_linked, (unsigned long long)(now_ms() - start));

    snprintf(url, sizeof(url), "redis+sentinel://127.0.0.1:%d/mymaster", sentinel->port);
    env->store = open_url(env, url, NULL);
    assert_non_null(env->store);
    assert_int_equal(c_set(env, env->store, "before", "b", 1, 60000), AS_STORE_OK);
    /* replication is asynchronous (and starts streaming only after the replica's first ack, up to 1 s after
     * its sync): a failover before the write reached the replica would lose it, so wait until it is there */
    redisContext *c = side(replica, NULL);
    for (;;) {
        redisReply *rep = redisCommand(c, "EXISTS tenantgate:before");
        int there = rep != NULL && rep->integer == 1;
        freeReplyObject(rep);
        if (there)
            break;
        if (now_ms() - start > 8000)
            fail_msg("the write did not reach the replica");
        sleep_ms(10);
    }
    redisFree(c);

    side_command(sentinel, "SENTINEL FAILOVER mymaster");
    uint64_t t0 = now_ms();
    while (sentinel_master_port(sentinel) != replica->port) {
        if (now_ms() - t0 > 8000)
            fail_msg("Sentinel did not promote the replica within 8 s");
        contract_sleep(env, 20);
    }
    uint64_t promoted = now_ms() - t0;
    /* fresh keys until one lands on the new master itself: the handle has moved over */
    int failures = 0, n = 0;
    char key[32];
    c = side(replica, NULL); /* a new one: Sentinel kills the clients of the replica it promotes */
    for (;;) {
        if (now_ms() - t0 > 10000)
            fail_msg("no write reached the new master within 10 s");
        snprintf(key, sizeof(key), "after-%d", ++n);
        if (c_set(env, env->store, key, "a", 1, 60000) != AS_STORE_OK) {
            ++failures;
        } else {
            redisReply *rep = redisCommand(c, "EXISTS tenantgate:%s", key);
            int there = rep != NULL && rep->integer == 1;
            freeReplyObject(rep);
            if (there)
                break;
        }
        contract_sleep(env, 50);
    }
    redisFree(c);
    print_message("failover: Sentinel named the new master after %llu ms; writes reached it after %llu ms "
                  "(%d writes, %d failed)\n",
                  (unsigned long long)promoted, (unsigned long long)(now_ms() - t0), n, failures);
    c_get(env, env->store, "before", &r);
    contract_expect_value(&r, "b", 1);
    contract_result_reset(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_server_on_path),
        CONTRACT_TESTS(rd_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_wrong_type, rd_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_select_db, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_hostname_resolved_off_loop, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_down_at_open_then_up, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_killed_and_restarted, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_timeout_and_late_reply, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_timeout_after_busy_loop, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_harness_wait_returns_promptly, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_reply_in_socket_is_no_timeout, rd_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_hung_server, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_password, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_max_pending, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_reconnect_backoff, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_sentinel, bare_setup, rd_teardown),
        cmocka_unit_test_setup_teardown(test_redis_sentinel_failover, bare_setup, rd_teardown),
    };
    /* TG_TEST_FILTER=test_redis_hung_server runs one case (a glob; unset: all) */
    cmocka_set_test_filter(getenv("TG_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
