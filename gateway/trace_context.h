#ifndef GW_TRACE_CONTEXT_H
#define GW_TRACE_CONTEXT_H

/*
 * W3C Trace Context (traceparent) and request ids. Pure functions over
 * caller-provided buffers; random ids come from tg_random_bytes (OpenSSL).
 * Rules and reasons: docs/internals/request-hygiene.md.
 */

#include <stddef.h>
#include <stdint.h>

/** Length of a traceparent value ("00-<32 hex>-<16 hex>-<2 hex>"). */
#define GW_TRACEPARENT_LEN 55
/** Buffer size for a formatted traceparent: the value plus a NUL. */
#define GW_TRACEPARENT_SIZE (GW_TRACEPARENT_LEN + 1)
/** Buffer size for a request id: a UUID in text form (36 chars) plus a NUL. */
#define GW_REQUEST_ID_SIZE 37

/** Sampled bit of trace-flags. */
#define GW_TRACE_FLAG_SAMPLED 0x01

/** One position in a distributed trace. */
typedef struct {
    uint8_t trace_id[16]; /* never all zero */
    uint8_t parent_id[8]; /* the span that sent (or will send) the request; never all zero */
    uint8_t flags;        /* trace-flags, kept as received */
} gw_trace_context_t;

/**
 * Parses a W3C traceparent header value (version 00 form, lower-case hex,
 * trace-id and parent-id not all zero, version ff invalid; future versions:
 * accept if the first 55 chars parse and the next char is '-' or end).
 * Returns 0 if valid, -1 otherwise; *out is written only on success.
 */
int gw_traceparent_parse(const char *value, size_t len, gw_trace_context_t *out);

/** Makes a new context with random ids (tg_random_bytes), flags 01 (sampled). Returns 0 or -1. */
int gw_trace_context_generate(gw_trace_context_t *out);

/** Makes a child: same trace id, a new random parent id, same flags. Returns 0 or -1; out may be parent. */
int gw_trace_context_child(const gw_trace_context_t *parent, gw_trace_context_t *out);

/** Formats as the 55-char version-00 header value + NUL into out[GW_TRACEPARENT_SIZE]. */
void gw_traceparent_format(const gw_trace_context_t *ctx, char *out);

/** Writes a fresh request id (UUID v4 text, 36 lower-case chars + NUL) into out[GW_REQUEST_ID_SIZE]. Returns
 * 0 or -1. */
int gw_request_id_generate(char *out);

#endif
