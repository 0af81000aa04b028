#ifndef GW_CONTROL_H
#define GW_CONTROL_H

/*
 * What the main thread waits for while the workers serve: SIGTERM/SIGINT
 * (stop), SIGHUP (reload), and changes to the config file, including the
 * symlink swap Kubernetes does when a mounted ConfigMap changes.
 */

#include <signal.h>

typedef enum { GW_CONTROL_STOP, GW_CONTROL_RELOAD_SIGNAL, GW_CONTROL_RELOAD_FILE } gw_control_event_t;

typedef struct {
    int signal_fd;
    int inotify_fd;  /* -1 when the file cannot be watched */
    char *dir;       /* folder of the config file */
    char *name;      /* its file name */
    int stop_signal; /* the signal that asked to stop, for logs */
} gw_control_t;

/**
 * Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (threads it starts
 * later inherit that) and starts watching config_path. Returns 0, or -1 with
 * a message in err.
 */
int gw_control_open(gw_control_t *control, const char *config_path, char *err, size_t err_size);

/** Waits for the next event; file changes are reported once they have been quiet for 200 ms. */
gw_control_event_t gw_control_next(gw_control_t *control);

/** Closes the descriptors. */
void gw_control_close(gw_control_t *control);

#endif
