/*
 * log: one line per event of note, logfmt style, to stderr.
 *
 *   ts=2026-11-25T14:00:00.123Z level=info msg=delivered webhook=… delivery=42 status=200 ms=3
 *
 * Each call formats into a stack buffer and issues a single write(2), so lines
 * from different threads never interleave. Callers pass only ids, statuses and
 * timings: secrets and tokens never reach a log line.
 */
#ifndef GANCHO_UTIL_LOG_H
#define GANCHO_UTIL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
/* log_parse_level: "debug|info|warn|error" → level; -1 when unknown. */
int log_parse_level(const char *s);
int log_enabled(enum log_level lvl);
/* log_msg: fmt holds the fields after msg=, e.g. "webhook=%s status=%d". */
void log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...)                                                                        \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_msg(LOG_DEBUG, msg, __VA_ARGS__);                                      \
	} while (0)
#define log_info(msg, ...)  log_msg(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...)  log_msg(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_msg(LOG_ERROR, msg, __VA_ARGS__)

#endif
