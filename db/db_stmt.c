/*
 * db_stmt.c: the per-connection cache of prepared statements, db_run() and
 * db_select().
 *
 * The cache is keyed by the SQL text's address (callers pass literals, so the
 * lookup is a pointer compare) and every hit is verified with strcmp against
 * our own copy of the text, so a caller that reuses a buffer for another
 * statement gets the right one. A statement that fails with a DB_FATAL error
 * is dropped (it is prepared again next time: a table altered under it, a
 * server that asks for a re-prepare), and the whole cache goes with the
 * connection (db_reconnect, db_close).
 *
 * Results are bound column by column as MYSQL_TYPE_STRING into a small
 * buffer; a value longer than that comes back as MYSQL_DATA_TRUNCATED and is
 * fetched again whole with mysql_stmt_fetch_column into a buffer of its size,
 * so a 256 KiB body costs one allocation and no fixed limit.
 */
#include "db/db_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DBI_CELL_BUF 256 /* bytes per column per fetch before a refetch */

static unsigned int dbi_bucket(const void *key)
{
	uintptr_t v = (uintptr_t)key;

	v ^= v >> 15;
	v *= (uintptr_t)2654435761u;
	v ^= v >> 13;
	return (unsigned int)(v % DBI_CACHE_BUCKETS);
}

static void dbi_entry_free(struct dbi_stmt *e)
{
	/* mysql_stmt_close frees the handle even when the server cannot be
	 * told (a detached or lost connection); nothing more to do then. */
	if (e->stmt != NULL)
		(void)mysql_stmt_close(e->stmt);
	free(e->sql);
	free(e);
}

void dbi_cache_drop(struct db *db)
{
	for (int b = 0; b < DBI_CACHE_BUCKETS; b++) {
		struct dbi_stmt *e = db->cache[b], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			dbi_entry_free(e);
		}
		db->cache[b] = NULL;
	}
	db->cached = 0;
}

static void dbi_cache_forget(struct db *db, const char *sql)
{
	struct dbi_stmt **pp = &db->cache[dbi_bucket(sql)], *e;

	for (; (e = *pp) != NULL; pp = &e->next)
		if (e->key == sql) {
			*pp = e->next;
			dbi_entry_free(e);
			db->cached--;
			return;
		}
}

static struct dbi_stmt *dbi_cache_find(struct db *db, const char *sql)
{
	struct dbi_stmt *e;

	for (e = db->cache[dbi_bucket(sql)]; e != NULL; e = e->next)
		if (e->key == sql) {
			if (strcmp(e->sql, sql) == 0)
				return e;
			/* The same buffer holds another statement now. */
			dbi_cache_forget(db, sql);
			return NULL;
		}
	return NULL;
}

/* The prepared statement for sql, from the cache or prepared now; NULL with
 * the error recorded (*st its class). */
static MYSQL_STMT *dbi_prepare(struct db *db, const char *sql, enum db_status *st)
{
	char brief[96];
	struct dbi_stmt *e = dbi_cache_find(db, sql);
	unsigned int b;

	if (e != NULL)
		return e->stmt;
	if (db->cached >= DBI_CACHE_MAX)
		dbi_cache_drop(db);
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->sql = strdup(sql)) == NULL ||
	    (e->stmt = mysql_stmt_init(db->my)) == NULL) {
		*st = dbi_fail_own(db, "preparing \"%s\": out of memory",
				   dbi_sql_brief(sql, brief, sizeof(brief)));
		goto fail;
	}
	if (mysql_stmt_prepare(e->stmt, sql, strlen(sql)) != 0) {
		*st = dbi_fail(db, mysql_stmt_errno(e->stmt), mysql_stmt_error(e->stmt),
			       "preparing \"%s\"", dbi_sql_brief(sql, brief, sizeof(brief)));
		goto fail;
	}
	e->key = sql;
	b = dbi_bucket(sql);
	e->next = db->cache[b];
	db->cache[b] = e;
	db->cached++;
	return e->stmt;
fail:
	if (e != NULL)
		dbi_entry_free(e);
	return NULL;
}

