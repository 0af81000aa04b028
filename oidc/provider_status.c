#include "oidc/provider_status.h"

static const char *const codes[] = {
#define CODE(name, code, cls, message) code,
    OIDC_PROVIDER_STATUS_MAP(CODE)
#undef CODE
};

static const char *const messages[] = {
#define MESSAGE(name, code, cls, message) message,
    OIDC_PROVIDER_STATUS_MAP(MESSAGE)
#undef MESSAGE
};

static const oidc_failure_class_t classes[] = {
#define CLASS(name, code, cls, message) OIDC_FAILURE_##cls,
    OIDC_PROVIDER_STATUS_MAP(CLASS)
#undef CLASS
};

const char *oidc_provider_status_code(oidc_provider_status_t status)
{
    if ((unsigned)status >= (unsigned)OIDC_PROVIDER_STATUS_COUNT)
        return "unknown";
    return codes[status];
}

const char *oidc_provider_status_message(oidc_provider_status_t status)
{
    if ((unsigned)status >= (unsigned)OIDC_PROVIDER_STATUS_COUNT)
        return "unknown status";
    return messages[status];
}

oidc_failure_class_t oidc_provider_status_class(oidc_provider_status_t status)
{
    if ((unsigned)status >= (unsigned)OIDC_PROVIDER_STATUS_COUNT)
        return OIDC_FAILURE_INTERNAL;
    return classes[status];
}
