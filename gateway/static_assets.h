#ifndef GW_STATIC_ASSETS_H
#define GW_STATIC_ASSETS_H

#include <stddef.h>

/** One file of static/, compiled into the binary. */
typedef struct {
    const char *name; /* file name, e.g. "error.html" */
    const char *data; /* NUL-terminated */
    size_t size;
} gw_static_asset_t;

/** Every asset, ending with an entry whose name is NULL (generated at build time). */
extern const gw_static_asset_t gw_static_assets[];

/** Finds an asset by file name, or NULL. */
const gw_static_asset_t *gw_static_asset_find(const char *name);

#endif
