/*
 * test_db_classify: the pure parts of db/ that decide what a caller does:
 * the class of every MySQL/MariaDB error number (duplicate = ack, transient =
 * retry, fatal = park), which numbers mean the connection is gone (pause and
 * reconnect), the savepoint names we accept, the statement splitter of
 * db_exec_script() (run on the real migration files too), the migration file
 * names and database names migrate_run() accepts, and what a failed connect
 * reports (no server needed: nothing listens where it connects).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "db/db.h"
#include "db/db_int.h"
#include "db/migrate.h"

/* ---- error classes ---- */

static void test_duplicate_key_is_duplicate(void **state)
{
	(void)state;
	assert_int_equal(db_classify(1062), DB_DUPLICATE);
	assert_int_equal(db_classify(1586), DB_DUPLICATE);
}

static void test_lock_conflicts_are_transient(void **state)
{
	(void)state;
	assert_int_equal(db_classify(1213), DB_TRANSIENT); /* deadlock */
	assert_int_equal(db_classify(1205), DB_TRANSIENT); /* lock wait timeout */
}

static void test_connection_troubles_are_transient(void **state)
{
	static const unsigned int e[] = { 2002, 2003, 2006, 2013, 2055, 1927, 1053, 4031,
					  1040, 2026 };

	(void)state;
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		if (db_classify(e[i]) != DB_TRANSIENT)
			fail_msg("error %u should be transient", e[i]);
	}
}

static void test_reprepare_is_transient(void **state)
{
	(void)state;
	assert_int_equal(db_classify(1615), DB_TRANSIENT);
}

static void test_other_errors_are_fatal(void **state)
{
	/* syntax, unknown table/column, data too long, check constraint,
	 * access denied, unknown database, commands out of sync, bad null */
	static const unsigned int e[] = { 1064, 1146, 1054, 1406, 4025, 1045, 1049, 2014, 1048,
					  1, 9999 };

	(void)state;
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		if (db_classify(e[i]) != DB_FATAL)
			fail_msg("error %u should be fatal", e[i]);
	}
}

static void test_no_error_is_ok(void **state)
{
	(void)state;
	assert_int_equal(db_classify(0), DB_OK);
}

static void test_lost_connection_numbers(void **state)
{
	static const unsigned int lost[] = { 2002, 2003, 2006, 2013, 2055, 1053, 1927, 4031 };
	static const unsigned int kept[] = { 0, 1062, 1213, 1205, 1040, 2026, 1064, 2014 };

	(void)state;
	for (size_t i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
		if (!db_errno_connection_lost(lost[i]))
			fail_msg("error %u should mean the connection is lost", lost[i]);
		/* and every loss is retried, never parked */
		if (db_classify(lost[i]) != DB_TRANSIENT)
			fail_msg("lost connection %u should be transient", lost[i]);
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		if (db_errno_connection_lost(kept[i]))
			fail_msg("error %u should not mean the connection is lost", kept[i]);
	}
}

static void test_no_connection_counts_as_lost(void **state)
{
	(void)state;
	assert_true(db_connection_lost(NULL));
	assert_string_equal(db_error(NULL), "no database connection");
}

/* ---- savepoint names ---- */

static void test_savepoint_names_of_ours_are_accepted(void **state)
{
	(void)state;
	assert_true(db_savepoint_name_ok("m1"));
	assert_true(db_savepoint_name_ok("msg_42"));
	assert_true(db_savepoint_name_ok("_x"));
	assert_true(db_savepoint_name_ok("batch_0_msg_17"));
}

static void test_savepoint_names_that_could_inject_are_refused(void **state)
{
	char longest[66];

	(void)state;
	assert_false(db_savepoint_name_ok(NULL));
	assert_false(db_savepoint_name_ok(""));
	assert_false(db_savepoint_name_ok("1abc"));
	assert_false(db_savepoint_name_ok("Msg"));
	assert_false(db_savepoint_name_ok("a b"));
	assert_false(db_savepoint_name_ok("a;DROP TABLE inbox"));
	assert_false(db_savepoint_name_ok("a`b"));
	assert_false(db_savepoint_name_ok("a-b"));
	assert_false(db_savepoint_name_ok("\xc3\xbc"));
	memset(longest, 'a', 64);
	longest[64] = '\0';
	assert_true(db_savepoint_name_ok(longest));
	longest[64] = 'a';
	longest[65] = '\0';
	assert_false(db_savepoint_name_ok(longest));
}

