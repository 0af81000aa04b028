#ifndef TG_UTIL_LOG_H
#define TG_UTIL_LOG_H

/** Severity of a log line; lines below the threshold are dropped. */
typedef enum { TG_LOG_DEBUG, TG_LOG_INFO, TG_LOG_WARN, TG_LOG_ERROR } tg_log_level_t;

/** Sets the lowest level that is written (default TG_LOG_INFO). */
void tg_log_set_level(tg_log_level_t level);

/** Parses "debug", "info", "warn" or "error"; returns -1 on anything else. */
int tg_log_parse_level(const char *name, tg_log_level_t *level);

/**
 * Writes one line to stderr: time, level, component, message. Callers pass
 * no secret (token, cookie, key, client secret) in the message, ever.
 */
void tg_log(tg_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define tg_log_debug(component, ...) tg_log(TG_LOG_DEBUG, component, __VA_ARGS__)
#define tg_log_info(component, ...) tg_log(TG_LOG_INFO, component, __VA_ARGS__)
#define tg_log_warn(component, ...) tg_log(TG_LOG_WARN, component, __VA_ARGS__)
#define tg_log_error(component, ...) tg_log(TG_LOG_ERROR, component, __VA_ARGS__)

/** Size of a tg_log_timestamp buffer. */
#define TG_LOG_TIMESTAMP_SIZE 32

/** The current UTC time as written in log lines: 2026-01-02T03:04:05.678Z. */
void tg_log_timestamp(char stamp[TG_LOG_TIMESTAMP_SIZE]);

#endif
