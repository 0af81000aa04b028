#ifndef GW_REDIRECT_HANDLER_H
#define GW_REDIRECT_HANDLER_H

#include <h2o.h>
#include <stdint.h>

/**
 * Registers a handler that answers every request with 301 to the same host,
 * path and query on https, at https_port (left out of the URL when 443).
 */
void gw_redirect_handler_register(h2o_pathconf_t *pathconf, uint16_t https_port);

#endif
