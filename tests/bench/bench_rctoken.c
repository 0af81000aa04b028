/*
 * RCToken sign and verify cost, one thread (so the figures are per core):
 * libjwt 1.10.2 (PEM key handed over per call, as its API wants) beside
 * OpenSSL with the key parsed once (what authservice/rctoken.c and
 * oidc/jws.c do), for ES256 and RS256, plus a cache hit of the per-worker
 * token cache (the request path's usual case), and for the bearer path a hit of
 * the verified-token cache (SHA-256 of the token, then the lookup) beside a
 * full verification. Built with TG_TESTS, never run
 * by ctest: docs/benchmarks.md says how to run it and keeps the results.
 *
 *   build-dev/tests/bench_rctoken [seconds per row, default 1]
 */
#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authservice/bearer_cache.h"
#include "authservice/rctoken.h"
#include "oidc/jws.h"

static double seconds_per_row = 1.0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_rctoken: %s\n", what);
    exit(1);
}

/* Runs op until seconds_per_row passed; returns operations per second. */
static double rate(int (*op)(void *), void *arg)
{
    unsigned long n = 0;
    double start = now_s(), elapsed;
    do {
        for (int i = 0; i < 16; ++i, ++n)
            if (op(arg) != 0)
                die("an operation failed");
        elapsed = now_s() - start;
    } while (elapsed < seconds_per_row);
    return (double)n / elapsed;
}

typedef struct {
    const char *alg;
    jwt_alg_t jwt_alg;
    char *private_pem, *public_pem;
    as_rctoken_keys_t *keys;
    oidc_jwks_t *jwks;
    as_rctoken_params_t params;
    char *libjwt_token, *openssl_token;
    as_rctoken_cache_t *cache;
    as_bearer_cache_t *bearer_cache; /* holds openssl_token's verified claims */
} setup_t;

static const char *const groups[] = {"kubeflow-alice-editors"};
static const as_identity_t alice = {
    .source = AS_IDENTITY_SESSION,
    .subject = "alice@example.com",
    .email = "alice@example.com",
    .userid = "alice@example.com",
    .groups = groups,
    .group_count = 1,
    .groups_header = "kubeflow-alice-editors",
    .session_key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
};

static char *pem_of(EVP_PKEY *key, int private)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || (private ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                                : PEM_write_bio_PUBKEY(bio, key)) != 1)
        die("PEM export");
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *copy = strndup(data, (size_t)len);
    BIO_free(bio);
    return copy;
}

/* Same claims as an RCToken, through libjwt. */
static char *libjwt_mint(setup_t *s)
{
    jwt_t *jwt = NULL;
    time_t now = time(NULL);
    char jti[23];
    snprintf(jti, sizeof(jti), "%022ld", (long)now);
    if (jwt_new(&jwt) != 0 || jwt_add_grant(jwt, "iss", "https://gw.example") != 0 ||
        jwt_add_grant(jwt, "sub", alice.subject) != 0 ||
        jwt_add_grant(jwt, "aud", "nb1.kubeflow-alice") != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)now + 300) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)now) != 0 || jwt_add_grant_int(jwt, "nbf", (long)now) != 0 ||
        jwt_add_grant(jwt, "jti", jti) != 0 || jwt_add_grant(jwt, "sid", "X1Y6AFK52M2GT3tcWtDp7w") != 0 ||
        jwt_add_grant(jwt, "email", alice.email) != 0 ||
        jwt_add_grants_json(
            jwt, "{\"groups\":[\"kubeflow-alice-editors\"],\"namespace\":\"kubeflow-alice\"}") != 0 ||
        jwt_add_header(jwt, "kid", as_rctoken_keys_kid(s->keys)) != 0 ||
        jwt_set_alg(jwt, s->jwt_alg, (const unsigned char *)s->private_pem, (int)strlen(s->private_pem)) != 0)
        die("libjwt setup");
    char *token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

static int op_libjwt_mint(void *arg)
{
    char *token = libjwt_mint(arg);
    free(token);
    return token == NULL;
}

static int op_openssl_mint(void *arg)
{
    setup_t *s = arg;
    char *token = as_rctoken_mint(&s->params, &alice, "nb1.kubeflow-alice", "kubeflow-alice", time(NULL));
    free(token);
    return token == NULL;
}

static int op_libjwt_verify(void *arg)
{
    setup_t *s = arg;
    jwt_t *jwt = NULL;
    int rc =
        jwt_decode(&jwt, s->openssl_token, (const unsigned char *)s->public_pem, (int)strlen(s->public_pem));
    jwt_free(jwt);
    return rc;
}

static int op_openssl_verify(void *arg)
{
    setup_t *s = arg;
    json_t *claims = NULL;
    int rc = oidc_jws_verify(s->openssl_token, strlen(s->openssl_token), s->jwks, OIDC_JWS_ALGS_ALL, NULL,
                             &claims) != OIDC_VERIFY_OK;
    json_decref(claims);
    return rc;
}

static int op_cache_hit(void *arg)
{
    setup_t *s = arg;
    return as_rctoken_cache_get(s->cache, &s->params, &alice, "nb1.kubeflow-alice", "kubeflow-alice",
                                1700000000) == NULL;
}

#define BEARER_NOW_MS 1700000000000LL

