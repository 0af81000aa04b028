/* Istio string patterns: parsing a pattern into a matcher kind (matching is inline in policy_match.h). */
#include "policy_match.h"

gw_pattern_kind_t gw_pattern_parse(const char *pattern, size_t *start, size_t *len)
{
    size_t plen = strlen(pattern);
    *start = 0;
    *len = plen;
    if (plen == 1 && pattern[0] == '*') {
        *len = 0;
        return GW_PATTERN_ANY;
    }
    if (plen > 1 && pattern[plen - 1] == '*') {
        *len = plen - 1;
        return GW_PATTERN_PREFIX;
    }
    if (plen > 1 && pattern[0] == '*') {
        *start = 1;
        *len = plen - 1;
        return GW_PATTERN_SUFFIX;
    }
    return GW_PATTERN_EXACT;
}
