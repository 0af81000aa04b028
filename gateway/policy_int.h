#ifndef GW_POLICY_INT_H
#define GW_POLICY_INT_H

/*
 * The compiled form of a policy set, shared by policy_compile.c (builds it
 * from a config) and policy.c (decides). Every object lives in a typed array
 * of struct gw_policy and refers to its children by index spans; compiling
 * walks the documents namespace by namespace, so one namespace's policies,
 * rules, matchers and pattern text are each contiguous and a decision
 * touches a few cache lines instead of chasing the config's pointers.
 */

#include <stdint.h>

#include "policy.h"
#include "policy_match.h"

/** [first, first + count) of some array of struct gw_policy. */
typedef struct {
    uint32_t first;
    uint32_t count;
} gw_policy_span_t;

/** A request field: it must match one of yes (when yes is not empty) and none of no. */
typedef struct {
    gw_policy_span_t yes, no; /* matchers */
} gw_policy_filter_t;

/** A condition key whose value is known when policies compile (source.namespace): the outcome is fixed. */
#define GW_POLICY_KEY_CONSTANT 0xff

/** Headers a decision looks up at most once each (per namespace, in order of first use). */
#define GW_POLICY_HEADER_SLOTS 16
#define GW_POLICY_NO_SLOT 0xff

/** A `when` condition, a ServiceRole constraint or a binding property. */
typedef struct {
    uint8_t key;                         /* gw_authz_key_kind_t, or GW_POLICY_KEY_CONSTANT */
    uint8_t claim;                       /* as_identity_claim_id_t of claims[NAME] */
    uint8_t header_slot;                 /* of headers[NAME]: its cache slot, or GW_POLICY_NO_SLOT */
    uint8_t constant;                    /* the outcome of a constant key */
    const char *name;                    /* NAME of claims[NAME] / headers[NAME] (config memory) */
    gw_policy_span_t values, not_values; /* matchers */
} gw_policy_condition_t;

/** rules[].from[].source. */
typedef struct {
    gw_policy_filter_t principals;
    int namespace_ok; /* namespaces/notNamespaces against the gateway's namespace, decided at compile */
} gw_policy_source_t;

/** rules[].to[].operation. */
typedef struct {
    gw_policy_filter_t hosts, methods, paths;
} gw_policy_operation_t;

/** An AuthorizationPolicy rule. */
typedef struct {
    gw_policy_span_t from, to, when; /* sources, operations, conditions */
} gw_policy_rule_t;

/** A ServiceRole rule; an empty methods/paths span matches anything. */
typedef struct {
    gw_policy_span_t services, methods, paths; /* matchers */
    gw_policy_span_t constraints;              /* conditions */
} gw_policy_role_rule_t;

/** A ServiceRoleBinding subject. */
typedef struct {
    const char *user;  /* the userid it names; NULL: any caller ("*", the gateway principal, or none) */
    const char *group; /* NULL: any */
    gw_policy_span_t properties; /* conditions */
} gw_policy_subject_t;

enum {
    GW_POLICY_SLOT_AUDIT,
    GW_POLICY_SLOT_DENY,
    GW_POLICY_SLOT_ALLOW,
    GW_POLICY_SLOT_BINDING,
    GW_POLICY_SLOT_COUNT
};

/** An AuthorizationPolicy or a ServiceRoleBinding with its role. */
typedef struct {
    const gw_meta_t *meta; /* the document, for the decision */
    int is_binding;
    gw_policy_span_t rules;    /* rules (policy) or role_rules (the binding's ServiceRole; none if missing) */
    gw_policy_span_t subjects; /* binding only */
} gw_policy_item_t;

/** The policies of one namespace, by slot in Istio's order of evaluation. */
typedef struct {
    const char *name; /* config memory */
    size_t name_len;
    uint32_t hash;
    gw_policy_span_t slots[GW_POLICY_SLOT_COUNT]; /* items */
} gw_policy_namespace_t;

struct gw_policy {
    const gw_config_t *config;
    gw_policy_namespace_t *namespaces;
    size_t namespace_count;
    uint32_t *buckets; /* open addressing over namespaces by name hash: index + 1, 0 = empty */
    size_t bucket_mask;
    gw_policy_item_t *items;
    gw_policy_rule_t *rules;
    gw_policy_source_t *sources;
    gw_policy_operation_t *operations;
    gw_policy_condition_t *conditions;
    gw_policy_role_rule_t *role_rules;
    gw_policy_subject_t *subjects;
    gw_matcher_t *matchers;
    char *text; /* the matchers' pattern text */
};

/** The hash of a namespace name (FNV-1a); *len gets its length. */
uint32_t gw_policy_name_hash(const char *name, size_t *len);

#endif