/* ---- the script splitter ---- */

struct split {
	int n;
	char *stmt[16];
	int line[16];
};

static void split_all(const char *text, struct split *s)
{
	const char *cur = text;
	int line = 1, at, r;
	char *stmt;

	memset(s, 0, sizeof(*s));
	while ((r = db_script_next(&cur, &line, &stmt, &at)) == 1) {
		assert_true(s->n < 16);
		s->stmt[s->n] = stmt;
		s->line[s->n] = at;
		s->n++;
	}
	assert_int_equal(r, 0);
}

static void split_free(struct split *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->stmt[i]);
}

static void test_script_splits_at_semicolons_ending_lines(void **state)
{
	struct split s;

	(void)state;
	split_all("CREATE TABLE a (\n  x INT\n);\n\nCREATE TABLE b (y INT);   \nSELECT 1", &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.stmt[0], "CREATE TABLE a (\nx INT\n)");
	assert_int_equal(s.line[0], 1);
	assert_string_equal(s.stmt[1], "CREATE TABLE b (y INT)");
	assert_int_equal(s.line[1], 5);
	assert_string_equal(s.stmt[2], "SELECT 1");
	assert_int_equal(s.line[2], 6);
	split_free(&s);
}

static void test_script_drops_comment_and_blank_lines(void **state)
{
	struct split s;

	(void)state;
	split_all("-- a comment; with a semicolon;\n"
		  "\n"
		  "   # another one;\n"
		  "--\n"
		  "CREATE TABLE a (\n"
		  "  -- inside;\n"
		  "  x INT\n"
		  ");\n"
		  "-- trailing comment\n",
		  &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.stmt[0], "CREATE TABLE a (\nx INT\n)");
	assert_int_equal(s.line[0], 5);
	split_free(&s);
}

static void test_script_keeps_semicolons_inside_a_line(void **state)
{
	struct split s;

	(void)state;
	split_all("INSERT INTO t VALUES ('a;b'); -- not the end\n"
		  "INSERT INTO t VALUES ('c');\n",
		  &s);
	/* The first line does not end with ';': both lines are one statement,
	 * and the server sees the text as written. */
	assert_int_equal(s.n, 1);
	assert_string_equal(s.stmt[0], "INSERT INTO t VALUES ('a;b'); -- not the end\n"
				       "INSERT INTO t VALUES ('c')");
	split_free(&s);
}

static void test_script_double_dash_without_blank_is_not_a_comment(void **state)
{
	struct split s;

	(void)state;
	split_all("SELECT 1\n--1;\n", &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.stmt[0], "SELECT 1\n--1");
	split_free(&s);
}

