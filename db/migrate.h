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
/* The schema this build's code is written for: the number of the newest
 * file in db/migrations. Bump it with every new migration (test_migrate
 * checks that it matches the folder). */
#define MIGRATE_SCHEMA_VERSION 5

/* Start-up check of database `dbname`: 0 when its schema_migrations holds
 * exactly MIGRATE_SCHEMA_VERSION as its newest version; otherwise -1 and
 * *err_r (malloc'd): an older or missing schema names `orderflowctl db
 * migrate`, a newer one names both versions; a server that cannot be reached
 * says so (*unreachable_r = 1, may be NULL), since that is no reason to
 * refuse to start. */
int migrate_check(const struct cfg_database *cfg, const char *dbname, int *unreachable_r,
		  char **err_r);

/* The folder migrate_run reads. */
const char *migrate_dir(void);

/* ---- added by the db module -------------------------------------------- */

/* Concurrency: migrate_run holds GET_LOCK('orderflow_migrate', 30) on its
 * connection while it reads schema_migrations and applies files, so two
 * migrators never race (the second waits, then finds nothing to do). A
 * migration's statements are applied one by one (DDL commits implicitly in
 * MySQL/MariaDB); its schema_migrations row is written after the last one,
 * so a migration that failed half way runs again from its start next time:
 * write migrations that can (CREATE TABLE IF NOT EXISTS, ...). */

/* 1 when file is a migration's file name, "NNN_name.sql" (NNN: 1 to 9
 * digits, name: [A-Za-z0-9_-]+); *version_r gets NNN. 0 otherwise. */
int migrate_parse_filename(const char *file, int *version_r);
/* 1 when name can be a database name here: 1 to 64 of [A-Za-z0-9_] (it is
 * pasted, quoted, into CREATE DATABASE, which cannot take a parameter). */
int migrate_dbname_ok(const char *name);

#endif
