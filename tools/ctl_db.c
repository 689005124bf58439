/* orderflowctl db: the database subcommands (migrate). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/migrate.h"
#include "tools/ctl.h"

static int db_run_cmd(struct ctl *ctl)
{
	char *err = NULL;
	int applied = 0;

	if (ctl->argc != 1 || strcmp(ctl->argv[0], "migrate") != 0)
		return ctl_usage(ctl, "db: expected 'migrate'");
	if (ctl_config(ctl) != CTL_OK)
		return CTL_ERROR;
	if (migrate_run(&ctl->cfg->database, NULL, &applied, &err) != 0) {
		ctl_error("db migrate: %s", err);
		free(err);
		return CTL_ERROR;
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:s, s:i, s:s}", "database", ctl->cfg->database.name,
					 "applied", applied, "migrations", migrate_dir()));
	else
		printf("applied %d migration%s to %s\n", applied, applied == 1 ? "" : "s",
		       ctl->cfg->database.name);
	return CTL_OK;
}

static const struct ctl_help db_help[] = {
	{ "migrate",
	  "usage: orderflowctl db migrate\n\n"
	  "Applies the migrations not yet applied to the database of the configuration\n"
	  "(database.name), in order, each in its own transaction. Takes no flags.\n\n"
	  "--json prints {\"database\": NAME, \"applied\": N, \"migrations\": DIR}:\n"
	  "  database    the database migrated\n"
	  "  applied     how many migrations this run applied (0: it was up to date)\n"
	  "  migrations  the folder the migrations were read from\n",
	  NULL },
	{ NULL, NULL, NULL },
};

const struct ctl_command ctl_db_cmd = {
	.group = "db",
	.usage = "  orderflowctl db migrate                      apply pending migrations\n",
	.help = db_help,
	.run = db_run_cmd,
};
