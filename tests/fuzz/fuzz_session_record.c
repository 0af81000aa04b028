/* Fuzzes the session-record and login-state codecs: whatever decodes must encode, decode again to an equal
 * record and encode to the same bytes (one canonical form); whatever fails must say why. Never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/login_state.h"
#include "authservice/session_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const char *json, size_t size)
{
    char err[256] = "";
    as_session_record_t *first = NULL;
    if (as_session_record_from_json(json, size, &first, err, sizeof(err)) != 0) {
        if (err[0] == '\0' || first != NULL)
            abort();
        return;
    }
    char *text = as_session_record_to_json(first, err, sizeof(err));
    if (text == NULL)
        abort();
    as_session_record_t *second = NULL;
    if (as_session_record_from_json(text, strlen(text), &second, err, sizeof(err)) != 0 ||
        !as_session_record_equal(first, second))
        abort();
    char *again = as_session_record_to_json(second, NULL, 0);
    if (again == NULL || strcmp(again, text) != 0)
        abort();
    as_session_record_t *copy = as_session_record_dup(second);
    if (copy == NULL || !as_session_record_equal(copy, first))
        abort();
    as_session_record_free(copy);
    free(again);
    free(text);
    as_session_record_free(second);
    as_session_record_free(first);
}

static void check_login_state(const char *json, size_t size)
{
    char err[256] = "";
    as_login_state_t *first = NULL;
    if (as_login_state_from_json(json, size, &first, err, sizeof(err)) != 0) {
        if (err[0] == '\0' || first != NULL)
            abort();
        return;
    }
    char *text = as_login_state_to_json(first, err, sizeof(err));
    if (text == NULL)
        abort();
    as_login_state_t *second = NULL;
    if (as_login_state_from_json(text, strlen(text), &second, err, sizeof(err)) != 0 ||
        !as_login_state_equal(first, second))
        abort();
    char *again = as_login_state_to_json(second, NULL, 0);
    if (again == NULL || strcmp(again, text) != 0)
        abort();
    as_login_state_t *copy = as_login_state_dup(second);
    if (copy == NULL || !as_login_state_equal(copy, first))
        abort();
    as_login_state_free(copy);
    free(again);
    free(text);
    as_login_state_free(second);
    as_login_state_free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, no NUL after it: ASan sees any read past the input */
    char *json = malloc(size == 0 ? 1 : size);
    if (json == NULL)
        return 0;
    memcpy(json, data, size);
    check_record(json, size);
    check_login_state(json, size);
    free(json);
    return 0;
}
