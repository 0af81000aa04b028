/* TenantGate spec.authorization: the gateway's peer identity for RBAC subjects, the audit trail and rate
 * limits. */
#include <stdlib.h>
#include <string.h>

#include "config_kinds.h"

static int decode_audit(gw__cfg_t *c, const gw_yaml_node_t *authz, gw_settings_t *s)
{
    static const char *const fields[] = {"file", "sampleAllows", "sqliteTable", NULL};
    const gw_yaml_node_t *audit = gw__cfg_get(authz, "audit");
    if (audit == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "audit");
    char *sample = NULL;
    int rc = gw__cfg_fields(c, audit, fields, NULL) != 0 ||
                     gw__cfg_string(c, audit, "file", GW__CFG_REQUIRED, &s->authorization.audit_file) < 0 ||
                     gw__cfg_string(c, audit, "sampleAllows", 0, &sample) < 0 ||
                     gw__cfg_bool(c, audit, "sqliteTable", 0, &s->authorization.audit_table) < 0
                 ? -1
                 : 0;
    if (rc == 0 && s->authorization.audit_file[0] != '/') {
        gw__cfg_push(c, "file");
        rc = gw__cfg_fail(c, gw__cfg_get(audit, "file"), "must be an absolute path");
    }
    if (rc == 0 && s->authorization.audit_table &&
        (!s->auth.enabled || s->auth.store == NULL || strncmp(s->auth.store, "sqlite:", 7) != 0)) {
        gw__cfg_push(c, "sqliteTable");
        rc = gw__cfg_fail(c, gw__cfg_get(audit, "sqliteTable"),
                          "needs the sqlite session store (sessions.store)");
    } else if (rc == 0 && sample != NULL) {
        char *end;
        double value = strtod(sample, &end);
        gw__cfg_push(c, "sampleAllows");
        if (*end != '\0' || end == sample || !(value >= 0.0 && value <= 1.0))
            rc = gw__cfg_fail(c, gw__cfg_get(audit, "sampleAllows"), "must be a number from 0 to 1");
        s->authorization.audit_sample_allows = value;
    }
    gw__cfg_pop(c, saved);
    return rc;
}

/* {requestsPerSecond, burst}: a token bucket; burst defaults to requestsPerSecond. */
static int decode_bucket(gw__cfg_t *c, const gw_yaml_node_t *limits, const char *key, double *rate,
                         double *burst)
{
    static const char *const fields[] = {"requestsPerSecond", "burst", NULL};
    const gw_yaml_node_t *bucket = gw__cfg_get(limits, key);
    if (bucket == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, key);
    uint64_t rps = 0, size = 0;
    int rc = gw__cfg_fields(c, bucket, fields, NULL) != 0 ||
                     gw__cfg_uint(c, bucket, "requestsPerSecond", GW__CFG_REQUIRED, 1, 1000000, &rps) < 0 ||
                     gw__cfg_uint(c, bucket, "burst", 0, 1, 1000000, &size) < 0
                 ? -1
                 : 0;
    *rate = (double)rps;
    *burst = size != 0 ? (double)size : (double)rps;
    gw__cfg_pop(c, saved);
    return rc;
}

int gw__decode_authz_settings(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *s)
{
    static const char *const fields[] = {"gatewayPrincipal", "audit", "rateLimits", NULL};
    static const char *const limit_fields[] = {"perUser", "perNamespace", NULL};
    const gw_yaml_node_t *authz = gw__cfg_get(spec, "authorization");
    if (authz == NULL)
        return 0;
    size_t saved = gw__cfg_push(c, "authorization");
    int rc =
        gw__cfg_fields(c, authz, fields, NULL) != 0 ||
                gw__cfg_string(c, authz, "gatewayPrincipal", 0, &s->authorization.gateway_principal) < 0 ||
                decode_audit(c, authz, s) != 0
            ? -1
            : 0;
    const gw_yaml_node_t *limits = gw__cfg_get(authz, "rateLimits");
    if (rc == 0 && limits != NULL) {
        size_t field = gw__cfg_push(c, "rateLimits");
        rc = gw__cfg_fields(c, limits, limit_fields, NULL) != 0 ||
                     decode_bucket(c, limits, "perUser", &s->authorization.user_rate,
                                   &s->authorization.user_burst) != 0 ||
                     decode_bucket(c, limits, "perNamespace", &s->authorization.namespace_rate,
                                   &s->authorization.namespace_burst) != 0
                 ? -1
                 : 0;
        gw__cfg_pop(c, field);
    }
    gw__cfg_pop(c, saved);
    return rc;
}
