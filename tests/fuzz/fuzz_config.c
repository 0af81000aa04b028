/* Fuzz target: any bytes through the configuration loader. A load either fails with one
 * line "fuzz.yaml:..." or yields a config whose invariants hold; the summary prints and
 * everything is freed. Certificate paths resolve against the current directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_config(const gw_config_t *config)
{
    size_t servers = 0;
    for (size_t g = 0; g < config->gateway_count; ++g) {
        servers += config->gateways[g].server_count;
        for (size_t i = 0; i < config->gateways[g].server_count; ++i) {
            const gw_server_t *s = &config->gateways[g].servers[i];
            check(s->port != 0 && s->bind != NULL && s->hosts.count > 0);
            check(s->protocol != GW_PROTO_HTTPS ||
                  (s->tls.server_certificate != NULL && s->tls.private_key != NULL));
        }
    }
    check(servers > 0);
    for (size_t v = 0; v < config->virtual_service_count; ++v) {
        const gw_virtual_service_t *vs = &config->virtual_services[v];
        for (size_t h = 0; h < vs->http_count; ++h) {
            unsigned total = 0;
            for (size_t r = 0; r < vs->http[h].route_count; ++r) {
                const gw_route_destination_t *d = &vs->http[h].routes[r];
                check(gw_config_find_service(config, d->host) != NULL);
                check(d->subset == NULL || gw_config_find_destination_rule(config, d->host) != NULL);
                total += d->weight;
            }
            check(vs->http[h].route_count > 0 && total == 100);
        }
    }
    for (size_t i = 0; i < config->service_entry_count; ++i) {
        const gw_service_entry_t *se = &config->service_entries[i];
        for (size_t h = 0; h < se->hosts.count; ++h)
            check(gw_config_find_service(config, se->hosts.items[h]) == se);
        for (size_t e = 0; e < se->endpoint_count; ++e)
            check(se->endpoints[e].ports.count == se->port_count);
    }
    for (size_t i = 0; i < config->destination_rule_count; ++i)
        check(gw_config_find_destination_rule(config, config->destination_rules[i].host) ==
              &config->destination_rules[i]);
}

/* The policies compile, and a request to every ServiceEntry gets a decision with a reason. */
static void decide_everywhere(const gw_config_t *config)
{
    static const char *const groups[] = {"team-ml"};
    as_identity_t who = {.source = AS_IDENTITY_SESSION,
                         .subject = "alice@foo.com",
                         .issuer = "https://idp",
                         .userid = "alice@foo.com",
                         .groups = groups,
                         .group_count = 1};
    gw_policy_t *policy = gw_policy_new(config);
    check(policy != NULL);
    for (size_t i = 0; i < config->service_entry_count; ++i) {
        gw_policy_request_t request = {.service = &config->service_entries[i],
                                       .host = "h:1",
                                       .host_len = 3,
                                       .method = "GET",
                                       .method_len = 3,
                                       .path = "/v1/x",
                                       .path_len = 5,
                                       .identity = &who};
        gw_policy_decision_t d;
        gw_policy_decide(policy, &request, &d);
        check(d.reason != NULL && (d.allowed == 0 || d.allowed == 1));
    }
    gw_policy_free(policy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[GW_CONFIG_ERROR_SIZE];
    gw_config_t *config = gw_config_load_buffer("fuzz.yaml", (const char *)data, size, err);
    if (config == NULL) {
        check(strncmp(err, "fuzz.yaml", 9) == 0 && strlen(err) < GW_CONFIG_ERROR_SIZE);
        return 0;
    }
    check(err[0] == '\0');
    check_config(config);
    FILE *out = fopen("/dev/null", "w");
    if (out != NULL) {
        gw_config_print_summary(config, out);
        fclose(out);
    }
    decide_everywhere(config);
    gw_config_retain(config);
    gw_config_release(config);
    gw_config_release(config);
    return 0;
}
