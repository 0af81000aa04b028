#include "static_assets.h"

#include <string.h>

const gw_static_asset_t *gw_static_asset_find(const char *name)
{
    for (const gw_static_asset_t *asset = gw_static_assets; asset->name != NULL; ++asset)
        if (strcmp(asset->name, name) == 0)
            return asset;
    return NULL;
}
