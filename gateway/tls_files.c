#include "tls_files.h"

#include <string.h>

static void add(const char *path, const char **out, size_t max, size_t *count)
{
    if (path == NULL)
        return;
    for (size_t i = 0; i < *count && i < max; ++i)
        if (strcmp(out[i], path) == 0)
            return;
    if (*count < max)
        out[*count] = path;
    ++*count;
}

static void add_upstream(const gw_upstream_tls_t *tls, const char **out, size_t max, size_t *count)
{
    add(tls->client_certificate, out, max, count);
    add(tls->private_key, out, max, count);
    add(tls->ca_certificates, out, max, count);
}

size_t gw_tls_files(const gw_config_t *config, const char **out, size_t max)
{
    size_t count = 0;
    for (size_t g = 0; g < config->gateway_count; ++g) {
        for (size_t s = 0; s < config->gateways[g].server_count; ++s) {
            add(config->gateways[g].servers[s].tls.server_certificate, out, max, &count);
            add(config->gateways[g].servers[s].tls.private_key, out, max, &count);
        }
    }
    for (size_t r = 0; r < config->destination_rule_count; ++r) {
        const gw_destination_rule_t *rule = &config->destination_rules[r];
        add_upstream(&rule->traffic_policy.tls, out, max, &count);
        for (size_t s = 0; s < rule->subset_count; ++s)
            add_upstream(&rule->subsets[s].traffic_policy.tls, out, max, &count);
    }
    return count;
}
