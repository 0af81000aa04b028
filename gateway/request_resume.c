#include "request_resume.h"

/* A suspended request's result, handed to its second pass (same thread, at once). */
static _Thread_local h2o_req_t *resumed_req;
static _Thread_local const void *resumed_tag;
static _Thread_local void *resumed_payload;

void *gw_request_resume(h2o_req_t *req, gw_resume_cb resume, h2o_handler_t *handler, const void *tag,
                        void *payload)
{
    h2o_req_t *outer_req = resumed_req;
    const void *outer_tag = resumed_tag;
    void *outer_payload = resumed_payload;
    resumed_req = req;
    resumed_tag = tag;
    resumed_payload = payload;
    resume(handler, req);
    void *left = resumed_payload;
    resumed_req = outer_req;
    resumed_tag = outer_tag;
    resumed_payload = outer_payload;
    return left;
}

int gw_request_is_resumed(const h2o_req_t *req)
{
    return req != NULL && req == resumed_req;
}

void *gw_request_take_resumed(const h2o_req_t *req, const void *tag)
{
    if (!gw_request_is_resumed(req) || resumed_tag != tag)
        return NULL;
    void *payload = resumed_payload;
    resumed_payload = NULL;
    return payload;
}

struct gw_request_link {
    h2o_req_t **slot;
};

static void on_link_dispose(void *p)
{
    gw_request_link_t *link = p;
    if (link->slot != NULL)
        *link->slot = NULL;
}

gw_request_link_t *gw_request_link(h2o_req_t *req, h2o_req_t **slot)
{
    gw_request_link_t *link = h2o_mem_alloc_shared(&req->pool, sizeof(*link), on_link_dispose);
    link->slot = slot;
    *slot = req;
    return link;
}

void gw_request_unlink(gw_request_link_t *link)
{
    link->slot = NULL;
}
