#include "sticky_split.h"

#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t gw_sticky_hash(const char *salt, const char *key, size_t key_len)
{
    uint64_t h = fnv1a(FNV_OFFSET, (const unsigned char *)salt, strlen(salt) + 1); /* with its NUL */
    h = fnv1a(h, (const unsigned char *)key, key_len);
    /* splitmix64 finaliser: FNV's low bits are weak for keys that differ only at the end */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

const gw_route_target_t *gw_sticky_split_pick(const gw_route_t *route, const char *key, size_t key_len)
{
    if (route->total_weight == 0)
        return NULL;
    char salt[512];
    const gw_meta_t *meta = &route->service->meta;
    size_t ns_len = strlen(meta->namespace_), name_len = strlen(meta->name);
    if (ns_len + name_len + 2 > sizeof(salt)) /* names are DNS labels: cannot happen */
        ns_len = name_len = 0;
    memcpy(salt, meta->namespace_, ns_len);
    salt[ns_len] = '/';
    memcpy(salt + ns_len + 1, meta->name, name_len);
    salt[ns_len + 1 + name_len] = '\0';
    uint64_t point = gw_sticky_hash(salt, key, key_len) % route->total_weight;
    for (size_t i = 0; i < route->target_count; ++i) {
        if (point < route->targets[i].weight)
            return &route->targets[i];
        point -= route->targets[i].weight;
    }
    return &route->targets[route->target_count - 1];
}
