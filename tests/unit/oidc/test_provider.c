/*
 * oidc_provider against the real dev IdP (tests/fixtures/idp.mjs, npm
 * oidc-provider): discovery, key set cache and on-demand refetch after key
 * rotation, its rate limit under a flood of made-up kids, several workers
 * sharing one provider, an IdP that goes away, the token endpoint (errors,
 * client authentication methods, a full code flow with refresh) and the
 * browser URLs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

#include "node_peer.h"
#include "oidc/pkce.h"
#include "oidc/provider.h"
#include "oidc/url.h"
#include "util/base64url.h"
#include "util/random.h"

#define WEB_SECRET "web-secret-6f1d2c9a"
#define MACHINE_SECRET "machine-secret-93be7d01"
#define AUDIENCE "https://tenantgate.local/api"
#define REDIRECT_URI "http://127.0.0.1:9/authservice/callback"
#define LOGOUT_URI "http://127.0.0.1:9/bye"

static np_peer_t idp;
static char issuer[256];
static char secret_dir[] = "/tmp/tg-provider-XXXXXX";
static char web_secret_file[128], machine_secret_file[128];

/* ---- helpers -------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int start_idp(np_peer_t *peer)
{
    const char *const args[] = {"--port",
                                "0",
                                "--client-id",
                                "web",
                                "--client-secret-file",
                                web_secret_file,
                                "--redirect-uri",
                                REDIRECT_URI,
                                "--post-logout-redirect-uri",
                                LOGOUT_URI,
                                "--machine-client-id",
                                "machine",
                                "--machine-client-secret-file",
                                machine_secret_file,
                                NULL};
    return np_start(peer, "idp.mjs", args);
}

static int group_setup(void **state)
{
    if (mkdtemp(secret_dir) == NULL)
        return -1;
    snprintf(web_secret_file, sizeof(web_secret_file), "%s/web.secret", secret_dir);
    snprintf(machine_secret_file, sizeof(machine_secret_file), "%s/machine.secret", secret_dir);
    write_file(web_secret_file, WEB_SECRET "\n");
    write_file(machine_secret_file, MACHINE_SECRET "\n");
    if (start_idp(&idp) != 0)
        return -1;
    snprintf(issuer, sizeof(issuer), "%s", idp.ready);
    return 0;
}

static int group_teardown(void **state)
{
    np_stop(&idp);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", secret_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* One worker: a loop and its HTTP client. */
struct worker {
    uv_loop_t loop;
    oidc_http_t *http;
    uv_timer_t pause;
};

static void worker_init(struct worker *w)
{
    assert_int_equal(uv_loop_init(&w->loop), 0);
    w->http = oidc_http_new(&w->loop, NULL);
    assert_non_null(w->http);
}

static void worker_done(struct worker *w)
{
    oidc_http_free(w->http);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
}

static oidc_provider_options_t options_for(const char *iss, const char *client_id, const char *secret)
{
    oidc_provider_options_t opt = {.issuer = iss, .allow_insecure = 1, .client_id = client_id};
    if (secret != NULL) {
        opt.client_secret = (const unsigned char *)secret;
        opt.client_secret_len = strlen(secret);
    }
    return opt;
}

static oidc_provider_t *provider_with(const oidc_provider_options_t *opt)
{
    char err[256];
    oidc_provider_t *p = oidc_provider_new(opt, err, sizeof(err));
    if (p == NULL)
        fail_msg("oidc_provider_new: %s", err);
    return p;
}

static oidc_provider_t *machine_provider(const char *iss)
{
    oidc_provider_options_t opt = options_for(iss, "machine", MACHINE_SECRET);
    return provider_with(&opt);
}

struct done {
    int calls;
    int sync;
    oidc_provider_status_t status;
};

static void on_done(oidc_provider_status_t status, void *data)
{
    struct done *d = data;
    d->calls++;
    d->status = status;
}

/* Loads p on w; returns the status. *sync (may be NULL) tells whether the callback ran inside the call. */
static oidc_provider_status_t load(struct worker *w, oidc_provider_t *p, int force, int *sync)
{
    struct done d = {0};
    assert_int_equal(oidc_provider_load(p, w->http, force, on_done, &d), OIDC_PROVIDER_OK);
    if (sync != NULL)
        *sync = d.calls == 1;
    np_run_loop(&w->loop);
    assert_int_equal(d.calls, 1);
    return d.status;
}

struct token_call {
    int calls;
    oidc_provider_status_t status;
    long http_status;
    char error[80];
    char error_description[240];
    char error_text[240];
    oidc_tokens_t *tokens;
};

static void on_tokens(oidc_token_result_t *r, void *data)
{
    struct token_call *t = data;
    t->calls++;
    t->status = r->status;
    t->http_status = r->http_status;
    snprintf(t->error, sizeof(t->error), "%s", r->error);
    snprintf(t->error_description, sizeof(t->error_description), "%s", r->error_description);
    snprintf(t->error_text, sizeof(t->error_text), "%s", r->error_text);
    t->tokens = r->tokens;
    if (r->status == OIDC_PROVIDER_OK)
        assert_non_null(r->tokens);
    else
        assert_null(r->tokens);
}

/* A client_credentials access token (RFC 9068 JWT) of the machine client, from p on w. */
static char *machine_token(struct worker *w, oidc_provider_t *p)
{
    struct token_call t = {0};
    assert_int_equal(oidc_provider_client_credentials(p, w->http, "api", AUDIENCE, on_tokens, &t),
                     OIDC_PROVIDER_OK);
    np_run_loop(&w->loop);
    assert_int_equal(t.calls, 1);
    if (t.status != OIDC_PROVIDER_OK)
        fail_msg("client_credentials: %s (%s)", oidc_provider_status_code(t.status), t.error_text);
    char *token = strdup(t.tokens->access_token);
    oidc_tokens_free(t.tokens);
    return token;
}

struct verify_call {
    int calls;
    oidc_provider_status_t status;
    oidc_verify_status_t verify;
    char failed_claim[32];
    json_t *header;
    json_t *claims;
    pthread_t thread;
};

static void on_verified(oidc_provider_verify_result_t *r, void *data)
{
    struct verify_call *v = data;
    v->calls++;
    v->status = r->status;
    v->verify = r->verify;
    snprintf(v->failed_claim, sizeof(v->failed_claim), "%s", r->failed_claim ? r->failed_claim : "");
    v->header = r->header;
    v->claims = r->claims;
    v->thread = pthread_self();
    if (r->status == OIDC_PROVIDER_OK) {
        assert_non_null(r->header);
        assert_non_null(r->claims);
    } else {
        assert_null(r->header);
        assert_null(r->claims);
    }
}

static void verify_clear(struct verify_call *v)
{
    json_decref(v->header);
    json_decref(v->claims);
    memset(v, 0, sizeof(*v));
}

