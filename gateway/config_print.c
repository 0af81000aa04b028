/* gw_config_print_summary: what `tenantgate --check-config FILE` shows. Stable plain text;
 * file paths are printed, never file contents. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "authservice/rctoken_keys.h"
#include "authservice/store.h"

static void print_duration(FILE *fp, uint64_t ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    if (ms == 0) {
        fputs("0s", fp);
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); ++i) {
        if (ms >= units[i].ms) {
            fprintf(fp, "%" PRIu64 "%s", ms / units[i].ms, units[i].unit);
            ms %= units[i].ms;
        }
    }
}

static void print_address(FILE *fp, const char *address, unsigned port)
{
    fprintf(fp, strchr(address, ':') != NULL ? "[%s]:%u" : "%s:%u", address, port);
}

static void print_strings(FILE *fp, const gw_strings_t *list)
{
    for (size_t i = 0; i < list->count; ++i)
        fprintf(fp, "%s%s", i == 0 ? "" : ",", list->items[i]);
    if (list->count == 0)
        fputs("-", fp);
}

static void print_labels(FILE *fp, const gw_labels_t *labels)
{
    for (size_t i = 0; i < labels->count; ++i)
        fprintf(fp, "%s%s=%s", i == 0 ? "" : ",", labels->keys[i], labels->values[i]);
    if (labels->count == 0)
        fputs("-", fp);
}

/* Browser login: names the issuer, client and store backend; never a secret, a file's contents or a store
 * URL (it may carry a password). */
static void print_auth(FILE *fp, const gw_auth_settings_t *a)
{
    if (!a->enabled) {
        fputs("  login: off\n", fp);
        return;
    }
    fprintf(fp, "  login: oidc %s client %s (%s), callback %s/authservice/callback, scopes ", a->issuer,
            a->client_id, a->client_auth == 1 ? "client_secret_post" : "client_secret_basic",
            a->external_url);
    print_strings(fp, &a->scopes);
    fputs("\n  sessions: ", fp);
    as_store_url_t url;
    if (as_store_url_parse(a->store, &url, NULL, 0) == 0) {
        if (url.kind == AS_STORE_URL_SQLITE)
            fprintf(fp, "sqlite %s", url.path);
        else
            for (size_t i = 0; i < url.host_count; ++i)
                fprintf(fp, "%s%s %s:%u", i == 0 ? "" : ",",
                        url.kind == AS_STORE_URL_REDIS ? "redis" : "sentinel", url.hosts[i].host,
                        url.hosts[i].port);
        as_store_url_free(&url);
    }
    fputs(", idle ", fp);
    print_duration(fp, a->idle_timeout_ms);
    fputs(", absolute ", fp);
    print_duration(fp, a->absolute_timeout_ms);
    fputs(", cache ", fp);
    print_duration(fp, a->cache_ttl_ms);
    fprintf(fp, " x %llu entries", (unsigned long long)a->cache_max_entries);
    fputs(", logout poll ", fp);
    print_duration(fp, a->logout_poll_ms);
    fputs(", refresh before ", fp);
    print_duration(fp, a->refresh_before_ms);
    fputs("\n", fp);
}

/* RCTokens: issuer, algorithm, lifetime, audience and how many keys; file names but never their contents. */
static void print_rctoken(FILE *fp, const gw_rctoken_settings_t *r)
{
    if (!r->enabled) {
        fputs("  rctoken: off\n", fp);
        return;
    }
    fprintf(fp, "  rctoken: %s issuer %s, ttl ", as_rctoken_alg_name((as_rctoken_alg_t)r->algorithm),
            r->issuer);
    print_duration(fp, r->ttl_ms);
    fprintf(fp, ", audience %s, header %s, signing key %s, %zu verify-only key file(s), jwks max-age ",
            r->audience_namespace ? "namespace" : "host", r->header, r->signing_key_file,
            r->verify_key_files.count);
    print_duration(fp, r->jwks_max_age_ms);
    fputs("\n", fp);
}

static void print_settings(FILE *fp, const gw_settings_t *s)
{
    fputs("settings:\n  admin: ", fp);
    if (s->admin.port == 0)
        fputs("disabled", fp);
    else
        print_address(fp, s->admin.address, s->admin.port);
    fprintf(fp, "\n  threads: %u%s\n  log level: %s\n", s->threads, s->threads == 0 ? " (one per core)" : "",
            s->log_level);
    fprintf(fp, "  limits: header bytes %zu, header count %u, body bytes %zu, request timeout ",
            s->limits.max_header_bytes, s->limits.max_header_count, s->limits.max_body_bytes);
    print_duration(fp, s->limits.request_timeout_ms);
    fputs(", idle timeout ", fp);
    print_duration(fp, s->limits.idle_timeout_ms);
    fputs("\n  strip headers: kubeflow-userid,kubeflow-groups", fp);
    for (size_t i = 0; i < s->strip_headers.count; ++i)
        fprintf(fp, ",%s", s->strip_headers.items[i]);
    fputs("\n", fp);
    print_auth(fp, &s->auth);
    print_rctoken(fp, &s->rctoken);
}

