#include <stdlib.h>

#include "auth_int.h"
#include "authservice/login_flow.h"
#include "error_page.h"

void gw__auth_send_me(gw_auth_op_t *op)
{
    int down;
    const as_session_record_t *r = gw__auth_found_record(op, &down);
    char *json = r != NULL ? as_me_json(r) : NULL;
    char request_id[48];
    snprintf(request_id, sizeof(request_id), "%s", op->request_id);
    h2o_req_t *req = gw__auth_op_end(op);
    if (req == NULL) {
        free(json);
        return;
    }
    if (down)
        gw_send_error(req, 503, GW_AUTH_STORE_DOWN, request_id);
    else if (json == NULL)
        gw__auth_send_401_json(req, request_id);
    else
        gw__auth_send_json(req, 200, json);
    free(json);
}
