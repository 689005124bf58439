/* orderflowctl db migrate: every database a domain uses (database.name and
 * each domains.<name>.database) gets the migrations, its own inbox, outbox
 * and schema_migrations included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/migrate.h"
#include "tools/ctl.h"

static int db_run_cmd(struct ctl *ctl)
{
	const char *names[DOM_COUNT];
	json_t *done;
	int n;

	if (ctl->argc != 1 || strcmp(ctl->argv[0], "migrate") != 0)
		return ctl_usage(ctl, "db: expected 'migrate'");
	if (ctl_config(ctl) != CTL_OK)
		return CTL_ERROR;
	n = config_databases(ctl->cfg, names);
	done = json_array();
	for (int i = 0; i < n; i++) {
		char *err = NULL;
		int applied = 0;

		if (migrate_run(&ctl->cfg->database, names[i], &applied, &err) != 0) {
			ctl_error("db migrate %s: %s", names[i], err);
			free(err);
			json_decref(done);
			return CTL_ERROR;
		}
		json_array_append_new(done, json_pack("{s:s, s:i}", "database", names[i], "applied",
						      applied));
		if (!ctl->json)
			printf("applied %d migration%s to %s\n", applied, applied == 1 ? "" : "s",
			       names[i]);
	}
	/* "database" and "applied" keep their meaning for one database (the
	 * first: the order domain's); "databases" lists every one. */
	if (ctl->json)
		ctl_print_json(json_pack("{s:s, s:i, s:s, s:o}", "database", names[0], "applied",
					 (int)json_integer_value(json_object_get(
						 json_array_get(done, 0), "applied")),
					 "migrations", migrate_dir(), "databases", done));
	else
		json_decref(done);
	return CTL_OK;
}

static const struct ctl_help db_help[] = {
	{ "migrate",
	  "usage: orderflowctl db migrate\n\n"
	  "Applies the migrations not yet applied to every database a domain uses\n"
	  "(database.name and each domains.NAME.database), in order, each in its own\n"
	  "transaction. The operator creates the empty databases. Takes no flags.\n\n"
	  "--json prints {\"database\": NAME, \"applied\": N, \"migrations\": DIR,\n"
	  "\"databases\": [{\"database\": NAME, \"applied\": N}, ...]}:\n"
	  "  database    the first database migrated (the order domain's)\n"
	  "  applied     how many migrations this run applied to it (0: up to date)\n"
	  "  migrations  the folder the migrations were read from\n"
	  "  databases   every database migrated, with what was applied to each\n",
	  NULL },
	{ NULL, NULL, NULL },
};

const struct ctl_command ctl_db_cmd = {
	.group = "db",
	.usage = "  orderflowctl db migrate                      apply pending migrations to every domain's database\n",
	.help = db_help,
	.run = db_run_cmd,
};