static void print_listeners(FILE *fp, const gw_config_t *config)
{
    fputs("listeners:\n", fp);
    for (size_t g = 0; g < config->gateway_count; ++g) {
        const gw_gateway_t *gw = &config->gateways[g];
        for (size_t i = 0; i < gw->server_count; ++i) {
            const gw_server_t *s = &gw->servers[i];
            fputs("  ", fp);
            print_address(fp, s->bind, s->port);
            fprintf(fp, " %s gateway %s/%s hosts ", s->protocol == GW_PROTO_HTTPS ? "HTTPS" : "HTTP",
                    gw->meta.namespace_, gw->meta.name);
            print_strings(fp, &s->hosts);
            if (s->protocol == GW_PROTO_HTTPS)
                fprintf(fp, " tls %s cert %s key %s", s->tls.min_protocol, s->tls.server_certificate,
                        s->tls.private_key);
            if (s->tls.https_redirect)
                fputs(" redirect-to-https", fp);
            fputs("\n", fp);
        }
    }
}

static void print_services(FILE *fp, const gw_config_t *config)
{
    fputs("services:\n", fp);
    for (size_t i = 0; i < config->service_entry_count; ++i) {
        const gw_service_entry_t *se = &config->service_entries[i];
        fprintf(fp, "  %s/%s hosts ", se->meta.namespace_, se->meta.name);
        print_strings(fp, &se->hosts);
        fputs(" ports ", fp);
        for (size_t p = 0; p < se->port_count; ++p)
            fprintf(fp, "%s%s=%u/%s", p == 0 ? "" : ",", se->ports[p].name, se->ports[p].number,
                    se->ports[p].protocol != NULL ? se->ports[p].protocol : "-");
        fprintf(fp, " %s %s\n", se->location, se->resolution);
        for (size_t e = 0; e < se->endpoint_count; ++e) {
            const gw_endpoint_t *ep = &se->endpoints[e];
            fprintf(fp, "    endpoint %s ports ", ep->address);
            print_labels(fp, &ep->ports);
            fputs(" labels ", fp);
            print_labels(fp, &ep->labels);
            if (ep->service_account != NULL)
                fprintf(fp, " serviceAccount %s", ep->service_account);
            fputs("\n", fp);
        }
    }
}

static void print_policy(FILE *fp, const gw_traffic_policy_t *p)
{
    static const char *const modes[] = {"DISABLE", "SIMPLE", "MUTUAL"};
    fputs("tls ", fp);
    if (!p->tls.set || p->tls.mode == GW_UPSTREAM_TLS_DISABLE) {
        fputs("DISABLE", fp);
    } else {
        fputs(modes[p->tls.mode], fp);
        if (p->tls.sni != NULL)
            fprintf(fp, " sni %s", p->tls.sni);
        fputs(" identities ", fp);
        print_strings(fp, &p->tls.subject_alt_names);
        if (p->tls.ca_certificates != NULL)
            fprintf(fp, " ca %s", p->tls.ca_certificates);
        if (p->tls.client_certificate != NULL)
            fprintf(fp, " cert %s", p->tls.client_certificate);
    }
    fputs(", connect timeout ", fp);
    print_duration(fp, p->connect_timeout_ms);
    fputs(", idle timeout ", fp);
    print_duration(fp, p->idle_timeout_ms);
    fprintf(fp, ", max connections %u", p->max_connections);
    if (p->load_balancer != GW_LB_ROUND_ROBIN)
        fprintf(fp, ", load balancer %s",
                p->load_balancer == GW_LB_LEAST_REQUEST ? "LEAST_REQUEST" : "RANDOM");
}

static void print_rules(FILE *fp, const gw_config_t *config)
{
    fputs("destination rules:\n", fp);
    for (size_t i = 0; i < config->destination_rule_count; ++i) {
        const gw_destination_rule_t *dr = &config->destination_rules[i];
        fprintf(fp, "  %s/%s host %s: ", dr->meta.namespace_, dr->meta.name, dr->host);
        print_policy(fp, &dr->traffic_policy);
        fputs("\n", fp);
        for (size_t s = 0; s < dr->subset_count; ++s) {
            fprintf(fp, "    subset %s labels ", dr->subsets[s].name);
            print_labels(fp, &dr->subsets[s].labels);
            fputs(": ", fp);
            print_policy(fp, &dr->subsets[s].traffic_policy);
            fputs("\n", fp);
        }
    }
}

