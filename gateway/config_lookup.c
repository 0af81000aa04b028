#include <string.h>

#include "config.h"

const gw_subset_t *gw_destination_rule_find_subset(const gw_destination_rule_t *rule, const char *name)
{
    for (size_t i = 0; rule != NULL && i < rule->subset_count; ++i)
        if (strcmp(rule->subsets[i].name, name) == 0)
            return &rule->subsets[i];
    return NULL;
}

const gw_service_port_t *gw_service_entry_find_port(const gw_service_entry_t *service, uint16_t number)
{
    if (number == 0)
        return service->port_count == 1 ? &service->ports[0] : NULL;
    for (size_t i = 0; i < service->port_count; ++i)
        if (service->ports[i].number == number)
            return &service->ports[i];
    return NULL;
}

const char *gw_labels_get(const gw_labels_t *labels, const char *key)
{
    for (size_t i = 0; i < labels->count; ++i)
        if (strcmp(labels->keys[i], key) == 0)
            return labels->values[i];
    return NULL;
}

int gw_labels_select(const gw_labels_t *selector, const gw_labels_t *labels)
{
    for (size_t i = 0; i < selector->count; ++i) {
        const char *value = gw_labels_get(labels, selector->keys[i]);
        if (value == NULL || strcmp(value, selector->values[i]) != 0)
            return 0;
    }
    return 1;
}
