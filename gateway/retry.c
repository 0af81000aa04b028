#include "retry.h"

#include <string.h>

#include "config.h"

int gw_retry_idempotent(const char *method, size_t len)
{
    static const char *const idempotent[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); ++i)
        if (strlen(idempotent[i]) == len && memcmp(idempotent[i], method, len) == 0)
            return 1;
    return 0;
}

static int starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

gw_try_failure_t gw_retry_classify(const char *message, size_t len)
{
    /* libh2o 2.2.5 http1client: "I/O timeout" (waiting for the answer), "I/O error (...)", parse errors;
     * every other message comes from connecting (socket, connect timeout, TLS handshake) */
    if (starts_with(message, len, "I/O timeout"))
        return GW_TRY_TIMEOUT;
    if (starts_with(message, len, "I/O error") || starts_with(message, len, "failed to parse") ||
        starts_with(message, len, "unexpected type of transfer-encoding") ||
        starts_with(message, len, "invalid content-length") || starts_with(message, len, "invalid response"))
        return GW_TRY_RESET;
    return GW_TRY_CONNECT_FAILURE;
}

int gw_retry_on_matches(unsigned retry_on, gw_try_failure_t failure, int status)
{
    unsigned covers = 0;
    switch (failure) {
    case GW_TRY_CONNECT_FAILURE:
        covers = GW_RETRY_CONNECT_FAILURE | GW_RETRY_GATEWAY_ERROR | GW_RETRY_5XX | GW_RETRY_502;
        break;
    case GW_TRY_RESET:
        covers = GW_RETRY_RESET | GW_RETRY_GATEWAY_ERROR | GW_RETRY_5XX | GW_RETRY_502;
        break;
    case GW_TRY_TIMEOUT:
        covers = GW_RETRY_GATEWAY_ERROR | GW_RETRY_5XX | GW_RETRY_504;
        break;
    case GW_TRY_STATUS:
        covers = status >= 500 && status <= 599 ? GW_RETRY_5XX : 0;
        if (status >= 502 && status <= 504)
            covers |= GW_RETRY_GATEWAY_ERROR | (status == 502   ? GW_RETRY_502
                                                : status == 503 ? GW_RETRY_503
                                                                : GW_RETRY_504);
        break;
    }
    return (retry_on & covers) != 0;
}

/* The bucket of now's second, emptied when it held an older second. */
static size_t bucket(gw_retry_budget_t *budget, uint64_t now_ms)
{
    uint64_t second = now_ms / 1000;
    size_t index = (size_t)(second % GW_RETRY_BUDGET_WINDOW_S);
    if (budget->second[index] != second) {
        budget->second[index] = second;
        budget->requests[index] = budget->retries[index] = 0;
    }
    return index;
}

void gw_retry_budget_request(gw_retry_budget_t *budget, uint64_t now_ms)
{
    ++budget->requests[bucket(budget, now_ms)];
}

int gw_retry_budget_take(gw_retry_budget_t *budget, uint64_t now_ms)
{
    size_t now = bucket(budget, now_ms);
    uint64_t second = now_ms / 1000, requests = 0, retries = 0;
    for (size_t i = 0; i < GW_RETRY_BUDGET_WINDOW_S; ++i) {
        if (budget->second[i] + GW_RETRY_BUDGET_WINDOW_S <= second)
            continue; /* older than the window */
        requests += budget->requests[i];
        retries += budget->retries[i];
    }
    uint64_t allowed = requests * GW_RETRY_BUDGET_PERCENT / 100;
    if (allowed < GW_RETRY_BUDGET_MIN_PER_S * GW_RETRY_BUDGET_WINDOW_S)
        allowed = GW_RETRY_BUDGET_MIN_PER_S * GW_RETRY_BUDGET_WINDOW_S;
    if (retries >= allowed)
        return 0;
    ++budget->retries[now];
    return 1;
}
