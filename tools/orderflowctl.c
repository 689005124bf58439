/*
 * orderflowctl: the operator's command line (DESIGN.md "Commands").
 *
 *   orderflowctl [-c FILE] [--json] GROUP SUBCOMMAND [ARGS]
 *
 * Global options may also appear after the subcommand. The configuration is
 * -c FILE, else $ORDERFLOW_CONF, else the installed default; it is read only
 * once the subcommand has checked its arguments (ctl_config), so a usage
 * error exits 2 whatever the configuration. --version and --help need none.
 * With --json every line on stderr is a JSON object too: {"error": ...},
 * {"warning": ...}; the exit status is the same (1 error, 2 usage).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/amqp_link.h"
#include "core/log.h"
#include "db/db.h"
#include "tools/ctl.h"

#ifndef ORDERFLOW_DEFAULT_CONFIG
#define ORDERFLOW_DEFAULT_CONFIG "/etc/orderflow/orderflow.conf"
#endif

static const struct ctl_command *const commands[] = {
	&ctl_db_cmd, &ctl_topology_cmd, &ctl_stock_cmd, &ctl_order_cmd, &ctl_parked_cmd,
	&ctl_stats_cmd,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct ctl_command *current;
static int json_stderr;     /* --json: messages on stderr are JSON lines */

/* One line on stderr: "orderflowctl: MSG", or {"KEY": "MSG"[, "usage": ...]}. */
static void say(const char *key, const char *usage, const char *fmt, va_list ap)
{
	char msg[4096];
	json_t *line;
	char *text;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!json_stderr) {
		fprintf(stderr, "orderflowctl: %s%s\n", strcmp(key, "warning") == 0 ? "warning: " : "",
			msg);
		return;
	}
	line = json_pack("{s:s}", key, msg);
	if (usage != NULL)
		json_object_set_new(line, "usage", json_string(usage));
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fprintf(stderr, "%s\n", text != NULL ? text : "{\"error\": \"out of memory\"}");
	free(text);
	json_decref(line);
}

int ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("error", NULL, fmt, ap);
	va_end(ap);
	return CTL_ERROR;
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("warning", NULL, fmt, ap);
	va_end(ap);
}

int ctl_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	(void)ctl;
	va_start(ap, fmt);
	say("error", current != NULL ? current->usage : NULL, fmt, ap);
	va_end(ap);
	if (current != NULL && !json_stderr)
		fprintf(stderr, "usage:\n%s", current->usage);
	return CTL_USAGE;
}

/* The modules' log lines (config warnings, ...) as JSON lines under --json. */
static void json_log_sink(enum log_level level, const char *msg)
{
	json_t *line = json_pack("{s:s}", level <= LOG_LVL_ERROR ? "error" : "warning", msg);
	char *text = json_dumps(line, JSON_COMPACT);

	if (text != NULL)
		fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(line);
}

void ctl_print_json(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (text != NULL) {
		puts(text);
		free(text);
	}
	json_decref(doc);
}

int ctl_wants_help(const struct ctl *ctl)
{
	for (int i = 0; i < ctl->argc; i++)
		if (strcmp(ctl->argv[i], "--help") == 0 || strcmp(ctl->argv[i], "-h") == 0)
			return 1;
	return 0;
}

