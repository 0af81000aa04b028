#ifndef GW_ERROR_FILTER_H
#define GW_ERROR_FILTER_H

#include <h2o.h>

/**
 * Registers the filter that puts tenantgate's error pages (JSON for API
 * clients, static/error.html for browsers) on the error responses libh2o
 * makes by itself, whose plain-text bodies may carry OpenSSL or socket error
 * text. On a listener's main path it replaces only the proxy's own failures
 * (connect, TLS, I/O: 502, or 504 on a timeout) and lets upstream responses
 * through untouched; with all_errors (for a host's fallback path, where h2o
 * answers requests it refused before any handler ran, e.g. 413) it replaces
 * every error. The real cause goes to the log, never to the client.
 */
void gw_error_filter_register(h2o_pathconf_t *pathconf, int all_errors);

#endif
