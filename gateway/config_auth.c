/* kind TenantGate, spec.oidc and spec.sessions: browser login through an OpenID Provider. */
#include "config_auth.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "authservice/session_cache.h"
#include "authservice/store.h"
#include "oidc/url.h"

static char *const default_scopes[] = {"openid", "email", "profile", "groups"};

void gw__auth_defaults(gw_auth_settings_t *auth)
{
    memset(auth, 0, sizeof(*auth));
    auth->scopes.items = (char **)default_scopes;
    auth->scopes.count = sizeof(default_scopes) / sizeof(default_scopes[0]);
    auth->idle_timeout_ms = 60ull * 60 * 1000;
    auth->absolute_timeout_ms = 12ull * 60 * 60 * 1000;
    auth->cache_ttl_ms = 5000;
    auth->cache_max_entries = 10000;
    auth->logout_poll_ms = 1000;
    auth->refresh_before_ms = 60000;
}

/* An origin: https (or loopback http) URL without path, query or fragment; a trailing '/' is dropped. */
static int decode_external_url(gw__cfg_t *c, const gw_yaml_node_t *oidc, gw_auth_settings_t *auth)
{
    if (gw__cfg_string(c, oidc, "externalUrl", GW__CFG_REQUIRED, &auth->external_url) < 0)
        return -1;
    char *url = auth->external_url;
    size_t len = strlen(url);
    if (len > 1 && url[len - 1] == '/')
        url[--len] = '\0';
    const char *reason = NULL;
    if (oidc_url_check(url, OIDC_URL_ALLOW_INSECURE_LOOPBACK | OIDC_URL_NO_QUERY, &reason) != 0)
        return gw__cfg_fail_field(c, oidc, "externalUrl", reason != NULL ? reason : "not a valid URL");
    const char *host = strstr(url, "://") + 3;
    if (strchr(host, '/') != NULL)
        return gw__cfg_fail_field(c, oidc, "externalUrl",
                                  "must be an origin (scheme://host[:port]) without a path");
    return 0;
}

static int decode_scopes(gw__cfg_t *c, const gw_yaml_node_t *oidc, gw_auth_settings_t *auth)
{
    int found = gw__cfg_strings(c, oidc, "scopes", 0, &auth->scopes);
    if (found <= 0)
        return found;
    int openid = 0;
    for (size_t i = 0; i < auth->scopes.count; ++i) {
        const char *s = auth->scopes.items[i];
        for (const char *p = s; *p != '\0'; ++p)
            if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
                return gw__cfg_fail_field(c, oidc, "scopes",
                                          "a scope is printable ASCII without spaces, quotes or '\\'");
        openid |= strcmp(s, "openid") == 0;
    }
    return openid ? 0 : gw__cfg_fail_field(c, oidc, "scopes", "must include openid");
}

static int decode_api_prefixes(gw__cfg_t *c, const gw_yaml_node_t *oidc, gw_auth_settings_t *auth)
{
    int found = gw__cfg_strings(c, oidc, "apiPrefixes", 0, &auth->api_prefixes);
    if (found <= 0)
        return found;
    for (size_t i = 0; i < auth->api_prefixes.count; ++i)
        if (auth->api_prefixes.items[i][0] != '/')
            return gw__cfg_fail_field(c, oidc, "apiPrefixes", "each prefix must start with '/'");
    return 0;
}

static int decode_oidc(gw__cfg_t *c, const gw_yaml_node_t *oidc, gw_auth_settings_t *auth)
{
    static const char *const fields[] = {"issuer",           "allowInsecureIssuer", "clientId",
                                         "clientSecretFile", "clientAuth",          "scopes",
                                         "externalUrl",      "apiPrefixes",         NULL};
    static const gw__cfg_choice_t auths[] = {
        {"client_secret_basic", 0, NULL}, {"client_secret_post", 1, NULL}, {NULL, 0, NULL}};
    if (gw__cfg_fields(c, oidc, fields, NULL) != 0 ||
        gw__cfg_bool(c, oidc, "allowInsecureIssuer", 0, &auth->allow_insecure_issuer) < 0 ||
        gw__cfg_string(c, oidc, "issuer", GW__CFG_REQUIRED, &auth->issuer) < 0)
        return -1;
    const char *reason = NULL;
    unsigned flags = OIDC_URL_NO_QUERY | (auth->allow_insecure_issuer ? OIDC_URL_ALLOW_INSECURE_LOOPBACK : 0);
    if (oidc_url_check(auth->issuer, flags, &reason) != 0) {
        char message[200];
        snprintf(message, sizeof(message), "%s%s", reason != NULL ? reason : "not a valid issuer URL",
                 !auth->allow_insecure_issuer && strncmp(auth->issuer, "http://", 7) == 0
                     ? " (http is allowed only on loopback with allowInsecureIssuer: true)"
                     : "");
        return gw__cfg_fail_field(c, oidc, "issuer", message);
    }
    if (gw__cfg_string(c, oidc, "clientId", GW__CFG_REQUIRED, &auth->client_id) < 0 ||
        gw__cfg_file(c, oidc, "clientSecretFile", GW__CFG_REQUIRED, &auth->client_secret_file) < 0 ||
        gw__cfg_choice(c, oidc, "clientAuth", 0, auths, 0, &auth->client_auth) < 0 ||
        decode_scopes(c, oidc, auth) < 0 || decode_external_url(c, oidc, auth) < 0 ||
        decode_api_prefixes(c, oidc, auth) < 0)
        return -1;
    return 0;
}

