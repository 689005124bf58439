/*
 * ctl: what the orderflowctl subcommands share: the parsed global options, the
 * loaded configuration, output in text or JSON, and the exit codes of
 * DESIGN.md "Commands" (0 success, 1 an error reported on stderr, 2 usage).
 */
#ifndef ORDERFLOW_CTL_H
#define ORDERFLOW_CTL_H

#include <jansson.h>

#include "core/config.h"

#define CTL_OK 0
#define CTL_ERROR 1
#define CTL_USAGE 2

struct ctl {
	const char *config_path;
	struct config *cfg;  /* NULL until ctl_config(): arguments are checked first */
	int json;        /* --json: stdout is one JSON document */
	int argc;        /* the subcommand's own arguments (after the group name) */
	char **argv;
};

/* What `orderflowctl GROUP SUBCOMMAND --help` prints. */
struct ctl_help {
	const char *sub;     /* "list", ...; "" for a group without subcommands */
	const char *text;    /* synopsis, what it does, its flags, its --json fields */
	int (*run)(struct ctl *ctl);   /* the subcommand, when the group has no run */
};

struct ctl_command {
	const char *group;   /* "db", "stock", ... */
	const char *usage;   /* one line per form */
	const struct ctl_help *help;   /* ends with { NULL, NULL } */
	/* NULL: the first argument picks the help row whose run it calls. */
	int (*run)(struct ctl *ctl);
};

/* Reads the configuration (once); CTL_ERROR, reported, when it is not valid.
 * A subcommand calls it after checking its arguments, so a usage error is
 * one whatever the configuration; ctl_db() and ctl_link() call it too. */
int ctl_config(struct ctl *ctl);
/* Reports an error on stderr ("orderflowctl: ...", with --json a line
 * {"error": "..."}) and returns CTL_ERROR. */
int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something to know on stderr that is not the failure itself ({"warning"} with --json). */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a usage error with the group's usage and returns CTL_USAGE. */
int ctl_usage(const struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a JSON document (stolen) on stdout, compact and newline-terminated. */
void ctl_print_json(json_t *doc);
/* True when argv[i] is --help or -h. */
int ctl_wants_help(const struct ctl *ctl);

struct db;
struct amqp_link;
/* Connections for a subcommand (the database: that of domain `dom`); error
 * reported, CTL_ERROR returned on failure. */
int ctl_db(struct ctl *ctl, enum domain_id dom, struct db **db_r);
int ctl_link(struct ctl *ctl, struct amqp_link **link_r);

extern const struct ctl_command ctl_db_cmd, ctl_topology_cmd, ctl_stock_cmd, ctl_order_cmd,
	ctl_parked_cmd, ctl_stats_cmd;

#endif
