#ifndef GW_UPSTREAM_ERROR_FILTER_H
#define GW_UPSTREAM_ERROR_FILTER_H

#include <h2o.h>

/**
 * Registers a filter that replaces the error responses libh2o's proxy makes
 * by itself (connect, TLS and I/O failures, whose bodies carry OpenSSL and
 * socket error text) with tenantgate's generic 502/504 pages, and logs the
 * real cause. Responses from upstreams pass through untouched.
 */
void gw_upstream_error_filter_register(h2o_pathconf_t *pathconf);

#endif
