/* orderflowctl db migrate */
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

const struct ctl_command ctl_db_cmd = {
	.group = "db",
	.usage = "  orderflowctl db migrate                      apply pending migrations\n",
	.run = db_run_cmd,
};
