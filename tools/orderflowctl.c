/*
 * orderflowctl: the operator's command line (DESIGN.md "Commands").
 *
 *   orderflowctl [-c FILE] [--json] GROUP SUBCOMMAND [ARGS]
 *
 * Global options may also appear after the subcommand. The configuration is
 * -c FILE, else $ORDERFLOW_CONF, else the installed default.
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

int ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("orderflowctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_ERROR;
}

int ctl_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	(void)ctl;
	fputs("orderflowctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (current != NULL)
		fprintf(stderr, "usage:\n%s", current->usage);
	return CTL_USAGE;
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

int ctl_db(struct ctl *ctl, enum domain_id dom, struct db **db_r)
{
	char *err = NULL;

	if (db_connect(&ctl->cfg->database, config_domain_db(ctl->cfg, dom), db_r, &err) != 0) {
		ctl_error("%s", err);
		free(err);
		return CTL_ERROR;
	}
	return CTL_OK;
}

int ctl_link(struct ctl *ctl, struct amqp_link **link_r)
{
	char *err = NULL;

	if (amqp_link_open(&ctl->cfg->broker, "ctl", link_r, &err) != 0) {
		ctl_error("%s", err);
		free(err);
		return CTL_ERROR;
	}
	return CTL_OK;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: orderflowctl [-c FILE] [--json] COMMAND ...\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fputs(commands[i]->usage, out);
	fprintf(out, "\nEvery command takes --json (stdout is then one JSON document) and --help.\n"
		     "Exit status: 0 success, 1 error (on stderr), 2 usage error.\n");
}

/* Takes -c/--config and --json out of argv wherever they are. */
static int parse_globals(struct ctl *ctl, int *argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			ctl->json = 1;
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

static int load_config(struct ctl *ctl)
{
	char *errors = NULL;

	if (config_load(ctl->config_path, &ctl->cfg, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		return CTL_ERROR;
	}
	/* A command reports its result itself: only warnings and errors of the
	 * modules it uses reach stderr, unless log.level asks for debug. */
	log_set_level(ctl->cfg->log_level == LOG_LVL_DEBUG ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	return CTL_OK;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { 0 };
	int rc;

	log_init("ctl");
	ctl.config_path = getenv("ORDERFLOW_CONF");
	if (ctl.config_path == NULL)
		ctl.config_path = ORDERFLOW_DEFAULT_CONFIG;
	if (parse_globals(&ctl, &argc, argv) != 0) {
		fprintf(stderr, "orderflowctl: -c needs a file\n");
		return CTL_USAGE;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_USAGE : CTL_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i]->group) == 0)
			current = commands[i];
	if (current == NULL) {
		fprintf(stderr, "orderflowctl: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return CTL_USAGE;
	}
	ctl.argc = argc - 2;
	ctl.argv = argv + 2;
	if (ctl_wants_help(&ctl)) {
		fputs(current->usage, stdout);
		return CTL_OK;
	}
	if (load_config(&ctl) != CTL_OK)
		return CTL_ERROR;
	rc = current->run(&ctl);
	config_free(ctl.cfg);
	return rc;
}
