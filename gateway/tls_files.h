#ifndef GW_TLS_FILES_H
#define GW_TLS_FILES_H

/*
 * The certificate and key files a configuration names: listener
 * certificates and keys (Gateway servers) and mesh client certificates,
 * keys and CA bundles (DestinationRules and their subsets). The control
 * loop watches them so a rotation (cert-manager, a Secret update) reloads
 * like a config change.
 */

#include <stddef.h>

#include "config.h"

/**
 * Writes up to max distinct paths (pointing into config) into out; returns
 * how many there are in all (may exceed max).
 */
size_t gw_tls_files(const gw_config_t *config, const char **out, size_t max);

#endif
