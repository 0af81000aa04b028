/*
 * Seeds a session store with N valid browser sessions without N logins, for
 * the session cache benchmark (scripts/bench-sessions). Each session is made
 * the way the login callback makes one (gateway/auth_login.c): a record from
 * ID token claims (as_session_from_claims), a fresh session id
 * (as_session_id_generate), its store key (as_session_key), the record's JSON
 * (as_session_record_to_json) under the gateway's own key names
 * (gw__auth_prefixed "session:", gw__auth_seen_key) with the same lifetimes,
 * written through the same store code (as_store_set), many writes in flight
 * on one pipelined Redis connection. The ID token is not signed by anyone:
 * the gateway verifies it at the callback only, and keeps it for logout.
 * The back-channel logout index (sid/sub sets) is not written: no request
 * reads it.
 *
 * Writes one cookie per line ("__Host-tenantgate=<id>", the Cookie header
 * value a browser would send) to OUT (created mode 0600; it holds live
 * session ids: keep it in a private scratch folder). Built with TG_TESTS,
 * never run by ctest; docs/benchmarks.md says how it is used.
 *
 *   bench_seed_sessions --store URL --count N --out FILE [--users U] [--lifetime S] [--idle S]
 *                       [--issuer URL]
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "auth_int.h"
#include "authservice/cookie.h"
#include "authservice/login_flow.h"
#include "authservice/session_id.h"
#include "authservice/session_record.h"
#include "authservice/store.h"
#include "util/base64url.h"
#include "util/random.h"

#define WINDOW 2000 /* sessions being written at once (two commands each) */

typedef struct {
    const char *store_url, *out_path, *issuer;
    unsigned long count, users;
    uint64_t lifetime_s, idle_s;
} options_t;

typedef struct {
    options_t opt;
    as_store_t *store;
    FILE *out;
    json_t **claims;    /* one per user */
    char **id_tokens;   /* one per user */
    unsigned long next; /* sessions started */
    unsigned long written, failed;
    unsigned inflight; /* commands */
} seeder_t;

/* Prints "bench_seed_sessions: WHAT DETAIL" and exits 1. */
static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_seed_sessions: %s%s%s\n", what, detail[0] != '\0' ? " " : "", detail);
    exit(1);
}

static unsigned long number(const char *text, const char *name)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v == 0 || v > 100000000ul)
        die(name, "needs a number from 1 to 100000000");
    return v;
}

static options_t parse_args(int argc, char **argv)
{
    options_t o = {
        .users = 4, .lifetime_s = 12 * 3600, .idle_s = 3600, .issuer = "https://idp.bench.invalid"};
    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL)
            die(name, "needs a value");
        if (strcmp(name, "--store") == 0)
            o.store_url = value;
        else if (strcmp(name, "--out") == 0)
            o.out_path = value;
        else if (strcmp(name, "--issuer") == 0)
            o.issuer = value;
        else if (strcmp(name, "--count") == 0)
            o.count = number(value, name);
        else if (strcmp(name, "--users") == 0)
            o.users = number(value, name);
        else if (strcmp(name, "--lifetime") == 0)
            o.lifetime_s = number(value, name);
        else if (strcmp(name, "--idle") == 0)
            o.idle_s = number(value, name);
        else
            die("unknown option", name);
    }
    if (o.store_url == NULL || o.out_path == NULL || o.count == 0)
        die("usage: bench_seed_sessions --store URL --count N --out FILE [--users U] [--lifetime S] "
            "[--idle S] [--issuer URL]",
            "");
    if (o.idle_s > o.lifetime_s)
        die("--idle must not exceed --lifetime", "");
    return o;
}

/* base64url of a JSON text, the shape of a JWT part. */
static char *part(const char *json)
{
    size_t len = strlen(json);
    char *out = malloc(TG_BASE64URL_ENCODED_SIZE(len));
    if (out != NULL)
        tg_base64url_encode(out, (const uint8_t *)json, len);
    return out;
}

/* An ID token of the usual size (ES256: 64-byte signature), carrying claims; its signature is random. */
static char *fake_id_token(const json_t *claims)
{
    uint8_t signature[64];
    char sig[TG_BASE64URL_ENCODED_SIZE(sizeof(signature))];
    char *body_json = json_dumps(claims, JSON_COMPACT);
    char *header = part("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"bench\"}");
    char *body = body_json != NULL ? part(body_json) : NULL;
    char *token = NULL;
    if (header != NULL && body != NULL && tg_random_bytes(signature, sizeof(signature)) == 0) {
        tg_base64url_encode(sig, signature, sizeof(signature));
        size_t size = strlen(header) + strlen(body) + strlen(sig) + 3;
        if ((token = malloc(size)) != NULL)
            snprintf(token, size, "%s.%s.%s", header, body, sig);
    }
    free(body_json);
    free(header);
    free(body);
    return token;
}

