/*
 * db_error: the error record every db/ function fills (what was being done,
 * the server's or client's message and number) and the classes of MySQL
 * error numbers. Below db.c and db_stmt.c, which both record errors here.
 */
#include "db/db_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- error classes ------------------------------------------------------ */

enum db_status db_classify(unsigned int e)
{
	switch (e) {
	case 0:
		return DB_OK;
	case 1062: /* ER_DUP_ENTRY */
	case 1586: /* ER_DUP_ENTRY_WITH_KEY_NAME: the same, older wording */
		return DB_DUPLICATE;
	case 1213: /* ER_LOCK_DEADLOCK */
	case 1205: /* ER_LOCK_WAIT_TIMEOUT */
	case 1040: /* ER_CON_COUNT_ERROR: too many connections */
	case 1053: /* ER_SERVER_SHUTDOWN */
	case 1927: /* ER_CONNECTION_KILLED (MariaDB) */
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT: idle too long (MariaDB) */
	case 1615: /* ER_NEED_REPREPARE: the statement is dropped, the retry prepares it */
	case 2002: /* CR_CONNECTION_ERROR: socket */
	case 2003: /* CR_CONN_HOST_ERROR: TCP */
	case 2006: /* CR_SERVER_GONE_ERROR */
	case 2013: /* CR_SERVER_LOST */
	case 2026: /* CR_SSL_CONNECTION_ERROR */
	case 2055: /* CR_SERVER_LOST_EXTENDED */
		return DB_TRANSIENT;
	default:
		return DB_FATAL;
	}
}

int db_errno_connection_lost(unsigned int e)
{
	switch (e) {
	case 2002:
	case 2003:
	case 2006:
	case 2013:
	case 2055:
	case 1053:
	case 1927:
	case 4031:
		return 1;
	default:
		return 0;
	}
}

/* ---- the error record --------------------------------------------------- */

static void dbi_compose(struct db *db)
{
	if (db->errnum != 0)
		snprintf(db->err, sizeof(db->err), "%s: %s (%u)", db->what, db->msg, db->errnum);
	else
		snprintf(db->err, sizeof(db->err), "%s: %s", db->what, db->msg);
}

static enum db_status dbi_vfail(struct db *db, unsigned int errnum, const char *msg,
				const char *fmt, va_list ap)
{
	db->errnum = errnum;
	snprintf(db->msg, sizeof(db->msg), "%s", msg != NULL && *msg != '\0' ? msg : "unknown error");
	vsnprintf(db->what, sizeof(db->what), fmt, ap);
	dbi_compose(db);
	if (db_errno_connection_lost(errnum))
		db->lost = 1;
	return errnum == 0 ? DB_FATAL : db_classify(errnum);
}

enum db_status dbi_fail(struct db *db, unsigned int errnum, const char *msg, const char *fmt,
			...)
{
	enum db_status st;
	va_list ap;

	va_start(ap, fmt);
	st = dbi_vfail(db, errnum, msg, fmt, ap);
	va_end(ap);
	return st;
}

enum db_status dbi_fail_my(struct db *db, const char *fmt, ...)
{
	enum db_status st;
	va_list ap;

	va_start(ap, fmt);
	st = dbi_vfail(db, mysql_errno(db->my), mysql_error(db->my), fmt, ap);
	va_end(ap);
	return st;
}

enum db_status dbi_fail_own(struct db *db, const char *fmt, ...)
{
	va_list ap;
	char what[sizeof(db->what)];

	/* The message is the "what" here; keep the "what: msg" shape. */
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	db->errnum = 0;
	snprintf(db->what, sizeof(db->what), "%s", what);
	db->msg[0] = '\0';
	snprintf(db->err, sizeof(db->err), "%s", what);
	return DB_FATAL;
}

void dbi_clear_error(struct db *db)
{
	db->errnum = 0;
	db->what[0] = db->msg[0] = db->err[0] = '\0';
}

int dbi_unusable(struct db *db)
{
	if (db->my != NULL && !db->lost)
		return 0;
	if (db->err[0] == '\0') {
		dbi_fail(db, 2006, "not connected", "using the database connection");
	}
	return 1;
}

void db_error_context(struct db *db, const char *fmt, ...)
{
	va_list ap;

	if (db == NULL || db->err[0] == '\0')
		return;
	/* An error of ours has no server message: its whole text becomes the
	 * message under the new "what". */
	if (db->msg[0] == '\0' && db->errnum == 0)
		snprintf(db->msg, sizeof(db->msg), "%.*s", (int)sizeof(db->msg) - 1, db->err);
	va_start(ap, fmt);
	vsnprintf(db->what, sizeof(db->what), fmt, ap);
	va_end(ap);
	dbi_compose(db);
}

const char *db_error_join(char *buf, size_t len, const char *what, const char *err)
{
	size_t n = strlen(what);

	if (strncmp(err, what, n) == 0 && (err[n] == ':' || err[n] == ' ' || err[n] == '\0'))
		snprintf(buf, len, "%s", err);
	else
		snprintf(buf, len, "%s: %s", what, err);
	return buf;
}

const char *dbi_sql_brief(const char *sql, char *buf, size_t len)
{
	size_t o = 0, max = len > 4 ? len - 4 : 0; /* room for "..." and the NUL */
	const char *p;
	int space = 0, cut = 0;

	for (p = sql; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			space = o > 0;
			continue;
		}
		if (o + (size_t)space + 1 > max ||
		    (o >= 72 && ((unsigned char)*p & 0xC0) != 0x80)) {
			cut = 1;
			break;
		}
		if (space)
			buf[o++] = ' ';
		space = 0;
		buf[o++] = *p;
	}
	/* Never end inside a UTF-8 sequence. */
	if (cut && ((unsigned char)*p & 0xC0) == 0x80)
		while (o > 0 && ((unsigned char)buf[--o] & 0xC0) == 0x80)
			;
	if (len > 0)
		buf[o] = '\0';
	if (cut && o + 4 <= len)
		memcpy(buf + o, "...", 4);
	return buf;
}

const char *db_error(const struct db *db)
{
	if (db == NULL)
		return "no database connection";
	return db->err;
}

unsigned int db_errno(const struct db *db)
{
	return db != NULL ? db->errnum : 0;
}

int db_connection_lost(const struct db *db)
{
	return db == NULL || db->my == NULL || db->lost;
}

unsigned long db_thread_id(const struct db *db)
{
	return db != NULL && db->my != NULL ? mysql_thread_id(db->my) : 0;
}
