#ifndef GW_RUNTIME_H
#define GW_RUNTIME_H

/*
 * The running gateway: one event loop (worker) per thread, each accepting on
 * its own SO_REUSEPORT socket of every listener, with the admin listener on
 * the first worker. The main thread waits for signals.
 */

#include <stddef.h>

#include "config.h"

typedef struct gw_runtime gw_runtime_t;

/**
 * Prepares everything that can fail before serving: TLS contexts, routes,
 * upstream clusters and listening sockets (bound now, so a busy port is an
 * error here and not in a worker). Takes a reference to config. Returns NULL
 * with a message in err.
 */
gw_runtime_t *gw_runtime_new(gw_config_t *config, char *err, size_t err_size);

/**
 * Serves until SIGTERM or SIGINT, then stops accepting, lets open requests
 * finish for a short grace period and returns 0 (1 if a worker failed).
 */
int gw_runtime_run(gw_runtime_t *runtime);

/** Frees the runtime and drops its config reference (NULL is allowed). */
void gw_runtime_free(gw_runtime_t *runtime);

#endif
