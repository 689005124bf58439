/*
 * of-dbcheck: proves db/ against a real MariaDB/MySQL server.
 *
 *   of-dbcheck [-c CONFIG] [--only a,b,...]
 *
 * With -c, the server and database come from CONFIG's `database` section
 * (tests/lib.sh's t_init writes one pointing at a fresh database); without
 * it, from $ORDERFLOW_DB_HOST, _PORT, _USER, _PASSWORD, _NAME (var/stack/env).
 * The database should be a fresh one of its own: the program migrates it and
 * writes and deletes rows in inbox and outbox. It also creates and drops two
 * scratch databases named after it (NAME_m and NAME_bad).
 *
 * One line per check ("ok   NAME: figures" or "FAIL NAME: why"); the exit
 * status is 1 when any check failed.
 */
#include "core/config.h"
#include "core/envelope.h"
#include "core/log.h"
#include "db/db.h"
#include "db/inbox.h"
#include "db/migrate.h"
#include "db/outbox.h"

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIG_BODY (200 * 1024)

static int failures;
static const char *only;
static struct cfg_database dbcfg;
static struct config *loaded;

static void report(int ok, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(int ok, const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s: ", ok ? "ok  " : "FAIL", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

/* A failed step inside a check: reports it and makes the check return. */
#define CHECK(cond, check, ...)                          \
	do {                                             \
		if (!(cond)) {                           \
			report(0, check, __VA_ARGS__);   \
			goto out;                        \
		}                                        \
	} while (0)

static int wanted(const char *check)
{
	size_t n = strlen(check);
	const char *p = only;

	if (only == NULL)
		return 1;
	while ((p = strstr(p, check)) != NULL) {
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static struct db *connect_or_die(const char *dbname)
{
	struct db *db = NULL;
	char *err = NULL;

	if (db_connect(&dbcfg, dbname, &db, &err) != 0) {
		fprintf(stderr, "of-dbcheck: %s\n", err);
		free(err);
		exit(1);
	}
	return db;
}

/* The first cell of a one-value query, copied into out ("NULL" for NULL). */
static enum db_status one_value(struct db *db, const char *sql, const struct db_param *p, int n,
				char *out, size_t outlen)
{
	struct db_rows rows;
	enum db_status st = db_select(db, sql, p, n, &rows);
	const char *v;

	out[0] = '\0';
	if (st != DB_OK)
		return st;
	v = db_rows_get(&rows, 0, 0);
	snprintf(out, outlen, "%s", rows.nrows == 0 ? "(no row)" : v != NULL ? v : "NULL");
	db_rows_free(&rows);
	return DB_OK;
}

static long long count_of(struct db *db, const char *sql, const struct db_param *p, int n)
{
	char v[64];

	if (one_value(db, sql, p, n, v, sizeof(v)) != DB_OK)
		return -1;
	return strtoll(v, NULL, 10);
}

static int migration_files(void)
{
	DIR *d = opendir(migrate_dir());
	struct dirent *e;
	int n = 0, v;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += migrate_parse_filename(e->d_name, &v);
	closedir(d);
	return n;
}

static void drop_database(const char *name)
{
	struct db *db = NULL;
	char *err = NULL, sql[160];

	if (db_connect_server(&dbcfg, &db, &err) != 0) {
		free(err);
		return;
	}
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", name);
	if (migrate_dbname_ok(name) && db_exec_script(db, sql) != DB_OK)
		fprintf(stderr, "of-dbcheck: %s\n", db_error(db));
	db_close(db);
}

/* ---- session ---------------------------------------------------------------- */

static void check_session(void)
{
	const char *C = "session";
	struct db *db = connect_or_die(NULL);
	struct db_rows rows = { 0 };
	const char *tz, *iso, *ac, *cs;

	CHECK(db_select(db, "SELECT @@session.time_zone, @@session.tx_isolation, @@autocommit, "
			    "@@character_set_client, @@character_set_results, "
			    "TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())", NULL, 0, &rows) == DB_OK,
	      C, "%s", db_error(db));
	tz = db_rows_get(&rows, 0, 0);
	iso = db_rows_get(&rows, 0, 1);
	ac = db_rows_get(&rows, 0, 2);
	cs = db_rows_get(&rows, 0, 3);
	CHECK(tz && strcmp(tz, "+00:00") == 0, C, "time_zone is %s", tz);
	CHECK(iso && strcmp(iso, "READ-COMMITTED") == 0, C, "isolation is %s", iso);
	CHECK(ac && strcmp(ac, "1") == 0, C, "autocommit is %s", ac);
	CHECK(cs && strcmp(cs, "utf8mb4") == 0 &&
	      strcmp(db_rows_get(&rows, 0, 4), "utf8mb4") == 0, C, "charset is %s", cs);
	CHECK(strcmp(db_rows_get(&rows, 0, 5), "0") == 0, C, "NOW() is not UTC");
	report(1, C, "time_zone %s, %s, autocommit %s, %s, thread id %lu", tz, iso, ac, cs,
	       db_thread_id(db));
out:
	db_rows_free(&rows);
	db_close(db);
}

/* ---- migrations --------------------------------------------------------------- */

static void check_migrate(void)
{
	const char *C = "migrate";
	int files = migration_files(), first = -1, second = -1;
	char *err = NULL;
	struct db *db = NULL;
	struct db_rows rows = { 0 };
	DIR *d = NULL;

	CHECK(files >= 2, C, "%d migration files in %s", files, migrate_dir());
	CHECK(migrate_run(&dbcfg, NULL, &first, &err) == 0, C, "first run: %s", err);
	CHECK(migrate_run(&dbcfg, NULL, &second, &err) == 0, C, "second run: %s", err);
	CHECK(first == files && second == 0, C, "applied %d then %d, %d files", first, second,
	      files);
	db = connect_or_die(NULL);
	CHECK(count_of(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
			   "DATABASE() AND table_name IN ('inbox', 'outbox', 'schema_migrations') "
			   "AND engine = 'InnoDB'", NULL, 0) == 3,
	      C, "inbox, outbox, schema_migrations are not all there (InnoDB)");
	CHECK(db_select(db, "SELECT version, name FROM schema_migrations ORDER BY version", NULL, 0,
			&rows) == DB_OK, C, "%s", db_error(db));
	CHECK(rows.nrows == files, C, "%d rows in schema_migrations, %d files", rows.nrows, files);
	d = opendir(migrate_dir());
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		int v, found = 0;
		size_t len = strlen(e->d_name);

		if (!migrate_parse_filename(e->d_name, &v))
			continue;
		for (int r = 0; r < rows.nrows; r++)
			found |= atoi(db_rows_get(&rows, r, 0)) == v &&
				 strncmp(db_rows_get(&rows, r, 1), e->d_name, len - 4) == 0 &&
				 strlen(db_rows_get(&rows, r, 1)) == len - 4;
		CHECK(found, C, "%s has no row (version %d) in schema_migrations", e->d_name, v);
	}
	report(1, C, "first run applied %d, second %d; schema_migrations matches the %d files", first,
	       second, files);
out:
	if (d != NULL)
		closedir(d);
	free(err);
	db_rows_free(&rows);
	db_close(db);
}

struct racer {
	const char *dbname;
	int applied;
	int rc;
	char *err;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	r->rc = migrate_run(&dbcfg, r->dbname, &r->applied, &r->err);
	return NULL;
}

/* Two migrators at once on a fresh database: the lock makes one apply all
 * and the other nothing. */
static void check_migrate_race(void)
{
	const char *C = "migrate-race";
	char name[80];
	struct racer r[2] = { { 0 }, { 0 } };
	pthread_t t[2];
	int files = migration_files();

	snprintf(name, sizeof(name), "%s_m", dbcfg.name);
	drop_database(name);
	for (int i = 0; i < 2; i++) {
		r[i].dbname = name;
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(r[0].rc == 0 && r[1].rc == 0, C, "%s / %s", r[0].err ? r[0].err : "ok",
	      r[1].err ? r[1].err : "ok");
	CHECK(r[0].applied + r[1].applied == files && (r[0].applied == 0 || r[1].applied == 0), C,
	      "applied %d and %d of %d files", r[0].applied, r[1].applied, files);
	report(1, C, "two migrators at once applied %d and %d", r[0].applied, r[1].applied);
out:
	free(r[0].err);
	free(r[1].err);
	drop_database(name);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A migration that fails names its file, the statement's line and first line
 * and the server's message; the ones before it stay recorded, it does not. */
static void check_migrate_failure(void)
{
	const char *C = "migrate-failure";
	char dir[] = "/tmp/of-dbcheck-XXXXXX", p1[128], p2[128], name[80];
	char *err = NULL;
	int applied = -1;
	struct db *db = NULL;

	snprintf(name, sizeof(name), "%s_bad", dbcfg.name);
	drop_database(name);
	CHECK(mkdtemp(dir) != NULL, C, "mkdtemp");
	snprintf(p1, sizeof(p1), "%s/001_fine.sql", dir);
	snprintf(p2, sizeof(p2), "%s/002_broken.sql", dir);
	CHECK(write_file(p1, "-- fine\nCREATE TABLE IF NOT EXISTS fine (x INT);\n") == 0 &&
	      write_file(p2, "CREATE TABLE IF NOT EXISTS ok2 (x INT);\n\n"
			     "CREATE TABLE IF NOT EXISTS broken (\n  x INT,,\n);\n"
			     "CREATE TABLE never (x INT);\n") == 0,
	      C, "writing %s", dir);
	setenv("ORDERFLOW_MIGRATIONS_DIR", dir, 1);
	CHECK(migrate_run(&dbcfg, name, &applied, &err) == -1, C, "a broken migration succeeded");
	unsetenv("ORDERFLOW_MIGRATIONS_DIR");
	CHECK(applied == 1, C, "applied %d before the failure", applied);
	CHECK(strstr(err, p2) != NULL && strstr(err, "statement at line 3 (CREATE TABLE IF NOT "
						       "EXISTS broken (") != NULL &&
	      strstr(err, "(1064)") != NULL, C, "message: %s", err);
	db = connect_or_die(name);
	CHECK(count_of(db, "SELECT COUNT(*) FROM schema_migrations", NULL, 0) == 1 &&
	      count_of(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
			   "DATABASE() AND table_name = 'never'", NULL, 0) == 0,
	      C, "002 was recorded or ran past its broken statement");
	report(1, C, "%s", err);
out:
	unsetenv("ORDERFLOW_MIGRATIONS_DIR");
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	free(err);
	db_close(db);
	drop_database(name);
}

/* ---- inbox and transactions ------------------------------------------------------ */

static void check_inbox(void)
{
	const char *C = "inbox";
	struct db *db = connect_or_die(NULL);
	char id[ENVELOPE_ID_LEN + 1], msg[1200];
	enum db_status st;

	envelope_new_uuid(id);
	CHECK((st = inbox_insert(db, "dbcheck", id)) == DB_OK, C, "first insert: %d %s", st,
	      db_error(db));
	CHECK((st = inbox_insert(db, "dbcheck", id)) == DB_DUPLICATE, C,
	      "second insert gave %d: %s", st, db_error(db));
	CHECK(strstr(db_error(db), "insert into inbox (consumer dbcheck, event ") != NULL &&
	      strstr(db_error(db), "Duplicate entry") != NULL && db_errno(db) == 1062 &&
	      !db_connection_lost(db),
	      C, "message: %s", db_error(db));
	snprintf(msg, sizeof(msg), "%s", db_error(db));
	CHECK(inbox_insert(db, "other", id) == DB_OK, C, "another consumer: %s", db_error(db));
	report(1, C, "OK, then DB_DUPLICATE: %s", msg);
out:
	db_close(db);
}

static void check_transactions(void)
{
	const char *C = "transactions";
	struct db *db = connect_or_die(NULL);
	char a[ENVELOPE_ID_LEN + 1], b[ENVELOPE_ID_LEN + 1], c[ENVELOPE_ID_LEN + 1];
	struct db_param pa[1] = { DBP_STR(a) }, pb[1] = { DBP_STR(b) }, pc[1] = { DBP_STR(c) };
	const char *q = "SELECT COUNT(*) FROM inbox WHERE event_id = ?";

	envelope_new_uuid(a);
	envelope_new_uuid(b);
	envelope_new_uuid(c);
	CHECK(db_begin(db) == DB_OK && inbox_insert(db, "tx", a) == DB_OK &&
	      db_rollback(db) == DB_OK, C, "%s", db_error(db));
	CHECK(count_of(db, q, pa, 1) == 0, C, "a rolled back row is there");
	CHECK(db_begin(db) == DB_OK && inbox_insert(db, "tx", b) == DB_OK &&
	      db_savepoint(db, "msg_2") == DB_OK && inbox_insert(db, "tx", c) == DB_OK &&
	      db_rollback_to(db, "msg_2") == DB_OK && db_commit(db) == DB_OK, C, "%s",
	      db_error(db));
	CHECK(count_of(db, q, pb, 1) == 1 && count_of(db, q, pc, 1) == 0, C,
	      "savepoint: kept %lld (want 1), undone %lld (want 0)", count_of(db, q, pb, 1),
	      count_of(db, q, pc, 1));
	CHECK(db_savepoint(db, "x; DROP TABLE inbox") == DB_FATAL &&
	      strstr(db_error(db), "savepoint name") != NULL, C, "a bad savepoint name: %s",
	      db_error(db));
	/* A rollback after a failure keeps the failure's message. */
	CHECK(db_begin(db) == DB_OK && inbox_insert(db, "tx", b) == DB_DUPLICATE &&
	      db_rollback(db) == DB_OK && db_errno(db) == 1062, C,
	      "the rollback lost the error: %s", db_error(db));
	report(1, C, "rollback, savepoint, rollback to savepoint, commit; bad name refused");
out:
	db_close(db);
}

/* ---- parameters and results ------------------------------------------------------- */

static void check_params(void)
{
	const char *C = "params";
	struct db *db = connect_or_die(NULL);
	struct db_param p[4] = { DBP_NULL, DBP_INT(9007199254740993LL), DBP_INT(-42),
				 DBP_STRN("abc\0def", 7) };
	struct db_rows rows = { 0 };
	char buf[32], v[64];
	unsigned long long affected = 0, id = 0;
	enum db_status st;

	CHECK(db_select(db, "SELECT ?, ? + 1, ?, LENGTH(?), NULL, ''", p, 4, &rows) == DB_OK, C,
	      "%s", db_error(db));
	CHECK(rows.nrows == 1 && rows.ncols == 6, C, "%d rows %d cols", rows.nrows, rows.ncols);
	CHECK(db_rows_get(&rows, 0, 0) == NULL && db_rows_get(&rows, 0, 4) == NULL, C,
	      "NULL came back as text");
	CHECK(strcmp(db_rows_get(&rows, 0, 1), "9007199254740994") == 0 &&
	      strcmp(db_rows_get(&rows, 0, 2), "-42") == 0 &&
	      strcmp(db_rows_get(&rows, 0, 3), "7") == 0 &&
	      strcmp(db_rows_get(&rows, 0, 5), "") == 0, C, "values %s %s %s",
	      db_rows_get(&rows, 0, 1), db_rows_get(&rows, 0, 2), db_rows_get(&rows, 0, 3));
	CHECK(db_rows_get(&rows, 1, 0) == NULL && db_rows_get(&rows, 0, 6) == NULL, C,
	      "out of range cells");
	db_rows_free(&rows);

	/* Wrong parameter count, bad SQL: DB_FATAL naming the statement. */
	CHECK(db_select(db, "SELECT ?", NULL, 0, &rows) == DB_FATAL &&
	      strstr(db_error(db), "takes 1 parameters, 0 given") != NULL, C, "count: %s",
	      db_error(db));
	CHECK((st = db_run(db, "SELEC 1", NULL, 0, NULL, NULL)) == DB_FATAL &&
	      strstr(db_error(db), "preparing \"SELEC 1\"") != NULL && db_errno(db) == 1064, C,
	      "syntax: %d %s", st, db_error(db));

	/* The cache is keyed by address and checked by text. */
	snprintf(buf, sizeof(buf), "SELECT 1");
	CHECK(one_value(db, buf, NULL, 0, v, sizeof(v)) == DB_OK && strcmp(v, "1") == 0, C,
	      "%s", db_error(db));
	snprintf(buf, sizeof(buf), "SELECT 2");
	CHECK(one_value(db, buf, NULL, 0, v, sizeof(v)) == DB_OK && strcmp(v, "2") == 0, C,
	      "a reused buffer gave %s", v);

	/* DATETIME(6) as text; affected rows; insert id. */
	CHECK(one_value(db, "SELECT CAST('2026-11-22 10:15:30.123456' AS DATETIME(6))", NULL, 0,
			v, sizeof(v)) == DB_OK && strcmp(v, "2026-11-22 10:15:30.123456") == 0,
	      C, "datetime(6) came back as %s", v);
	CHECK(db_exec_script(db, "CREATE TEMPORARY TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, "
				 "v INT)") == DB_OK, C, "%s", db_error(db));
	CHECK(db_run(db, "INSERT INTO t (v) VALUES (1), (1), (2)", NULL, 0, &affected, &id) ==
		      DB_OK && affected == 3 && id == 1, C, "insert: %llu rows, id %llu", affected,
	      id);
	CHECK(db_run(db, "UPDATE t SET v = 1 WHERE v <= 2", NULL, 0, &affected, NULL) == DB_OK &&
		      affected == 1, C, "update counted %llu rows (want changed rows: 1)", affected);
	report(1, C, "NULL, int64, -42, embedded NUL, '' ; bad count and syntax are DB_FATAL; "
		     "cache checks text; DATETIME(6) %s", v);
out:
	db_rows_free(&rows);
	db_close(db);
}

/* More distinct statements than the cache holds (each text in a buffer of
 * its own, all alive): the cache starts over and every answer is right. */
static void check_cache(void)
{
	const char *C = "cache";
	struct db *db = connect_or_die(NULL);
	enum { N = 600 };
	char *sql[N] = { 0 }, v[32], want[32];

	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			if (sql[i] == NULL && asprintf(&sql[i], "SELECT %d + 0", i) < 0)
				sql[i] = NULL;
			CHECK(sql[i] != NULL, C, "asprintf");
			snprintf(want, sizeof(want), "%d", i);
			CHECK(one_value(db, sql[i], NULL, 0, v, sizeof(v)) == DB_OK &&
			      strcmp(v, want) == 0, C, "statement %d gave %s: %s", i, v,
			      db_error(db));
		}
	report(1, C, "%d distinct statements twice over, answers right", N);
out:
	for (int i = 0; i < N; i++)
		free(sql[i]);
	db_close(db);
}

static void check_script(void)
{
	const char *C = "script";
	struct db *db = connect_or_die(NULL);
	char msg[1200];

	CHECK(db_exec_script(db, "-- a test script;\n"
				 "CREATE TEMPORARY TABLE s1 (x INT);\n"
				 "\n"
				 "INSERT INTO s1 VALUES (1), (2);\n"
				 "SELECT * FROM s1;\n"
				 "CREATE TEMPORARY TABLE s2 (\n"
				 "  y INT,,\n"
				 ");\n"
				 "INSERT INTO s1 VALUES (3);\n") == DB_FATAL,
	      C, "a broken script succeeded");
	CHECK(strstr(db_error(db), "statement at line 6 (CREATE TEMPORARY TABLE s2 (): ") != NULL &&
	      db_errno(db) == 1064, C, "message: %s", db_error(db));
	snprintf(msg, sizeof(msg), "%s", db_error(db));
	CHECK(count_of(db, "SELECT COUNT(*) FROM s1", NULL, 0) == 2, C,
	      "the script went on after the failure");
	report(1, C, "%s", msg);
out:
	db_close(db);
}

/* SQL metacharacters and non-ASCII text go through parameters unchanged. */
static void check_text(void)
{
	const char *C = "text";
	static const char nasty[] = "'; DROP TABLE inbox; -- \\ \" ` ü 日本 \xf0\x9f\x93\xa6";
	struct db *db = connect_or_die(NULL);
	char id[ENVELOPE_ID_LEN + 1], v[256], want[16];
	struct db_param p[2] = { DBP_STR(nasty), DBP_STR(id) };
	int chars = 0;

	envelope_new_uuid(id);
	CHECK(one_value(db, "SELECT ?", p, 1, v, sizeof(v)) == DB_OK && strcmp(v, nasty) == 0, C,
	      "SELECT ? gave %s", v);
	for (const char *c = nasty; *c != '\0'; c++)
		chars += ((unsigned char)*c & 0xC0) != 0x80;
	snprintf(want, sizeof(want), "%d", chars);
	CHECK(one_value(db, "SELECT CHAR_LENGTH(?)", p, 1, v, sizeof(v)) == DB_OK &&
	      strcmp(v, want) == 0, C, "the server counted %s characters, not %s", v, want);
	CHECK(inbox_insert(db, nasty, id) == DB_OK, C, "%s", db_error(db));
	CHECK(one_value(db, "SELECT consumer FROM inbox WHERE event_id = ?", p + 1, 1, v,
			sizeof(v)) == DB_OK && strcmp(v, nasty) == 0, C, "stored %s", v);
	CHECK(count_of(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
			   "DATABASE() AND table_name = 'inbox'", NULL, 0) == 1, C, "inbox is gone");
	report(1, C, "%s round trip, inbox still there", nasty);
out:
	db_close(db);
}

/* ---- outbox ------------------------------------------------------------------- */

static int make_event(struct envelope *ev, const char *note)
{
	char agg[ENVELOPE_ID_LEN + 1], err[256];

	envelope_new_uuid(agg);
	if (envelope_init(ev, "order.created", "order", agg, agg, "",
			  json_pack("{s:s, s:i}", "note", note, "total_cents", 1234), err,
			  sizeof(err)) != 0) {
		fprintf(stderr, "of-dbcheck: envelope_init: %s\n", err);
		return -1;
	}
	return 0;
}

static int append_events(struct db *db, int n, const char *note, char ids[][ENVELOPE_ID_LEN + 1])
{
	if (db_begin(db) != DB_OK)
		return -1;
	for (int i = 0; i < n; i++) {
		struct envelope ev;

		if (make_event(&ev, note) != 0 || outbox_append(db, &ev, NULL) != DB_OK) {
			envelope_clear(&ev);
			db_rollback(db);
			return -1;
		}
		if (ids != NULL)
			memcpy(ids[i], ev.event_id, sizeof(ids[i]));
		envelope_clear(&ev);
	}
	return db_commit(db) == DB_OK ? 0 : -1;
}

static int disjoint(const struct outbox_batch *a, const struct outbox_batch *b)
{
	for (int i = 0; i < a->count; i++)
		for (int j = 0; j < b->count; j++)
			if (a->rows[i].id == b->rows[j].id)
				return 0;
	return 1;
}

static void check_outbox_claim(void)
{
	const char *C = "outbox-claim";
	struct db *a = connect_or_die(NULL), *b = connect_or_die(NULL);
	struct outbox_batch ba = { 0 }, bb = { 0 }, bc = { 0 };
	unsigned long long ids[4];
	double lag = -1;
	long long pending = -1;

	CHECK(db_exec_script(a, "DELETE FROM outbox") == DB_OK, C, "%s", db_error(a));
	CHECK(append_events(a, 10, "claim", NULL) == 0, C, "append: %s", db_error(a));
	CHECK(db_begin(a) == DB_OK && outbox_claim(a, 4, &ba) == DB_OK, C, "A: %s", db_error(a));
	CHECK(db_begin(b) == DB_OK && outbox_claim(b, 4, &bb) == DB_OK, C, "B: %s", db_error(b));
	CHECK(ba.count == 4 && bb.count == 4 && disjoint(&ba, &bb), C,
	      "A got %d, B got %d rows, disjoint %d", ba.count, bb.count, disjoint(&ba, &bb));
	CHECK(ba.rows[0].id < ba.rows[3].id && ba.rows[3].id < bb.rows[0].id, C,
	      "not in id order: A %llu..%llu, B %llu..", ba.rows[0].id, ba.rows[3].id,
	      bb.rows[0].id);
	CHECK(strcmp(ba.rows[0].routing_key, "order.created") == 0 &&
	      strlen(ba.rows[0].event_id) == ENVELOPE_ID_LEN &&
	      ba.rows[0].body_len == strlen(ba.rows[0].body), C, "row content");
	for (int i = 0; i < 4; i++)
		ids[i] = ba.rows[i].id;
	CHECK(outbox_mark_published(a, ids, 4) == DB_OK && db_commit(a) == DB_OK, C, "mark: %s",
	      db_error(a));
	CHECK(db_rollback(b) == DB_OK, C, "B rollback: %s", db_error(b));
	/* B's rows are free again; A's are published. */
	CHECK(db_begin(b) == DB_OK && outbox_claim(b, 100, &bc) == DB_OK && bc.count == 6 &&
	      disjoint(&ba, &bc) && db_rollback(b) == DB_OK, C, "after: %d rows (%s)", bc.count,
	      db_error(b));
	CHECK(outbox_lag(a, &lag, &pending) == DB_OK && pending == 6 && lag >= 0 && lag < 60, C,
	      "lag %.3f s, %lld pending", lag, pending);
	report(1, C, "A %llu..%llu, B %llu..%llu (SKIP LOCKED), 6 left after A's commit; lag "
		     "%.3f s", ba.rows[0].id, ba.rows[3].id, bb.rows[0].id, bb.rows[3].id, lag);
out:
	outbox_batch_free(&ba);
	outbox_batch_free(&bb);
	outbox_batch_free(&bc);
	db_close(a);
	db_close(b);
}

/* The key a statement's plan uses (EXPLAIN's first row), into out. */
static enum db_status plan_key(struct db *db, const char *explain, char *out, size_t outlen)
{
	struct db_rows plan;
	enum db_status st = db_select(db, explain, NULL, 0, &plan);
	const char *key;

	out[0] = '\0';
	if (st != DB_OK)
		return st;
	key = db_rows_get(&plan, 0, 5);
	snprintf(out, outlen, "%s (%s)", key != NULL ? key : "none",
		 db_rows_get(&plan, 0, 3) != NULL ? db_rows_get(&plan, 0, 3) : "?");
	db_rows_free(&plan);
	return DB_OK;
}

/* With many published rows and a few pending ones (a relay that keeps up),
 * the claim, the prune and the lag read the (published_at, failed_at,
 * retry_at, id) index, and the inbox prune the processed_at one. */
static void check_outbox_plan(void)
{
	const char *C = "outbox-plan";
	struct db *db = connect_or_die(NULL);
	char claim[128], prune[128], lag[128], iprune[128];

	CHECK(db_exec_script(db, "DELETE FROM outbox;\n"
				 "INSERT INTO outbox (event_id, routing_key, body, created_at, "
				 "published_at)\n"
				 "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
				 "WHERE i < 60)\n"
				 "SELECT UUID(), 'order.created', REPEAT('b', 300), UTC_TIMESTAMP(6), "
				 "UTC_TIMESTAMP(6) FROM n a, n b;\n"
				 "ANALYZE TABLE outbox;\n") == DB_OK, C, "%s", db_error(db));
	CHECK(append_events(db, 20, "plan", NULL) == 0, C, "%s", db_error(db));
	CHECK(plan_key(db, "EXPLAIN SELECT id, event_id, routing_key, body, attempts FROM outbox "
			   "WHERE published_at IS NULL AND failed_at IS NULL AND retry_at IS NULL "
			   "ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
		       claim, sizeof(claim)) == DB_OK &&
	      plan_key(db, "EXPLAIN DELETE FROM outbox WHERE published_at IS NOT NULL "
			   "AND published_at < UTC_TIMESTAMP(6) - INTERVAL 60 SECOND "
			   "ORDER BY published_at LIMIT 2000", prune, sizeof(prune)) == DB_OK &&
	      plan_key(db, "EXPLAIN SELECT COUNT(*) FROM outbox WHERE published_at IS NULL "
			   "AND failed_at IS NULL", lag, sizeof(lag)) == DB_OK &&
	      plan_key(db, "EXPLAIN DELETE FROM inbox WHERE processed_at < UTC_TIMESTAMP(6) - "
			   "INTERVAL 60 SECOND ORDER BY processed_at LIMIT 2000", iprune,
		       sizeof(iprune)) == DB_OK, C, "%s", db_error(db));
	CHECK(strncmp(claim, "ix_outbox_pending ", 18) == 0 &&
	      strncmp(prune, "ix_outbox_pending ", 18) == 0 &&
	      strncmp(lag, "ix_outbox_pending ", 18) == 0 &&
	      strncmp(iprune, "ix_inbox_processed_at ", 22) == 0, C,
	      "claim uses %s, prune %s, lag %s, inbox prune %s", claim, prune, lag, iprune);
	CHECK(db_exec_script(db, "DELETE FROM outbox") == DB_OK, C, "%s", db_error(db));
	report(1, C, "claim %s, prune %s, lag %s, inbox prune %s", claim, prune, lag, iprune);
out:
	db_close(db);
}

static void check_outbox_mark_many(void)
{
	const char *C = "outbox-mark";
	struct db *db = connect_or_die(NULL);
	struct outbox_batch bt = { 0 };
	unsigned long long *ids = NULL;

	CHECK(db_exec_script(db, "DELETE FROM outbox") == DB_OK, C, "%s", db_error(db));
	CHECK(append_events(db, 37, "mark", NULL) == 0, C, "append: %s", db_error(db));
	CHECK(db_begin(db) == DB_OK && outbox_claim(db, 100, &bt) == DB_OK && bt.count == 37, C,
	      "claimed %d: %s", bt.count, db_error(db));
	ids = calloc(37, sizeof(*ids));
	for (int i = 0; i < bt.count; i++)
		ids[i] = bt.rows[i].id;
	CHECK(outbox_mark_published(db, ids, 37) == DB_OK && db_commit(db) == DB_OK, C, "%s",
	      db_error(db));
	CHECK(count_of(db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL", NULL, 0) == 0,
	      C, "rows left unpublished");
	report(1, C, "37 rows marked (2 chunks of 16, 5 single)");
out:
	free(ids);
	outbox_batch_free(&bt);
	db_close(db);
}

static void check_prune(void)
{
	const char *C = "prune";
	struct db *db = connect_or_die(NULL);
	int d1 = -1, d2 = -1, d3 = -1, i1 = -1, i2 = -1;
	long long left;

	/* From check_outbox_mark_many: 37 published rows. Age 30 of them. */
	CHECK(db_run(db, "UPDATE outbox SET published_at = published_at - INTERVAL 2 DAY "
			 "WHERE published_at IS NOT NULL ORDER BY id LIMIT 30", NULL, 0, NULL,
		     NULL) == DB_OK, C, "%s", db_error(db));
	CHECK(append_events(db, 2, "unpublished", NULL) == 0, C, "%s", db_error(db));
	CHECK(db_run(db, "UPDATE outbox SET created_at = created_at - INTERVAL 3 DAY "
			 "WHERE published_at IS NULL", NULL, 0, NULL, NULL) == DB_OK, C, "%s",
	      db_error(db));
	CHECK(outbox_prune(db, 86400, 25, &d1) == DB_OK && outbox_prune(db, 86400, 25, &d2) ==
		      DB_OK && outbox_prune(db, 86400, 25, &d3) == DB_OK, C, "%s", db_error(db));
	CHECK(d1 == 25 && d2 == 5 && d3 == 0, C, "deleted %d, %d, %d (want 25, 5, 0)", d1, d2, d3);
	left = count_of(db, "SELECT COUNT(*) FROM outbox", NULL, 0);
	CHECK(left == 9, C, "%lld rows left (want 7 recent published + 2 unpublished)", left);

	CHECK(db_run(db, "UPDATE inbox SET processed_at = processed_at - INTERVAL 40 DAY "
			 "WHERE consumer = 'tx'", NULL, 0, NULL, NULL) == DB_OK, C, "%s",
	      db_error(db));
	left = count_of(db, "SELECT COUNT(*) FROM inbox WHERE consumer = 'tx'", NULL, 0);
	CHECK(inbox_prune(db, 30L * 86400, 1000, &i1) == DB_OK &&
	      inbox_prune(db, 30L * 86400, 1000, &i2) == DB_OK, C, "%s", db_error(db));
	CHECK(i1 == left && i1 > 0 && i2 == 0 &&
	      count_of(db, "SELECT COUNT(*) FROM inbox", NULL, 0) > 0, C,
	      "inbox prune deleted %d then %d of %lld old rows", i1, i2, left);
	CHECK(outbox_prune(db, 86400, 0, &d1) == DB_FATAL, C, "batch 0 accepted");
	report(1, C, "outbox: 25 + 5 + 0 old published rows deleted, unpublished kept; inbox: %d "
		     "old rows deleted, recent kept", i1);
out:
	db_close(db);
}

static void check_lag(void)
{
	const char *C = "lag";
	struct db *db = connect_or_die(NULL);
	double lag = -1;
	long long pending = -1;

	/* check_prune left 2 unpublished rows created 3 days ago. */
	CHECK(outbox_lag(db, &lag, &pending) == DB_OK, C, "%s", db_error(db));
	CHECK(pending == 2 && lag > 3 * 86400 - 5 && lag < 3 * 86400 + 600, C,
	      "%lld pending, lag %.3f s", pending, lag);
	CHECK(db_exec_script(db, "DELETE FROM outbox") == DB_OK &&
	      outbox_lag(db, &lag, &pending) == DB_OK && pending == 0 && lag == 0, C,
	      "empty outbox: %lld pending, lag %.3f", pending, lag);
	report(1, C, "2 pending, 3 days old; empty: 0 and 0");
out:
	db_close(db);
}

static void check_big(void)
{
	const char *C = "big";
	struct db *db = connect_or_die(NULL);
	char *note = malloc(BIG_BODY + 1), *want = NULL;
	struct envelope ev = { 0 };
	struct outbox_batch bt = { 0 };
	struct db_rows rows = { 0 };
	struct db_param p[1];
	size_t wantlen;

	CHECK(note != NULL, C, "malloc");
	/* ASCII and multibyte characters, so a cut would show. */
	for (size_t i = 0; i < BIG_BODY;) {
		static const char pat[] = "abcdefghij\xc3\xbc\xe6\x97\xa5";

		for (size_t k = 0; k < sizeof(pat) - 1 && i < BIG_BODY; k++)
			note[i++] = pat[k];
	}
	note[BIG_BODY - (BIG_BODY % 15)] = '\0';
	CHECK(db_exec_script(db, "DELETE FROM outbox") == DB_OK, C, "%s", db_error(db));
	CHECK(make_event(&ev, note) == 0 && db_begin(db) == DB_OK &&
	      outbox_append(db, &ev, NULL) == DB_OK && db_commit(db) == DB_OK, C, "append: %s",
	      db_error(db));
	want = envelope_encode(&ev);
	wantlen = strlen(want);
	CHECK(db_begin(db) == DB_OK && outbox_claim(db, 10, &bt) == DB_OK && bt.count == 1 &&
	      db_rollback(db) == DB_OK, C, "claim: %s", db_error(db));
	CHECK(bt.rows[0].body_len == wantlen && memcmp(bt.rows[0].body, want, wantlen) == 0, C,
	      "body of %zu bytes came back as %zu bytes", wantlen, bt.rows[0].body_len);
	/* Several long values in one row and over several rows. */
	p[0] = DBP_STR(note);
	CHECK(db_select(db, "SELECT ?, 'short', REPEAT('x', 300000), NULL", p, 1, &rows) ==
		      DB_OK, C, "%s", db_error(db));
	CHECK(rows.nrows == 1 && strcmp(db_rows_get(&rows, 0, 0), note) == 0 &&
	      strcmp(db_rows_get(&rows, 0, 1), "short") == 0 &&
	      strlen(db_rows_get(&rows, 0, 2)) == 300000 && db_rows_get(&rows, 0, 3) == NULL, C,
	      "long values in one row were cut or mixed up");
	db_rows_free(&rows);
	CHECK(db_select(db, "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
			    "WHERE i < 3) SELECT i, REPEAT(CHAR(64 + i), 70000 + i), 'z' FROM n "
			    "ORDER BY i", NULL, 0, &rows) == DB_OK, C, "%s", db_error(db));
	CHECK(rows.nrows == 3, C, "%d rows", rows.nrows);
	for (int r = 0; r < 3; r++) {
		const char *v = db_rows_get(&rows, r, 1);

		CHECK(v != NULL && strlen(v) == (size_t)70001 + (size_t)r &&
		      v[0] == 'A' + r && v[70000 + r] == 'A' + r &&
		      strcmp(db_rows_get(&rows, r, 2), "z") == 0, C,
		      "row %d: a long value was cut or mixed up", r);
	}
	report(1, C, "%zu-byte body round trip; 200 KiB and 300000-byte values in one row, "
		     "70001-70003-byte values over 3 rows",
	       wantlen);
out:
	free(note);
	free(want);
	envelope_clear(&ev);
	outbox_batch_free(&bt);
	db_rows_free(&rows);
	db_close(db);
}

/* KILL from another connection: the loss is DB_TRANSIENT and sticky, the
 * killed transaction is gone, db_reconnect brings the connection back. */
static void check_kill(void)
{
	const char *C = "kill";
	struct db *victim = connect_or_die(NULL), *killer = connect_or_die(NULL);
	char a[ENVELOPE_ID_LEN + 1], b[ENVELOPE_ID_LEN + 1], lostmsg[1200];
	struct db_param k[1] = { DBP_INT((long long)db_thread_id(victim)) };
	struct db_param pa[1] = { DBP_STR(a) };
	unsigned long old_id = db_thread_id(victim);
	enum db_status st;

	envelope_new_uuid(a);
	envelope_new_uuid(b);
	CHECK(db_begin(victim) == DB_OK && inbox_insert(victim, "kill", a) == DB_OK, C, "%s",
	      db_error(victim));
	CHECK(db_run(killer, "KILL ?", k, 1, NULL, NULL) == DB_OK, C, "KILL %lu: %s", old_id,
	      db_error(killer));
	st = inbox_insert(victim, "kill", b);
	CHECK(st == DB_TRANSIENT && db_connection_lost(victim), C,
	      "after KILL: status %d, lost %d: %s", st, db_connection_lost(victim),
	      db_error(victim));
	snprintf(lostmsg, sizeof(lostmsg), "%s", db_error(victim));
	CHECK(db_rollback(victim) == DB_TRANSIENT && strcmp(db_error(victim), lostmsg) == 0 &&
	      db_ping(victim) == DB_TRANSIENT && db_commit(victim) == DB_TRANSIENT, C,
	      "calls on a lost connection: %s", db_error(victim));
	CHECK(db_reconnect(victim) == DB_OK && !db_connection_lost(victim) &&
	      db_thread_id(victim) != old_id, C, "reconnect: %s", db_error(victim));
	CHECK(count_of(victim, "SELECT COUNT(*) FROM inbox WHERE event_id = ?", pa, 1) == 0, C,
	      "the killed transaction's row is there");
	/* The statement cache was dropped: the cached insert prepares again. */
	CHECK(inbox_insert(victim, "kill", a) == DB_OK && db_ping(victim) == DB_OK, C,
	      "after reconnect: %s", db_error(victim));
	report(1, C, "%s", lostmsg);
out:
	db_close(victim);
	db_close(killer);
}

/* The server closing an idle session (wait_timeout) is noticed the same way. */
static void check_idle_timeout(void)
{
	const char *C = "idle-timeout";
	struct db *db = connect_or_die(NULL);
	char v[64];
	enum db_status st;

	CHECK(db_exec_script(db, "SET SESSION wait_timeout = 1") == DB_OK, C, "%s", db_error(db));
	sleep(3);
	st = one_value(db, "SELECT 1", NULL, 0, v, sizeof(v));
	CHECK(st == DB_TRANSIENT && db_connection_lost(db), C, "status %d: %s", st, db_error(db));
	CHECK(db_reconnect(db) == DB_OK && one_value(db, "SELECT 1", NULL, 0, v, sizeof(v)) ==
		      DB_OK, C, "%s", db_error(db));
	report(1, C, "%s", "lost, then reconnected");
out:
	db_close(db);
}

/* ---- main ----------------------------------------------------------------------- */

static void from_env(void)
{
	const char *port = getenv("ORDERFLOW_DB_PORT");

	dbcfg.host = getenv("ORDERFLOW_DB_HOST");
	dbcfg.port = port != NULL ? atoi(port) : 3306;
	dbcfg.user = getenv("ORDERFLOW_DB_USER");
	dbcfg.password = getenv("ORDERFLOW_DB_PASSWORD");
	dbcfg.name = getenv("ORDERFLOW_DB_NAME");
	if (dbcfg.host == NULL || dbcfg.user == NULL || dbcfg.name == NULL) {
		fprintf(stderr, "of-dbcheck: give -c CONFIG or set ORDERFLOW_DB_HOST, _PORT, _USER, "
				"_PASSWORD, _NAME (source var/stack/env)\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} checks[] = {
		{ "migrate", check_migrate },
		{ "session", check_session },
		{ "migrate-race", check_migrate_race },
		{ "migrate-failure", check_migrate_failure },
		{ "inbox", check_inbox },
		{ "transactions", check_transactions },
		{ "params", check_params },
		{ "cache", check_cache },
		{ "script", check_script },
		{ "text", check_text },
		{ "outbox-claim", check_outbox_claim },
		{ "outbox-plan", check_outbox_plan },
		{ "outbox-mark", check_outbox_mark_many },
		{ "prune", check_prune },
		{ "lag", check_lag },
		{ "big", check_big },
		{ "kill", check_kill },
		{ "idle-timeout", check_idle_timeout },
	};
	const char *conf = NULL;

	log_init("dbcheck");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[++i];
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: of-dbcheck [-c CONFIG] [--only a,b,...]\n");
			return 2;
		}
	}
	if (conf != NULL) {
		char *errors = NULL;

		if (config_load(conf, &loaded, &errors) != 0) {
			fprintf(stderr, "%s", errors);
			free(errors);
			return 2;
		}
		dbcfg = loaded->database;
	} else {
		from_env();
	}
	if (!migrate_dbname_ok(dbcfg.name) || strlen(dbcfg.name) > 60) {
		fprintf(stderr, "of-dbcheck: database name %s: letters, digits, _ (60 at most)\n",
			dbcfg.name);
		return 2;
	}
	/* The migration must run first: the others need its tables. */
	if (only != NULL && !wanted("migrate")) {
		int n;
		char *err = NULL;

		if (migrate_run(&dbcfg, NULL, &n, &err) != 0) {
			fprintf(stderr, "of-dbcheck: %s\n", err);
			free(err);
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (wanted(checks[i].name))
			checks[i].fn();
	if (loaded != NULL)
		config_free(loaded);
	db_library_end();
	printf("%s: %d check%s failed\n", failures ? "FAIL" : "ok", failures,
	       failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
