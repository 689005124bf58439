/*
 * db.c: the connection (connect, reconnect, close) and transactions; the
 * error record they fill is db_error.c. See db/db.h for the contract.
 *
 * Library initialisation: mysql_library_init() is not thread-safe and must run
 * once before any other call of the client library. db_connect*() run it
 * through pthread_once, so the first connection of the process initialises the
 * library whatever thread it comes from, and no caller has to remember to.
 */
#include "db/db_int.h"

#include "core/config.h"
#include "core/log.h"
#include "core/tcp_probe.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_CONNECT_TIMEOUT_S 5
/* Generous: a statement may wait innodb_lock_wait_timeout (50 s by default)
 * for a lock and still get its answer. Heartbeats are the broker's business. */
#define DB_READ_TIMEOUT_S 60
#define DB_WRITE_TIMEOUT_S 60

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_state; /* 0 not yet, 1 initialised, -1 failed */

static void lib_init(void)
{
	lib_state = mysql_library_init(0, NULL, NULL) == 0 ? 1 : -1;
}

void db_library_end(void)
{
	if (lib_state == 1) {
		mysql_library_end();
		lib_state = 0;
	}
}

/* ---- connecting ---------------------------------------------------------- */

const char *db_where(struct db *db)
{
	char *buf = db->where;
	size_t len = sizeof(db->where);

	if (db->socket != NULL)
		snprintf(buf, len, "MariaDB/MySQL at socket %s as %s%s%s", db->socket, db->user,
			 db->dbname != NULL ? ", database " : "",
			 db->dbname != NULL ? db->dbname : "");
	else
		snprintf(buf, len, "MariaDB/MySQL at %s:%d as %s%s%s", db->host, db->port, db->user,
			 db->dbname != NULL ? ", database " : "",
			 db->dbname != NULL ? db->dbname : "");
	return buf;
}

static int db_set_options(MYSQL *my)
{
	unsigned int connect_s = DB_CONNECT_TIMEOUT_S, read_s = DB_READ_TIMEOUT_S,
		     write_s = DB_WRITE_TIMEOUT_S, no_infile = 0;
	my_bool off = 0; /* MYSQL_OPT_RECONNECT takes a my_bool */

	return mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s) != 0 ||
	       mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &read_s) != 0 ||
	       mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &write_s) != 0 ||
	       /* Never: a silent reconnect loses the open transaction. */
	       mysql_options(my, MYSQL_OPT_RECONNECT, &off) != 0 ||
	       mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &no_infile) != 0 ||
	       mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0;
}

/* The session every connection runs in: UTC, READ COMMITTED, autocommit. */
static enum db_status db_session(struct db *db)
{
	static const char *const setup[] = {
		"SET time_zone = '+00:00'",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	};

	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		if (mysql_real_query(db->my, setup[i], strlen(setup[i])) != 0)
			return dbi_fail_my(db, "setting up the session (%s)", setup[i]);
	if (mysql_autocommit(db->my, 1) != 0)
		return dbi_fail_my(db, "setting up the session (autocommit on)");
	return DB_OK;
}

/* What mysql_real_connect said, and for "Can't connect" over TCP the reason
 * in words first: Connector/C's own number in it is the errno of its
 * non-blocking connect (115, "in progress"), not why it failed. */
static void connect_failure(const struct db *db, MYSQL *my, char *msg, size_t len)
{
	unsigned int e = mysql_errno(my);
	char why[160];

	if (db->socket == NULL && (e == 2002 || e == 2003) &&
	    tcp_probe(db->host, db->port, DB_CONNECT_TIMEOUT_S * 1000, why, sizeof(why)) != 0)
		snprintf(msg, len, "%s (the client library says: %s)", why, mysql_error(my));
	else
		snprintf(msg, len, "%s", mysql_error(my));
}

/* Opens db->my with the stored settings; on failure db->my stays NULL. */
static enum db_status db_open(struct db *db)
{
	const char *where = db_where(db);
	unsigned int protocol = db->socket != NULL ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
	enum db_status st;
	MYSQL *my;

	if (pthread_once(&lib_once, lib_init) != 0 || lib_state != 1)
		return dbi_fail_own(db, "connecting to %s: the client library failed to initialise",
				    where);
	my = mysql_init(NULL);
	if (my == NULL)
		return dbi_fail_own(db, "connecting to %s: out of memory", where);
	if (db_set_options(my) != 0 || mysql_options(my, MYSQL_OPT_PROTOCOL, &protocol) != 0) {
		st = dbi_fail(db, mysql_errno(my), mysql_error(my), "setting the options to connect to %s",
			      where);
		mysql_close(my);
		return st == DB_OK ? DB_FATAL : st;
	}
	if (mysql_real_connect(my, db->socket != NULL ? "localhost" : db->host, db->user,
			       db->password, db->dbname, db->socket != NULL ? 0 : (unsigned)db->port,
			       db->socket, 0) == NULL) {
		char msg[sizeof(db->msg)];

		connect_failure(db, my, msg, sizeof(msg));
		st = dbi_fail(db, mysql_errno(my), msg, "cannot connect to %s", where);
		mysql_close(my);
		return st;
	}
	db->my = my;
	db->lost = 0;
	st = db_session(db);
	if (st != DB_OK) {
		db_error_context(db, "connecting to %s: setting up the session", where);
		mysql_close(db->my);
		db->my = NULL;
		return st;
	}
	dbi_clear_error(db);
	return DB_OK;
}

