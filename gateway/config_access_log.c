/* TenantGate spec.accessLog: one JSON line per request (request_observer.c). */
#include "config_kinds.h"

int gw__decode_access_log(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *s)
{
    static const char *const fields[] = {"file", NULL};
    const gw_yaml_node_t *access_log = gw__cfg_get(spec, "accessLog");
    if (access_log == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "accessLog");
    int rc = gw__cfg_fields(c, access_log, fields, NULL) != 0 ||
                     gw__cfg_string(c, access_log, "file", GW__CFG_REQUIRED, &s->access_log_file) < 0
                 ? -1
                 : 0;
    if (rc == 0 && s->access_log_file[0] != '/' &&
        !(s->access_log_file[0] == '-' && s->access_log_file[1] == '\0')) {
        gw__cfg_push(c, "file");
        rc = gw__cfg_fail(c, gw__cfg_get(access_log, "file"),
                          "must be an absolute path or \"-\" (standard output)");
    }
    gw__cfg_pop(c, saved);
    return rc;
}
