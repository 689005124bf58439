/*
 * db_script.c: SQL scripts (migrations, test DDL) split into statements and
 * run one by one as plain queries, so an error names the statement's line.
 *
 * Splitting rules (db.h): a statement ends with a ';' that ends a line, or
 * with the text; lines that begin (after blanks) with "-- " or "#" are
 * comments and dropped; blank lines are dropped. Anything else, quotes and
 * comments inside a line included, is passed to the server as written.
 * CLIENT_MULTI_STATEMENTS would leave the splitting to the server, but then
 * an error could not say which statement failed, and a connection that can
 * run several statements in one query is one injection away from harm.
 */
#include "db/db_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct dbi_buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct dbi_buf *b, const char *s, size_t n)
{
	if (b->len + n + 2 > b->cap) {
		size_t cap = (b->len + n + 2) * 2;
		char *p = realloc(b->p, cap);

		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* A comment line: "--" followed by a blank or the end of the line (MySQL's
 * rule), or "#". s..e is the line without its leading and trailing blanks. */
static int is_comment(const char *s, const char *e)
{
	if (*s == '#')
		return 1;
	return e - s >= 2 && s[0] == '-' && s[1] == '-' &&
	       (e - s == 2 || isspace((unsigned char)s[2]));
}

int db_script_next(const char **cursor, int *line, char **stmt_r, int *stmt_line_r)
{
	struct dbi_buf b = { 0 };
	const char *p = *cursor;
	int first = 0;

	*stmt_r = NULL;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		const char *next = eol != NULL ? eol + 1 : p + strlen(p);
		const char *s = p, *e = eol != NULL ? eol : next;
		int this_line = *line, ends;

		if (eol != NULL)
			(*line)++;
		p = next;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || is_comment(s, e))
			continue;
		ends = e[-1] == ';';
		if (ends)
			e--;
		if (first == 0 && s == e)
			continue; /* a ';' alone ends nothing */
		if (first == 0)
			first = this_line;
		else if (buf_add(&b, "\n", 1) != 0)
			goto nomem;
		if (buf_add(&b, s, (size_t)(e - s)) != 0)
			goto nomem;
		if (ends)
			break;
	}
	*cursor = p;
	if (first == 0)
		return 0;
	*stmt_r = b.p;
	*stmt_line_r = first;
	return 1;
nomem:
	free(b.p);
	*cursor = p;
	return -1;
}

/* Runs one statement as a plain query and discards any rows it returns. */
static int dbi_query(struct db *db, const char *sql)
{
	int more;

	if (mysql_real_query(db->my, sql, strlen(sql)) != 0)
		return -1;
	do {
		MYSQL_RES *res = mysql_store_result(db->my);

		if (res != NULL)
			mysql_free_result(res);
		else if (mysql_field_count(db->my) != 0)
			return -1;
		more = mysql_next_result(db->my);
	} while (more == 0);
	return more > 0 ? -1 : 0;
}

/* The first line of a statement, shortened, for messages. */
static const char *first_line(const char *stmt, char *buf, size_t len)
{
	size_t n = strcspn(stmt, "\n");

	if (n >= len)
		n = len - 4;
	while (n > 0 && ((unsigned char)stmt[n] & 0xC0) == 0x80)
		n--; /* do not cut a UTF-8 sequence */
	memcpy(buf, stmt, n);
	buf[n] = '\0';
	if (stmt[n] != '\0' && stmt[n] != '\n' && n + 3 < len) {
		memcpy(buf + n, "...", 4);
	}
	return buf;
}

enum db_status db_exec_script(struct db *db, const char *sql)
{
	const char *cursor = sql;
	char *stmt = NULL, brief[112];
	int line = 1, at = 0, r;
	enum db_status st = DB_OK;

	if (dbi_unusable(db))
		return DB_TRANSIENT;
	while ((r = db_script_next(&cursor, &line, &stmt, &at)) == 1) {
		if (dbi_query(db, stmt) != 0) {
			st = dbi_fail_my(db, "statement at line %d (%s)", at,
					 first_line(stmt, brief, sizeof(brief)));
			break;
		}
		free(stmt);
		stmt = NULL;
	}
	free(stmt);
	if (r < 0)
		return dbi_fail_own(db, "running a script: out of memory");
	if (st == DB_OK)
		dbi_clear_error(db);
	return st;
}
