#ifndef GW_POLICY_INT_H
#define GW_POLICY_INT_H

/*
 * The compiled form of a policy set, shared by policy_compile.c (builds it
 * from a config) and policy.c (decides). Everything lives in one arena and
 * refers to its children by byte offsets (spans), and compiling writes one
 * namespace after the other: a namespace's header, policies, rules, matchers
 * and pattern text form one contiguous block of a few hundred bytes, read
 * mostly front to back. A decision thus touches a handful of adjacent cache
 * lines instead of chasing the config's pointers across the heap, which is
 * what 1,000 tenants x 5 policies are bound by.
 */

#include <stdint.h>

#include "policy.h"
#include "policy_match.h"

/** count objects of one type at arena offset first, one after the other. */
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
    const gw_meta_t *meta;     /* the document, for the decision */
    gw_policy_span_t rules;    /* rules (policy) or role_rules (the binding's ServiceRole; none if missing) */
    gw_policy_span_t subjects; /* binding only */
    int is_binding;
} gw_policy_item_t;

/** The head of a namespace's block: its items by slot, in Istio's order of evaluation; the name follows. */
typedef struct {
    uint32_t name_len;
    gw_policy_span_t slots[GW_POLICY_SLOT_COUNT]; /* items */
} gw_policy_namespace_t;

/** A slot of the namespace index: the name's hash and the arena offset of its block + 1 (0: empty). */
typedef struct {
    uint32_t hash;
    uint32_t block;
} gw_policy_bucket_t;

struct gw_policy {
    const gw_config_t *config;
    char *arena;                 /* every compiled object, namespace by namespace */
    gw_policy_bucket_t *buckets; /* open addressing over namespaces by name hash; NULL when there are none */
    size_t bucket_mask;
};

/** The compiled object at offset of set's arena (spans hold such offsets). */
static inline const void *gw_policy_at(const gw_policy_t *set, uint32_t offset)
{
    return set->arena + offset;
}

/** The hash of a namespace name (FNV-1a); *len gets its length. */
uint32_t gw_policy_name_hash(const char *name, size_t *len);

#endif
