#include "memory_tuning.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"

/* glibc serves an allocation of at least this size with a mapping of its own, returned to the kernel on
 * free(), when neither a free chunk nor the top of the heap can hold it. libh2o 2.2.5 allocates each HTTP/2
 * connection's write buffer (81,920 bytes, H2O_HTTP2_DEFAULT_OUTBUF_SIZE) when a frame is queued and frees it
 * once the write completed: a PING from every idle client, answered in one loop turn, holds one such buffer
 * per connection at once. On the heap each touches a page that stays resident after free(), at other offsets
 * on every round; mapped, the page goes back when the write completes. Below 128 KiB (glibc's default) and
 * fixed (a dynamic threshold would climb past 80 KiB after the first such free). libh2o recycles 16 write
 * buffers per thread, so a few busy connections do not map at all (no mmap or munmap in a 10,000-request
 * h2load run with 16 connections). */
#define MMAP_THRESHOLD_BYTES (64 * 1024)

void gw_memory_tune_process(void)
{
    /* only an allocator that replaces glibc's refuses it (AddressSanitizer's, in the test build) */
    if (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) != 1)
        tg_log_debug("memory", "mallopt(M_MMAP_THRESHOLD) refused: not glibc's malloc");
}

void gw_memory_tune_ssl_ctx(SSL_CTX *ctx)
{
    /* OpenSSL keeps a read (about 16.7 KiB) and a write (about 17 KiB) record buffer per connection for the
     * connection's life by default. Released, they exist while a record is read (or has partly arrived) or
     * written. libh2o's BIO copies encrypted input out of libh2o's own buffer and takes every written byte
     * into libh2o's output pool at once (it never returns a retry), so OpenSSL frees the buffers before
     * SSL_read or SSL_write returns and the next connection reuses the same chunk. A public SSL_MODE (nginx
     * sets it too); libh2o never points into OpenSSL's buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

struct gw_memory_trimmer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    uint32_t interval_ms;
    int stopping;
    uint64_t runs;
};

static void deadline_after(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec += 1;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Freed chunks in the middle of a heap keep their pages until malloc_trim(0) advises them away
 * (MADV_DONTNEED); glibc only gives back the top of a heap by itself. glibc holds each arena's lock while it
 * trims that arena, so a worker that allocates meanwhile waits: with 10,000 idle connections a trim cost
 * about 1.2 ms of CPU, and up to 100 ms of wall time on a machine at load average 9. Off the event loops, a
 * worker only waits when it needs its arena in that time. */
static void *trimmer_main(void *arg)
{
    gw_memory_trimmer_t *trimmer = arg;
    pthread_setname_np(pthread_self(), "tg-memory-trim"); /* its CPU time shows in top -H, /proc/PID/task */
    pthread_mutex_lock(&trimmer->lock);
    while (!trimmer->stopping) {
        struct timespec deadline;
        deadline_after(&deadline, trimmer->interval_ms);
        int rc = 0;
        while (!trimmer->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&trimmer->wake, &trimmer->lock, &deadline);
        if (trimmer->stopping)
            break;
        pthread_mutex_unlock(&trimmer->lock);
        malloc_trim(0);
        pthread_mutex_lock(&trimmer->lock);
        ++trimmer->runs;
    }
    pthread_mutex_unlock(&trimmer->lock);
    return NULL;
}

gw_memory_trimmer_t *gw_memory_trimmer_start(uint32_t interval_ms)
{
    gw_memory_trimmer_t *trimmer = calloc(1, sizeof(*trimmer));
    if (trimmer == NULL)
        return NULL;
    trimmer->interval_ms = interval_ms > 0 ? interval_ms : 1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&trimmer->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&trimmer->lock, NULL);
    if (pthread_create(&trimmer->thread, NULL, trimmer_main, trimmer) != 0) {
        pthread_cond_destroy(&trimmer->wake);
        pthread_mutex_destroy(&trimmer->lock);
        free(trimmer);
        return NULL;
    }
    return trimmer;
}

uint64_t gw_memory_trimmer_runs(gw_memory_trimmer_t *trimmer)
{
    pthread_mutex_lock(&trimmer->lock);
    uint64_t runs = trimmer->runs;
    pthread_mutex_unlock(&trimmer->lock);
    return runs;
}

void gw_memory_trimmer_stop(gw_memory_trimmer_t *trimmer)
{
    if (trimmer == NULL)
        return;
    pthread_mutex_lock(&trimmer->lock);
    trimmer->stopping = 1;
    pthread_cond_signal(&trimmer->wake);
    pthread_mutex_unlock(&trimmer->lock);
    pthread_join(trimmer->thread, NULL);
    pthread_cond_destroy(&trimmer->wake);
    pthread_mutex_destroy(&trimmer->lock);
    free(trimmer);
}
