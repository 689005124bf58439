/*
 * migrate.c: numbered SQL files applied once each, in number order, and
 * recorded in schema_migrations (see db/migrate.h).
 *
 * One run: read the folder (before touching the server, so a broken folder
 * changes nothing), connect without a database, CREATE DATABASE IF NOT
 * EXISTS, select it, take the named lock, create schema_migrations, apply
 * every file whose version is not recorded, release the lock.
 */
#include "db/migrate.h"

#include "core/strf.h"

#include "core/config.h"
#include "core/log.h"
#include "db/db.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ORDERFLOW_MIGRATIONS_SRC
#define ORDERFLOW_MIGRATIONS_SRC "db/migrations"
#endif
#ifndef ORDERFLOW_MIGRATIONS_INSTALLED
#define ORDERFLOW_MIGRATIONS_INSTALLED "/usr/share/orderflow/migrations"
#endif

#define MIGRATE_LOCK_WAIT_S 30
#define MIGRATE_MAX_FILES 1000
#define MIGRATE_MAX_BYTES (16 * 1024 * 1024)

struct migration {
	int version;
	char *file;   /* "001_core.sql" */
	char *stem;   /* "001_core": the name recorded and logged */
};

struct migration_list {
	struct migration *m;
	int n;
};


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

int migrate_parse_filename(const char *file, int *version_r)
{
	const char *p = file, *name;
	long v = 0;
	size_t len;
	int digits = 0;

	for (; isdigit((unsigned char)*p); p++) {
		if (++digits > 9)
			return 0;
		v = v * 10 + (*p - '0');
	}
	if (digits == 0 || v == 0 || *p != '_')
		return 0;
	name = p + 1;
	len = strlen(name);
	if (len <= 4 || strcmp(name + len - 4, ".sql") != 0)
		return 0;
	for (p = name; p < name + len - 4; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return 0;
	*version_r = (int)v;
	return 1;
}

int migrate_dbname_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL || *name == '\0')
		return 0;
	for (const char *p = name; *p != '\0'; p++, n++)
		if (n >= 64 || !(isalnum((unsigned char)*p) || *p == '_') || (*p & 0x80))
			return 0;
	return 1;
}

/* ---- the folder ------------------------------------------------------------ */

static void list_free(struct migration_list *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->m[i].file);
		free(l->m[i].stem);
	}
	free(l->m);
	l->m = NULL;
	l->n = 0;
}

static int by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

static int list_add(struct migration_list *l, const char *file, int version)
{
	struct migration *m;

	if (l->n % 16 == 0) {
		m = realloc(l->m, (size_t)(l->n + 16) * sizeof(*m));
		if (m == NULL)
			return -1;
		l->m = m;
	}
	m = &l->m[l->n];
	m->version = version;
	m->file = strdup(file);
	m->stem = strndup(file, strlen(file) - 4);
	if (m->file == NULL || m->stem == NULL) {
		free(m->file);
		free(m->stem);
		return -1;
	}
	l->n++;
	return 0;
}

/* The folder's NNN_name.sql files sorted by number; two files with one
 * number are an error. */
static int list_read(const char *dir, struct migration_list *l, char **err_r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int version, rc = -1;

	if (d == NULL) {
		*err_r = strf("migrations folder %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (!migrate_parse_filename(e->d_name, &version)) {
			if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0)
				log_warn("%s/%s: not named NNN_name.sql: ignored", dir, e->d_name);
			continue;
		}
		if (l->n >= MIGRATE_MAX_FILES) {
			*err_r = strf("migrations folder %s: more than %d migrations", dir,
				      MIGRATE_MAX_FILES);
			goto out;
		}
		if (list_add(l, e->d_name, version) != 0) {
			*err_r = strf("migrations folder %s: out of memory", dir);
			goto out;
		}
	}
	if (errno != 0) {
		*err_r = strf("migrations folder %s: %s", dir, strerror(errno));
		goto out;
	}
	if (l->n > 0)
		qsort(l->m, (size_t)l->n, sizeof(*l->m), by_version);
	for (int i = 1; i < l->n; i++)
		if (l->m[i].version == l->m[i - 1].version) {
			*err_r = strf("migrations folder %s: %s and %s have the same number", dir,
				      l->m[i - 1].file, l->m[i].file);
			goto out;
		}
	rc = 0;
out:
	closedir(d);
	if (rc != 0)
		list_free(l);
	return rc;
}

static char *read_text(const char *path, char **err_r)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		*err_r = strf("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size > MIGRATE_MAX_BYTES) {
		*err_r = strf("%s: larger than %d bytes", path, MIGRATE_MAX_BYTES);
		goto fail;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		*err_r = strf("%s: out of memory", path);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err_r = strf("%s: %s", path, n < 0 ? strerror(errno) : "shorter than its size");
			goto fail;
		}
		got += (size_t)n;
	}
	text[got] = '\0';
	if (strlen(text) != got) {
		*err_r = strf("%s: holds a NUL byte: not SQL text", path);
		goto fail;
	}
	close(fd);
	return text;