/* What the bearer path does for a token it verified before (gateway/bearer_auth.c): hash it, look it up. */
static int op_bearer_cache_hit(void *arg)
{
    setup_t *s = arg;
    uint8_t key[AS_BEARER_KEY_SIZE];
    json_t *claims = NULL;
    size_t rule;
    int reason;
    as_bearer_cache_key(s->openssl_token, strlen(s->openssl_token), key);
    as_bearer_hit_t hit = as_bearer_cache_get(s->bearer_cache, key, BEARER_NOW_MS, &claims, &rule, &reason);
    json_decref(claims);
    return hit != AS_BEARER_VALID;
}

static void prepare(setup_t *s, const char *dir)
{
    EVP_PKEY *key = s->jwt_alg == JWT_ALG_ES256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                                : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (key == NULL)
        die("keygen");
    s->private_pem = pem_of(key, 1);
    s->public_pem = pem_of(key, 0);
    EVP_PKEY_free(key);
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/%s.pem", dir, s->alg);
    FILE *fp = fopen(path, "w");
    if (fp == NULL || fputs(s->private_pem, fp) < 0 || fclose(fp) != 0)
        die("writing the key file");
    s->keys = as_rctoken_keys_load(s->jwt_alg == JWT_ALG_ES256 ? AS_RCTOKEN_ES256 : AS_RCTOKEN_RS256, path,
                                   NULL, 0, err, sizeof(err));
    unlink(path);
    if (s->keys == NULL)
        die(err);
    size_t len;
    const char *jwks = as_rctoken_keys_jwks(s->keys, &len);
    if (oidc_jwks_parse(jwks, len, &s->jwks, err, sizeof(err)) != 0)
        die(err);
    s->params = (as_rctoken_params_t){s->keys, "https://gw.example", 300, "namespace"};
    s->openssl_token =
        as_rctoken_mint(&s->params, &alice, "nb1.kubeflow-alice", "kubeflow-alice", time(NULL));
    s->libjwt_token = libjwt_mint(s);
    s->cache = as_rctoken_cache_new(4096);
    if (s->openssl_token == NULL || s->libjwt_token == NULL || s->cache == NULL)
        die("first tokens");
    /* each side accepts the other's token: the comparison is of the same work */
    json_t *claims = NULL;
    if (op_libjwt_verify(s) != 0 || oidc_jws_verify(s->libjwt_token, strlen(s->libjwt_token), s->jwks,
                                                    OIDC_JWS_ALGS_ALL, NULL, &claims) != OIDC_VERIFY_OK)
        die("cross verification");
    json_decref(claims);
    claims = NULL;
    uint8_t cache_key[AS_BEARER_KEY_SIZE];
    s->bearer_cache = as_bearer_cache_new(4096);
    if (s->bearer_cache == NULL || oidc_jws_verify(s->openssl_token, strlen(s->openssl_token), s->jwks,
                                                   OIDC_JWS_ALGS_ALL, NULL, &claims) != OIDC_VERIFY_OK)
        die("bearer cache");
    as_bearer_cache_key(s->openssl_token, strlen(s->openssl_token), cache_key);
    as_bearer_cache_put_valid(s->bearer_cache, cache_key, claims, 0, BEARER_NOW_MS + 300000);
    json_decref(claims);
}

static void release(setup_t *s)
{
    free(s->private_pem);
    free(s->public_pem);
    free(s->openssl_token);
    free(s->libjwt_token);
    as_rctoken_cache_free(s->cache);
    as_bearer_cache_free(s->bearer_cache);
    oidc_jwks_free(s->jwks);
    as_rctoken_keys_free(s->keys);
}

int main(int argc, char **argv)
{
    if (argc > 1 && (seconds_per_row = atof(argv[1])) <= 0)
        die("usage: bench_rctoken [seconds per row]");
    char dir[] = "/tmp/tg-bench-rctoken-XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    setup_t setups[] = {{.alg = "ES256", .jwt_alg = JWT_ALG_ES256},
                        {.alg = "RS256", .jwt_alg = JWT_ALG_RS256}};
    printf(
        "| alg | operation | libjwt 1.10.2 ops/s | OpenSSL (key parsed once) ops/s | OpenSSL / libjwt |\n");
    printf("| --- | --- | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < sizeof(setups) / sizeof(setups[0]); ++i) {
        setup_t *s = &setups[i];
        prepare(s, dir);
        double lm = rate(op_libjwt_mint, s), om = rate(op_openssl_mint, s);
        double lv = rate(op_libjwt_verify, s), ov = rate(op_openssl_verify, s);
        printf("| %s | mint (sign) | %.0f | %.0f | %.1fx |\n", s->alg, lm, om, om / lm);
        printf("| %s | verify | %.0f | %.0f | %.1fx |\n", s->alg, lv, ov, ov / lv);
        printf("| %s | cache hit (request path) | n/a | %.0f | |\n", s->alg, rate(op_cache_hit, s));
        double hit = rate(op_bearer_cache_hit, s);
        printf("| %s | bearer cache hit (SHA-256 + lookup) | n/a | %.0f | %.0fx verify |\n", s->alg, hit,
               hit / ov);
        fflush(stdout);
        release(s);
    }
    rmdir(dir);
    return 0;
}
