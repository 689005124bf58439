/*
 * orderflowd: the supervisor's command line (DESIGN.md "Commands").
 *
 *   orderflowd [-c FILE]       run the supervisor
 *   orderflowd -t [-c FILE]    check the configuration and exit 0 or 1
 *   orderflowd --dump-keys     print the table of configuration keys
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "proc/proctitle.h"
#include "supervisor/supervisor.h"

#ifndef ORDERFLOW_DEFAULT_CONFIG
#define ORDERFLOW_DEFAULT_CONFIG "/etc/orderflow/orderflow.conf"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: orderflowd [-c FILE] [-t]\n"
		"\n"
		"The orderflow supervisor: forks the domain workers, the outbox relay and\n"
		"the HTTP intake named in the configuration and keeps them running.\n"
		"\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -t, --test         check the configuration and exit: 0 valid, 1 not\n"
		"      --dump-keys    print every configuration key, tab-separated: key, type,\n"
		"                     default, range, roles (for orderflow.conf(5))\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n"
		"\n"
		"Signals: HUP reloads the configuration, TERM or INT stops gracefully.\n",
		ORDERFLOW_DEFAULT_CONFIG);
}

/* Settings that a reload accepts but that cannot change on a live system
 * as they are: said on every check, with what to do. */
static void warn_fixed_settings(const char *path, const struct config *cfg)
{
	const char *qt = cfg->broker.queue_type != NULL ? cfg->broker.queue_type : "quorum";
	int policy = cfg->broker.management_url != NULL && cfg->broker.management_url[0] != '\0';

	fprintf(stderr,
		"%s: warning: broker.queue_type (\"%s\") cannot change on a live system: "
		"existing queues keep their type and the broker refuses another (406); to change "
		"it stop orderflowd, drain and delete the orderflow.* queues, then start\n",
		path, qt);
	if (strcmp(qt, "quorum") == 0 && !policy)
		fprintf(stderr,
			"%s: warning: broker.delivery_limit (%d) is the queue argument "
			"x-delivery-limit, fixed when a work queue is declared: a new value does not "
			"apply to existing queues; set broker.management_url to keep it in a policy "
			"that a reload changes\n",
			path, cfg->broker.delivery_limit);
	fprintf(stderr,
		"%s: warning: a changed database.name or domains.<name>.database points a domain "
		"at a database without its rows: stop orderflowd, move the tables, `orderflowctl db migrate`, then start\n",
		path);
}

static int check_config(const char *path)
{
	struct config *cfg = NULL;
	char *errors = NULL;

	if (config_load(path, &cfg, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		return 1;
	}
	warn_fixed_settings(path, cfg);
	config_free(cfg);
	fprintf(stderr, "%s: configuration is valid\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "dump-keys", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = ORDERFLOW_DEFAULT_CONFIG;
	struct config *cfg = NULL;
	char *errors = NULL;
	char *path_copy;
	int test = 0, opt;

	while ((opt = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("orderflowd %s\n", ORDERFLOW_VERSION); return 0;
		case 'K': return config_dump_keys(stdout) == 0 ? 0 : 1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "orderflowd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (test)
		return check_config(path);

	/* The title overwrites argv: keep what we still need. */
	path_copy = strdup(path);
	if (path_copy == NULL)
		return 1;
	proctitle_init(argc, argv);
	proctitle_set("orderflowd: supervisor");
	log_init("supervisor");
	if (config_load(path_copy, &cfg, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		free(path_copy);
		return EXIT_CONFIG;
	}
	log_set_level((enum log_level)cfg->log_level);
	{
		int code = supervisor_run(cfg, path_copy);

		free(path_copy);
		return code;
	}
}
