#ifndef GW_CONFIG_RCTOKEN_H
#define GW_CONFIG_RCTOKEN_H

/*
 * Internal to the configuration loader: the rctoken section of the TenantGate
 * document (docs/configuration.md). Key files are only checked for
 * readability here; they are read when the generation is built.
 */

#include "config_decode.h"

/** Fills the defaults of the RCToken settings (off). */
void gw__rctoken_defaults(gw_rctoken_settings_t *rctoken);

/** Decodes spec.rctoken into s->rctoken (after s->auth, whose externalUrl is the default issuer). 0 or -1. */
int gw__decode_rctoken(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *s);

#endif
