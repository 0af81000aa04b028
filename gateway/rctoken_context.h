#ifndef GW_RCTOKEN_CONTEXT_H
#define GW_RCTOKEN_CONTEXT_H

/*
 * The RCToken state of one configuration generation (docs/internals/rctoken.md):
 * the key set read from spec.rctoken's key files, the minting parameters and
 * the two documents served under /.well-known/. Immutable once built; a
 * reload builds a new one, which is how keys rotate.
 */

#include <stddef.h>

#include "authservice/rctoken.h"
#include "config.h"

typedef struct gw_rctoken {
    const gw_rctoken_settings_t *settings; /* owned by the generation's config */
    as_rctoken_keys_t *keys;
    as_rctoken_params_t params;
    char *discovery; /* /.well-known/openid-configuration */
    size_t discovery_len;
    char cache_control[48]; /* of both documents */
} gw_rctoken_t;

/**
 * Reads the key files of settings (enabled) and builds the documents.
 * Returns NULL with a message in err (naming the file, never key material).
 * Call off the event loops.
 */
gw_rctoken_t *gw_rctoken_new(const gw_rctoken_settings_t *settings, char *err, size_t err_size);

/** Frees it (NULL is allowed). */
void gw_rctoken_free(gw_rctoken_t *rctoken);

#endif
