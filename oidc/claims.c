#include "oidc/claims.h"

#include <openssl/crypto.h>
#include <string.h>

/* Times and limits stay below 2^62 in magnitude, so sums and differences of two never overflow. */
#define TIME_LIMIT ((int64_t)1 << 62)

static const char *const default_required[] = {"sub", NULL};

/* Claims that, when present, must be strings. */
static const char *const string_claims[] = {"sub", "azp", "nonce", "jti", "sid"};

void oidc_claims_options_init(oidc_claims_options_t *opts, const char *issuer, const char *audience,
                              int64_t now)
{
    memset(opts, 0, sizeof(*opts));
    opts->issuer = issuer;
    opts->audience = audience;
    opts->client_id = audience;
    opts->azp = OIDC_AZP_CHECK_IF_PRESENT;
    opts->now = now;
    opts->skew = OIDC_CLAIMS_DEFAULT_SKEW;
    opts->required = default_required;
}

/* Reads a NumericDate (integer or real seconds): 0 when absent, 1 when read, -1 when not a usable number. */
static int numeric_date(const json_t *claims, const char *name, int64_t *out)
{
    const json_t *value = json_object_get(claims, name);
    if (value == NULL)
        return 0;
    if (json_is_integer(value)) {
        json_int_t seconds = json_integer_value(value);
        if (seconds <= -TIME_LIMIT || seconds >= TIME_LIMIT)
            return -1;
        *out = (int64_t)seconds;
        return 1;
    }
    if (json_is_real(value)) {
        double seconds = json_real_value(value);
        if (!(seconds > -(double)TIME_LIMIT && seconds < (double)TIME_LIMIT))
            return -1;
        int64_t whole = (int64_t)seconds;
        if ((double)whole > seconds) /* floor, without libm */
            whole--;
        *out = whole;
        return 1;
    }
    return -1;
}

static int string_equals(const json_t *value, const char *expected)
{
    size_t len = strlen(expected);
    return json_is_string(value) && json_string_length(value) == len &&
           memcmp(json_string_value(value), expected, len) == 0;
}

static int audience_matches(const json_t *value, const oidc_claims_options_t *opts)
{
    if (string_equals(value, opts->audience))
        return 1;
    for (const char *const *extra = opts->extra_audiences; extra != NULL && *extra != NULL; ++extra)
        if (string_equals(value, *extra))
            return 1;
    return 0;
}

static int options_valid(const oidc_claims_options_t *opts)
{
    if (opts->issuer == NULL || opts->audience == NULL)
        return 0;
    if (opts->azp != OIDC_AZP_IGNORE && opts->azp != OIDC_AZP_CHECK_IF_PRESENT &&
        opts->azp != OIDC_AZP_REQUIRE_IF_MULTIPLE_AUD)
        return 0;
    if (opts->azp != OIDC_AZP_IGNORE && opts->client_id == NULL)
        return 0;
    return opts->now >= 0 && opts->now < TIME_LIMIT && opts->skew >= 0 &&
           opts->skew <= OIDC_CLAIMS_MAX_SKEW && opts->max_token_age >= 0 &&
           opts->max_token_age < TIME_LIMIT && opts->max_auth_age >= 0 && opts->max_auth_age < TIME_LIMIT;
}

#define FAIL(status_, claim_)                                                                                \
    do {                                                                                                     \
        if (failed_claim != NULL)                                                                            \
            *failed_claim = (claim_);                                                                        \
        return (status_);                                                                                    \
    } while (0)