fail:
	if (fd >= 0)
		close(fd);
	free(text);
	return NULL;
}

/* ---- the server ------------------------------------------------------------ */

static int sql_or_err(struct db *db, const char *sql, const char *what, char **err_r)
{
	if (db_exec_script(db, sql) != DB_OK) {
		*err_r = strf("%s: %s", what, db_error(db));
		return -1;
	}
	return 0;
}

static int create_database(struct db *db, const char *name, char **err_r)
{
	char sql[160], what[128];

	/* The name was checked by migrate_dbname_ok: identifiers cannot be bound. */
	snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4",
		 name);
	snprintf(what, sizeof(what), "creating database %s", name);
	if (sql_or_err(db, sql, what, err_r) != 0)
		return -1;
	if (db_select_database(db, name) != DB_OK) {
		*err_r = strf("%s", db_error(db));
		return -1;
	}
	return 0;
}

static int take_lock(struct db *db, char **err_r)
{
	struct db_param p[1] = { DBP_INT(MIGRATE_LOCK_WAIT_S) };
	struct db_rows rows;
	const char *v;
	int rc = -1;

	if (db_select(db, "SELECT GET_LOCK('orderflow_migrate', ?)", p, 1, &rows) != DB_OK) {
		*err_r = strf("taking the lock orderflow_migrate: %s", db_error(db));
		return -1;
	}
	v = db_rows_get(&rows, 0, 0);
	if (v != NULL && strcmp(v, "1") == 0)
		rc = 0;
	else if (v != NULL && strcmp(v, "0") == 0)
		*err_r = strf("taking the lock orderflow_migrate: another migration held it for "
			      "%d s (is one stuck?)", MIGRATE_LOCK_WAIT_S);
	else
		*err_r = strf("taking the lock orderflow_migrate: the server refused it");
	db_rows_free(&rows);
	return rc;
}

static void release_lock(struct db *db)
{
	struct db_rows rows;

	/* Closing the connection releases it anyway: a failure is only noted. */
	if (db_select(db, "SELECT RELEASE_LOCK('orderflow_migrate')", NULL, 0, &rows) != DB_OK)
		log_warn("releasing the lock orderflow_migrate: %s", db_error(db));
	else
		db_rows_free(&rows);
}

static int is_applied(const struct db_rows *done, const struct migration *m)
{
	for (int r = 0; r < done->nrows; r++) {
		const char *v = db_rows_get(done, r, 0), *name = db_rows_get(done, r, 1);

		if (v == NULL || atoi(v) != m->version)
			continue;
		if (name == NULL || strcmp(name, m->stem) != 0)
			log_warn("migration %d is recorded as %s, the file is %s: not applied again",
				 m->version, name != NULL ? name : "(no name)", m->file);
		return 1;
	}
	return 0;
}

/* Versions recorded in the database that this build has no file for: a
 * newer build migrated it. Said once, not an error. */
static void note_unknown(const struct db_rows *done, const struct migration_list *l)
{
	for (int r = 0; r < done->nrows; r++) {
		const char *v = db_rows_get(done, r, 0), *name = db_rows_get(done, r, 1);
		int known = 0;

		for (int i = 0; i < l->n && !known; i++)
			known = v != NULL && atoi(v) == l->m[i].version;
		if (!known)
			log_warn("schema_migrations has migration %s (%s) that %s does not hold: a "
				 "newer orderflow migrated this database", v != NULL ? v : "?",
				 name != NULL ? name : "?", migrate_dir());
	}
}

static int apply_one(struct db *db, const char *dir, const struct migration *m, char **err_r)
{
	struct db_param p[2] = { DBP_INT(m->version), DBP_STR(m->stem) };
	char *path = strf("%s/%s", dir, m->file), *sql = NULL;
	int rc = -1;

	sql = read_text(path, err_r);
	if (sql == NULL)
		goto out;
	if (db_exec_script(db, sql) != DB_OK) {
		*err_r = strf("migration %s: %s", path, db_error(db));
		goto out;
	}
	if (db_run(db, "INSERT INTO schema_migrations (version, name, applied_at) "
		       "VALUES (?, ?, UTC_TIMESTAMP(6))", p, 2, NULL, NULL) != DB_OK) {
		*err_r = strf("migration %s: recording it in schema_migrations: %s", path,
			      db_error(db));
		goto out;
	}
	log_info("applied migration %s", m->stem);
	rc = 0;
out:
	free(sql);
	free(path);
	return rc;
}

