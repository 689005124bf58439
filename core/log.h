/*
 * log: one line per message on stderr, journald-friendly.
 *
 * Every line starts with an sd-daemon priority prefix ("<3>" error, "<4>"
 * warning, "<6>" info, "<7>" debug) so journald files it at the right level,
 * followed by "orderflowd[PID] ROLE: ". Messages below the configured level are
 * dropped. log_fatal() logs and exits with the given code (see STYLE.md: 75 =
 * restart me, 78 = bad configuration). Not for use in signal handlers.
 */
#ifndef ORDERFLOW_LOG_H
#define ORDERFLOW_LOG_H

enum log_level {
	LOG_LVL_ERROR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Process exit codes understood by the supervisor. */
#define EXIT_DRAINED 0
#define EXIT_RESTART 75 /* EX_TEMPFAIL */
#define EXIT_CONFIG 78  /* EX_CONFIG */

/* Sets the role shown in every line ("supervisor", "inventory worker", ...)
 * and takes the pid again (call after fork). The string is copied. */
void log_init(const char *role);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Where the lines go instead of stderr's text format (NULL: back to it);
 * orderflowctl --json writes them as JSON. */
typedef void log_sink_fn(enum log_level level, const char *msg);
void log_set_sink(log_sink_fn *sink);
/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int log_level_parse(const char *name);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