/* Access-token options: our API as audience, azp not ours to check. */
static oidc_claims_options_t access_opts(const char *audience)
{
    oidc_claims_options_t opts;
    oidc_claims_options_init(&opts, NULL, audience, (int64_t)time(NULL));
    opts.azp = OIDC_AZP_IGNORE;
    return opts;
}

/* Verifies token on w and runs the loop; *sync (may be NULL) tells whether it completed inside the call. */
static void verify(struct worker *w, oidc_provider_t *p, const char *token, const oidc_claims_options_t *opts,
                   struct verify_call *v, int *sync)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(oidc_provider_verify(p, w->http, token, opts, on_verified, v), OIDC_PROVIDER_OK);
    if (sync != NULL)
        *sync = v->calls == 1;
    np_run_loop(&w->loop);
    assert_int_equal(v->calls, 1);
}

static void on_pause_over(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, NULL);
}

/* Lets ms pass on w's loop (a timer, not a sleep: the loop keeps serving). */
static void pause_ms(struct worker *w, uint64_t ms)
{
    uv_timer_t *t = &w->pause;
    uv_timer_init(&w->loop, t);
    uv_timer_start(t, on_pause_over, ms, 0);
    np_run_loop(&w->loop);
}

struct raw_call {
    int calls;
    long status;
    char body[4096];
};

static void on_raw(const oidc_http_response_t *res, void *data)
{
    struct raw_call *r = data;
    r->calls++;
    r->status = res->status;
    snprintf(r->body, sizeof(r->body), "%s", res->body);
}

/* POSTs to one of the IdP's test hooks. */
static void idp_hook(struct worker *w, const char *iss, const char *path)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", iss, path);
    struct raw_call r = {0};
    assert_non_null(oidc_http_request(w->http, OIDC_HTTP_POST, url, NULL, "", 0, on_raw, &r));
    np_run_loop(&w->loop);
    assert_int_equal(r.status, 200);
}

/* The token with its header replaced by {"alg":"RS256","typ":"at+jwt","kid":kid}; signature kept. */
static char *with_kid(const char *token, const char *kid)
{
    char header[256];
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
    char encoded[TG_BASE64URL_ENCODED_SIZE(256)];
    tg_base64url_encode(encoded, (const uint8_t *)header, strlen(header));
    const char *rest = strchr(token, '.');
    assert_non_null(rest);
    char *out = malloc(strlen(encoded) + strlen(rest) + 1);
    sprintf(out, "%s%s", encoded, rest);
    return out;
}

static const char *kid_of(const char *token)
{
    static char kid[128];
    const char *dot = strchr(token, '.');
    uint8_t raw[512];
    long n = tg_base64url_decode(raw, token, (size_t)(dot - token));
    assert_true(n > 0);
    json_t *h = json_loadb((const char *)raw, (size_t)n, 0, NULL);
    snprintf(kid, sizeof(kid), "%s", json_string_value(json_object_get(h, "kid")));
    json_decref(h);
    return kid;
}

static size_t jwks_requests(np_peer_t *peer)
{
    return np_count(peer, "REQ GET /jwks");
}

static size_t discovery_requests(np_peer_t *peer)
{
    return np_count(peer, "REQ GET /.well-known/openid-configuration");
}

/* ---- creation ------------------------------------------------------------ */

static void test_options_checked(void **state)
{
    static const struct {
        const char *issuer;
        int insecure;
        const char *client_id;
        const char *secret;
        size_t secret_len;
        unsigned algs;
        int ok;
    } cases[] = {
        {"https://idp.example", 0, NULL, NULL, 0, 0, 1},
        {"https://idp.example/realms/x", 0, "web", "s3cret-value", 12, 0, 1},
        {"http://127.0.0.1:5556", 1, NULL, NULL, 0, 0, 1},
        {"http://localhost:5556", 1, NULL, NULL, 0, 0, 1},
        {"http://127.0.0.1:5556", 0, NULL, NULL, 0, 0, 0},       /* http without allow_insecure */
        {"http://idp.example", 1, NULL, NULL, 0, 0, 0},          /* http to a non-loopback host */
        {"https://idp.example?x=1", 0, NULL, NULL, 0, 0, 0},     /* query */
        {"https://idp.example#frag", 0, NULL, NULL, 0, 0, 0},    /* fragment */
        {"https://user:pw@idp.example", 0, NULL, NULL, 0, 0, 0}, /* user info */
        {"idp.example", 0, NULL, NULL, 0, 0, 0},
        {"", 0, NULL, NULL, 0, 0, 0},
        {NULL, 0, NULL, NULL, 0, 0, 0},
        {"https://idp.example", 0, "web", NULL, 0, 0, 0},             /* id without secret */
        {"https://idp.example", 0, NULL, "s3cret-value", 12, 0, 0},   /* secret without id */
        {"https://idp.example", 0, "web", "s3cret\0value", 12, 0, 0}, /* NUL in the secret */
        {"https://idp.example", 0, "web", "s3cret-value", 0, 0, 0},   /* empty secret */
        {"https://idp.example", 0, "", "s3cret-value", 12, 0, 0},     /* empty id */
        {"https://idp.example", 0, NULL, NULL, 0, 1u << 12, 0},       /* unknown algorithm bit */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        oidc_provider_options_t opt = {.issuer = cases[i].issuer,
                                       .allow_insecure = cases[i].insecure,
                                       .client_id = cases[i].client_id,
                                       .client_secret = (const unsigned char *)cases[i].secret,
                                       .client_secret_len = cases[i].secret_len,
                                       .algs = cases[i].algs};
        char err[256] = "";
        oidc_provider_t *p = oidc_provider_new(&opt, err, sizeof(err));
        if ((p != NULL) != cases[i].ok)
            fail_msg("case %zu (%s): expected %s, got %s (%s)", i, cases[i].issuer ? cases[i].issuer : "NULL",
                     cases[i].ok ? "ok" : "refusal", p ? "ok" : "refusal", err);
        if (p == NULL) {
            assert_true(strlen(err) > 0);
            assert_null(strstr(err, "s3cret"));
        } else {
            assert_string_equal(oidc_provider_issuer(p), cases[i].issuer);
        }
        oidc_provider_free(p);
    }
    oidc_provider_options_t bad_auth = {.issuer = "https://idp.example",
                                        .client_auth = (oidc_client_auth_t)9};
    assert_null(oidc_provider_new(&bad_auth, NULL, 0));
    assert_null(oidc_provider_new(NULL, NULL, 0));
}

static void test_status_strings(void **state)
{
    for (int s = 0; s < OIDC_PROVIDER_STATUS_COUNT; ++s)
        assert_string_not_equal(oidc_provider_status_code((oidc_provider_status_t)s), "unknown");
    assert_string_equal(oidc_provider_status_code(OIDC_PROVIDER_STATUS_COUNT), "unknown");
    /* the gateway's answers: 401 for a bad token or grant, 503 when the IdP cannot be used */
    assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_OK), OIDC_FAILURE_NONE);
    assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_TOKEN_INVALID), OIDC_FAILURE_REJECTED);
    assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_GRANT_REJECTED), OIDC_FAILURE_REJECTED);
    assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_IDP_UNREACHABLE), OIDC_FAILURE_UNAVAILABLE);
    assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_DISCOVERY_INVALID), OIDC_FAILURE_UNAVAILABLE);
    assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_CLIENT_REJECTED), OIDC_FAILURE_CONFIG);
    assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_INTERNAL), OIDC_FAILURE_INTERNAL);
    assert_int_equal(oidc_provider_status_class((oidc_provider_status_t)-1), OIDC_FAILURE_INTERNAL);
}

