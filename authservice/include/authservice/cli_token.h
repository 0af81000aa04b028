#ifndef AS_CLI_TOKEN_H
#define AS_CLI_TOKEN_H
/*
 * Verification of the gateway's own command-line tokens (minted by
 * as_rctoken_mint_cli, docs/internals/bearer.md): against the generation's
 * RCToken key set (active and verify-only keys, never fetched), only the
 * configured algorithm, iss and aud both exactly the gateway's issuer,
 * exp/nbf/iat, typ JWT and token_use "cli". An RCToken minted for an
 * upstream (aud = a service or namespace, no token_use) is refused.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "authservice/rctoken_keys.h"
#include "oidc/verify_status.h"

/** Clock skew allowed for exp/nbf/iat, in seconds: the gateway checks its own tokens, so only replicas'
 * clocks differ. */
#define AS_CLI_TOKEN_SKEW 5

typedef struct as_cli_verifier as_cli_verifier_t;

/**
 * A verifier for tokens of issuer signed by keys (both must outlive it).
 * NULL with a message in err when the published key set cannot be parsed or
 * memory is short.
 */
as_cli_verifier_t *as_cli_verifier_new(const as_rctoken_keys_t *keys, const char *issuer, char *err,
                                       size_t err_size);

/** Frees a verifier (NULL is allowed). */
void as_cli_verifier_free(as_cli_verifier_t *verifier);

/**
 * Verifies token (len bytes) at now (Unix seconds). OIDC_VERIFY_OK with
 * *claims (a new reference the caller frees) or the first failure, *claims
 * untouched; a token that is not a CLI token (typ or token_use) gives
 * OIDC_VERIFY_INVALID_CLAIM and *failed_claim names it when not NULL.
 */
oidc_verify_status_t as_cli_token_verify(const as_cli_verifier_t *verifier, const char *token, size_t len,
                                         int64_t now, json_t **claims, const char **failed_claim);

#endif
