#ifndef GW_CONTROL_H
#define GW_CONTROL_H

/*
 * What the main thread waits for while the workers serve: SIGTERM/SIGINT
 * (stop), SIGHUP (reload), and changes to the config file or the
 * certificate files it names, including the symlink swap Kubernetes does
 * when a mounted ConfigMap or Secret changes.
 */

#include <signal.h>

typedef enum {
    GW_CONTROL_STOP,
    GW_CONTROL_RELOAD_SIGNAL,
    GW_CONTROL_RELOAD_FILE, /* the config file changed */
    GW_CONTROL_RELOAD_TLS   /* a certificate or key file changed */
} gw_control_event_t;

/** A watched file: the inotify watch of its folder and its name there. */
typedef struct {
    int wd;
    char *name;
} gw_control_watch_t;

typedef struct {
    int signal_fd;
    int inotify_fd; /* -1 when the file cannot be watched */
    char *dir;      /* folder of the config file */
    char *name;     /* its file name */
    int config_wd;
    gw_control_watch_t *files; /* certificate files (gw_control_watch_files) */
    size_t file_count;
    int stop_signal; /* the signal that asked to stop, for logs */
} gw_control_t;

/**
 * Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (threads it starts
 * later inherit that) and starts watching config_path. Returns 0, or -1 with
 * a message in err.
 */
int gw_control_open(gw_control_t *control, const char *config_path, char *err, size_t err_size);

/**
 * Watches paths (certificate and key files) too, replacing the previous
 * list: their folders are watched, so a file replaced by rename and a
 * Kubernetes ..data swap are seen. A path that cannot be watched is logged.
 */
void gw_control_watch_files(gw_control_t *control, const char *const *paths, size_t count);

/**
 * Waits for the next event; file changes are reported once they have been
 * quiet for 200 ms (a config change wins over a certificate change).
 */
gw_control_event_t gw_control_next(gw_control_t *control);

/** Closes the descriptors. */
void gw_control_close(gw_control_t *control);

#endif