/* Records a statement's error; a DB_FATAL one also drops the statement. */
static enum db_status dbi_fail_stmt(struct db *db, MYSQL_STMT *stmt, const char *sql,
				    const char *doing)
{
	char brief[96];
	enum db_status st;

	st = dbi_fail(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt), "%s \"%s\"", doing,
		      dbi_sql_brief(sql, brief, sizeof(brief)));
	if (st == DB_FATAL || mysql_stmt_errno(stmt) == 1615)
		dbi_cache_forget(db, sql);
	return st;
}

static enum db_status dbi_bind_params(struct db *db, MYSQL_STMT *stmt, const char *sql,
				      const struct db_param *params, int n, MYSQL_BIND *bind,
				      unsigned long *lens)
{
	char brief[96];

	if (n < 0 || (unsigned long)n != mysql_stmt_param_count(stmt))
		return dbi_fail_own(db, "running \"%s\": it takes %lu parameters, %d given",
				    dbi_sql_brief(sql, brief, sizeof(brief)),
				    mysql_stmt_param_count(stmt), n);
	for (int i = 0; i < n; i++) {
		const struct db_param *p = &params[i];

		memset(&bind[i], 0, sizeof(bind[i]));
		switch (p->type) {
		case DB_P_STR:
			if (p->s == NULL) {
				bind[i].buffer_type = MYSQL_TYPE_NULL;
				break;
			}
			lens[i] = p->len == (size_t)-1 ? strlen(p->s) : p->len;
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = (void *)p->s; /* only read */
			bind[i].buffer_length = lens[i];
			bind[i].length = &lens[i];
			break;
		case DB_P_INT:
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = (void *)&p->i; /* only read */
			break;
		case DB_P_NULL:
			bind[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		default:
			return dbi_fail_own(db, "running \"%s\": parameter %d has unknown type %d",
					    dbi_sql_brief(sql, brief, sizeof(brief)), i + 1,
					    (int)p->type);
		}
	}
	if (n > 0 && mysql_stmt_bind_param(stmt, bind) != 0)
		return dbi_fail_stmt(db, stmt, sql, "binding the parameters of");
	return DB_OK;
}

/* Prepares (or finds), binds and executes; *stmt_r on DB_OK. */
static enum db_status dbi_execute(struct db *db, const char *sql,
				  const struct db_param *params, int nparams,
				  MYSQL_STMT **stmt_r)
{
	enum db_status st = DB_FATAL;
	MYSQL_BIND *bind = NULL;
	unsigned long *lens = NULL;
	MYSQL_STMT *stmt;

	*stmt_r = NULL;
	if (dbi_unusable(db))
		return DB_TRANSIENT;
	stmt = dbi_prepare(db, sql, &st);
	if (stmt == NULL)
		return st;
	if (nparams > 0) {
		bind = calloc((size_t)nparams, sizeof(*bind));
		lens = calloc((size_t)nparams, sizeof(*lens));
		if (bind == NULL || lens == NULL) {
			st = dbi_fail_own(db, "running a statement: out of memory");
			goto out;
		}
	}
	st = dbi_bind_params(db, stmt, sql, params, nparams, bind, lens);
	if (st != DB_OK)
		goto out;
	if (mysql_stmt_execute(stmt) != 0) {
		st = dbi_fail_stmt(db, stmt, sql, "running");
		goto out;
	}
	*stmt_r = stmt;
	st = DB_OK;
out:
	/* The parameters are sent by execute: the bindings may go now. */
	free(bind);
	free(lens);
	return st;
}

enum db_status db_run(struct db *db, const char *sql, const struct db_param *params,
		      int nparams, unsigned long long *affected_r,
		      unsigned long long *insert_id_r)
{
	MYSQL_STMT *stmt;
	enum db_status st = dbi_execute(db, sql, params, nparams, &stmt);

	if (st != DB_OK)
		return st;
	if (affected_r != NULL)
		*affected_r = (unsigned long long)mysql_stmt_affected_rows(stmt);
	if (insert_id_r != NULL)
		*insert_id_r = (unsigned long long)mysql_stmt_insert_id(stmt);
	/* A statement that returned rows anyway: discard them. */
	if (mysql_stmt_field_count(stmt) > 0 && mysql_stmt_free_result(stmt) != 0)
		return dbi_fail_stmt(db, stmt, sql, "discarding the rows of");
	dbi_clear_error(db);
	return DB_OK;
}

/* ---- results --------------------------------------------------------------- */

struct dbi_fetch {
	int ncols;
	MYSQL_BIND *bind;
	char *bufs;              /* ncols * DBI_CELL_BUF */
	unsigned long *lens;
	my_bool *nulls;
	my_bool *errors;
	int cap;                 /* rows room in rows->cells */
};

static int dbi_fetch_init(struct dbi_fetch *f, int ncols)
{
	size_t n = (size_t)(ncols > 0 ? ncols : 1);

	memset(f, 0, sizeof(*f));
	f->ncols = ncols;
	f->bind = calloc(n, sizeof(*f->bind));
	f->bufs = calloc(n, DBI_CELL_BUF);
	f->lens = calloc(n, sizeof(*f->lens));
	f->nulls = calloc(n, sizeof(*f->nulls));
	f->errors = calloc(n, sizeof(*f->errors));
	if (f->bind == NULL || f->bufs == NULL || f->lens == NULL || f->nulls == NULL ||
	    f->errors == NULL)
		return -1;
	for (int c = 0; c < ncols; c++) {
		f->bind[c].buffer_type = MYSQL_TYPE_STRING;
		f->bind[c].buffer = f->bufs + (size_t)c * DBI_CELL_BUF;
		f->bind[c].buffer_length = DBI_CELL_BUF;
		f->bind[c].length = &f->lens[c];
		f->bind[c].is_null = &f->nulls[c];
		f->bind[c].error = &f->errors[c];
	}
	return 0;
}

static void dbi_fetch_free(struct dbi_fetch *f)
{
	free(f->bind);
	free(f->bufs);
	free(f->lens);
	free(f->nulls);
	free(f->errors);
}

/* Room for one more row in rows->cells; -1 when out of memory. */
static int dbi_rows_grow(struct db_rows *rows, struct dbi_fetch *f)
{
	char **cells;
	int cap;

	if (rows->nrows < f->cap)
		return 0;
	cap = f->cap > 0 ? f->cap * 2 : 16;
	cells = realloc(rows->cells, (size_t)cap * (size_t)(f->ncols > 0 ? f->ncols : 1) *
					     sizeof(*cells));
	if (cells == NULL)
		return -1;
	rows->cells = cells;
	f->cap = cap;
	return 0;
}

/* Copies the fetched row into rows; a truncated column is fetched again
 * whole. Returns 0, -1 when out of memory, 1 when fetch_column failed. */
static int dbi_take_row(MYSQL_STMT *stmt, struct dbi_fetch *f, struct db_rows *rows)
{
	char **row;

	if (dbi_rows_grow(rows, f) != 0)
		return -1;
	row = rows->cells + (size_t)rows->nrows * (size_t)f->ncols;
	for (int c = 0; c < f->ncols; c++)
		row[c] = NULL;
	rows->nrows++; /* from here on db_rows_free frees what is in row[] */
	for (int c = 0; c < f->ncols; c++) {
		unsigned long len = f->lens[c];

		if (f->nulls[c])
			continue;
		row[c] = malloc((size_t)len + 1);
		if (row[c] == NULL)
			return -1;
		if (len <= DBI_CELL_BUF) {
			memcpy(row[c], f->bind[c].buffer, len);
		} else {
			MYSQL_BIND whole;
			unsigned long got = 0;

			memset(&whole, 0, sizeof(whole));
			whole.buffer_type = MYSQL_TYPE_STRING;
			whole.buffer = row[c];
			whole.buffer_length = len + 1;
			whole.length = &got;
			if (mysql_stmt_fetch_column(stmt, &whole, (unsigned int)c, 0) != 0)
				return 1;
		}
		row[c][len] = '\0';
	}
	return 0;
}

enum db_status db_select(struct db *db, const char *sql, const struct db_param *params,
			 int nparams, struct db_rows *rows)
{
	struct dbi_fetch f = { 0 };
	char brief[96];
	MYSQL_STMT *stmt;
	enum db_status st;
	int rc = MYSQL_NO_DATA;

	memset(rows, 0, sizeof(*rows));
	st = dbi_execute(db, sql, params, nparams, &stmt);
	if (st != DB_OK)
		return st;
	rows->ncols = (int)mysql_stmt_field_count(stmt);
	if (dbi_fetch_init(&f, rows->ncols) != 0) {
		st = dbi_fail_own(db, "reading the rows of \"%s\": out of memory",
				  dbi_sql_brief(sql, brief, sizeof(brief)));
		goto out;
	}
	if (rows->ncols > 0 && mysql_stmt_bind_result(stmt, f.bind) != 0) {
		st = dbi_fail_stmt(db, stmt, sql, "binding the result of");
		goto out;
	}
	while (rows->ncols > 0 &&
	       ((rc = mysql_stmt_fetch(stmt)) == 0 || rc == MYSQL_DATA_TRUNCATED)) {
		rc = dbi_take_row(stmt, &f, rows);
		if (rc < 0) {
			st = dbi_fail_own(db, "reading the rows of \"%s\": out of memory",
					  dbi_sql_brief(sql, brief, sizeof(brief)));
			goto out;
		}
		if (rc > 0) {
			st = dbi_fail_stmt(db, stmt, sql, "fetching a long value of");
			goto out;
		}
	}
	if (rows->ncols > 0 && rc != MYSQL_NO_DATA) {
		st = dbi_fail_stmt(db, stmt, sql, "fetching the rows of");
		goto out;
	}
	st = DB_OK;
out:
	/* dbi_fail_stmt may have dropped the statement: stmt is only used while
	 * it is known to be alive. */
	if (st == DB_OK || !db->lost) {
		struct dbi_stmt *e = dbi_cache_find(db, sql);

		if (e != NULL && mysql_stmt_free_result(e->stmt) != 0 && st == DB_OK)
			st = dbi_fail_stmt(db, e->stmt, sql, "freeing the result of");
	}
	if (st != DB_OK)
		db_rows_free(rows);
	else
		dbi_clear_error(db);
	dbi_fetch_free(&f);
	return st;
}

const char *db_rows_get(const struct db_rows *rows, int r, int c)
{
	if (rows == NULL || r < 0 || r >= rows->nrows || c < 0 || c >= rows->ncols)
		return NULL;
	return rows->cells[(size_t)r * (size_t)rows->ncols + (size_t)c];
}

void db_rows_free(struct db_rows *rows)
{
	size_t n;

	if (rows == NULL)
		return;
	n = (size_t)rows->nrows * (size_t)rows->ncols;
	for (size_t i = 0; i < n; i++)
		free(rows->cells[i]);
	free(rows->cells);
	memset(rows, 0, sizeof(*rows));
}

enum db_status db_select_text(struct db *db, const char *sql, const struct db_param *params,
			       int nparams, char *out, size_t outlen, int *found_r)
{
	struct db_rows rows = { 0 };
	enum db_status st = db_select(db, sql, params, nparams, &rows);
	const char *v;

	*found_r = 0;
	if (outlen > 0)
		out[0] = '\0';
	if (st != DB_OK)
		return st;
	if (rows.nrows > 0) {
		*found_r = 1;
		v = db_rows_get(&rows, 0, 0);
		snprintf(out, outlen, "%s", v != NULL ? v : "");
	}
	db_rows_free(&rows);
	return DB_OK;
}

enum db_status dbi_prune(struct db *db, const char *sql, long retention_s, int batch,
			 int *deleted_r)
{
	struct db_param p[2] = { DBP_INT(retention_s), DBP_INT(batch) };
	unsigned long long n = 0;
	enum db_status st;

	if (deleted_r != NULL)
		*deleted_r = 0;
	if (retention_s < 0 || batch < 1)
		return dbi_fail_own(db, "retention %ld s and batch %d: both must be positive",
				    retention_s, batch);
	st = db_run(db, sql, p, 2, &n, NULL);
	if (st == DB_OK && deleted_r != NULL)
		*deleted_r = (int)n;
	return st;
}