/* ---- discovery and keys -------------------------------------------------- */

static void test_discovery_and_jwks(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_t *p = machine_provider(issuer);
    assert_null(oidc_provider_discovery(p));
    assert_null(oidc_provider_jwks(p));
    size_t disc_before = discovery_requests(&idp), jwks_before = jwks_requests(&idp);
    int sync = -1;
    assert_int_equal(load(&w, p, 0, &sync), OIDC_PROVIDER_OK);
    assert_false(sync);

    oidc_discovery_t *d = oidc_provider_discovery(p);
    assert_non_null(d);
    char expect[512];
    assert_string_equal(d->issuer, issuer);
    snprintf(expect, sizeof(expect), "%s/auth", issuer);
    assert_string_equal(d->authorization_endpoint, expect);
    snprintf(expect, sizeof(expect), "%s/token", issuer);
    assert_string_equal(d->token_endpoint, expect);
    snprintf(expect, sizeof(expect), "%s/jwks", issuer);
    assert_string_equal(d->jwks_uri, expect);
    snprintf(expect, sizeof(expect), "%s/me", issuer);
    assert_string_equal(d->userinfo_endpoint, expect);
    snprintf(expect, sizeof(expect), "%s/session/end", issuer);
    assert_string_equal(d->end_session_endpoint, expect);
    assert_non_null(d->introspection_endpoint);
    assert_non_null(d->revocation_endpoint);
    assert_true(d->backchannel_logout_supported);
    assert_true(d->backchannel_logout_session_supported);
    assert_true(d->pkce_s256_advertised);
    assert_int_equal(d->id_token_algs & (OIDC_JWS_RS256 | OIDC_JWS_ES256), OIDC_JWS_RS256 | OIDC_JWS_ES256);
    oidc_discovery_free(d);

    /* the IdP starts with an RS256 and an ES256 key */
    oidc_jwks_t *keys = oidc_provider_jwks(p);
    assert_non_null(keys);
    assert_int_equal(oidc_jwks_count(keys), 2);
    oidc_jwks_free(keys);

    oidc_provider_stats_t st;
    oidc_provider_stats(p, &st);
    assert_int_equal(st.discovery_fetches, 1);
    assert_int_equal(st.jwks_fetches, 1);
    assert_int_equal(st.jwks_on_demand, 0);
    assert_int_equal(discovery_requests(&idp), disc_before + 1);
    assert_int_equal(jwks_requests(&idp), jwks_before + 1);

    /* warm: answered from the cache, inside the call, with no request */
    assert_int_equal(load(&w, p, 0, &sync), OIDC_PROVIDER_OK);
    assert_true(sync);
    assert_int_equal(discovery_requests(&idp), disc_before + 1);
    /* forced: both fetched again */
    assert_int_equal(load(&w, p, 1, &sync), OIDC_PROVIDER_OK);
    assert_false(sync);
    assert_int_equal(discovery_requests(&idp), disc_before + 2);
    assert_int_equal(jwks_requests(&idp), jwks_before + 2);
    worker_done(&w);
    oidc_provider_free(p);
}

static void test_issuer_mismatch_refused(void **state)
{
    struct worker w;
    worker_init(&w);
    /* the same server under another name, and with a trailing slash: neither is the issuer it states */
    char localhost[256], slash[300];
    snprintf(localhost, sizeof(localhost), "http://localhost:%s", strrchr(issuer, ':') + 1);
    snprintf(slash, sizeof(slash), "%s/", issuer);
    const char *const wrong[] = {localhost, slash};
    for (size_t i = 0; i < 2; ++i) {
        oidc_provider_options_t opt = options_for(wrong[i], NULL, NULL);
        oidc_provider_t *p = provider_with(&opt);
        size_t before = discovery_requests(&idp);
        assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_DISCOVERY_INVALID);
        assert_int_equal(oidc_provider_status_class(OIDC_PROVIDER_DISCOVERY_INVALID),
                         OIDC_FAILURE_UNAVAILABLE);
        assert_null(oidc_provider_discovery(p));
        assert_null(oidc_provider_jwks(p));
        assert_int_equal(discovery_requests(&idp), before + 1);
        /* within the retry delay a cold provider fails fast, without asking the IdP again */
        int sync = 0;
        assert_int_equal(load(&w, p, 0, &sync), OIDC_PROVIDER_DISCOVERY_INVALID);
        assert_true(sync);
        assert_int_equal(discovery_requests(&idp), before + 1);
        /* and a token cannot be verified: the IdP is unusable, not the token bad */
        struct verify_call v;
        oidc_claims_options_t opts = access_opts(AUDIENCE);
        verify(&w, p, "a.b.c", &opts, &v, NULL);
        assert_int_equal(v.status, OIDC_PROVIDER_DISCOVERY_INVALID);
        verify_clear(&v);
        oidc_provider_stats_t st;
        oidc_provider_stats(p, &st);
        assert_int_equal(st.discovery_failures, 1);
        assert_int_equal(st.jwks_fetches, 0);
        oidc_provider_free(p);
    }
    worker_done(&w);
}

/* ---- verification -------------------------------------------------------- */