static void make_users(seeder_t *s)
{
    int64_t now = (int64_t)time(NULL);
    s->claims = calloc(s->opt.users, sizeof(*s->claims));
    s->id_tokens = calloc(s->opt.users, sizeof(*s->id_tokens));
    if (s->claims == NULL || s->id_tokens == NULL)
        die("out of memory", "");
    for (unsigned long u = 0; u < s->opt.users; ++u) {
        char sub[32], email[64], group[64];
        snprintf(sub, sizeof(sub), "bench-user-%lu", u);
        snprintf(email, sizeof(email), "bench-user-%lu@example.com", u);
        snprintf(group, sizeof(group), "kubeflow-bench-%lu-editors", u);
        s->claims[u] =
            json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s, s:I, s:I}", "iss", s->opt.issuer, "sub", sub, "aud",
                      "tenantgate", "email", email, "groups", group, "name", sub, "iat", (json_int_t)now,
                      "exp", (json_int_t)(now + (int64_t)s->opt.lifetime_s));
        if (s->claims[u] == NULL || (s->id_tokens[u] = fake_id_token(s->claims[u])) == NULL)
            die("out of memory", "");
    }
}

static void start_more(seeder_t *s);

static void on_written(void *data, as_store_status_t status, const char *value, size_t len)
{
    (void)value;
    (void)len;
    seeder_t *s = data;
    --s->inflight;
    if (status == AS_STORE_OK)
        ++s->written;
    else if (s->failed++ == 0)
        fprintf(stderr, "bench_seed_sessions: a write failed: %s\n", as_store_status_text(status));
    start_more(s);
}

/* Stores one new session (record + idle marker) and writes its cookie; 0, or -1 when it could not start. */
static int seed_one(seeder_t *s)
{
    unsigned long user = s->next % s->opt.users;
    as_session_record_t *record = as_session_from_claims(s->claims[user], s->id_tokens[user],
                                                         (int64_t)time(NULL), (int64_t)s->opt.lifetime_s);
    char id[AS_SESSION_ID_LEN + 1], key[AS_SESSION_KEY_LEN + 1], err[128] = "";
    char *json = NULL, *session_key = NULL, *seen_key = NULL;
    int rc = -1;
    if (record == NULL || as_session_id_generate(id) != 0)
        goto done;
    as_session_key(id, AS_SESSION_ID_LEN, key);
    json = as_session_record_to_json(record, err, sizeof(err));
    session_key = gw__auth_prefixed("session:", key);
    seen_key = gw__auth_seen_key(key);
    if (json == NULL || session_key == NULL || seen_key == NULL)
        goto done;
    /* the cookie as a browser sends it back, checked with the gateway's own cookie parser */
    char cookie[sizeof(GW_AUTH_SESSION_COOKIE) + AS_SESSION_ID_LEN + 1];
    snprintf(cookie, sizeof(cookie), "%s=%s", GW_AUTH_SESSION_COOKIE, id);
    const char *found;
    size_t found_len;
    if (!as_cookie_find(cookie, strlen(cookie), GW_AUTH_SESSION_COOKIE, &found, &found_len) ||
        !as_session_id_is_well_formed(found, found_len))
        die("the gateway would not read the cookie made here", "");
    if (as_store_set(s->store, session_key, json, strlen(json), s->opt.lifetime_s * 1000, on_written, s) != 0)
        goto done;
    ++s->inflight;
    if (as_store_set(s->store, seen_key, "1", 1, s->opt.idle_s * 1000, on_written, s) != 0) {
        ++s->failed;
        goto done;
    }
    ++s->inflight;
    if (fprintf(s->out, "%s\n", cookie) < 0)
        die("cannot write the cookie file", "");
    rc = 0;
done:
    if (rc != 0 && err[0] != '\0')
        fprintf(stderr, "bench_seed_sessions: record not encoded: %s\n", err);
    OPENSSL_cleanse(id, sizeof(id));
    if (json != NULL)
        OPENSSL_cleanse(json, strlen(json));
    free(json);
    free(session_key);
    free(seen_key);
    as_session_record_free(record);
    return rc;
}

static void start_more(seeder_t *s)
{
    while (s->next < s->opt.count && s->inflight + 2 <= 2 * WINDOW && s->failed == 0) {
        if (seed_one(s) != 0) {
            ++s->failed;
            break;
        }
        ++s->next;
    }
    if (s->inflight == 0 && s->store != NULL) {
        as_store_close(s->store); /* every session written, or a failure: the loop ends */
        s->store = NULL;
    }
}

int main(int argc, char **argv)
{
    seeder_t s = {.opt = parse_args(argc, argv)};
    int fd = open(s.opt.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || (s.out = fdopen(fd, "w")) == NULL)
        die("cannot create", s.opt.out_path);
    make_users(&s);

    uv_loop_t loop;
    uv_loop_init(&loop);
    as_store_options_t store_opt = {.command_timeout_ms = 10000, .max_pending = 4 * WINDOW};
    char err[256];
    if (as_store_open(s.opt.store_url, &store_opt, &loop, &s.store, err, sizeof(err)) != 0)
        die("store:", err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    start_more(&s);
    uv_run(&loop, UV_RUN_DEFAULT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uv_loop_close(&loop);
    if (fclose(s.out) != 0)
        die("cannot write", s.opt.out_path);
    for (unsigned long u = 0; u < s.opt.users; ++u) {
        json_decref(s.claims[u]);
        free(s.id_tokens[u]);
    }
    free(s.claims);
    free(s.id_tokens);

    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"sessions\":%lu,\"users\":%lu,\"writes\":%lu,\"failed\":%lu,\"seconds\":%.3f}\n", s.next,
           s.opt.users, s.written, s.failed, seconds);
    return s.failed == 0 && s.written == 2 * s.opt.count ? 0 : 1;
}
