#include "trace_context.h"

#include <stdbool.h>
#include <string.h>

#include "util/random.h"

/* Offsets inside "vv-<trace-id>-<parent-id>-ff". */
enum { VERSION_AT = 0, TRACE_ID_AT = 3, PARENT_ID_AT = 36, FLAGS_AT = 53 };

static int lower_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes 2*n lower-case hex digits; returns false on any other character. */
static bool decode_lower_hex(const char *src, uint8_t *dst, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        int hi = lower_hex_value(src[2 * i]), lo = lower_hex_value(src[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        dst[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; ++i)
        acc |= b[i];
    return acc == 0;
}

int gw_traceparent_parse(const char *value, size_t len, gw_trace_context_t *out)
{
    if (value == NULL || out == NULL || len < GW_TRACEPARENT_LEN)
        return -1;
    uint8_t version;
    if (!decode_lower_hex(value + VERSION_AT, &version, 1) || version == 0xff)
        return -1;
    /* Version 00 is exactly 55 chars; a later version may append "-<more>". */
    if (version == 0 && len != GW_TRACEPARENT_LEN)
        return -1;
    if (len > GW_TRACEPARENT_LEN && value[GW_TRACEPARENT_LEN] != '-')
        return -1;
    if (value[TRACE_ID_AT - 1] != '-' || value[PARENT_ID_AT - 1] != '-' || value[FLAGS_AT - 1] != '-')
        return -1;
    gw_trace_context_t ctx;
    if (!decode_lower_hex(value + TRACE_ID_AT, ctx.trace_id, sizeof(ctx.trace_id)) ||
        !decode_lower_hex(value + PARENT_ID_AT, ctx.parent_id, sizeof(ctx.parent_id)) ||
        !decode_lower_hex(value + FLAGS_AT, &ctx.flags, 1))
        return -1;
    if (all_zero(ctx.trace_id, sizeof(ctx.trace_id)) || all_zero(ctx.parent_id, sizeof(ctx.parent_id)))
        return -1;
    *out = ctx;
    return 0;
}

/* Fills an id with random bytes, drawing again in the (2^-64) case of all zeros. */
static int random_nonzero_id(uint8_t *id, size_t n)
{
    do {
        if (tg_random_buffered(id, n) != 0)
            return -1;
    } while (all_zero(id, n));
    return 0;
}

int gw_trace_context_generate(gw_trace_context_t *out)
{
    if (out == NULL)
        return -1;
    /* One draw for both ids: each RAND_bytes call costs about 1.5 us whatever its length. */
    gw_trace_context_t ctx;
    uint8_t b[sizeof(ctx.trace_id) + sizeof(ctx.parent_id)];
    do {
        if (tg_random_buffered(b, sizeof(b)) != 0)
            return -1;
    } while (all_zero(b, sizeof(ctx.trace_id)) || all_zero(b + sizeof(ctx.trace_id), sizeof(ctx.parent_id)));
    memcpy(ctx.trace_id, b, sizeof(ctx.trace_id));
    memcpy(ctx.parent_id, b + sizeof(ctx.trace_id), sizeof(ctx.parent_id));
    ctx.flags = GW_TRACE_FLAG_SAMPLED;
    *out = ctx;
    return 0;
}

int gw_trace_context_child(const gw_trace_context_t *parent, gw_trace_context_t *out)
{
    if (parent == NULL || out == NULL)
        return -1;
    gw_trace_context_t ctx = *parent;
    if (random_nonzero_id(ctx.parent_id, sizeof(ctx.parent_id)) != 0)
        return -1;
    *out = ctx;
    return 0;
}

void gw_traceparent_format(const gw_trace_context_t *ctx, char *out)
{
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    tg_hex_encode(out + TRACE_ID_AT, ctx->trace_id, sizeof(ctx->trace_id));
    out[PARENT_ID_AT - 1] = '-';
    tg_hex_encode(out + PARENT_ID_AT, ctx->parent_id, sizeof(ctx->parent_id));
    out[FLAGS_AT - 1] = '-';
    tg_hex_encode(out + FLAGS_AT, &ctx->flags, 1); /* writes the final NUL at out[55] */
}

int gw_request_id_generate(char *out)
{
    if (out == NULL)
        return -1;
    uint8_t b[16];
    if (tg_random_buffered(b, sizeof(b)) != 0)
        return -1;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10xx (RFC 9562) */
    /* 8-4-4-4-12: each group is hex-encoded in place, then its NUL is overwritten by the dash. */
    static const uint8_t groups[5][2] = {{0, 4}, {4, 2}, {6, 2}, {8, 2}, {10, 6}};
    char *p = out;
    for (size_t g = 0; g < 5; ++g) {
        tg_hex_encode(p, b + groups[g][0], groups[g][1]);
        p += 2 * groups[g][1];
        if (g < 4)
            *p++ = '-';
    }
    return 0;
}
