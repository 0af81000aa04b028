#include "authservice/identity.h"

#include <string.h>

const char *as_identity_claim(const as_identity_t *identity, const char *name, size_t index)
{
    if (identity == NULL || identity->source == AS_IDENTITY_NONE || name == NULL)
        return NULL;
    if (strcmp(name, "groups") == 0)
        return index < identity->group_count ? identity->groups[index] : NULL;
    const char *single = NULL;
    if (strcmp(name, "sub") == 0)
        single = identity->subject;
    else if (strcmp(name, "iss") == 0)
        single = identity->issuer;
    else if (strcmp(name, "email") == 0)
        single = identity->email;
    else if (strcmp(name, "name") == 0)
        single = identity->name;
    else
        return identity->claim != NULL ? identity->claim(identity->claims, name, index) : NULL;
    return index == 0 ? single : NULL;
}
