#include "rate_limit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 8192 /* power of two */
#define PROBES 16

typedef struct {
    char *key; /* "u:user" or "n:namespace", NULL when free */
    double tokens;
    double updated; /* seconds */
} bucket_t;

struct gw_rate_limit {
    pthread_mutex_t lock;
    double user_rate, user_burst, ns_rate, ns_burst;
    bucket_t slots[SLOTS];
};

gw_rate_limit_t *gw_rate_limit_new(double user_rate, double user_burst, double ns_rate, double ns_burst)
{
    gw_rate_limit_t *limit = calloc(1, sizeof(*limit));
    if (limit == NULL)
        return NULL;
    pthread_mutex_init(&limit->lock, NULL);
    limit->user_rate = user_rate;
    limit->user_burst = user_burst;
    limit->ns_rate = ns_rate;
    limit->ns_burst = ns_burst;
    return limit;
}

void gw_rate_limit_free(gw_rate_limit_t *limit)
{
    if (limit == NULL)
        return;
    for (size_t i = 0; i < SLOTS; ++i)
        free(limit->slots[i].key);
    pthread_mutex_destroy(&limit->lock);
    free(limit);
}

static uint32_t hash(char kind, const char *s)
{
    uint32_t h = 2166136261u ^ (uint8_t)kind;
    for (; *s != '\0'; ++s)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The bucket of key (made full when new); NULL when out of memory. Evicts the stalest probed bucket. */
static bucket_t *find(gw_rate_limit_t *limit, char kind, const char *name, double burst, double now,
                      const bucket_t *keep)
{
    uint32_t h = hash(kind, name);
    bucket_t *victim = NULL;
    for (uint32_t i = 0; i < PROBES; ++i) {
        bucket_t *b = &limit->slots[(h + i) & (SLOTS - 1)];
        if (b->key != NULL && b->key[0] == kind && strcmp(b->key + 2, name) == 0)
            return b;
        if (b == keep)
            continue;
        if (b->key == NULL || victim == NULL || (victim->key != NULL && b->updated < victim->updated))
            victim = b;
        if (b->key == NULL)
            break;
    }
    if (victim == NULL)
        return NULL;
    size_t len = strlen(name);
    char *key = malloc(len + 3);
    if (key == NULL)
        return NULL;
    key[0] = kind;
    key[1] = ':';
    memcpy(key + 2, name, len + 1);
    free(victim->key);
    *victim = (bucket_t){key, burst, now};
    return victim;
}

/* Tokens of b now; refills up to burst. */
static double refill(bucket_t *b, double rate, double burst, double now)
{
    if (now > b->updated) {
        b->tokens += (now - b->updated) * rate;
        if (b->tokens > burst)
            b->tokens = burst;
        b->updated = now;
    }
    return b->tokens;
}

int gw_rate_limit_take_at(gw_rate_limit_t *limit, const char *user, const char *ns, double now,
                          double *retry_after)
{
    *retry_after = 0;
    pthread_mutex_lock(&limit->lock);
    bucket_t *u =
        user != NULL && limit->user_rate > 0 ? find(limit, 'u', user, limit->user_burst, now, NULL) : NULL;
    bucket_t *n = ns != NULL && limit->ns_rate > 0 ? find(limit, 'n', ns, limit->ns_burst, now, u) : NULL;
    double ut = u != NULL ? refill(u, limit->user_rate, limit->user_burst, now) : 1;
    double nt = n != NULL ? refill(n, limit->ns_rate, limit->ns_burst, now) : 1;
    int ok = ut >= 1 && nt >= 1;
    if (ok) {
        if (u != NULL)
            u->tokens -= 1;
        if (n != NULL)
            n->tokens -= 1;
    } else {
        double wait_u = ut < 1 ? (1 - ut) / limit->user_rate : 0,
               wait_n = nt < 1 ? (1 - nt) / limit->ns_rate : 0;
        *retry_after = wait_u > wait_n ? wait_u : wait_n;
    }
    pthread_mutex_unlock(&limit->lock);
    return ok;
}

int gw_rate_limit_take(gw_rate_limit_t *limit, const char *user, const char *ns, double *retry_after)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return gw_rate_limit_take_at(limit, user, ns, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, retry_after);
}