static void test_access_token_audience(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_t *p = machine_provider(issuer);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    char *token = machine_token(&w, p);

    struct verify_call v;
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    int sync = 0;
    verify(&w, p, token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    /* warm cache, known kid: done inside the call */
    assert_true(sync);
    assert_string_equal(json_string_value(json_object_get(v.header, "typ")), "at+jwt");
    assert_string_equal(json_string_value(json_object_get(v.claims, "client_id")), "machine");
    assert_string_equal(json_string_value(json_object_get(v.claims, "iss")), issuer);
    assert_string_equal(json_string_value(json_object_get(v.claims, "aud")), AUDIENCE);
    verify_clear(&v);

    /* table: what the gateway would refuse, and why */
    oidc_claims_options_t other = access_opts("https://other.example/api");
    oidc_claims_options_t late = access_opts(AUDIENCE);
    late.now += 3600;
    const char *nonce_required[] = {"nonce", NULL};
    oidc_claims_options_t needs_nonce_claim = access_opts(AUDIENCE);
    needs_nonce_claim.required = nonce_required;
    char *tampered = strdup(token);
    char *sig = strrchr(tampered, '.') + 5;
    *sig = *sig == 'A' ? 'B' : 'A';
    const struct {
        const char *token;
        const oidc_claims_options_t *opts;
        oidc_verify_status_t expect;
        const char *claim;
    } cases[] = {
        {token, &other, OIDC_VERIFY_WRONG_AUDIENCE, "aud"},
        {token, &late, OIDC_VERIFY_EXPIRED, "exp"},
        {token, &needs_nonce_claim, OIDC_VERIFY_MISSING_CLAIM, "nonce"},
        {tampered, &opts, OIDC_VERIFY_BAD_SIGNATURE, ""},
        {"not-a-jwt", &opts, OIDC_VERIFY_MALFORMED, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        verify(&w, p, cases[i].token, cases[i].opts, &v, &sync);
        assert_true(sync);
        assert_int_equal(v.status, OIDC_PROVIDER_TOKEN_INVALID);
        if (v.verify != cases[i].expect)
            fail_msg("case %zu: %s, expected %s", i, oidc_verify_status_code(v.verify),
                     oidc_verify_status_code(cases[i].expect));
        assert_string_equal(v.failed_claim, cases[i].claim);
        verify_clear(&v);
    }

    /* an algorithm allow-list without RS256 refuses the RS256 token */
    oidc_provider_options_t es_only = options_for(issuer, NULL, NULL);
    es_only.algs = OIDC_JWS_ES256;
    oidc_provider_t *strict = provider_with(&es_only);
    verify(&w, strict, token, &opts, &v, NULL);
    assert_int_equal(v.status, OIDC_PROVIDER_TOKEN_INVALID);
    assert_int_equal(v.verify, OIDC_VERIFY_ALG_NOT_ALLOWED);
    verify_clear(&v);

    /* refused arguments: the callback never runs */
    char *huge = malloc(OIDC_JWS_MAX_TOKEN + 2);
    memset(huge, 'a', OIDC_JWS_MAX_TOKEN + 1);
    huge[OIDC_JWS_MAX_TOKEN + 1] = '\0';
    oidc_claims_options_t foreign = access_opts(AUDIENCE);
    foreign.issuer = "https://someone-else.example";
    memset(&v, 0, sizeof(v));
    assert_int_equal(oidc_provider_verify(p, w.http, NULL, &opts, on_verified, &v),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_verify(p, w.http, "", &opts, on_verified, &v),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_verify(p, w.http, huge, &opts, on_verified, &v),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_verify(p, w.http, token, NULL, on_verified, &v),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_verify(p, w.http, token, &foreign, on_verified, &v),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_verify(p, NULL, token, &opts, on_verified, &v),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_verify(p, w.http, token, &opts, NULL, NULL),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(v.calls, 0);
    free(huge);
    free(tampered);
    free(token);
    worker_done(&w);
    oidc_provider_free(strict);
    oidc_provider_free(p);
}

static void test_key_rotation_one_refetch(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_t *p = machine_provider(issuer);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    char *old_token = machine_token(&w, p);
    char old_kid[128];
    snprintf(old_kid, sizeof(old_kid), "%s", kid_of(old_token));

    idp_hook(&w, issuer, "/_test/rotate-keys");
    char *new_token = machine_token(&w, p);
    assert_string_not_equal(kid_of(new_token), old_kid);

    size_t before = jwks_requests(&idp);
    struct verify_call v;
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    int sync = 1;
    verify(&w, p, new_token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    assert_false(sync); /* it had to wait for the key set */
    verify_clear(&v);
    assert_int_equal(jwks_requests(&idp), before + 1);
    oidc_provider_stats_t st;
    oidc_provider_stats(p, &st);
    assert_int_equal(st.jwks_on_demand, 1);
    oidc_jwks_t *keys = oidc_provider_jwks(p);
    assert_int_equal(oidc_jwks_count(keys), 3);
    oidc_jwks_free(keys);

    /* now both kids are known: no more fetching, answered inside the call */
    verify(&w, p, new_token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    assert_true(sync);
    verify_clear(&v);
    verify(&w, p, old_token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    assert_true(sync);
    verify_clear(&v);
    assert_int_equal(jwks_requests(&idp), before + 1);
    free(old_token);
    free(new_token);
    worker_done(&w);
    oidc_provider_free(p);
}

struct flood {
    struct verify_call v[50];
};

static void test_unknown_kid_flood_rate_limited(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_t *p = machine_provider(issuer);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    char *token = machine_token(&w, p);
    oidc_claims_options_t opts = access_opts(AUDIENCE);

    static struct flood f;
    char *forged[50];
    for (int i = 0; i < 50; ++i) {
        char kid[64];
        uint8_t rnd[12];
        assert_int_equal(tg_random_bytes(rnd, sizeof(rnd)), 0);
        tg_hex_encode(kid, rnd, sizeof(rnd));
        forged[i] = with_kid(token, kid);
    }
    size_t before = jwks_requests(&idp);
    uint64_t start = uv_hrtime();
    /* all 50 arrive at once; the first asks for the key set, the others wait for that answer */
    memset(&f, 0, sizeof(f));
    for (int i = 0; i < 50; ++i)
        assert_int_equal(oidc_provider_verify(p, w.http, forged[i], &opts, on_verified, &f.v[i]),
                         OIDC_PROVIDER_OK);
    np_run_loop(&w.loop);
    /* and 50 more after that fetch, within the same second: refused at once, no fetch */
    int sync_refusals = 0;
    for (int i = 0; i < 50; ++i) {
        assert_int_equal(f.v[i].calls, 1);
        assert_int_equal(f.v[i].status, OIDC_PROVIDER_TOKEN_INVALID);
        assert_int_equal(f.v[i].verify, OIDC_VERIFY_UNKNOWN_KID);
        verify_clear(&f.v[i]);
        assert_int_equal(oidc_provider_verify(p, w.http, forged[i], &opts, on_verified, &f.v[i]),
                         OIDC_PROVIDER_OK);
        sync_refusals += f.v[i].calls;
    }
    np_run_loop(&w.loop);
    uint64_t took_ms = (uv_hrtime() - start) / 1000000u;
    for (int i = 0; i < 50; ++i) {
        assert_int_equal(f.v[i].verify, OIDC_VERIFY_UNKNOWN_KID);
        verify_clear(&f.v[i]);
        free(forged[i]);
    }
    assert_true(took_ms < 1000);
    assert_int_equal(sync_refusals, 50);
    size_t fetched = jwks_requests(&idp) - before;
    oidc_provider_stats_t st;
    oidc_provider_stats(p, &st);
    print_message(
        "100 tokens with random kids in %llu ms: %zu key set fetch(es) at the IdP, %llu rate-limited\n",
        (unsigned long long)took_ms, fetched, (unsigned long long)st.jwks_rate_limited);
    assert_true(fetched <= 1);
    assert_int_equal(fetched, 1); /* and exactly one: the limit does not stop the first */
    assert_int_equal(st.jwks_on_demand, 1);
    assert_int_equal(st.jwks_rate_limited, 50);

    /* the genuine token still verifies, from the cache */
    struct verify_call v;
    int sync = 0;
    verify(&w, p, token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    assert_true(sync);
    verify_clear(&v);
    free(token);
    worker_done(&w);
    oidc_provider_free(p);
}

static void test_rate_limit_window_passes(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_options_t opt = options_for(issuer, "machine", MACHINE_SECRET);
    opt.jwks_refetch_interval_ms = 300;
    oidc_provider_t *p = provider_with(&opt);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    char *token = machine_token(&w, p);
    char *forged = with_kid(token, "made-up");
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    size_t before = jwks_requests(&idp);
    struct verify_call v;
    verify(&w, p, forged, &opts, &v, NULL); /* fetches */
    verify_clear(&v);
    verify(&w, p, forged, &opts, &v, NULL); /* limited */
    verify_clear(&v);
    assert_int_equal(jwks_requests(&idp), before + 1);
    /* wait out the window on the loop, then the next unknown kid may fetch again */
    pause_ms(&w, 350);
    verify(&w, p, forged, &opts, &v, NULL);
    assert_int_equal(v.verify, OIDC_VERIFY_UNKNOWN_KID);
    verify_clear(&v);
    assert_int_equal(jwks_requests(&idp), before + 2);
    free(forged);
    free(token);
    worker_done(&w);
    oidc_provider_free(p);
}

static void test_stale_documents_refreshed_in_background(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_options_t opt = options_for(issuer, "machine", MACHINE_SECRET);
    opt.discovery_refresh_ms = 200;
    opt.jwks_refresh_ms = 200;
    oidc_provider_t *p = provider_with(&opt);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    char *token = machine_token(&w, p);
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    pause_ms(&w, 250);

    size_t disc_before = discovery_requests(&idp), jwks_before = jwks_requests(&idp);
    oidc_discovery_t *old_doc = oidc_provider_discovery(p);
    struct verify_call v;
    int sync = 0;
    /* stale copies keep serving: the answer comes inside the call, the refresh runs behind it */
    verify(&w, p, token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    assert_true(sync);
    verify_clear(&v);
    assert_int_equal(discovery_requests(&idp), disc_before + 1);
    assert_int_equal(jwks_requests(&idp), jwks_before + 1);
    oidc_discovery_t *new_doc = oidc_provider_discovery(p);
    assert_ptr_not_equal(old_doc, new_doc); /* swapped while we held the old one */
    assert_string_equal(old_doc->issuer, new_doc->issuer);
    oidc_discovery_free(old_doc);
    oidc_discovery_free(new_doc);
    free(token);
    worker_done(&w);
    oidc_provider_free(p);
}

/* ---- several workers ----------------------------------------------------- */

struct worker_thread {
    oidc_provider_t *p;
    const char *token;
    pthread_barrier_t *called, *go;
    int free_early; /* frees its client while its verify waits */
    struct verify_call v;
    pthread_t self;
    int sync;
    int loop_closed;
};

static void *worker_main(void *arg)
{
    struct worker_thread *wt = arg;
    uv_loop_t loop;
    uv_loop_init(&loop);
    oidc_http_t *http = oidc_http_new(&loop, NULL);
    wt->self = pthread_self();
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    oidc_provider_status_t s = oidc_provider_verify(wt->p, http, wt->token, &opts, on_verified, &wt->v);
    wt->sync = wt->v.calls;
    pthread_barrier_wait(wt->called);
    pthread_barrier_wait(wt->go);
    if (wt->free_early) {
        oidc_http_free(http);
        http = NULL;
    }
    if (s == OIDC_PROVIDER_OK)
        uv_run(&loop, UV_RUN_DEFAULT);
    oidc_http_free(http);
    uv_run(&loop, UV_RUN_DEFAULT);
    wt->loop_closed = uv_loop_close(&loop) == 0;
    return NULL;
}

static void test_workers_share_one_refetch(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_t *p = machine_provider(issuer);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    idp_hook(&w, issuer, "/_test/rotate-keys");
    char *token = machine_token(&w, p); /* signed with a kid the cache does not know yet */
    size_t before = jwks_requests(&idp);

    /* the main worker sees the new kid first and starts the one fetch (its loop is not run yet) */
    struct verify_call mine = {0};
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    assert_int_equal(oidc_provider_verify(p, w.http, token, &opts, on_verified, &mine), OIDC_PROVIDER_OK);
    assert_int_equal(mine.calls, 0);

    /* four more workers get the same token meanwhile: they wait for that fetch on their own loops */
    enum { N = 4 };
    pthread_barrier_t called, go;
    pthread_barrier_init(&called, NULL, N + 1);
    pthread_barrier_init(&go, NULL, N + 1);
    struct worker_thread wt[N];
    pthread_t threads[N];
    for (int i = 0; i < N; ++i) {
        memset(&wt[i], 0, sizeof(wt[i]));
        wt[i].p = p;
        wt[i].token = token;
        wt[i].called = &called;
        wt[i].go = &go;
        wt[i].free_early = i == N - 1;
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &wt[i]), 0);
    }
    pthread_barrier_wait(&called);
    int waited = 0; /* checked once the threads are joined: no assertion while they use our stack */
    for (int i = 0; i < N; ++i)
        waited += wt[i].sync == 0;
    pthread_barrier_wait(&go);
    np_run_loop(&w.loop); /* the fetch ends here and hands each waiting verify back to its own loop */
    for (int i = 0; i < N; ++i)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&called);
    pthread_barrier_destroy(&go);

    assert_int_equal(waited, N);
    assert_int_equal(mine.status, OIDC_PROVIDER_OK);
    verify_clear(&mine);
    for (int i = 0; i < N; ++i) {
        assert_int_equal(wt[i].v.calls, 1);
        oidc_provider_status_t expect = wt[i].free_early ? OIDC_PROVIDER_SHUTDOWN : OIDC_PROVIDER_OK;
        if (wt[i].v.status != expect)
            fail_msg("worker %d: %s / %s", i, oidc_provider_status_code(wt[i].v.status),
                     oidc_verify_status_code(wt[i].v.verify));
        /* each callback ran on its own worker's thread */
        assert_true(pthread_equal(wt[i].v.thread, wt[i].self));
        assert_true(wt[i].loop_closed);
        verify_clear(&wt[i].v);
    }
    oidc_provider_stats_t st;
    oidc_provider_stats(p, &st);
    print_message("%d workers, one new kid: %llu on-demand fetch(es), %zu at the IdP\n", N + 1,
                  (unsigned long long)st.jwks_on_demand, jwks_requests(&idp) - before);
    assert_int_equal(st.jwks_on_demand, 1);
    assert_int_equal(jwks_requests(&idp), before + 1);
    free(token);
    worker_done(&w);
    oidc_provider_free(p);
}

static void test_client_freed_while_waiting(void **state)
{
    /* a cold provider: the verify waits for discovery when its client goes away */
    struct worker w;
    worker_init(&w);
    oidc_provider_t *p = machine_provider(issuer);
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    struct verify_call v = {0};
    struct done d = {0};
    assert_int_equal(oidc_provider_verify(p, w.http, "a.b.c", &opts, on_verified, &v), OIDC_PROVIDER_OK);
    assert_int_equal(oidc_provider_load(p, w.http, 0, on_done, &d), OIDC_PROVIDER_OK);
    assert_int_equal(v.calls, 0);
    oidc_http_free(w.http);
    assert_int_equal(v.calls, 1);
    assert_int_equal(v.status, OIDC_PROVIDER_SHUTDOWN);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, OIDC_PROVIDER_SHUTDOWN);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w.loop), 0);
    /* the fetch that was cut short leaves no back-off: the next worker fetches at once */
    worker_init(&w);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    worker_done(&w);
    oidc_provider_free(p);
}

/* ---- the IdP goes away --------------------------------------------------- */

static void test_idp_stopped(void **state)
{
    np_peer_t own;
    assert_int_equal(start_idp(&own), 0);
    struct worker w;
    worker_init(&w);
    oidc_provider_options_t opt = options_for(own.ready, "machine", MACHINE_SECRET);
    oidc_provider_t *p = provider_with(&opt);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);
    char *token = machine_token(&w, p);
    char *forged = with_kid(token, "kid-from-nowhere");
    oidc_discovery_t *before = oidc_provider_discovery(p);
    char own_issuer[256];
    snprintf(own_issuer, sizeof(own_issuer), "%s", own.ready);
    np_stop(&own);

    /* a known kid verifies from the cache */
    struct verify_call v;
    oidc_claims_options_t opts = access_opts(AUDIENCE);
    int sync = 0;
    verify(&w, p, token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    assert_true(sync);
    verify_clear(&v);

    /* a forced refresh fails, as "IdP unavailable", and keeps the cached copies */
    assert_int_equal(load(&w, p, 1, NULL), OIDC_PROVIDER_IDP_UNREACHABLE);
    oidc_discovery_t *after = oidc_provider_discovery(p);
    assert_ptr_equal(before, after);
    oidc_discovery_free(before);
    oidc_discovery_free(after);
    verify(&w, p, token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    verify_clear(&v);

    /* an unknown kid cannot be checked now: unavailable (503), not a bad token (401) */
    verify(&w, p, forged, &opts, &v, NULL);
    assert_int_equal(v.status, OIDC_PROVIDER_IDP_UNREACHABLE);
    assert_int_equal(oidc_provider_status_class(v.status), OIDC_FAILURE_UNAVAILABLE);
    verify_clear(&v);

    /* the token endpoint likewise */
    struct token_call t = {0};
    assert_int_equal(oidc_provider_client_credentials(p, w.http, "api", AUDIENCE, on_tokens, &t),
                     OIDC_PROVIDER_OK);
    np_run_loop(&w.loop);
    assert_int_equal(t.status, OIDC_PROVIDER_IDP_UNREACHABLE);
    assert_int_equal(t.http_status, 0);
    oidc_provider_stats_t st;
    oidc_provider_stats(p, &st);
    assert_true(st.discovery_failures >= 1);
    assert_true(st.jwks_failures >= 1);

    /* a cold provider for the dead IdP: unavailable, then fast failures during the retry delay */
    oidc_provider_options_t cold_opt = options_for(own_issuer, NULL, NULL);
    oidc_provider_t *cold = provider_with(&cold_opt);
    assert_int_equal(load(&w, cold, 0, NULL), OIDC_PROVIDER_IDP_UNREACHABLE);
    verify(&w, cold, token, &opts, &v, &sync);
    assert_int_equal(v.status, OIDC_PROVIDER_IDP_UNREACHABLE);
    assert_true(sync);
    verify_clear(&v);
    free(forged);
    free(token);
    worker_done(&w);
    oidc_provider_free(cold);
    oidc_provider_free(p);
}

/* ---- token endpoint ------------------------------------------------------ */

/* Reads what was written to fd 2 while capturing. */
struct capture {
    int saved;
    FILE *file;
};

static void capture_start(struct capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    assert_non_null(c->file);
    c->saved = dup(2);
    dup2(fileno(c->file), 2);
}

static char *capture_end(struct capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    long len = ftell(c->file);
    char *text = calloc(1, (size_t)len + 1);
    rewind(c->file);
    assert_int_equal(fread(text, 1, (size_t)len, c->file), (size_t)len);
    fclose(c->file);
    return text;
}

static void token_case(struct worker *w, oidc_provider_t *p, int grant, struct token_call *t)
{
    memset(t, 0, sizeof(*t));
    oidc_provider_status_t s;
    if (grant == 0)
        s = oidc_provider_exchange_code(p, w->http, "bogus-code",
                                        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", REDIRECT_URI,
                                        on_tokens, t);
    else
        s = oidc_provider_refresh(p, w->http, "bogus-refresh-token", on_tokens, t);
    assert_int_equal(s, OIDC_PROVIDER_OK);
    np_run_loop(&w->loop);
    assert_int_equal(t->calls, 1);
}

static void test_token_endpoint_errors(void **state)
{
    struct worker w;
    worker_init(&w);
    static const char wrong_secret[] = "definitely-not-the-secret-4411";
    struct {
        const char *client_id;
        const char *secret;
        oidc_client_auth_t auth;
        int grant; /* 0 code, 1 refresh */
        oidc_provider_status_t expect;
        long http_status;
        const char *error;
    } cases[] = {
        {"web", wrong_secret, OIDC_CLIENT_SECRET_BASIC, 0, OIDC_PROVIDER_CLIENT_REJECTED, 401,
         "invalid_client"},
        {"web", wrong_secret, OIDC_CLIENT_SECRET_POST, 0, OIDC_PROVIDER_CLIENT_REJECTED, 401,
         "invalid_client"},
        {"web", wrong_secret, OIDC_CLIENT_SECRET_BASIC, 1, OIDC_PROVIDER_CLIENT_REJECTED, 401,
         "invalid_client"},
        {"web", WEB_SECRET, OIDC_CLIENT_SECRET_BASIC, 0, OIDC_PROVIDER_GRANT_REJECTED, 400, "invalid_grant"},
        {"web", WEB_SECRET, OIDC_CLIENT_SECRET_BASIC, 1, OIDC_PROVIDER_GRANT_REJECTED, 400, "invalid_grant"},
        /* the -post twin takes its secret in the body only: the method we send is the method configured */
        {"web-post", WEB_SECRET, OIDC_CLIENT_SECRET_POST, 0, OIDC_PROVIDER_GRANT_REJECTED, 400,
         "invalid_grant"},
        {"web-post", WEB_SECRET, OIDC_CLIENT_SECRET_BASIC, 0, OIDC_PROVIDER_CLIENT_REJECTED, 401,
         "invalid_client"},
    };
    struct capture cap;
    capture_start(&cap);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        oidc_provider_options_t opt = options_for(issuer, cases[i].client_id, cases[i].secret);
        opt.client_auth = cases[i].auth;
        oidc_provider_t *p = provider_with(&opt);
        struct token_call t;
        token_case(&w, p, cases[i].grant, &t);
        if (t.status != cases[i].expect || t.http_status != cases[i].http_status ||
            strcmp(t.error, cases[i].error) != 0) {
            char *log = capture_end(&cap);
            free(log);
            fail_msg("case %zu: %s HTTP %ld error \"%s\" (%s)", i, oidc_provider_status_code(t.status),
                     t.http_status, t.error, t.error_text);
        }
        /* nothing handed back names the secret */
        assert_null(strstr(t.error_text, cases[i].secret));
        assert_null(strstr(t.error_description, cases[i].secret));
        assert_true(strlen(t.error_text) > 0);
        oidc_provider_free(p);
    }
    char *log = capture_end(&cap);
    /* the failures were logged, without either secret or the code */
    assert_non_null(strstr(log, "client_rejected"));
    assert_non_null(strstr(log, "grant_rejected"));
    assert_null(strstr(log, wrong_secret));
    assert_null(strstr(log, WEB_SECRET));
    assert_null(strstr(log, "bogus-code"));
    assert_null(strstr(log, "bogus-refresh-token"));
    free(log);

    /* refused before any request: no client, bad arguments */
    oidc_provider_options_t verify_only = options_for(issuer, NULL, NULL);
    oidc_provider_t *p = provider_with(&verify_only);
    struct token_call t = {0};
    assert_int_equal(oidc_provider_refresh(p, w.http, "x", on_tokens, &t), OIDC_PROVIDER_NO_CLIENT);
    oidc_provider_free(p);
    oidc_provider_options_t web = options_for(issuer, "web", WEB_SECRET);
    p = provider_with(&web);
    assert_int_equal(oidc_provider_exchange_code(p, w.http, NULL, "v", REDIRECT_URI, on_tokens, &t),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_exchange_code(p, w.http, "a\nb", "v", REDIRECT_URI, on_tokens, &t),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_exchange_code(p, w.http, "code", "v", REDIRECT_URI, NULL, NULL),
                     OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(oidc_provider_refresh(p, w.http, "", on_tokens, &t), OIDC_PROVIDER_INVALID_ARGUMENT);
    assert_int_equal(t.calls, 0);
    oidc_provider_free(p);
    worker_done(&w);
}

/* ---- a whole login: authorization URL, IdP login form, code, tokens, refresh ---- */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    char **body = userdata;
    size_t old = *body != NULL ? strlen(*body) : 0, n = size * nmemb;
    char *grown = realloc(*body, old + n + 1);
    memcpy(grown + old, ptr, n);
    grown[old + n] = '\0';
    *body = grown;
    return n;
}

/* The browser's part, with a blocking libcurl handle and a cookie jar: returns the callback URL. */
static char *browser_login(const char *authorize_url)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    char *next = strdup(authorize_url);
    char *result = NULL;
    for (int step = 0; step < 12 && result == NULL; ++step) {
        char *body = NULL;
        curl_easy_setopt(c, CURLOPT_URL, next);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        char *form = NULL;
        if (strstr(next, "/interaction/") != NULL && strstr(next, "/login") != NULL) {
            form = strdup("username=alice%40example.com&password=alice-password");
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
        } else {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        }
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long status = 0;
        char *location = NULL;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
        free(next);
        next = NULL;
        if (status >= 300 && status < 400 && location != NULL) {
            if (strncmp(location, REDIRECT_URI, strlen(REDIRECT_URI)) == 0)
                result = strdup(location);
            else
                next = strdup(location);
        } else if (status == 200 && body != NULL && strstr(body, "id=\"login-form\"") != NULL) {
            char *effective = NULL;
            curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
            next = malloc(strlen(effective) + 8);
            sprintf(next, "%s/login", effective);
        } else {
            fail_msg("login step %d: HTTP %ld: %.300s", step, status, body ? body : "");
        }
        free(form);
        free(body);
    }
    free(next);
    curl_easy_cleanup(c);
    assert_non_null(result);
    return result;
}

/* The value of name in the query of url, decoded enough for codes and states (base64url). */
static char *query_param(const char *url, const char *name)
{
    CURLU *u = curl_url();
    curl_url_set(u, CURLUPART_URL, url, 0);
    char *query = NULL;
    curl_url_get(u, CURLUPART_QUERY, &query, CURLU_URLDECODE);
    char *value = NULL;
    size_t name_len = strlen(name);
    for (char *p = query; p != NULL && *p != '\0';) {
        char *amp = strchr(p, '&');
        size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (len > name_len && p[name_len] == '=' && strncmp(p, name, name_len) == 0)
            value = strndup(p + name_len + 1, len - name_len - 1);
        p = amp != NULL ? amp + 1 : NULL;
    }
    curl_free(query);
    curl_url_cleanup(u);
    return value;
}

static void test_code_flow_and_refresh(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_options_t opt = options_for(issuer, "web", WEB_SECRET);
    oidc_provider_t *p = provider_with(&opt);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);

    char verifier[OIDC_RANDOM_VALUE_SIZE], challenge[OIDC_PKCE_CHALLENGE_SIZE];
    char state_value[OIDC_RANDOM_VALUE_SIZE], nonce[OIDC_RANDOM_VALUE_SIZE];
    assert_int_equal(oidc_pkce_verifier_new(verifier, sizeof(verifier)), 0);
    assert_int_equal(oidc_pkce_challenge_s256(verifier, challenge, sizeof(challenge)), 0);
    assert_int_equal(oidc_state_new(state_value, sizeof(state_value)), 0);
    assert_int_equal(oidc_nonce_new(nonce, sizeof(nonce)), 0);
    const char *const extra[] = {"prompt", "consent", NULL};
    oidc_provider_status_t status;
    char *authorize = oidc_provider_authorize_url(p, NULL, REDIRECT_URI, "openid email groups offline_access",
                                                  state_value, nonce, challenge, extra, &status);
    assert_non_null(authorize);
    assert_int_equal(status, OIDC_PROVIDER_OK);

    char *callback = browser_login(authorize);
    char *code = query_param(callback, "code");
    char *returned_state = query_param(callback, "state");
    char *returned_iss = query_param(callback, "iss");
    assert_non_null(code);
    assert_string_equal(returned_state, state_value);
    assert_string_equal(returned_iss, issuer);

    struct token_call t = {0};
    assert_int_equal(oidc_provider_exchange_code(p, w.http, code, verifier, REDIRECT_URI, on_tokens, &t),
                     OIDC_PROVIDER_OK);
    np_run_loop(&w.loop);
    if (t.status != OIDC_PROVIDER_OK)
        fail_msg("code exchange: %s HTTP %ld %s %s", oidc_provider_status_code(t.status), t.http_status,
                 t.error, t.error_description);
    oidc_tokens_t *tokens = t.tokens;
    assert_string_equal(tokens->token_type, "Bearer");
    assert_non_null(tokens->id_token);
    assert_non_null(tokens->refresh_token);
    assert_true(tokens->expires_in > 0);

    /* the ID token verifies with our client id as audience and the nonce we sent */
    oidc_claims_options_t id_opts;
    oidc_claims_options_init(&id_opts, NULL, "web", (int64_t)time(NULL));
    id_opts.nonce = nonce;
    struct verify_call v;
    verify(&w, p, tokens->id_token, &id_opts, &v, NULL);
    assert_int_equal(v.status, OIDC_PROVIDER_OK);
    assert_string_equal(json_string_value(json_object_get(v.claims, "sub")), "alice@example.com");
    assert_string_equal(json_string_value(json_object_get(v.claims, "email")), "alice@example.com");
    assert_string_equal(json_string_value(json_object_get(v.claims, "nonce")), nonce);
    verify_clear(&v);
    id_opts.nonce = "another-nonce";
    verify(&w, p, tokens->id_token, &id_opts, &v, NULL);
    assert_int_equal(v.status, OIDC_PROVIDER_TOKEN_INVALID);
    assert_int_equal(v.verify, OIDC_VERIFY_WRONG_NONCE);
    verify_clear(&v);

    /* refresh */
    struct token_call r = {0};
    assert_int_equal(oidc_provider_refresh(p, w.http, tokens->refresh_token, on_tokens, &r),
                     OIDC_PROVIDER_OK);
    np_run_loop(&w.loop);
    if (r.status != OIDC_PROVIDER_OK)
        fail_msg("refresh: %s HTTP %ld %s", oidc_provider_status_code(r.status), r.http_status, r.error);
    assert_string_equal(r.tokens->token_type, "Bearer");
    assert_string_not_equal(r.tokens->access_token, tokens->access_token);

    /* the code is single-use (and its reuse makes the IdP revoke what it issued: so this comes last) */
    struct token_call again = {0};
    assert_int_equal(oidc_provider_exchange_code(p, w.http, code, verifier, REDIRECT_URI, on_tokens, &again),
                     OIDC_PROVIDER_OK);
    np_run_loop(&w.loop);
    assert_int_equal(again.status, OIDC_PROVIDER_GRANT_REJECTED);
    assert_string_equal(again.error, "invalid_grant");

    /* logout URL with the ID token as hint */
    char *logout = oidc_provider_end_session_url(p, tokens->id_token, LOGOUT_URI, "st", &status);
    assert_non_null(logout);
    char *hint = query_param(logout, "id_token_hint");
    assert_string_equal(hint, tokens->id_token);
    free(hint);

    free(logout);
    oidc_tokens_free(r.tokens);
    oidc_tokens_free(tokens);
    free(code);
    free(returned_state);
    free(returned_iss);
    free(callback);
    free(authorize);
    worker_done(&w);
    oidc_provider_free(p);
}

