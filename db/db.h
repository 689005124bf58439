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
/* Selects another database on this connection (mysql_select_db: the name is
 * not pasted into SQL) and remembers it for db_reconnect(). */
enum db_status db_select_database(struct db *db, const char *name);
/* Drops the statement cache and connects again with the same settings. */
enum db_status db_reconnect(struct db *db);
/* Cheap liveness check (mysql_ping); DB_OK or DB_TRANSIENT. */
enum db_status db_ping(struct db *db);

enum db_status db_begin(struct db *db);
enum db_status db_commit(struct db *db);
/* A rollback that succeeds keeps the error that made the caller roll back
 * (db_error(), db_errno(), db_connection_lost() still describe it). */
enum db_status db_rollback(struct db *db);
enum db_status db_savepoint(struct db *db, const char *name);
enum db_status db_rollback_to(struct db *db, const char *name);

/* Runs a statement with parameters; *affected_r (may be NULL) gets the
 * affected-row count (rows changed, not rows matched: the server's default),
 * *insert_id_r (may be NULL) the AUTO_INCREMENT id. A DB_P_STR parameter
 * whose s is NULL is sent as SQL NULL. */
enum db_status db_run(struct db *db, const char *sql, const struct db_param *params,
		      int nparams, unsigned long long *affected_r,
		      unsigned long long *insert_id_r);
/* Runs a query with parameters and fetches every row as text. */
enum db_status db_select(struct db *db, const char *sql, const struct db_param *params,
			 int nparams, struct db_rows *rows);
/* Runs a query and copies the first column of its first row into out
 * (truncated to outlen); *found_r = 0 when there is no row (out = ""). */
enum db_status db_select_text(struct db *db, const char *sql, const struct db_param *params,
			      int nparams, char *out, size_t outlen, int *found_r);
/* Runs SQL text without parameters, possibly several statements separated by
 * ';' (migrations, DDL). A statement ends with a ';' that ends a line (spaces
 * after it are fine) or with the text. Blank lines and comment lines (whose
 * first non-blank characters are "-- ", "--" alone, or "#") are skipped, so a
 * ';' may end a comment line; a statement must hold no other ';' at the end
 * of a line. Stops at the first failing statement; db_error() then says
 * "statement at line N (its first line): message (errno)". */
enum db_status db_exec_script(struct db *db, const char *sql);

const char *db_rows_get(const struct db_rows *rows, int r, int c);
void db_rows_free(struct db_rows *rows);

/* The last error ("what: message (errno)") and its server/client error number. */
const char *db_error(const struct db *db);
unsigned int db_errno(const struct db *db);
/* The class of a MySQL/MariaDB error number (pure; unit-tested). */
enum db_status db_classify(unsigned int mysql_errno);
/* True when the last error means the connection itself is gone. Once it is,
 * every call but db_reconnect()/db_close() returns DB_TRANSIENT at once and
 * db_error() keeps the message of the loss, until db_reconnect() succeeds. */
int db_connection_lost(const struct db *db);

/* ---- added by the db module (not in the first contract) ---------------- */

/* The library is initialised lazily, once per process (pthread_once), by the
 * first db_connect*(); that call may come from any thread. db_library_end()
 * releases the library's global memory: call it at most once, at process
 * exit, after every connection of every thread is closed. Optional (what it
 * frees stays reachable anyway), it keeps leak checkers quiet. */
void db_library_end(void);

/* Rewrites the "what was being done" part of the last error, keeping the
 * server's message and number: "insert into inbox (consumer x, event y):
 * Duplicate entry ... (1062)". */
void db_error_context(struct db *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "what: err" in buf, or err alone when it already starts with the word(s)
 * of what (followed by ':', ' ' or its end), so a
 * caller that names its step ("commit") never repeats the step the error
 * record names already ("commit: Deadlock found ... (1213)"). Returns buf. */
const char *db_error_join(char *buf, size_t len, const char *what, const char *err);

/* The server and database of a connection, for logs: "MariaDB/MySQL at
 * HOST:PORT (or at socket PATH) as USER, database NAME". Valid until the next
 * call on the same connection. */
const char *db_where(struct db *db);

/* The server's id of this connection (for KILL, logs); 0 when not connected. */
unsigned long db_thread_id(const struct db *db);

/* Pure helpers, unit-tested. */
/* 1 when an error number means the connection is gone
 * (2002/2003/2006/2013/2055/1053/1927/4031). */
int db_errno_connection_lost(unsigned int mysql_errno);
/* 1 when name is a savepoint name we accept: 1 to 64 of [a-z0-9_], not
 * beginning with a digit. db_savepoint()/db_rollback_to() refuse others. */
int db_savepoint_name_ok(const char *name);
/* The statement splitter of db_exec_script(). *cursor walks the text and
 * *line (start it at 1) counts its lines. Returns 1 with *stmt_r (malloc'd,
 * without its ';') and *stmt_line_r (its first line), 0 at the end of the
 * text, -1 when out of memory. */
int db_script_next(const char **cursor, int *line, char **stmt_r, int *stmt_line_r);

#endif