oidc_verify_status_t oidc_claims_validate(const json_t *claims, const oidc_claims_options_t *opts,
                                          const char **failed_claim)
{
    if (failed_claim != NULL)
        *failed_claim = NULL;
    if (claims == NULL || !json_is_object(claims) || opts == NULL || !options_valid(opts))
        return OIDC_VERIFY_INVALID_ARGUMENT;

    /* types first, so every later check reads well-formed values */
    const json_t *iss = json_object_get(claims, "iss");
    const json_t *aud = json_object_get(claims, "aud");
    if (iss == NULL)
        FAIL(OIDC_VERIFY_MISSING_CLAIM, "iss");
    if (!json_is_string(iss))
        FAIL(OIDC_VERIFY_INVALID_CLAIM, "iss");
    if (aud == NULL)
        FAIL(OIDC_VERIFY_MISSING_CLAIM, "aud");
    if (json_is_array(aud)) {
        size_t i;
        const json_t *value;
        json_array_foreach(aud, i, value)
        {
            if (!json_is_string(value))
                FAIL(OIDC_VERIFY_INVALID_CLAIM, "aud");
        }
    } else if (!json_is_string(aud)) {
        FAIL(OIDC_VERIFY_INVALID_CLAIM, "aud");
    }
    int64_t exp = 0, nbf = 0, iat = 0, auth_time = 0;
    int has_exp = numeric_date(claims, "exp", &exp);
    int has_nbf = numeric_date(claims, "nbf", &nbf);
    int has_iat = numeric_date(claims, "iat", &iat);
    int has_auth_time = numeric_date(claims, "auth_time", &auth_time);
    if (has_exp == 0)
        FAIL(OIDC_VERIFY_MISSING_CLAIM, "exp");
    if (has_exp < 0)
        FAIL(OIDC_VERIFY_INVALID_CLAIM, "exp");
    if (has_nbf < 0)
        FAIL(OIDC_VERIFY_INVALID_CLAIM, "nbf");
    if (has_iat < 0)
        FAIL(OIDC_VERIFY_INVALID_CLAIM, "iat");
    if (has_auth_time < 0)
        FAIL(OIDC_VERIFY_INVALID_CLAIM, "auth_time");
    for (size_t i = 0; i < sizeof(string_claims) / sizeof(string_claims[0]); ++i) {
        const json_t *value = json_object_get(claims, string_claims[i]);
        if (value != NULL && (!json_is_string(value) || json_string_length(value) == 0))
            FAIL(OIDC_VERIFY_INVALID_CLAIM, string_claims[i]);
    }

    if (!string_equals(iss, opts->issuer))
        FAIL(OIDC_VERIFY_WRONG_ISSUER, "iss");

    int audience_found = 0;
    if (json_is_array(aud)) {
        size_t i;
        const json_t *value;
        json_array_foreach(aud, i, value)
        {
            audience_found |= audience_matches(value, opts);
        }
    } else {
        audience_found = audience_matches(aud, opts);
    }
    if (!audience_found)
        FAIL(OIDC_VERIFY_WRONG_AUDIENCE, "aud");

    const json_t *azp = json_object_get(claims, "azp");
    if (opts->azp != OIDC_AZP_IGNORE) {
        if (azp != NULL && !string_equals(azp, opts->client_id))
            FAIL(OIDC_VERIFY_WRONG_AZP, "azp");
        if (azp == NULL && opts->azp == OIDC_AZP_REQUIRE_IF_MULTIPLE_AUD && json_is_array(aud) &&
            json_array_size(aud) > 1)
            FAIL(OIDC_VERIFY_WRONG_AZP, "azp");
    }

    if (opts->now >= exp + opts->skew)
        FAIL(OIDC_VERIFY_EXPIRED, "exp");
    if (has_nbf && nbf > opts->now + opts->skew)
        FAIL(OIDC_VERIFY_NOT_YET_VALID, "nbf");
    if (has_iat && iat > opts->now + opts->skew)
        FAIL(OIDC_VERIFY_ISSUED_IN_FUTURE, "iat");
    if (opts->max_token_age > 0) {
        if (!has_iat)
            FAIL(OIDC_VERIFY_MISSING_CLAIM, "iat");
        if (opts->now - iat > opts->max_token_age + opts->skew)
            FAIL(OIDC_VERIFY_TOKEN_TOO_OLD, "iat");
    }
    if (opts->max_auth_age > 0) {
        if (!has_auth_time)
            FAIL(OIDC_VERIFY_MISSING_CLAIM, "auth_time");
        if (opts->now - auth_time > opts->max_auth_age + opts->skew)
            FAIL(OIDC_VERIFY_AUTH_TOO_OLD, "auth_time");
    }

    if (opts->nonce != NULL) {
        const json_t *nonce = json_object_get(claims, "nonce");
        size_t len = strlen(opts->nonce);
        if (nonce == NULL)
            FAIL(OIDC_VERIFY_MISSING_CLAIM, "nonce");
        if (json_string_length(nonce) != len ||
            CRYPTO_memcmp(json_string_value(nonce), opts->nonce, len) != 0)
            FAIL(OIDC_VERIFY_WRONG_NONCE, "nonce");
    }

    for (const char *const *name = opts->required; name != NULL && *name != NULL; ++name) {
        const json_t *value = json_object_get(claims, *name);
        if (value == NULL || json_is_null(value))
            FAIL(OIDC_VERIFY_MISSING_CLAIM, *name);
    }
    return OIDC_VERIFY_OK;
}
