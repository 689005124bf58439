/* log: one prefixed line per message on stderr, for journald (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char log_role[64] = "orderflow";
static pid_t log_pid;
static enum log_level log_level = LOG_LVL_INFO;
static log_sink_fn *log_sink;

void log_init(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
	log_pid = getpid();
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

void log_set_sink(log_sink_fn *sink)
{
	log_sink = sink;
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{ "error", LOG_LVL_ERROR },
		{ "warn", LOG_LVL_WARN },
		{ "warning", LOG_LVL_WARN },
		{ "info", LOG_LVL_INFO },
		{ "debug", LOG_LVL_DEBUG },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return (int)names[i].level;
	return -1;
}

static void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char msg[2048];

	if (level > log_level)
		return;
	if (log_pid == 0)
		log_pid = getpid();
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_sink != NULL) {
		log_sink(level, msg);
		return;
	}
	/* One fprintf per line so lines from several processes do not interleave. */
	fprintf(stderr, "<%d>orderflowd[%ld] %s: %s\n", (int)level, (long)log_pid,
		log_role, msg);
}

#define LOG_FN(name, level)                                                    \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vwrite(level, fmt, ap);                                    \
		va_end(ap);                                                    \
	}

LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void log_fatal(int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(exit_code);
}
