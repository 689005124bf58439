/*
 * db_int: what the db/ files share and nobody else sees: the connection
 * structure, its statement cache, and the helpers that record an error.
 *
 * db_error.c owns the error record and the error classes; db_stmt.c the
 * statement cache and db_run/db_select (it records errors through
 * db_error.c); db.c the connection (connect, reconnect, transactions; it
 * drops the statement cache through db_stmt.c); db_script.c the splitting and
 * running of SQL scripts. The calls go one way: db.c -> db_stmt.c ->
 * db_error.c.
 */
#ifndef ORDERFLOW_DB_INT_H
#define ORDERFLOW_DB_INT_H

#include "db/db.h"

#include <mysql.h>

#define DBI_CACHE_BUCKETS 64
/* A cache that grows past this (a caller building SQL text in fresh buffers)
 * is emptied and starts again: bounded memory beats a perfect hit rate. */
#define DBI_CACHE_MAX 256

struct dbi_stmt {
	const void *key;        /* the caller's SQL pointer */
	char *sql;              /* our copy, compared with strcmp */
	MYSQL_STMT *stmt;
	struct dbi_stmt *next;
};

struct db {
	MYSQL *my;              /* NULL after a failed reconnect */
	/* the settings, kept for db_reconnect() */
	char *host;
	char *socket;
	char *user;
	char *password;
	char *dbname;           /* NULL: no database selected */
	int port;
	char where[512];        /* db_where()'s text */

	struct dbi_stmt *cache[DBI_CACHE_BUCKETS];
	int cached;

	int log_events;         /* outbox_log_events(): the outbox insert writes event_log too */
	int lost;               /* the connection is gone until db_reconnect() */
	unsigned int errnum;
	char what[256];
	char msg[800];
	char err[1100];         /* "what: msg (errnum)" */
};

/* Records an error: what (printf format) and the server's or client's message
 * and number; returns its class. */
enum db_status dbi_fail(struct db *db, unsigned int errnum, const char *msg, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));
/* The same with mysql_errno/mysql_error of the connection. */
enum db_status dbi_fail_my(struct db *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An error of ours (no server involved): DB_FATAL, errno 0. */
enum db_status dbi_fail_own(struct db *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dbi_clear_error(struct db *db);
/* DB_TRANSIENT when the connection is known to be gone (error kept as is). */
int dbi_unusable(struct db *db);
/* The first ~60 characters of sql on one line, for messages. */
const char *dbi_sql_brief(const char *sql, char *buf, size_t len);

void dbi_cache_drop(struct db *db);

/* Runs a prune: sql is a DELETE taking (retention in seconds, row limit);
 * *deleted_r (may be NULL) gets the rows it deleted. Refuses a negative
 * retention or a batch below 1. The caller adds the context of an error. */
enum db_status dbi_prune(struct db *db, const char *sql, long retention_s, int batch,
			 int *deleted_r);

#endif