static void test_script_handles_crlf_lone_semicolons_and_empty_text(void **state)
{
	struct split s;

	(void)state;
	split_all("SELECT 1;\r\n;\r\n  ;  \r\nSELECT 2;\r\n", &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.stmt[0], "SELECT 1");
	assert_string_equal(s.stmt[1], "SELECT 2");
	assert_int_equal(s.line[1], 4);
	split_free(&s);
	split_all("", &s);
	assert_int_equal(s.n, 0);
	split_all("-- only comments;\n\n# here\n", &s);
	assert_int_equal(s.n, 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	if (text != NULL && fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* Every statement of every shipped migration is a CREATE: no comment or
 * blank piece slipped through as a statement of its own. */
static void test_shipped_migrations_split_into_create_statements(void **state)
{
	static const char *const files[] = { "001_core.sql", "002_domains.sql" };
	const char *src = getenv("ORDERFLOW_SOURCE_DIR");
	char path[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct split s;
		char *text;

		if (src != NULL)
			snprintf(path, sizeof(path), "%s/db/migrations/%s", src, files[i]);
		else
			snprintf(path, sizeof(path), "%s/%s", ORDERFLOW_MIGRATIONS_SRC, files[i]);
		text = slurp(path);
		if (text == NULL)
			fail_msg("cannot read %s", path);
		split_all(text, &s);
		assert_true(s.n >= 2);
		for (int k = 0; k < s.n; k++) {
			if (strncmp(s.stmt[k], "CREATE TABLE IF NOT EXISTS ", 27) != 0)
				fail_msg("%s line %d: not a CREATE TABLE: %.60s", files[i], s.line[k],
					 s.stmt[k]);
			if (strchr(s.stmt[k], ';') != NULL)
				fail_msg("%s line %d: a ';' inside the statement", files[i],
					 s.line[k]);
		}
		split_free(&s);
		free(text);
	}
}

/* ---- SQL in messages ---- */

static void test_sql_in_messages_is_one_short_line(void **state)
{
	char buf[96], small[12];
	const char *s;

	(void)state;
	assert_string_equal(dbi_sql_brief("  SELECT a,\n\t b\n  FROM t  ", buf, sizeof(buf)),
			    "SELECT a, b FROM t");
	s = dbi_sql_brief("INSERT INTO outbox (event_id, routing_key, body, created_at) VALUES "
			  "(?, ?, ?, UTC_TIMESTAMP(6))", buf, sizeof(buf));
	assert_true(strlen(s) >= 72 + 3 && strlen(s) <= 73 + 3);
	assert_string_equal(s + strlen(s) - 3, "...");
	assert_int_equal(strncmp(s, "INSERT INTO outbox (event_id, routing_key, body, created_at) "
				    "VALUES (?, ?", 72), 0);
	/* "SELECT 'ü" would need 10 bytes and "..." 3 more: ü is not split. */
	s = dbi_sql_brief("SELECT '\xc3\xbc\xc3\xbc\xc3\xbc'", small, sizeof(small));
	assert_string_equal(s, "SELECT '...");
}

/* ---- one name per step in an error ---- */

static void test_an_error_names_its_step_once(void **state)
{
	char buf[128];

	(void)state;
	/* db_commit() records "commit: ..."; the worker's "commit" adds nothing. */
	assert_string_equal(db_error_join(buf, sizeof(buf), "commit",
					  "commit: Deadlock found (1213)"),
			    "commit: Deadlock found (1213)");
	assert_string_equal(db_error_join(buf, sizeof(buf), "insert into inbox",
					  "insert into inbox (consumer c, event e): gone (2006)"),
			    "insert into inbox (consumer c, event e): gone (2006)");
	/* A step the record does not name is put in front, once. */
	assert_string_equal(db_error_join(buf, sizeof(buf), "read the order",
					  "running \"SELECT 1\": gone (2006)"),
			    "read the order: running \"SELECT 1\": gone (2006)");
	/* A prefix of a longer word is not the same step. */
	assert_string_equal(db_error_join(buf, sizeof(buf), "commit",
					  "committing: x"),
			    "commit: committing: x");
}

/* ---- migration names ---- */

static void test_migration_file_names(void **state)
{
	int v = -1;

	(void)state;
	assert_true(migrate_parse_filename("001_core.sql", &v));
	assert_int_equal(v, 1);
	assert_true(migrate_parse_filename("002_domains.sql", &v));
	assert_int_equal(v, 2);
	assert_true(migrate_parse_filename("10_add-index.sql", &v));
	assert_int_equal(v, 10);
	assert_true(migrate_parse_filename("123456789_x.sql", &v));
	assert_int_equal(v, 123456789);
	assert_false(migrate_parse_filename("000_zero.sql", &v));
	assert_false(migrate_parse_filename("1234567890_big.sql", &v));
	assert_false(migrate_parse_filename("core.sql", &v));
	assert_false(migrate_parse_filename("001core.sql", &v));
	assert_false(migrate_parse_filename("001_.sql", &v));
	assert_false(migrate_parse_filename("001_core.sql~", &v));
	assert_false(migrate_parse_filename("001_core.SQL", &v));
	assert_false(migrate_parse_filename("001_co re.sql", &v));
	assert_false(migrate_parse_filename(".001_core.sql", &v));
}

static void test_database_names(void **state)
{
	char longest[66];

	(void)state;
	assert_true(migrate_dbname_ok("orderflow"));
	assert_true(migrate_dbname_ok("orderflow_t_Mixed_9"));
	assert_false(migrate_dbname_ok(NULL));
	assert_false(migrate_dbname_ok(""));
	assert_false(migrate_dbname_ok("a-b"));
	assert_false(migrate_dbname_ok("a`; DROP DATABASE x; --"));
	assert_false(migrate_dbname_ok("a b"));
	assert_false(migrate_dbname_ok("d\xc3\xbc"));
	memset(longest, 'a', 64);
	longest[64] = '\0';
	assert_true(migrate_dbname_ok(longest));
	longest[64] = 'a';
	longest[65] = '\0';
	assert_false(migrate_dbname_ok(longest));
}

static void test_migrations_dir_follows_the_environment(void **state)
{
	(void)state;
	setenv("ORDERFLOW_MIGRATIONS_DIR", "/somewhere/else", 1);
	assert_string_equal(migrate_dir(), "/somewhere/else");
	unsetenv("ORDERFLOW_MIGRATIONS_DIR");
	/* In a build tree the source folder exists. */
	assert_string_equal(migrate_dir(), ORDERFLOW_MIGRATIONS_SRC);
}

static void test_migrate_refuses_a_database_name_it_would_have_to_paste(void **state)
{
	struct cfg_database cfg = { .host = "127.0.0.1", .port = 1, .user = "nobody",
				    .name = "x`y" };
	char *err = NULL;
	int applied = -1;

	(void)state;
	assert_int_equal(migrate_run(&cfg, NULL, &applied, &err), -1);
	assert_int_equal(applied, 0);
	assert_non_null(err);
	assert_non_null(strstr(err, "database name \"x`y\""));
	free(err);
}

/* ---- a failed connect ---- */

static void test_refused_connect_names_the_server_not_the_password(void **state)
{
	struct cfg_database cfg = { .host = "127.0.0.1", .port = 1, .user = "nobody",
				    .password = "secret", .name = "orderflow" };
	struct db *db = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(db_connect(&cfg, NULL, &db, &err), -1);
	assert_null(db);
	assert_non_null(err);
	assert_non_null(strstr(err, "cannot connect to MariaDB/MySQL at 127.0.0.1:1 as nobody, "
				    "database orderflow: "));
	/* Connector/C says 2002 for TCP too; libmysqlclient says 2003. */
	assert_true(strstr(err, "(2002)") != NULL || strstr(err, "(2003)") != NULL);
	/* The reason in words, not Connector/C's "(115)" alone. */
	assert_non_null(strstr(err, "database orderflow: connection refused (the client library "
				    "says: "));
	assert_null(strstr(err, "secret"));
	free(err);
}

static void test_missing_socket_names_the_socket(void **state)
{
	struct cfg_database cfg = { .host = "127.0.0.1", .port = 3306,
				    .socket = "/nonexistent/orderflow-test.sock",
				    .user = "nobody", .name = "orderflow" };
	struct db *db = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(db_connect(&cfg, NULL, &db, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "at socket /nonexistent/orderflow-test.sock as nobody"));
	assert_non_null(strstr(err, "(2002)"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicate_key_is_duplicate),
		cmocka_unit_test(test_lock_conflicts_are_transient),
		cmocka_unit_test(test_connection_troubles_are_transient),
		cmocka_unit_test(test_reprepare_is_transient),
		cmocka_unit_test(test_other_errors_are_fatal),
		cmocka_unit_test(test_no_error_is_ok),
		cmocka_unit_test(test_lost_connection_numbers),
		cmocka_unit_test(test_no_connection_counts_as_lost),
		cmocka_unit_test(test_savepoint_names_of_ours_are_accepted),
		cmocka_unit_test(test_savepoint_names_that_could_inject_are_refused),
		cmocka_unit_test(test_script_splits_at_semicolons_ending_lines),
		cmocka_unit_test(test_script_drops_comment_and_blank_lines),
		cmocka_unit_test(test_script_keeps_semicolons_inside_a_line),
		cmocka_unit_test(test_script_double_dash_without_blank_is_not_a_comment),
		cmocka_unit_test(test_script_handles_crlf_lone_semicolons_and_empty_text),
		cmocka_unit_test(test_shipped_migrations_split_into_create_statements),
		cmocka_unit_test(test_sql_in_messages_is_one_short_line),
		cmocka_unit_test(test_migration_file_names),
		cmocka_unit_test(test_an_error_names_its_step_once),
		cmocka_unit_test(test_database_names),
		cmocka_unit_test(test_migrations_dir_follows_the_environment),
		cmocka_unit_test(test_migrate_refuses_a_database_name_it_would_have_to_paste),
		cmocka_unit_test(test_refused_connect_names_the_server_not_the_password),
		cmocka_unit_test(test_missing_socket_names_the_socket),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	db_library_end();
	return rc;
}
