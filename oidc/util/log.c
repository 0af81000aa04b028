#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int threshold = TG_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void tg_log_set_level(tg_log_level_t level)
{
    atomic_store(&threshold, (int)level);
}

int tg_log_parse_level(const char *name, tg_log_level_t *level)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); ++i) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = (tg_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void tg_log_timestamp(char stamp[TG_LOG_TIMESTAMP_SIZE])
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t len = strftime(stamp, TG_LOG_TIMESTAMP_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + len, TG_LOG_TIMESTAMP_SIZE - len, ".%03ldZ", now.tv_nsec / 1000000);
}

void tg_log(tg_log_level_t level, const char *component, const char *fmt, ...)
{
    if ((int)level < atomic_load(&threshold))
        return;
    char stamp[TG_LOG_TIMESTAMP_SIZE];
    tg_log_timestamp(stamp);

    char message[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    /* one write per line so lines of concurrent threads never interleave */
    fprintf(stderr, "%s %s %s: %s\n", stamp, level_names[level], component, message);
}
