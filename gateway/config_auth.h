#ifndef GW_CONFIG_AUTH_H
#define GW_CONFIG_AUTH_H

/*
 * Internal to the configuration loader: the oidc and sessions sections of
 * the TenantGate document (browser login). Without an oidc section login is
 * off and a sessions section is an error.
 */

#include "config_decode.h"

/** Fills the defaults of the login settings (login off). */
void gw__auth_defaults(gw_auth_settings_t *auth);

/** Decodes spec.oidc and spec.sessions of a TenantGate spec into auth. Returns 0 or -1 (error recorded). */
int gw__decode_auth(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_auth_settings_t *auth);

#endif
