/*
 * db: one MySQL/MariaDB connection (mysqlclient API), prepared statements with
 * bound parameters, transactions, and error classes.
 *
 * Never uses MYSQL_OPT_RECONNECT: a silent reconnect inside a transaction loses
 * it. A lost connection is reported as DB_TRANSIENT; the caller rolls back its
 * work, calls db_reconnect() and redoes the whole unit.
 *
 * Every statement is prepared once per connection and cached by its SQL text
 * (the text must be a string that lives as long as the connection: a literal).
 * Parameters are bound, never pasted into SQL. Results are returned as text
 * (NULL for SQL NULL), which is what every caller here wants.
 *
 * Errors: every failing call stores "what was being done: server message
 * (errno)" retrievable with db_error() until the next call.
 */
#ifndef ORDERFLOW_DB_H
#define ORDERFLOW_DB_H

#include <stddef.h>

struct cfg_database;

enum db_status {
	DB_OK = 0,
	DB_DUPLICATE,   /* 1062: duplicate key */
	DB_TRANSIENT,   /* 1213 deadlock, 1205 lock wait, 2002/2003/2006/2013 connection, ... */
	DB_FATAL,       /* anything else: a bug or a broken schema */
};

enum db_param_type { DB_P_NULL, DB_P_STR, DB_P_INT };

struct db_param {
	enum db_param_type type;
	const char *s;     /* DB_P_STR */
	size_t len;        /* DB_P_STR; (size_t)-1 = strlen(s) */
	long long i;       /* DB_P_INT */
};

#define DBP_STR(x) ((struct db_param){ .type = DB_P_STR, .s = (x), .len = (size_t)-1 })
#define DBP_STRN(x, n) ((struct db_param){ .type = DB_P_STR, .s = (x), .len = (n) })
#define DBP_INT(x) ((struct db_param){ .type = DB_P_INT, .i = (long long)(x) })
#define DBP_NULL ((struct db_param){ .type = DB_P_NULL })

/* A result set as text: cell(r, c) is row r, column c; NULL for SQL NULL. */
struct db_rows {
	int nrows;
	int ncols;
	char **cells;      /* nrows * ncols */
};

struct db;

/* Connects to cfg's server and selects `dbname` (NULL = cfg->name). Sets
 * utf8mb4, UTC time zone, autocommit on, READ COMMITTED. Returns 0, or -1 with
 * *err_r (malloc'd, caller frees) naming the server and the server's message. */
int db_connect(const struct cfg_database *cfg, const char *dbname, struct db **db_r,
	       char **err_r);
/* Connects without selecting a database (migrations create it). */
int db_connect_server(const struct cfg_database *cfg, struct db **db_r, char **err_r);
void db_close(struct db *db);
/* Selects another database on this connection (migrations). */
enum db_status db_select_database(struct db *db, const char *name);
/* Drops the statement cache and connects again with the same settings. */
enum db_status db_reconnect(struct db *db);
/* Cheap liveness check (mysql_ping); DB_OK or DB_TRANSIENT. */
enum db_status db_ping(struct db *db);

enum db_status db_begin(struct db *db);
enum db_status db_commit(struct db *db);
enum db_status db_rollback(struct db *db);
enum db_status db_savepoint(struct db *db, const char *name);
enum db_status db_rollback_to(struct db *db, const char *name);

/* Runs a statement with parameters; *affected_r (may be NULL) gets the
 * affected-row count, *insert_id_r (may be NULL) the AUTO_INCREMENT id. */
enum db_status db_run(struct db *db, const char *sql, const struct db_param *params,
		      int nparams, unsigned long long *affected_r,
		      unsigned long long *insert_id_r);
/* Runs a query with parameters and fetches every row as text. */
enum db_status db_select(struct db *db, const char *sql, const struct db_param *params,
			 int nparams, struct db_rows *rows);
/* Runs SQL text without parameters, possibly several statements separated by
 * ';' (migrations, DDL). */
enum db_status db_exec_script(struct db *db, const char *sql);

const char *db_rows_get(const struct db_rows *rows, int r, int c);
void db_rows_free(struct db_rows *rows);

/* The last error ("what: message (errno)") and its server/client error number. */
const char *db_error(const struct db *db);
unsigned int db_errno(const struct db *db);
/* The class of a MySQL/MariaDB error number (pure; unit-tested). */
enum db_status db_classify(unsigned int mysql_errno);
/* True when the last error means the connection itself is gone. */
int db_connection_lost(const struct db *db);

#endif