static void test_browser_urls(void **state)
{
    struct worker w;
    worker_init(&w);
    oidc_provider_options_t opt = options_for(issuer, "web", WEB_SECRET);
    oidc_provider_t *p = provider_with(&opt);
    static const char challenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    oidc_provider_status_t status = OIDC_PROVIDER_OK;
    /* no discovery yet */
    assert_null(
        oidc_provider_authorize_url(p, NULL, REDIRECT_URI, "openid", "s", "n", challenge, NULL, &status));
    assert_int_equal(status, OIDC_PROVIDER_NOT_READY);
    assert_null(oidc_provider_end_session_url(p, NULL, NULL, NULL, &status));
    assert_int_equal(status, OIDC_PROVIDER_NOT_READY);
    assert_int_equal(load(&w, p, 0, NULL), OIDC_PROVIDER_OK);

    const char *const extra[] = {"prompt", "login", "ui_locales", NULL, "acr_values", "urn:a b", NULL};
    char *url = oidc_provider_authorize_url(p, NULL, REDIRECT_URI, "openid email", "a b&c=d/\xc3\xa9", "n+1",
                                            challenge, extra, &status);
    assert_non_null(url);
    char expect[2048];
    snprintf(
        expect, sizeof(expect),
        "%s/"
        "auth?response_type=code&client_id=web&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fauthservice%%"
        "2Fcallback&scope=openid%%20email&state=a%%20b%%26c%%3Dd%%2F%%C3%%A9&nonce=n%%2B1&code_challenge=%s&"
        "code_challenge_method=S256&prompt=login&acr_values=urn%%3Aa%%20b",
        issuer, challenge);
    assert_string_equal(url, expect);
    free(url);

    /* refusals */
    const char *const reserved[] = {"state", "x", NULL};
    const char *const bad_name[] = {"", "x", NULL};
    const struct {
        const char *redirect;
        const char *scope;
        const char *challenge;
        const char *const *extra;
    } bad[] = {
        {"/relative", "openid", challenge, NULL},
        {"javascript:alert(1)", "openid", challenge, NULL},
        {REDIRECT_URI "#frag", "openid", challenge, NULL},
        {REDIRECT_URI, "", challenge, NULL},
        {REDIRECT_URI, "openid\r\n", challenge, NULL},
        {REDIRECT_URI, "openid", "short", NULL},
        {REDIRECT_URI, "openid", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", NULL},
        {REDIRECT_URI, "openid", challenge, reserved},
        {REDIRECT_URI, "openid", challenge, bad_name},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        status = OIDC_PROVIDER_OK;
        if (oidc_provider_authorize_url(p, NULL, bad[i].redirect, bad[i].scope, "s", "n", bad[i].challenge,
                                        bad[i].extra, &status) != NULL)
            fail_msg("case %zu accepted", i);
        assert_int_equal(status, OIDC_PROVIDER_INVALID_ARGUMENT);
    }

    char *logout = oidc_provider_end_session_url(p, "h.p.s", LOGOUT_URI, "x y", &status);
    snprintf(
        expect, sizeof(expect),
        "%s/session/end?id_token_hint=h.p.s&post_logout_redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fbye&"
        "state=x%%20y&client_id=web",
        issuer);
    assert_string_equal(logout, expect);
    free(logout);
    logout = oidc_provider_end_session_url(p, NULL, NULL, NULL, &status);
    snprintf(expect, sizeof(expect), "%s/session/end?client_id=web", issuer);
    assert_string_equal(logout, expect);
    free(logout);
    worker_done(&w);
    oidc_provider_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_checked),
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_discovery_and_jwks),
        cmocka_unit_test(test_issuer_mismatch_refused),
        cmocka_unit_test(test_access_token_audience),
        cmocka_unit_test(test_key_rotation_one_refetch),
        cmocka_unit_test(test_unknown_kid_flood_rate_limited),
        cmocka_unit_test(test_rate_limit_window_passes),
        cmocka_unit_test(test_stale_documents_refreshed_in_background),
        cmocka_unit_test(test_workers_share_one_refetch),
        cmocka_unit_test(test_client_freed_while_waiting),
        cmocka_unit_test(test_token_endpoint_errors),
        cmocka_unit_test(test_code_flow_and_refresh),
        cmocka_unit_test(test_browser_urls),
        cmocka_unit_test(test_idp_stopped),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
