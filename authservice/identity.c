#include "authservice/identity.h"

#include <string.h>

as_identity_claim_id_t as_identity_claim_id(const char *name)
{
    static const struct {
        const char *name;
        as_identity_claim_id_t id;
    } members[] = {{"groups", AS_CLAIM_GROUPS},
                   {"sub", AS_CLAIM_SUB},
                   {"iss", AS_CLAIM_ISS},
                   {"email", AS_CLAIM_EMAIL},
                   {"name", AS_CLAIM_NAME}};
    for (size_t i = 0; name != NULL && i < sizeof(members) / sizeof(members[0]); ++i)
        if (strcmp(name, members[i].name) == 0)
            return members[i].id;
    return AS_CLAIM_OTHER;
}

const char *as_identity_claim_by_id(const as_identity_t *identity, as_identity_claim_id_t id,
                                    const char *name, size_t index)
{
    if (identity == NULL || identity->source == AS_IDENTITY_NONE || name == NULL)
        return NULL;
    const char *single = NULL;
    switch (id) {
    case AS_CLAIM_GROUPS:
        return index < identity->group_count ? identity->groups[index] : NULL;
    case AS_CLAIM_SUB:
        single = identity->subject;
        break;
    case AS_CLAIM_ISS:
        single = identity->issuer;
        break;
    case AS_CLAIM_EMAIL:
        single = identity->email;
        break;
    case AS_CLAIM_NAME:
        single = identity->name;
        break;
    case AS_CLAIM_OTHER:
        return identity->claim != NULL ? identity->claim(identity->claims, name, index) : NULL;
    }
    return index == 0 ? single : NULL;
}

const char *as_identity_claim(const as_identity_t *identity, const char *name, size_t index)
{
    return as_identity_claim_by_id(identity, as_identity_claim_id(name), name, index);
}