static int apply_pending(struct db *db, const char *dir, const struct migration_list *l,
			 int *applied, char **err_r)
{
	struct db_rows done;

	if (sql_or_err(db, "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
			   "  version    INT          NOT NULL PRIMARY KEY,\n"
			   "  name       VARCHAR(255) NOT NULL,\n"
			   "  applied_at DATETIME(6)  NOT NULL\n"
			   ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
		       "creating schema_migrations", err_r) != 0)
		return -1;
	if (db_select(db, "SELECT version, name FROM schema_migrations ORDER BY version", NULL, 0,
		      &done) != DB_OK) {
		*err_r = strf("reading schema_migrations: %s", db_error(db));
		return -1;
	}
	note_unknown(&done, l);
	for (int i = 0; i < l->n; i++) {
		if (is_applied(&done, &l->m[i]))
			continue;
		if (apply_one(db, dir, &l->m[i], err_r) != 0) {
			db_rows_free(&done);
			return -1;
		}
		(*applied)++;
	}
	db_rows_free(&done);
	return 0;
}

int migrate_run(const struct cfg_database *cfg, const char *dbname, int *applied_r,
		char **err_r)
{
	const char *name = dbname != NULL ? dbname : cfg->name;
	const char *dir = migrate_dir();
	struct migration_list list = { 0 };
	struct db *db = NULL;
	int applied = 0, rc = -1;

	*err_r = NULL;
	if (applied_r != NULL)
		*applied_r = 0;
	if (!migrate_dbname_ok(name)) {
		*err_r = strf("database name \"%s\": 1 to 64 letters, digits or _ are accepted here",
			      name != NULL ? name : "(none)");
		return -1;
	}
	if (list_read(dir, &list, err_r) != 0)
		return -1;
	if (db_connect_server(cfg, &db, err_r) != 0)
		goto out;
	if (create_database(db, name, err_r) != 0 || take_lock(db, err_r) != 0)
		goto out;
	rc = apply_pending(db, dir, &list, &applied, err_r);
	release_lock(db);
out:
	db_close(db);
	list_free(&list);
	if (applied_r != NULL)
		*applied_r = applied;
	return rc;
}

/* ---- the start-up check ---------------------------------------------------- */

/* COUNT(*) of a query with one parameter, or -1 with *err_r. */
static int count_of(struct db *db, const char *sql, const char *param, const char *what,
		    char **err_r)
{
	struct db_param p[1] = { DBP_STR(param) };
	struct db_rows rows;
	const char *v;
	int n;

	if (db_select(db, sql, p, 1, &rows) != DB_OK) {
		*err_r = strf("%s: %s", what, db_error(db));
		return -1;
	}
	v = db_rows_get(&rows, 0, 0);
	n = v != NULL ? atoi(v) : 0;
	db_rows_free(&rows);
	return n;
}

/* The newest version recorded in database `name`: 0 when none, -1 when it
 * has no schema_migrations (or does not exist), -2 on a failure (*err_r). */
static int schema_version(struct db *db, const char *name, char **err_r)
{
	struct db_rows rows;
	const char *v;
	int n;

	n = count_of(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? "
			 "AND table_name = 'schema_migrations'", name, "looking for schema_migrations",
		     err_r);
	if (n <= 0)
		return n < 0 ? -2 : -1;
	if (db_select_database(db, name) != DB_OK ||
	    db_select(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
		      &rows) != DB_OK) {
		*err_r = strf("reading %s.schema_migrations: %s", name, db_error(db));
		return -2;
	}
	v = db_rows_get(&rows, 0, 0);
	n = v != NULL ? atoi(v) : 0;
	db_rows_free(&rows);
	return n;
}

int migrate_check(const struct cfg_database *cfg, const char *dbname, int *unreachable_r,
		  char **err_r)
{
	const char *name = dbname != NULL ? dbname : cfg->name;
	struct db *db = NULL;
	int version;

	*err_r = NULL;
	if (unreachable_r != NULL)
		*unreachable_r = 0;
	if (db_connect_server(cfg, &db, err_r) != 0) {
		if (unreachable_r != NULL)
			*unreachable_r = 1;
		return -1;
	}
	version = schema_version(db, name, err_r);
	if (version == -2 && unreachable_r != NULL)
		*unreachable_r = db_connection_lost(db);
	db_close(db);
	if (version == -2)
		return -1;
	if (version < MIGRATE_SCHEMA_VERSION) {
		*err_r = strf("database %s has schema version %d%s, this orderflowd needs %d: run "
			      "`orderflowctl db migrate` first", name, version < 0 ? 0 : version,
			      version < 0 ? " (no schema_migrations table)" : "",
			      MIGRATE_SCHEMA_VERSION);
		return -1;
	}
	if (version > MIGRATE_SCHEMA_VERSION) {
		*err_r = strf("database %s has schema version %d, newer than the version %d this "
			      "orderflowd knows: run the orderflowd that migrated it (or a newer one)",
			      name, version, MIGRATE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}
