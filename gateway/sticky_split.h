#ifndef GW_STICKY_SPLIT_H
#define GW_STICKY_SPLIT_H

/*
 * Sticky weighted splits (a tenantgate extension, opted into per
 * VirtualService with the annotation tenantgate.io/sticky-split: user): a
 * caller's user id is hashed, with the VirtualService's namespace/name as
 * salt, to a point in [0, total weight) and the target whose weight range
 * holds that point serves it. The same user lands on the same target on
 * every worker, replica and reload that keeps the weights; over many users
 * the shares follow the weights. No secret goes into the hash: only the
 * user id, which is not one.
 */

#include <stddef.h>
#include <stdint.h>

#include "router.h"

/**
 * The stable 64-bit hash of key salted with salt (FNV-1a over salt, a NUL
 * byte and key, then the splitmix64 finaliser). Documented in
 * docs/internals/traffic.md so other tools can compute where a user lands.
 */
uint64_t gw_sticky_hash(const char *salt, const char *key, size_t key_len);

/** The target of route for the user key (user id), by its hash; NULL when route has no weight. */
const gw_route_target_t *gw_sticky_split_pick(const gw_route_t *route, const char *key, size_t key_len);

#endif
