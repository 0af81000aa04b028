#ifndef GW_CONFIG_KINDS_H
#define GW_CONFIG_KINDS_H

/*
 * Internal to the configuration loader: one decoder per document kind
 * (config_settings.c, config_gateway.c, config_service.c,
 * config_destination.c, config_route.c). config_load.c lists them in its
 * table of kinds and calls them in that order, so a decoder can check
 * references to kinds decoded before it. A decoder gets the document's spec
 * (NULL when absent) and its output with meta already filled in.
 */

#include "config_decode.h"

/** Defaults of the TenantGate settings, used when the file has no such document. */
void gw__settings_defaults(gw_settings_t *settings);

/** Defaults of a DestinationRule traffic policy. */
void gw__traffic_policy_defaults(gw_traffic_policy_t *policy);

int gw__decode_settings(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);

int gw__decode_gateway(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);
/** After every Gateway: no two servers listen on the same address and port. */
int gw__finish_gateways(gw__cfg_t *c);

int gw__decode_service_entry(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);
/** After every ServiceEntry: builds the host index (a host in one ServiceEntry only). */
int gw__finish_service_entries(gw__cfg_t *c);

int gw__decode_destination_rule(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);
/** After every DestinationRule: builds the host index (one rule per host). */
int gw__finish_destination_rules(gw__cfg_t *c);

int gw__decode_virtual_service(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);
int gw__decode_request_auth(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);

/** After every VirtualService: tenant isolation (config_tenancy.c): destinations in the own namespace, no
 * uri claimed by two namespaces. */
int gw__finish_virtual_services(gw__cfg_t *c);

int gw__decode_service_role(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);
/** After every ServiceRole: its services name no ServiceEntry of another namespace (config_tenancy.c). */
int gw__finish_service_roles(gw__cfg_t *c);

int gw__decode_service_role_binding(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);

int gw__decode_authorization_policy(gw__cfg_t *c, const gw_yaml_node_t *spec, void *out);
/** After every AuthorizationPolicy: its hosts name no ServiceEntry of another namespace (config_tenancy.c).
 */
int gw__finish_authorization_policies(gw__cfg_t *c);

/** TenantGate spec.authorization (config_authz_settings.c); absent leaves the defaults. */
int gw__decode_authz_settings(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *settings);

/** spec.accessLog of the TenantGate document (config_access_log.c). */
int gw__decode_access_log(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_settings_t *settings);

/**
 * A condition: key (request.auth.claims[NAME], request.headers[NAME], request.auth.principal,
 * source.namespace) at node, with values/notValues filled by the caller (config_authz_keys.c).
 */
int gw__decode_authz_key(gw__cfg_t *c, const gw_yaml_node_t *node, const char *key,
                         gw_authz_condition_t *out);

/** Decodes one map of a list into out. */
typedef int (*gw__cfg_item_decoder_t)(gw__cfg_t *c, const gw_yaml_node_t *node, void *out);

/**
 * A list of maps under key, each decoded into an arena array of size-byte items. Returns -1 on error, 0
 * when absent (GW__CFG_REQUIRED: absent or empty is an error), 1 when read.
 */
int gw__cfg_map_list(gw__cfg_t *c, const gw_yaml_node_t *map, const char *key, unsigned flags, size_t size,
                     void **items, size_t *count, gw__cfg_item_decoder_t decode);

/** An AuthorizationPolicy `when` entry {key, values, notValues} into a gw_authz_condition_t. */
int gw__decode_authz_when(gw__cfg_t *c, const gw_yaml_node_t *node, void *out);

/** A ServiceRole constraint {key, values} into a gw_authz_condition_t. */
int gw__decode_authz_constraint(gw__cfg_t *c, const gw_yaml_node_t *node, void *out);

/** The document of kind in namespace with name, among those already read, or NULL. */
const gw_meta_t *gw__cfg_find_document(const gw__cfg_t *c, const char *kind, const char *namespace_,
                                       const char *name);

#endif
