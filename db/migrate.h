/*
 * migrate: applies db/migrations/NNN_name.sql in number order, each once,
 * recording it in schema_migrations (version, name, applied_at).
 *
 * The migrations folder is $ORDERFLOW_MIGRATIONS_DIR when set, else the source
 * tree's db/migrations when it exists (a build tree), else the installed
 * ${datadir}/orderflow/migrations. Creates the database if it does not exist.
 * Running it again applies nothing and succeeds.
 */
#ifndef ORDERFLOW_MIGRATE_H
#define ORDERFLOW_MIGRATE_H

struct cfg_database;

/* Applies pending migrations to database `dbname` (NULL = cfg->name). Reports
 * each applied migration through log_info. *applied_r (may be NULL) gets the
 * count. Returns 0, or -1 with *err_r (malloc'd) naming the file and the
 * server's message. */
int migrate_run(const struct cfg_database *cfg, const char *dbname, int *applied_r,
		char **err_r);
/* The folder migrate_run reads. */
const char *migrate_dir(void);

#endif
