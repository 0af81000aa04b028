#ifndef GW_POLICY_H
#define GW_POLICY_H

/*
 * The authorization engine (docs/internals/authorization.md): every
 * AuthorizationPolicy and ServiceRoleBinding of a config compiled at
 * generation build into one block per namespace (policy_compile.c), found by
 * a hash of the namespace, so a decision only looks at the destination's
 * namespace. Istio's order:
 * AUDIT marks, DENY before ALLOW, a namespace with any ALLOW policy or
 * ServiceRoleBinding denies what none allows, a namespace without any allows.
 */

#include <stddef.h>

#include "authservice/identity.h"
#include "config.h"

typedef struct gw_policy gw_policy_t;

/** Compiles the policies of config (which must outlive the result). NULL when out of memory. */
gw_policy_t *gw_policy_new(const gw_config_t *config);

/** Frees a policy set (NULL is allowed). */
void gw_policy_free(gw_policy_t *policy);

/** What a decision looks at. */
typedef struct {
    const gw_service_entry_t *service; /* the destination; its namespace picks the policies */
    const char *host;                  /* the request's authority (a port is ignored) */
    size_t host_len;
    const char *method;
    size_t method_len;
    const char *path; /* normalised, without the query */
    size_t path_len;
    /** The value of a header (name in lower case), or NULL when the request has none. */
    const char *(*header)(void *ctx, const char *name, size_t *len);
    void *ctx;
    const as_identity_t *identity;
} gw_policy_request_t;

/** The outcome and what decided it. */
typedef struct {
    int allowed;
    int audit;                /* an AUDIT policy matched */
    const char *kind;         /* "AuthorizationPolicy", "ServiceRoleBinding", or NULL: a default */
    const gw_meta_t *decider; /* the document that decided, NULL for a default */
    size_t rule;              /* its rule (AuthorizationPolicy) or subject (ServiceRoleBinding) index */
    const char *reason;       /* short, safe to log: "no policy", "denied by policy", ... */
} gw_policy_decision_t;

/** Decides request; never fails. */
void gw_policy_decide(const gw_policy_t *policy, const gw_policy_request_t *request,
                      gw_policy_decision_t *out);

/**
 * Istio string matching: "*" matches anything, "abc*" a prefix, "*abc" a
 * suffix, anything else exactly (case-insensitively when nocase).
 */
int gw_policy_match(const char *pattern, const char *value, size_t len, int nocase);

/** Whether any pattern of list matches value. */
int gw_policy_match_any(const gw_strings_t *list, const char *value, size_t len, int nocase);

#endif
