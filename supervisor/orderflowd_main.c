/*
 * orderflowd: the supervisor's command line (DESIGN.md "Commands").
 *
 *   orderflowd [-c FILE]       run the supervisor
 *   orderflowd -t [-c FILE]    check the configuration and exit 0 or 1
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
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n"
		"\n"
		"Signals: HUP reloads the configuration, TERM or INT stops gracefully.\n",
		ORDERFLOW_DEFAULT_CONFIG);
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
