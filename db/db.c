/*
 * db: a MySQL/MariaDB connection on the mysqlclient API (see db.h).
 *
 * Prepared statements are cached per connection, keyed by the SQL text's
 * address (callers pass literals), so each statement is parsed by the server
 * once per connection. Results are fetched column by column as text: a
 * column is first fetched with an empty buffer to learn its length, then with
 * a buffer of that size (mysql_stmt_fetch_column), so a 256 KiB body needs no
 * fixed-size buffer.
 */
#include "db/db.h"

#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

#define DB_CACHE_MAX 256
#define DB_MAX_PARAMS 64

struct db_cached {
	const char *sql;
	MYSQL_STMT *stmt;
};

struct db {
	MYSQL *mysql;
	const struct cfg_database *cfg;
	char *dbname;                 /* NULL: no database selected */
	struct db_cached cache[DB_CACHE_MAX];
	int ncache;
	char err[1024];
	unsigned int errnum;
};

static pthread_once_t db_library_once = PTHREAD_ONCE_INIT;

/* mysql_library_init is not thread-safe: run it once, before any thread
 * connects (db_connect is the first call any process makes). */
static void db_library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

static void db_set_error(struct db *db, unsigned int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void db_set_error(struct db *db, unsigned int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	db->errnum = errnum;
}

static enum db_status db_fail_mysql(struct db *db, const char *what)
{
	db_set_error(db, mysql_errno(db->mysql), "%s: %s (%u)", what, mysql_error(db->mysql),
		     mysql_errno(db->mysql));
	return db_classify(db->errnum);
}

static enum db_status db_fail_stmt(struct db *db, MYSQL_STMT *stmt, const char *sql)
{
	db_set_error(db, mysql_stmt_errno(stmt), "%.80s%s: %s (%u)", sql,
		     strlen(sql) > 80 ? "..." : "", mysql_stmt_error(stmt), mysql_stmt_errno(stmt));
	return db_classify(db->errnum);
}

enum db_status db_classify(unsigned int e)
{
	switch (e) {
	case 0:
		return DB_OK;
	case 1062: /* ER_DUP_ENTRY */
		return DB_DUPLICATE;
	case 1213: /* deadlock */
	case 1205: /* lock wait timeout */
	case 1040: /* too many connections */
	case 1053: /* server shutdown in progress */
	case 1927: /* connection killed */
	case 4031: /* disconnected for inactivity (MariaDB) */
	case 2002: /* can't connect through socket */
	case 2003: /* can't connect to server */
	case 2006: /* server has gone away */
	case 2013: /* lost connection during query */
	case 2026: /* SSL connection error */
	case 2055: /* lost connection (system error) */
		return DB_TRANSIENT;
	default:
		return DB_FATAL;
	}
}

static int db_errno_is_lost(unsigned int e)
{
	return e == 2002 || e == 2003 || e == 2006 || e == 2013 || e == 2055 || e == 1053 ||
	       e == 1927 || e == 4031;
}

int db_connection_lost(const struct db *db)
{
	return db->mysql == NULL || db_errno_is_lost(db->errnum);
}

const char *db_error(const struct db *db)
{
	return db->err;
}

unsigned int db_errno(const struct db *db)
{
	return db->errnum;
}

/* ---- connecting ---------------------------------------------------------- */

static void db_cache_clear(struct db *db)
{
	for (int i = 0; i < db->ncache; i++)
		mysql_stmt_close(db->cache[i].stmt);
	db->ncache = 0;
}

static enum db_status db_session_setup(struct db *db)
{
	static const char *const setup[] = {
		"SET time_zone = '+00:00'",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	};

	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		if (mysql_real_query(db->mysql, setup[i], strlen(setup[i])) != 0)
			return db_fail_mysql(db, setup[i]);
	if (mysql_autocommit(db->mysql, 1) != 0)
		return db_fail_mysql(db, "autocommit on");
	return DB_OK;
}

static enum db_status db_open(struct db *db)
{
	const struct cfg_database *c = db->cfg;
	unsigned int connect_timeout = 5, io_timeout = 120;
	my_bool reconnect = 0;

	db->mysql = mysql_init(NULL);
	if (db->mysql == NULL) {
		db_set_error(db, 2008, "mysql_init: out of memory");
		return DB_FATAL;
	}
	/* A silent reconnect inside a transaction would lose it (STYLE.md). */
	mysql_options(db->mysql, MYSQL_OPT_RECONNECT, &reconnect);
	mysql_options(db->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_options(db->mysql, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	mysql_options(db->mysql, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	mysql_options(db->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(db->mysql, c->socket ? NULL : c->host, c->user, c->password,
			       db->dbname, c->socket ? 0 : (unsigned int)c->port, c->socket,
			       0) == NULL) {
		char where[300];

		if (c->socket)
			snprintf(where, sizeof(where), "connect to %s as %s", c->socket, c->user);
		else
			snprintf(where, sizeof(where), "connect to %s:%d as %s", c->host, c->port,
				 c->user);
		db_fail_mysql(db, where);
		mysql_close(db->mysql);
		db->mysql = NULL;
		return db_classify(db->errnum) == DB_FATAL ? DB_FATAL : DB_TRANSIENT;
	}
	return db_session_setup(db);
}

static int db_new(const struct cfg_database *cfg, const char *dbname, struct db **db_r,
		  char **err_r)
{
	struct db *db;

	pthread_once(&db_library_once, db_library_init);
	*db_r = NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL || (dbname != NULL && (db->dbname = strdup(dbname)) == NULL)) {
		free(db);
		*err_r = strdup("out of memory");
		return -1;
	}
	db->cfg = cfg;
	if (db_open(db) != DB_OK) {
		*err_r = strdup(db->err);
		db_close(db);
		return -1;
	}
	*db_r = db;
	return 0;
}

int db_connect(const struct cfg_database *cfg, const char *dbname, struct db **db_r,
	       char **err_r)
{
	return db_new(cfg, dbname != NULL ? dbname : cfg->name, db_r, err_r);
}

int db_connect_server(const struct cfg_database *cfg, struct db **db_r, char **err_r)
{
	return db_new(cfg, NULL, db_r, err_r);
}

void db_close(struct db *db)
{
	if (db == NULL)
		return;
	db_cache_clear(db);
	if (db->mysql != NULL)
		mysql_close(db->mysql);
	free(db->dbname);
	free(db);
}

enum db_status db_reconnect(struct db *db)
{
	db_cache_clear(db);
	if (db->mysql != NULL)
		mysql_close(db->mysql);
	db->mysql = NULL;
	return db_open(db);
}

enum db_status db_select_database(struct db *db, const char *name)
{
	char *copy = strdup(name);

	if (copy == NULL)
		return DB_FATAL;
	if (mysql_select_db(db->mysql, name) != 0) {
		free(copy);
		return db_fail_mysql(db, "select database");
	}
	free(db->dbname);
	db->dbname = copy;
	return DB_OK;
}

enum db_status db_ping(struct db *db)
{
	if (db->mysql == NULL) {
		db_set_error(db, 2006, "not connected");
		return DB_TRANSIENT;
	}
	if (mysql_ping(db->mysql) != 0) {
		db_fail_mysql(db, "ping");
		return DB_TRANSIENT;
	}
	return DB_OK;
}

/* ---- plain queries and transactions -------------------------------------- */

static enum db_status db_query(struct db *db, const char *sql)
{
	MYSQL_RES *res;

	if (db->mysql == NULL) {
		db_set_error(db, 2006, "%s: not connected", sql);
		return DB_TRANSIENT;
	}
	if (mysql_real_query(db->mysql, sql, strlen(sql)) != 0)
		return db_fail_mysql(db, sql);
	/* Statements here return no rows, but a stray result must be freed. */
	res = mysql_store_result(db->mysql);
	if (res != NULL)
		mysql_free_result(res);
	return DB_OK;
}

enum db_status db_begin(struct db *db)
{
	return db_query(db, "START TRANSACTION");
}

enum db_status db_commit(struct db *db)
{
	return db_query(db, "COMMIT");
}

enum db_status db_rollback(struct db *db)
{
	unsigned int keep = db->errnum;
	char saved[sizeof(db->err)];
	enum db_status st;

	/* A rollback after a failure must not hide the failure's message. */
	memcpy(saved, db->err, sizeof(saved));
	if (db->mysql == NULL)
		return DB_TRANSIENT;
	st = db_query(db, "ROLLBACK");
	if (st == DB_OK) {
		memcpy(db->err, saved, sizeof(saved));
		db->errnum = keep;
	}
	return st;
}

static int db_name_ok(const char *name)
{
	if (name == NULL || *name == '\0' || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static enum db_status db_savepoint_cmd(struct db *db, const char *verb, const char *name)
{
	char sql[128];

	/* Names cannot be bound: only our own identifiers are accepted. */
	if (!db_name_ok(name)) {
		db_set_error(db, 0, "%s: invalid savepoint name", verb);
		return DB_FATAL;
	}
	snprintf(sql, sizeof(sql), "%s %s", verb, name);
	return db_query(db, sql);
}

enum db_status db_savepoint(struct db *db, const char *name)
{
	return db_savepoint_cmd(db, "SAVEPOINT", name);
}

enum db_status db_rollback_to(struct db *db, const char *name)
{
	return db_savepoint_cmd(db, "ROLLBACK TO SAVEPOINT", name);
}

/* ---- prepared statements ------------------------------------------------- */

static MYSQL_STMT *db_prepared(struct db *db, const char *sql, enum db_status *st)
{
	MYSQL_STMT *stmt;

	for (int i = 0; i < db->ncache; i++)
		if (db->cache[i].sql == sql)
			return db->cache[i].stmt;
	if (db->mysql == NULL) {
		db_set_error(db, 2006, "%.80s: not connected", sql);
		*st = DB_TRANSIENT;
		return NULL;
	}
	stmt = mysql_stmt_init(db->mysql);
	if (stmt == NULL) {
		*st = db_fail_mysql(db, "mysql_stmt_init");
		return NULL;
	}
	if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
		*st = db_fail_stmt(db, stmt, sql);
		mysql_stmt_close(stmt);
		return NULL;
	}
	if (db->ncache == DB_CACHE_MAX) {
		/* More distinct statements than expected: forget the oldest. */
		mysql_stmt_close(db->cache[0].stmt);
		memmove(db->cache, db->cache + 1, sizeof(db->cache[0]) * (DB_CACHE_MAX - 1));
		db->ncache--;
	}
	db->cache[db->ncache++] = (struct db_cached){ .sql = sql, .stmt = stmt };
	return stmt;
}

static enum db_status db_execute(struct db *db, const char *sql, const struct db_param *params,
				 int nparams, MYSQL_STMT **stmt_r)
{
	MYSQL_BIND bind[DB_MAX_PARAMS];
	unsigned long lens[DB_MAX_PARAMS];
	enum db_status st = DB_FATAL;
	MYSQL_STMT *stmt = db_prepared(db, sql, &st);

	if (stmt == NULL)
		return st;
	if (nparams > DB_MAX_PARAMS || (unsigned long)nparams != mysql_stmt_param_count(stmt)) {
		db_set_error(db, 0, "%.80s: %d parameters given, %lu expected", sql, nparams,
			     mysql_stmt_param_count(stmt));
		return DB_FATAL;
	}
	memset(bind, 0, sizeof(bind[0]) * (size_t)(nparams > 0 ? nparams : 1));
	for (int i = 0; i < nparams; i++) {
		const struct db_param *p = &params[i];

		switch (p->type) {
		case DB_P_STR:
			lens[i] = p->len == (size_t)-1 ? strlen(p->s) : p->len;
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = (void *)p->s;
			bind[i].buffer_length = lens[i];
			bind[i].length = &lens[i];
			break;
		case DB_P_INT:
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = (void *)&p->i;
			break;
		default:
			bind[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		}
	}
	if ((nparams > 0 && mysql_stmt_bind_param(stmt, bind) != 0) ||
	    mysql_stmt_execute(stmt) != 0) {
		st = db_fail_stmt(db, stmt, sql);
		if (db_errno_is_lost(db->errnum))
			db_cache_clear(db); /* every statement died with the connection */
		return st;
	}
	*stmt_r = stmt;
	return DB_OK;
}

enum db_status db_run(struct db *db, const char *sql, const struct db_param *params,
		      int nparams, unsigned long long *affected_r,
		      unsigned long long *insert_id_r)
{
	MYSQL_STMT *stmt = NULL;
	enum db_status st = db_execute(db, sql, params, nparams, &stmt);

	if (st != DB_OK)
		return st;
	if (affected_r != NULL)
		*affected_r = (unsigned long long)mysql_stmt_affected_rows(stmt);
	if (insert_id_r != NULL)
		*insert_id_r = (unsigned long long)mysql_stmt_insert_id(stmt);
	mysql_stmt_free_result(stmt);
	return DB_OK;
}

static int db_rows_push(struct db_rows *rows, char **row)
{
	size_t n = (size_t)(rows->nrows + 1) * (size_t)rows->ncols;
	char **cells = realloc(rows->cells, n * sizeof(char *) + 1);

	if (cells == NULL)
		return -1;
	memcpy(cells + (size_t)rows->nrows * (size_t)rows->ncols, row,
	       (size_t)rows->ncols * sizeof(char *));
	rows->cells = cells;
	rows->nrows++;
	return 0;
}

/* Fetches the current row's columns as malloc'd text into row[]. */
static int db_fetch_row(MYSQL_STMT *stmt, MYSQL_BIND *meta, unsigned long *lens, my_bool *nulls,
			int ncols, char **row)
{
	for (int c = 0; c < ncols; c++) {
		MYSQL_BIND b;

		row[c] = NULL;
		if (nulls[c])
			continue;
		row[c] = malloc(lens[c] + 1);
		if (row[c] == NULL)
			return -1;
		memset(&b, 0, sizeof(b));
		b.buffer_type = MYSQL_TYPE_STRING;
		b.buffer = row[c];
		b.buffer_length = lens[c] + 1;
		if (lens[c] > 0 && mysql_stmt_fetch_column(stmt, &b, (unsigned int)c, 0) != 0)
			return -1;
		row[c][lens[c]] = '\0';
	}
	(void)meta;
	return 0;
}

enum db_status db_select(struct db *db, const char *sql, const struct db_param *params,
			 int nparams, struct db_rows *rows)
{
	MYSQL_STMT *stmt = NULL;
	MYSQL_BIND *bind = NULL;
	unsigned long *lens = NULL;
	my_bool *nulls = NULL;
	char **row = NULL;
	enum db_status st;
	int ncols, rc;

	memset(rows, 0, sizeof(*rows));
	st = db_execute(db, sql, params, nparams, &stmt);
	if (st != DB_OK)
		return st;
	ncols = (int)mysql_stmt_field_count(stmt);
	rows->ncols = ncols;
	bind = calloc((size_t)ncols + 1, sizeof(*bind));
	lens = calloc((size_t)ncols + 1, sizeof(*lens));
	nulls = calloc((size_t)ncols + 1, sizeof(*nulls));
	row = calloc((size_t)ncols + 1, sizeof(*row));
	if (bind == NULL || lens == NULL || nulls == NULL || row == NULL)
		goto nomem;
	for (int c = 0; c < ncols; c++) {
		/* An empty buffer: fetch reports each length, then the column is
		 * fetched into a buffer of that size. */
		bind[c].buffer_type = MYSQL_TYPE_STRING;
		bind[c].length = &lens[c];
		bind[c].is_null = &nulls[c];
	}
	if (ncols > 0 && mysql_stmt_bind_result(stmt, bind) != 0) {
		st = db_fail_stmt(db, stmt, sql);
		goto out;
	}
	while ((rc = mysql_stmt_fetch(stmt)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		if (db_fetch_row(stmt, bind, lens, nulls, ncols, row) != 0 ||
		    db_rows_push(rows, row) != 0) {
			for (int c = 0; c < ncols; c++)
				free(row[c]);
			goto nomem;
		}
	}
	if (rc != MYSQL_NO_DATA) {
		st = db_fail_stmt(db, stmt, sql);
		if (db_errno_is_lost(db->errnum))
			db_cache_clear(db);
		goto out;
	}
	st = DB_OK;
	goto out;
nomem:
	db_set_error(db, 2008, "%.80s: out of memory reading the result", sql);
	st = DB_FATAL;
out:
	if (st != DB_OK)
		db_rows_free(rows);
	/* After a lost connection the cache (and this statement) is gone. */
	if (!db_errno_is_lost(db->errnum) || st == DB_OK)
		mysql_stmt_free_result(stmt);
	free(bind);
	free(lens);
	free(nulls);
	free(row);
	return st;
}

const char *db_rows_get(const struct db_rows *rows, int r, int c)
{
	if (r < 0 || r >= rows->nrows || c < 0 || c >= rows->ncols)
		return NULL;
	return rows->cells[(size_t)r * (size_t)rows->ncols + (size_t)c];
}

void db_rows_free(struct db_rows *rows)
{
	size_t n = (size_t)rows->nrows * (size_t)rows->ncols;

	for (size_t i = 0; i < n; i++)
		free(rows->cells[i]);
	free(rows->cells);
	memset(rows, 0, sizeof(*rows));
}

/* ---- scripts ------------------------------------------------------------- */

static int db_blank_statement(const char *s)
{
	for (; *s; s++) {
		if (*s == '-' && s[1] == '-') {
			while (*s && *s != '\n')
				s++;
			if (!*s)
				break;
		} else if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
			return 0;
		}
	}
	return 1;
}

enum db_status db_exec_script(struct db *db, const char *sql)
{
	char *copy = strdup(sql), *start, *p;
	enum db_status st = DB_OK;

	if (copy == NULL)
		return DB_FATAL;
	/* Statements end with ';' at the end of a line (migrations keep ';' out
	 * of comments and strings). */
	start = copy;
	for (p = copy; st == DB_OK; p++) {
		int end = *p == '\0' ||
			  (*p == ';' && (p[1] == '\n' || p[1] == '\0' || p[1] == '\r'));

		if (!end)
			continue;
		{
			int last = *p == '\0';

			*p = '\0';
			if (!db_blank_statement(start))
				st = db_query(db, start);
			if (last)
				break;
			start = p + 1;
		}
	}
	free(copy);
	return st;
}