/* A relative sqlite path resolves against the config file's directory, like every other file. */
static int resolve_store(gw__cfg_t *c, const gw_yaml_node_t *sessions, gw_auth_settings_t *auth)
{
    as_store_url_t url;
    char err[256];
    if (as_store_url_parse(auth->store, &url, err, sizeof(err)) != 0)
        return gw__cfg_fail_field(c, sessions, "store", err);
    int relative = url.kind == AS_STORE_URL_SQLITE && url.path[0] != '/';
    char *rel = relative ? gw_arena_strndup(c->arena, url.path, strlen(url.path)) : NULL;
    as_store_url_free(&url);
    if (!relative)
        return 0;
    if (rel == NULL)
        return gw__cfg_fail_field(c, sessions, "store", "out of memory");
    char dir[PATH_MAX];
    const char *slash = strrchr(c->file, '/');
    size_t dir_len = slash == NULL ? 0 : slash == c->file ? 1 : (size_t)(slash - c->file);
    if (c->file[0] == '/') {
        snprintf(dir, sizeof(dir), "%.*s", (int)dir_len, c->file);
    } else if (getcwd(dir, sizeof(dir)) == NULL) {
        return gw__cfg_fail_field(c, sessions, "store",
                                  "cannot resolve a relative path: current directory unknown");
    } else if (dir_len > 0) {
        size_t used = strlen(dir);
        snprintf(dir + used, sizeof(dir) - used, "/%.*s", (int)dir_len, c->file);
    }
    size_t size = strlen(dir) + strlen(rel) + 16;
    char *resolved = gw_arena_alloc(c->arena, size);
    if (resolved == NULL)
        return gw__cfg_fail_field(c, sessions, "store", "out of memory");
    snprintf(resolved, size, "sqlite://%s/%s", dir, rel);
    auth->store = resolved;
    return 0;
}

static int decode_sessions(gw__cfg_t *c, const gw_yaml_node_t *sessions, gw_auth_settings_t *auth)
{
    static const char *const fields[] = {
        "store",    "keyFile",         "idleTimeout",        "absoluteTimeout",
        "cacheTtl", "cacheMaxEntries", "logoutPollInterval", "refreshBefore",
        NULL};
    auth->store = "sqlite:sessions.db";
    if (sessions != NULL) {
        if (gw__cfg_fields(c, sessions, fields, NULL) != 0 ||
            gw__cfg_string(c, sessions, "store", 0, &auth->store) < 0 ||
            gw__cfg_file(c, sessions, "keyFile", GW__CFG_REQUIRED, &auth->key_file) < 0 ||
            gw__cfg_duration(c, sessions, "idleTimeout", 0, &auth->idle_timeout_ms) < 0 ||
            gw__cfg_duration(c, sessions, "absoluteTimeout", 0, &auth->absolute_timeout_ms) < 0 ||
            gw__cfg_duration(c, sessions, "cacheTtl", 0, &auth->cache_ttl_ms) < 0 ||
            gw__cfg_uint(c, sessions, "cacheMaxEntries", 0, 1, AS_SESSION_CACHE_MAX_ENTRIES,
                         &auth->cache_max_entries) < 0 ||
            gw__cfg_duration(c, sessions, "logoutPollInterval", GW__CFG_ALLOW_ZERO, &auth->logout_poll_ms) <
                0 ||
            gw__cfg_duration(c, sessions, "refreshBefore", GW__CFG_ALLOW_ZERO, &auth->refresh_before_ms) < 0)
            return -1;
        if (auth->logout_poll_ms != 0 && (auth->logout_poll_ms < 100 || auth->logout_poll_ms > 60000))
            return gw__cfg_fail_field(c, sessions, "logoutPollInterval", "must be 0 (off) or 100ms to 1m");
        if (auth->refresh_before_ms > 86400000)
            return gw__cfg_fail_field(c, sessions, "refreshBefore", "must be at most 1d");
        if (auth->absolute_timeout_ms > AS_STORE_MAX_TTL_MS)
            return gw__cfg_fail_field(c, sessions, "absoluteTimeout", "must be at most ten years");
        if (auth->idle_timeout_ms > auth->absolute_timeout_ms)
            return gw__cfg_fail_field(c, sessions, "idleTimeout", "must not exceed absoluteTimeout");
        if (auth->cache_ttl_ms > 3600000)
            return gw__cfg_fail_field(c, sessions, "cacheTtl", "must be at most 1h");
        if (auth->absolute_timeout_ms < 1000 || auth->idle_timeout_ms < 1000)
            return gw__cfg_fail_field(c, sessions,
                                      auth->idle_timeout_ms < 1000 ? "idleTimeout" : "absoluteTimeout",
                                      "must be at least 1s");
    }
    return resolve_store(c, sessions, auth);
}

int gw__decode_auth(gw__cfg_t *c, const gw_yaml_node_t *spec, gw_auth_settings_t *auth)
{
    const gw_yaml_node_t *oidc = gw__cfg_get(spec, "oidc"), *sessions = gw__cfg_get(spec, "sessions");
    if (oidc == NULL) {
        if (sessions != NULL)
            return gw__cfg_fail_field(c, spec, "sessions",
                                      "needs an oidc section (login is off without one)");
        return 0;
    }
    size_t saved = gw__cfg_push(c, "oidc");
    int rc = decode_oidc(c, oidc, auth);
    gw__cfg_pop(c, saved);
    if (rc != 0)
        return -1;
    if (sessions == NULL)
        return gw__cfg_missing(c, spec, "sessions");
    saved = gw__cfg_push(c, "sessions");
    rc = decode_sessions(c, sessions, auth);
    gw__cfg_pop(c, saved);
    if (rc != 0)
        return -1;
    auth->enabled = 1;
    return 0;
}
