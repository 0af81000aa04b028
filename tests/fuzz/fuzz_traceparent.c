/* Fuzzes gw_traceparent_parse: a value is accepted exactly when a character-
 * by-character reading of the rules accepts it, a rejection writes nothing,
 * and an accepted value formats back to its first 55 chars as version 00. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace_context.h"

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

/* Reference: checks the 55-char shape position by position. */
static bool reference_valid(const uint8_t *v, size_t len)
{
    if (len < 55)
        return false;
    bool trace_nonzero = false, parent_nonzero = false;
    for (size_t i = 0; i < 55; ++i) {
        bool dash = i == 2 || i == 35 || i == 52;
        if (dash) {
            if (v[i] != '-')
                return false;
            continue;
        }
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return false;
        if (i >= 3 && i < 35 && v[i] != '0')
            trace_nonzero = true;
        if (i >= 36 && i < 52 && v[i] != '0')
            parent_nonzero = true;
    }
    if (!trace_nonzero || !parent_nonzero)
        return false;
    if (v[0] == 'f' && v[1] == 'f')
        return false;
    if (v[0] == '0' && v[1] == '0')
        return len == 55;
    return len == 55 || v[55] == '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_trace_context_t ctx, back;
    memset(&ctx, 0x5A, sizeof(ctx));
    int rc = gw_traceparent_parse((const char *)data, size, &ctx);
    CHECK(rc == 0 || rc == -1);
    CHECK((rc == 0) == reference_valid(data, size));
    if (rc != 0) {
        const uint8_t *b = (const uint8_t *)&ctx;
        for (size_t i = 0; i < sizeof(ctx); ++i)
            CHECK(b[i] == 0x5A);
        return 0;
    }

    char text[GW_TRACEPARENT_SIZE];
    gw_traceparent_format(&ctx, text);
    CHECK(strlen(text) == GW_TRACEPARENT_LEN);
    CHECK(text[0] == '0' && text[1] == '0' && memcmp(text + 2, data + 2, GW_TRACEPARENT_LEN - 2) == 0);
    CHECK(gw_traceparent_parse(text, GW_TRACEPARENT_LEN, &back) == 0);
    CHECK(memcmp(&back.trace_id, &ctx.trace_id, sizeof(ctx.trace_id)) == 0);
    CHECK(memcmp(&back.parent_id, &ctx.parent_id, sizeof(ctx.parent_id)) == 0);
    CHECK(back.flags == ctx.flags);
    return 0;
}