int ctl_config(struct ctl *ctl)
{
	char *errors = NULL;
	size_t n;

	if (ctl->cfg != NULL)
		return CTL_OK;
	if (config_load(ctl->config_path, &ctl->cfg, &errors) != 0) {
		n = errors != NULL ? strlen(errors) : 0;
		while (n > 0 && errors[n - 1] == '\n')
			errors[--n] = '\0';
		ctl_error("the configuration cannot be used: %s",
			  errors != NULL ? errors : ctl->config_path);
		free(errors);
		ctl->cfg = NULL;
		return CTL_ERROR;
	}
	/* A command reports its result itself: only warnings and errors of the
	 * modules it uses reach stderr, unless log.level asks for debug. */
	log_set_level(ctl->cfg->log_level == LOG_LVL_DEBUG ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	return CTL_OK;
}

int ctl_db(struct ctl *ctl, enum domain_id dom, struct db **db_r)
{
	char *err = NULL;

	if (ctl_config(ctl) != CTL_OK)
		return CTL_ERROR;
	if (db_connect(&ctl->cfg->database, config_domain_db(ctl->cfg, dom), db_r, &err) != 0) {
		ctl_error("%s", err != NULL ? err : "cannot connect to the database");
		free(err);
		return CTL_ERROR;
	}
	return CTL_OK;
}

int ctl_link(struct ctl *ctl, struct amqp_link **link_r)
{
	char *err = NULL;

	if (ctl_config(ctl) != CTL_OK)
		return CTL_ERROR;
	if (amqp_link_open(&ctl->cfg->broker, "ctl", link_r, &err) != 0) {
		ctl_error("%s", err != NULL ? err : "cannot connect to the broker");
		free(err);
		return CTL_ERROR;
	}
	return CTL_OK;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: orderflowctl [-c FILE] [--json] COMMAND ...\n"
		     "       orderflowctl --version\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fputs(commands[i]->usage, out);
	fprintf(out, "\nEvery command takes --json (stdout is then one JSON document; an error\n"
		     "on stderr is a JSON line {\"error\": ...}) and --help (its flags and fields):\n"
		     "  orderflowctl parked replay --help\n"
		     "The configuration is -c FILE, else $ORDERFLOW_CONF, else %s.\n"
		     "Exit status: 0 success, 1 error (on stderr), 2 usage error.\n",
		ORDERFLOW_DEFAULT_CONFIG);
}

/* A group without a run of its own: the first argument names the help row
 * whose run it is; anything else is a usage error that lists the rows. */
static int run_sub(const struct ctl_command *cmd, struct ctl *ctl)
{
	char expected[256] = "";
	size_t used = 0;
	int n = 0;

	for (const struct ctl_help *h = cmd->help; h->sub != NULL; h++) {
		if (ctl->argc >= 1 && strcmp(h->sub, ctl->argv[0]) == 0)
			return h->run(ctl);
		n++;
	}
	for (int i = 0; i < n && used < sizeof(expected); i++)
		used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s'%s'",
					 i == 0 ? "" : i == n - 1 ? " or " : ", ", cmd->help[i].sub);
	return ctl_usage(ctl, "%s: expected %s", cmd->group, expected);
}

/* `orderflowctl GROUP [SUB] --help`: the subcommand's own page, or the
 * group's forms with a pointer to the pages. */
static void group_help(const struct ctl_command *cmd, const struct ctl *ctl)
{
	const char *sub = ctl->argc > 0 && ctl->argv[0][0] != '-' ? ctl->argv[0] : "";

	for (const struct ctl_help *h = cmd->help; h != NULL && h->sub != NULL; h++) {
		if (strcmp(h->sub, sub) == 0 || (h->sub[0] == '\0' && cmd->help[1].sub == NULL)) {
			fputs(h->text, stdout);
			printf("\nGlobal options, anywhere on the line: -c FILE (the configuration),\n"
			       "--json, --help. Exit status: 0 success, 1 error, 2 usage error.\n");
			return;
		}
	}
	printf("usage:\n%s\n", cmd->usage);
	for (const struct ctl_help *h = cmd->help; h != NULL && h->sub != NULL; h++)
		printf("  orderflowctl %s %s --help\n", cmd->group, h->sub);
}

/* Takes -c/--config, --json and --version out of argv wherever they are. */
static int parse_globals(struct ctl *ctl, int *argc, char **argv, int *version)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			ctl->json = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			*version = 1;
		} else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			if (++i >= *argc)
				return -1;
			ctl->config_path = argv[i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctl->config_path = argv[i] + 9;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { 0 };
	int rc, version = 0;

	log_init("ctl");
	ctl.config_path = getenv("ORDERFLOW_CONF");
	if (ctl.config_path == NULL)
		ctl.config_path = ORDERFLOW_DEFAULT_CONFIG;
	rc = parse_globals(&ctl, &argc, argv, &version);
	json_stderr = ctl.json;
	if (json_stderr)
		log_set_sink(json_log_sink);
	if (rc != 0) {
		ctl_error("-c needs a file");
		return CTL_USAGE;
	}
	if (version) {
		printf("orderflowctl %s\n", ORDERFLOW_VERSION);
		return CTL_OK;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc < 2 && json_stderr)
			ctl_error("a COMMAND is required (orderflowctl --help lists them)");
		else
			usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_USAGE : CTL_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i]->group) == 0)
			current = commands[i];
	if (current == NULL) {
		ctl_error("unknown command '%s' (orderflowctl --help lists them)", argv[1]);
		if (!json_stderr)
			usage(stderr);
		return CTL_USAGE;
	}
	ctl.argc = argc - 2;
	ctl.argv = argv + 2;
	if (ctl_wants_help(&ctl)) {
		group_help(current, &ctl);
		return CTL_OK;
	}
	rc = current->run != NULL ? current->run(&ctl) : run_sub(current, &ctl);
	if (ctl.cfg != NULL)
		config_free(ctl.cfg);
	return rc;
}
