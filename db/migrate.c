/*
 * migrate: numbered SQL files applied once each, recorded in
 * schema_migrations. A named lock keeps two migrators from racing.
 */
#include "db/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/log.h"
#include "db/db.h"

static char *strdupf(const char *fmt, const char *a, const char *b)
{
	char *out = NULL;

	if (asprintf(&out, fmt, a, b) < 0)
		return NULL;
	return out;
}

const char *migrate_dir(void)
{
	const char *env = getenv("ORDERFLOW_MIGRATIONS_DIR");
	struct stat st;

	if (env != NULL && *env != '\0')
		return env;
	if (stat(ORDERFLOW_MIGRATIONS_SRC, &st) == 0 && S_ISDIR(st.st_mode))
		return ORDERFLOW_MIGRATIONS_SRC;
	return ORDERFLOW_MIGRATIONS_INSTALLED;
}

/* NNN_name.sql */
static int migration_file(const struct dirent *e)
{
	const char *n = e->d_name;
	size_t len = strlen(n);

	return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' &&
	       n[2] >= '0' && n[2] <= '9' && n[3] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

static char *read_file(const char *path, char **err_r)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL) {
		*err_r = strdupf("%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	do {
		char *bigger;

		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			bigger = realloc(text, cap);
			if (bigger == NULL) {
				free(text);
				fclose(f);
				*err_r = strdupf("%s: %s", path, "out of memory");
				return NULL;
			}
			text = bigger;
		}
		n = fread(text + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	text[len] = '\0';
	fclose(f);
	return text;
}

static int name_ok(const char *name)
{
	if (name == NULL || *name == '\0' || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static int is_applied(const struct db_rows *done, int version)
{
	for (int r = 0; r < done->nrows; r++)
		if (atoi(db_rows_get(done, r, 0)) == version)
			return 1;
	return 0;
}

static int apply_one(struct db *db, const char *dir, const char *file, int *applied,
		     char **err_r)
{
	char *path = strdupf("%s/%s", dir, file), *sql = NULL, name[256];
	int version = atoi(file), rc = -1;

	if (path == NULL || (sql = read_file(path, err_r)) == NULL)
		goto out;
	if (db_exec_script(db, sql) != DB_OK) {
		*err_r = strdupf("%s: %s", path, db_error(db));
		goto out;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 4), file);
	{
		struct db_param p[2] = { DBP_INT(version), DBP_STR(name) };

		if (db_run(db, "INSERT INTO schema_migrations (version, name, applied_at) "
			       "VALUES (?, ?, UTC_TIMESTAMP(6))", p, 2, NULL, NULL) != DB_OK) {
			*err_r = strdupf("%s: recording it: %s", path, db_error(db));
			goto out;
		}
	}
	log_info("applied migration %s", name);
	(*applied)++;
	rc = 0;
out:
	free(sql);
	free(path);
	return rc;
}

static int apply_pending(struct db *db, int *applied, char **err_r)
{
	const char *dir = migrate_dir();
	struct dirent **files = NULL;
	struct db_rows done = { 0 };
	int n, rc = -1;

	if (db_select(db, "SELECT version FROM schema_migrations", NULL, 0, &done) != DB_OK) {
		*err_r = strdupf("reading schema_migrations: %s%s", db_error(db), "");
		return -1;
	}
	n = scandir(dir, &files, migration_file, alphasort);
	if (n < 0) {
		*err_r = strdupf("migrations folder %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		if (!is_applied(&done, atoi(files[i]->d_name)))
			rc = apply_one(db, dir, files[i]->d_name, applied, err_r);
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
out:
	db_rows_free(&done);
	return rc;
}

static int run_sql(struct db *db, const char *sql, const char *what, char **err_r)
{
	if (db_exec_script(db, sql) != DB_OK) {
		*err_r = strdupf("%s: %s", what, db_error(db));
		return -1;
	}
	return 0;
}

int migrate_run(const struct cfg_database *cfg, const char *dbname, int *applied_r,
		char **err_r)
{
	const char *name = dbname != NULL ? dbname : cfg->name;
	struct db *db = NULL;
	struct db_rows lock = { 0 };
	char create[256];
	int applied = 0, rc = -1;

	*err_r = NULL;
	if (!name_ok(name)) {
		*err_r = strdupf("database name \"%s\" must be letters, digits and _%s", name, "");
		return -1;
	}
	if (db_connect_server(cfg, &db, err_r) != 0)
		return -1;
	/* The name was checked above: identifiers cannot be bound. */
	snprintf(create, sizeof(create),
		 "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", name);
	if (run_sql(db, create, "creating the database", err_r) != 0)
		goto out;
	if (db_select_database(db, name) != DB_OK) {
		*err_r = strdupf("database %s: %s", name, db_error(db));
		goto out;
	}
	if (db_select(db, "SELECT GET_LOCK('orderflow_migrate', 60)", NULL, 0, &lock) != DB_OK ||
	    lock.nrows != 1 || db_rows_get(&lock, 0, 0) == NULL ||
	    strcmp(db_rows_get(&lock, 0, 0), "1") != 0) {
		*err_r = strdupf("another migration holds the lock orderflow_migrate%s%s", "", "");
		goto out;
	}
	if (run_sql(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			" version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,"
			" applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
		    "creating schema_migrations", err_r) != 0)
		goto unlock;
	rc = apply_pending(db, &applied, err_r);
unlock:
	db_rows_free(&lock);
	db_select(db, "SELECT RELEASE_LOCK('orderflow_migrate')", NULL, 0, &lock);
out:
	db_rows_free(&lock);
	db_close(db);
	if (applied_r != NULL)
		*applied_r = applied;
	return rc;
}
