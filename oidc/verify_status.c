#include "oidc/verify_status.h"

static const char *const codes[] = {
#define CODE(name, code, message) code,
    OIDC_VERIFY_STATUS_MAP(CODE)
#undef CODE
};

static const char *const messages[] = {
#define MESSAGE(name, code, message) message,
    OIDC_VERIFY_STATUS_MAP(MESSAGE)
#undef MESSAGE
};

const char *oidc_verify_status_code(oidc_verify_status_t status)
{
    if ((unsigned)status >= (unsigned)OIDC_VERIFY_STATUS_COUNT)
        return "unknown";
    return codes[status];
}

const char *oidc_verify_status_message(oidc_verify_status_t status)
{
    if ((unsigned)status >= (unsigned)OIDC_VERIFY_STATUS_COUNT)
        return "unknown status";
    return messages[status];
}