static char *dup_opt(const char *s, int *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = 1;
	return d;
}

static void db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
	/* After mysql_close: the statements are detached and only freed. */
	dbi_cache_drop(db);
	free(db->host);
	free(db->socket);
	free(db->user);
	if (db->password != NULL) {
		explicit_bzero(db->password, strlen(db->password));
		free(db->password);
	}
	free(db->dbname);
	free(db);
}

static int db_connect_as(const struct cfg_database *cfg, const char *dbname, struct db **db_r,
			 char **err_r)
{
	struct db *db = calloc(1, sizeof(*db));
	int oom = 0;

	*db_r = NULL;
	*err_r = NULL;
	if (db == NULL)
		goto nomem;
	db->host = dup_opt(cfg->host != NULL ? cfg->host : "127.0.0.1", &oom);
	db->socket = dup_opt(cfg->socket != NULL && *cfg->socket != '\0' ? cfg->socket : NULL, &oom);
	db->user = dup_opt(cfg->user != NULL ? cfg->user : "", &oom);
	db->password = dup_opt(cfg->password, &oom);
	db->dbname = dup_opt(dbname, &oom);
	db->port = cfg->port > 0 ? cfg->port : 3306;
	if (oom)
		goto nomem;
	if (db_open(db) != DB_OK) {
		*err_r = strdup(db->err);
		db_free(db);
		return -1;
	}
	*db_r = db;
	return 0;
nomem:
	db_free(db);
	*err_r = strdup("connecting to the database: out of memory");
	return -1;
}

int db_connect(const struct cfg_database *cfg, const char *dbname, struct db **db_r,
	       char **err_r)
{
	return db_connect_as(cfg, dbname != NULL ? dbname : cfg->name, db_r, err_r);
}

int db_connect_server(const struct cfg_database *cfg, struct db **db_r, char **err_r)
{
	return db_connect_as(cfg, NULL, db_r, err_r);
}

void db_close(struct db *db)
{
	db_free(db);
}

enum db_status db_reconnect(struct db *db)
{
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
	dbi_cache_drop(db);
	db->lost = 0;
	dbi_clear_error(db);
	return db_open(db);
}

enum db_status db_ping(struct db *db)
{
	if (dbi_unusable(db))
		return DB_TRANSIENT;
	if (mysql_ping(db->my) != 0) {
		dbi_fail_my(db, "ping");
		return DB_TRANSIENT;
	}
	dbi_clear_error(db);
	return DB_OK;
}

enum db_status db_select_database(struct db *db, const char *dbname)
{
	char *copy;

	if (dbi_unusable(db))
		return DB_TRANSIENT;
	if (mysql_select_db(db->my, dbname) != 0)
		return dbi_fail_my(db, "selecting database %s", dbname);
	copy = strdup(dbname);
	if (copy == NULL)
		return dbi_fail_own(db, "selecting database %s: out of memory", dbname);
	free(db->dbname);
	db->dbname = copy;
	dbi_clear_error(db);
	return DB_OK;
}

/* ---- transactions -------------------------------------------------------- */

/* keep_error: a success leaves the previous error in place (rollbacks). */
static enum db_status db_simple(struct db *db, const char *sql, const char *what,
				int keep_error)
{
	if (dbi_unusable(db))
		return DB_TRANSIENT;
	if (mysql_real_query(db->my, sql, strlen(sql)) != 0)
		return dbi_fail_my(db, "%s", what);
	if (!keep_error)
		dbi_clear_error(db);
	return DB_OK;
}

enum db_status db_begin(struct db *db)
{
	return db_simple(db, "START TRANSACTION", "begin", 0);
}

enum db_status db_commit(struct db *db)
{
	if (dbi_unusable(db))
		return DB_TRANSIENT;
	if (mysql_commit(db->my) != 0)
		return dbi_fail_my(db, "commit");
	dbi_clear_error(db);
	return DB_OK;
}

enum db_status db_rollback(struct db *db)
{
	/* On a lost connection the server has rolled back already; the error
	 * of the loss is kept for the caller. */
	if (dbi_unusable(db))
		return DB_TRANSIENT;
	if (mysql_rollback(db->my) != 0)
		return dbi_fail_my(db, "rollback");
	return DB_OK;
}

int db_savepoint_name_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL || *name == '\0' || isdigit((unsigned char)*name))
		return 0;
	for (const char *p = name; *p != '\0'; p++, n++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') || n >= 64)
			return 0;
	return 1;
}

static enum db_status db_savepoint_cmd(struct db *db, const char *verb, const char *name)
{
	char sql[128], what[128];

	if (!db_savepoint_name_ok(name))
		return dbi_fail_own(db, "%s \"%s\": a savepoint name is 1 to 64 of [a-z0-9_], "
				    "not beginning with a digit", verb, name != NULL ? name : "(null)");
	/* Safe to paste: validated just above, and it cannot be a parameter. */
	snprintf(sql, sizeof(sql), "%s %s", verb, name);
	snprintf(what, sizeof(what), "%s %s", verb, name);
	return db_simple(db, sql, what, strcmp(verb, "SAVEPOINT") != 0);
}

enum db_status db_savepoint(struct db *db, const char *name)
{
	return db_savepoint_cmd(db, "SAVEPOINT", name);
}

enum db_status db_rollback_to(struct db *db, const char *name)
{
	return db_savepoint_cmd(db, "ROLLBACK TO SAVEPOINT", name);
}
