#include "control.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/log.h"

/* Writers (editors, kubelet) touch a file several times in a row: act once it is quiet. */
#define SETTLE_MS 200

#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB)

static void free_files(gw_control_t *control)
{
    for (size_t i = 0; i < control->file_count; ++i)
        free(control->files[i].name);
    free(control->files);
    control->files = NULL;
    control->file_count = 0;
}

void gw_control_watch_files(gw_control_t *control, const char *const *paths, size_t count)
{
    free_files(control);
    if (control->inotify_fd < 0 || count == 0 ||
        (control->files = calloc(count, sizeof(*control->files))) == NULL)
        return;
    /* folders stay watched once added (a handful at most): inotify_add_watch on one again returns its wd */
    for (size_t i = 0; i < count; ++i) {
        char *dir_copy = strdup(paths[i]), *name_copy = strdup(paths[i]);
        int wd =
            dir_copy != NULL ? inotify_add_watch(control->inotify_fd, dirname(dir_copy), WATCH_EVENTS) : -1;
        if (wd < 0 || name_copy == NULL)
            tg_log_warn("control", "cannot watch %s (%s): reload with SIGHUP after changing it", paths[i],
                        strerror(errno));
        else
            control->files[control->file_count++] = (gw_control_watch_t){wd, strdup(basename(name_copy))};
        free(dir_copy);
        free(name_copy);
    }
}

int gw_control_open(gw_control_t *control, const char *config_path, char *err, size_t err_size)
{
    *control = (gw_control_t){.signal_fd = -1, .inotify_fd = -1, .config_wd = -1};
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    if ((control->signal_fd = signalfd(-1, &signals, SFD_CLOEXEC)) < 0) {
        snprintf(err, err_size, "signalfd: %s", strerror(errno));
        return -1;
    }
    char *dir_copy = strdup(config_path), *name_copy = strdup(config_path);
    if (dir_copy == NULL || name_copy == NULL) {
        free(dir_copy);
        free(name_copy);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    control->dir = strdup(dirname(dir_copy));
    control->name = strdup(basename(name_copy));
    free(dir_copy);
    free(name_copy);
    /* Watch the folder, not the file: editors and ConfigMap updates replace the file (or the ..data symlink)
     * instead of writing into it. */
    control->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (control->inotify_fd >= 0 && control->dir != NULL &&
        (control->config_wd = inotify_add_watch(control->inotify_fd, control->dir, WATCH_EVENTS)) < 0) {
        tg_log_warn("control", "cannot watch %s (%s): reload with SIGHUP", control->dir, strerror(errno));
        close(control->inotify_fd);
        control->inotify_fd = -1;
    }
    return 0;
}

/* What the pending inotify events concern: the config file (or the ConfigMap ..data link), a certificate
 * file (or a Secret's ..data link), or nothing watched. */
static gw_control_event_t drain_inotify(gw_control_t *control, int *relevant)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    gw_control_event_t what = GW_CONTROL_RELOAD_TLS;
    ssize_t n;
    while ((n = read(control->inotify_fd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *event = (const struct inotify_event *)p;
            p += sizeof(*event) + event->len;
            if (event->len == 0)
                continue;
            int data_link = strcmp(event->name, "..data") == 0;
            if (event->wd == control->config_wd && (data_link || strcmp(event->name, control->name) == 0)) {
                what = GW_CONTROL_RELOAD_FILE;
                *relevant = 1;
            }
            for (size_t i = 0; i < control->file_count; ++i)
                if (event->wd == control->files[i].wd &&
                    (data_link || strcmp(event->name, control->files[i].name) == 0))
                    *relevant = 1;
        }
    }
    return what;
}

gw_control_event_t gw_control_next(gw_control_t *control)
{
    int file_changed = 0;
    gw_control_event_t change = GW_CONTROL_RELOAD_TLS;
    for (;;) {
        struct pollfd fds[2] = {{control->signal_fd, POLLIN, 0}, {control->inotify_fd, POLLIN, 0}};
        int rc = poll(fds, control->inotify_fd >= 0 ? 2 : 1, file_changed ? SETTLE_MS : -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0 && file_changed)
            return change;
        if (rc > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo info;
            if (read(control->signal_fd, &info, sizeof(info)) == sizeof(info)) {
                if (info.ssi_signo == SIGHUP)
                    return GW_CONTROL_RELOAD_SIGNAL;
                control->stop_signal = (int)info.ssi_signo;
                return GW_CONTROL_STOP;
            }
        }
        if (rc > 0 && control->inotify_fd >= 0 && (fds[1].revents & POLLIN) &&
            drain_inotify(control, &file_changed) == GW_CONTROL_RELOAD_FILE)
            change = GW_CONTROL_RELOAD_FILE;
    }
}

void gw_control_close(gw_control_t *control)
{
    if (control->signal_fd >= 0)
        close(control->signal_fd);
    if (control->inotify_fd >= 0)
        close(control->inotify_fd);
    free(control->dir);
    free(control->name);
    free_files(control);
}
