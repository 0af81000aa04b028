#ifndef OIDC_HTTP_CLIENT_INT_H
#define OIDC_HTTP_CLIENT_INT_H

/*
 * Private to oidc/: jobs that wait on a client's loop for an event raised on
 * another thread (the provider's waiters for a fetch another worker runs).
 *
 * A job is attached on the loop thread and then either posted (from any
 * thread, as long as its owner guarantees the job is still attached: the
 * provider posts only under its lock and only jobs still on its waiter list)
 * and run on the loop, or, when the client is freed, detached (the owner
 * unhooks it so nobody posts it any more) and run with shutdown set.
 */

#include "oidc/http_client.h"

typedef struct oidc_http_job oidc_http_job_t;

struct oidc_http_job {
    /** Set by the owner. Runs on the loop thread; the job is no longer attached when it runs. */
    void (*run)(oidc_http_job_t *job, int shutdown);
    /** Set by the owner. Runs on the loop thread when the client is freed, before run(job, 1). */
    void (*detach)(oidc_http_job_t *job);
    /* managed by the client */
    oidc_http_t *_http;
    oidc_http_job_t *_prev, *_next, *_ready_next;
    int _queued;
};

/** Attaches job to http (loop thread only). Returns 0, or -1 when the client is being freed. */
int oidc_http__job_attach(oidc_http_t *http, oidc_http_job_t *job);

/** Queues an attached job to run on its client's loop; any thread. Posting twice runs it once. */
void oidc_http__job_post(oidc_http_job_t *job);

/** Whether the client is being freed (it then refuses new requests and jobs). */
int oidc_http__closing(const oidc_http_t *http);

/** Whether the calling thread is the client's loop thread. */
int oidc_http__on_loop_thread(const oidc_http_t *http);

#endif
