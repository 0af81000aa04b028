#ifndef GW_MEMORY_TUNING_H
#define GW_MEMORY_TUNING_H

/*
 * What an idle client connection keeps resident: glibc malloc options, OpenSSL record buffers released
 * between records, and a thread that hands free heap pages back to the kernel. Measurements and reasons are
 * in docs/internals/memory.md.
 */

#include <stdint.h>

#include <openssl/ssl.h>

/** How often the trimmer of a running gateway returns free heap pages (gw_memory_trimmer_start). */
#define GW_MEMORY_TRIM_INTERVAL_MS 5000

/** Sets the process-wide glibc malloc options; call once at the start of main(), before any thread starts. */
void gw_memory_tune_process(void);

/** Makes a server TLS context free each connection's record buffers while it has nothing to read or write. */
void gw_memory_tune_ssl_ctx(SSL_CTX *ctx);

typedef struct gw_memory_trimmer gw_memory_trimmer_t;

/** Starts a thread that returns the free pages of every malloc arena to the kernel (malloc_trim) every
 * interval_ms; NULL when the thread cannot start. */
gw_memory_trimmer_t *gw_memory_trimmer_start(uint32_t interval_ms);

/** How many trims the trimmer has made so far. */
uint64_t gw_memory_trimmer_runs(gw_memory_trimmer_t *trimmer);

/** Stops the trimmer (without waiting for its next turn), joins its thread and frees it; NULL is a no-op. */
void gw_memory_trimmer_stop(gw_memory_trimmer_t *trimmer);

#endif