static void print_route(FILE *fp, const gw_http_route_t *route)
{
    fprintf(fp, "    %s:", route->name != NULL ? route->name : "-");
    static const char *const kinds[] = {"any", "exact", "prefix", "regex"};
    for (size_t m = 0; m < route->match_count; ++m) {
        const gw_http_match_t *match = &route->matches[m];
        fprintf(fp, "%s %s", m == 0 ? "" : " or", kinds[match->uri.kind]);
        if (match->uri.kind != GW_MATCH_ANY)
            fprintf(fp, " %s%s", match->uri.value, match->ignore_uri_case ? " (any case)" : "");
        if (match->method.kind != GW_MATCH_ANY)
            fprintf(fp, " method %s %s", kinds[match->method.kind], match->method.value);
        /* header values are not printed: a match on an API key header would show the key */
        for (size_t h = 0; h < match->header_count; ++h)
            fprintf(fp, " header %s %s", match->headers[h].name, kinds[match->headers[h].value.kind]);
        for (size_t h = 0; h < match->without_header_count; ++h)
            fprintf(fp, " without header %s", match->without_headers[h].name);
        for (size_t q = 0; q < match->query_param_count; ++q)
            fprintf(fp, " query %s %s", match->query_params[q].name,
                    kinds[match->query_params[q].value.kind]);
    }
    if (route->match_count == 0)
        fputs(" any", fp);
    fputs(" ->", fp);
    for (size_t d = 0; d < route->route_count; ++d) {
        const gw_route_destination_t *dest = &route->routes[d];
        fprintf(fp, "%s %s", d == 0 ? "" : ",", dest->host);
        if (dest->port != 0)
            fprintf(fp, ":%u", dest->port);
        if (dest->subset != NULL)
            fprintf(fp, " subset %s", dest->subset);
        fprintf(fp, " weight %u", dest->weight);
    }
    if (route->rewrite_uri != NULL)
        fprintf(fp, "; rewrite %s", route->rewrite_uri);
    if (route->timeout_ms != 0) {
        fputs("; timeout ", fp);
        print_duration(fp, route->timeout_ms);
    }
    if (route->retries.attempts > 0)
        fprintf(fp, "; retries %u", route->retries.attempts);
    if (route->mirror != NULL)
        fprintf(fp, "; mirror %s%s%s %u.%04u%%", route->mirror->host,
                route->mirror->subset != NULL ? " subset " : "",
                route->mirror->subset != NULL ? route->mirror->subset : "", route->mirror_per_million / 10000,
                route->mirror_per_million % 10000);
    fputs("\n", fp);
}

static void print_routes(FILE *fp, const gw_config_t *config)
{
    fputs("routes:\n", fp);
    for (size_t i = 0; i < config->virtual_service_count; ++i) {
        const gw_virtual_service_t *vs = &config->virtual_services[i];
        fprintf(fp, "  %s/%s hosts ", vs->meta.namespace_, vs->meta.name);
        print_strings(fp, &vs->hosts);
        fputs(" gateways ", fp);
        print_strings(fp, &vs->gateways);
        fputs(vs->sticky_split == GW_STICKY_USER ? " sticky split by user\n" : "\n", fp);
        for (size_t h = 0; h < vs->http_count; ++h)
            print_route(fp, &vs->http[h]);
    }
}

static void print_bucket(FILE *fp, double rate, double burst)
{
    if (rate > 0)
        fprintf(fp, "%g/s burst %g", rate, burst);
    else
        fputs("off", fp);
}

static void print_authorization(FILE *fp, const gw_config_t *config)
{
    static const char *const actions[] = {"ALLOW", "DENY", "AUDIT"};
    const gw_settings_t *s = &config->settings;
    fprintf(fp, "authorization:\n  gateway principal: %s\n  audit: ", s->authorization.gateway_principal);
    if (s->authorization.audit_file != NULL)
        fprintf(fp, "%s, sample allows %g\n", s->authorization.audit_file,
                s->authorization.audit_sample_allows);
    else
        fputs("off\n", fp);
    fputs("  rate limits: per user ", fp);
    print_bucket(fp, s->authorization.user_rate, s->authorization.user_burst);
    fputs(", per namespace ", fp);
    print_bucket(fp, s->authorization.namespace_rate, s->authorization.namespace_burst);
    fputc('\n', fp);
    for (size_t i = 0; i < config->authorization_policy_count; ++i) {
        const gw_authorization_policy_t *p = &config->authorization_policies[i];
        fprintf(fp, "  %s/%s AuthorizationPolicy %s, %zu rules\n", p->meta.namespace_, p->meta.name,
                actions[p->action], p->rule_count);
    }
    for (size_t i = 0; i < config->service_role_count; ++i) {
        const gw_service_role_t *r = &config->service_roles[i];
        fprintf(fp, "  %s/%s ServiceRole, %zu rules\n", r->meta.namespace_, r->meta.name, r->rule_count);
    }
    for (size_t i = 0; i < config->service_role_binding_count; ++i) {
        const gw_service_role_binding_t *b = &config->service_role_bindings[i];
        fprintf(fp, "  %s/%s ServiceRoleBinding -> %s, %zu subjects\n", b->meta.namespace_, b->meta.name,
                b->role, b->subject_count);
    }
}

void gw_config_print_summary(const gw_config_t *config, void *out)
{
    FILE *fp = out;
    if (config == NULL || fp == NULL)
        return;
    fprintf(fp, "config %s\n", config->file);
    print_settings(fp, &config->settings);
    print_listeners(fp, config);
    print_services(fp, config);
    print_rules(fp, config);
    print_routes(fp, config);
    print_authorization(fp, config);
}
