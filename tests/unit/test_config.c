/*
 * test_config: config_load() against the golden files of tests/configs (one
 * valid file per shape, one file per error, each checked for its exact text
 * and line), the defaults of the key table, the files a config points at, and
 * etc/orderflow.conf itself.
 *
 * The files are found through ORDERFLOW_SOURCE_DIR (set by ctest), else next
 * to this source file, so the test also runs by hand from any folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

/* ---- where things are ---- */

static const char *source_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("ORDERFLOW_SOURCE_DIR");
	const char *tail = "/tests/unit/test_config.c";
	size_t n;

	if (env != NULL && *env != '\0')
		return env;
	/* __FILE__ is absolute under CMake: strip our own place in the tree. */
	n = strlen(__FILE__);
	if (n < strlen(tail) || strcmp(__FILE__ + n - strlen(tail), tail) != 0)
		return ".";
	snprintf(dir, sizeof(dir), "%.*s", (int)(n - strlen(tail)), __FILE__);
	return dir;
}

/* A path under tests/configs; the result lives until the next call. */
static const char *golden(const char *name)
{
	static char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/tests/configs/%s", source_dir(), name);

	assert_true(n > 0 && (size_t)n < sizeof(path));
	return path;
}

static struct config *load_ok(const char *path)
{
	struct config *cfg = NULL;
	char *errors = NULL;

	if (config_load(path, &cfg, &errors) != 0) {
		print_error("unexpected errors:\n%s", errors != NULL ? errors : "(none)\n");
		free(errors);
		fail();
	}
	assert_non_null(cfg);
	return cfg;
}

/* Loads `path`, which must fail with exactly `want`; cfg stays untouched. */
static void expect_text(const char *path, const char *want)
{
	struct config *cfg = NULL;
	char *errors = NULL;

	assert_int_equal(config_load(path, &cfg, &errors), -1);
	assert_null(cfg);
	assert_non_null(errors);
	assert_string_equal(errors, want);
	free(errors);
}

/* Each line of `suffixes` follows the file's path: ":4: broker.x: reason". */
static void expect_errors(const char *name, const char *const *suffixes)
{
	char path[PATH_MAX], *want = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&want, &len);

	assert_non_null(f);
	snprintf(path, sizeof(path), "%s", golden(name));
	for (; *suffixes != NULL; suffixes++)
		fprintf(f, "%s%s\n", path, *suffixes);
	fclose(f);
	expect_text(path, want);
	free(want);
}

#define GOLDEN_ERROR(test, file, ...)                                          \
	static void test(void **state)                                         \
	{                                                                      \
		static const char *const lines[] = { __VA_ARGS__, NULL };      \
		(void)state;                                                   \
		expect_errors(file, lines);                                    \
	}

/* ---- a scratch folder for files whose content or mode a test decides ---- */

struct scratch {
	char dir[64];
	char files[4][PATH_MAX];
	int nfiles;
};

static void scratch_init(struct scratch *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
}

static const char *scratch_file(struct scratch *s, const char *name, const char *text,
				mode_t mode)
{
	char *path = s->files[s->nfiles++];
	size_t dl = strlen(s->dir);
	FILE *f;

	/* Not snprintf: path and s->dir are parts of one object (-Wrestrict). */
	assert_true(dl + 1 + strlen(name) < PATH_MAX);
	memcpy(path, s->dir, dl);
	path[dl] = '/';
	memcpy(path + dl + 1, name, strlen(name) + 1);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void scratch_done(struct scratch *s)
{
	for (int i = 0; i < s->nfiles; i++)
		unlink(s->files[i]);
	rmdir(s->dir);
}

/* ---- catching log_warn, which writes to fd 2 ---- */

struct capture {
	int saved;
	FILE *f;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	assert_non_null(c->f);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->f), STDERR_FILENO) >= 0);
}

/* Returns what was written (malloc'd). */
static char *capture_stop(struct capture *c)
{
	char *text;
	long n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	n = ftell(c->f);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	rewind(c->f);
	assert_int_equal(fread(text, 1, (size_t)n, c->f), (size_t)n);
	fclose(c->f);
	return text;
}

/* ---- valid files ---- */

static void test_minimal_config_gets_every_default(void **state)
{
	struct config *cfg = load_ok(golden("valid_minimal.conf"));
	static const int delays[] = { 1000, 10000, 60000, 300000 };
	const struct cfg_domain *wh = &cfg->domains[DOM_WEBHOOK];

	(void)state;
	assert_int_equal(cfg->broker.urls.count, 1);
	assert_string_equal(cfg->broker.urls.items[0], "amqp://guest:guest@127.0.0.1:5672/%2f");
	assert_int_equal(cfg->broker.heartbeat_s, 10);
	assert_string_equal(cfg->broker.queue_type, "quorum");
	assert_int_equal(cfg->broker.delivery_limit, 20);
	assert_int_equal(cfg->broker.prefetch, 16);
	assert_int_equal(cfg->broker.max_message_bytes, 262144);
	assert_null(cfg->broker.ca_file);

	assert_string_equal(cfg->database.host, "127.0.0.1");
	assert_int_equal(cfg->database.port, 3306);
	assert_null(cfg->database.socket);
	assert_string_equal(cfg->database.user, "orderflow");
	assert_null(cfg->database.password);
	assert_null(cfg->database.password_file);
	assert_string_equal(cfg->database.name, "orderflow");
	assert_int_equal(cfg->database.inbox_retention_s, 2592000);

	assert_int_equal(cfg->retry.delay_count, 4);
	assert_memory_equal(cfg->retry.delays_ms, delays, sizeof(delays));
	assert_int_equal(cfg->retry.max_attempts, 10);

	assert_int_equal(cfg->supervisor.restart_backoff_min_ms, 1000);
	assert_int_equal(cfg->supervisor.restart_backoff_max_ms, 60000);
	assert_int_equal(cfg->supervisor.shutdown_timeout_ms, 30000);

	for (int i = 0; i < DOM_COUNT; i++) {
		assert_int_equal(cfg->domains[i].workers, 1);
		assert_int_equal(cfg->domains[i].prefetch, 16);
		assert_int_equal(cfg->domains[i].crash_limit, 3);
		assert_int_equal(cfg->domains[i].linger_ms, 0);
		assert_null(cfg->domains[i].database);
		assert_string_equal(config_domain_db(cfg, (enum domain_id)i), "orderflow");
	}
	assert_string_equal(cfg->domains[DOM_ORDER].currency, "EUR");
	assert_string_equal(cfg->domains[DOM_AUDIT].log_from, "queue");
	assert_false(config_log_from_outbox(cfg));
	assert_int_equal(cfg->domains[DOM_PAYMENT].decline_over_cents, 0);
	assert_int_equal(cfg->domains[DOM_PAYMENT].decline_customers.count, 0);
	assert_int_equal(cfg->domains[DOM_PAYMENT].latency_ms, 0);
	assert_string_equal(wh->url, "");
	assert_int_equal(wh->events.count, 3);
	assert_string_equal(wh->events.items[0], "order.created");
	assert_string_equal(wh->events.items[1], "order.confirmed");
	assert_string_equal(wh->events.items[2], "order.cancelled");
	assert_int_equal(wh->timeout_ms, 5000);
	assert_int_equal(wh->breaker_failures, 5);
	assert_int_equal(wh->breaker_cooldown_ms, 30000);

	assert_int_equal(cfg->relay.workers, 1);
	assert_int_equal(cfg->relay.batch_size, 100);
	assert_int_equal(cfg->relay.poll_ms, 200);
	assert_int_equal(cfg->relay.retention_s, 86400);

	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	assert_int_equal(cfg->http.workers, 1);
	assert_int_equal(cfg->http.tokens.count, 0);
	assert_null(cfg->http.tokens_file);
	assert_int_equal(cfg->http.max_body_bytes, 65536);

	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
	assert_string_equal(cfg->path, golden("valid_minimal.conf"));
	config_free(cfg);
}

static void test_full_config_sets_every_key(void **state)
{
	struct config *cfg = load_ok(golden("valid_full.conf"));
	char dir[PATH_MAX], want[PATH_MAX + 32];
	const struct cfg_domain *d = cfg->domains;

	(void)state;
	assert_non_null(realpath(golden(""), dir));
	assert_int_equal(cfg->broker.heartbeat_s, 0);
	assert_string_equal(cfg->broker.queue_type, "classic");
	assert_int_equal(cfg->broker.delivery_limit, 7);
	assert_int_equal(cfg->broker.prefetch, 32);
	assert_int_equal(cfg->broker.max_message_bytes, 1048576);
	snprintf(want, sizeof(want), "%s/ca.pem", dir);
	assert_string_equal(cfg->broker.ca_file, want);

	assert_string_equal(cfg->database.host, "db.example");
	assert_int_equal(cfg->database.port, 3307);
	assert_string_equal(cfg->database.socket, "/run/mysqld/mysqld.sock");
	assert_string_equal(cfg->database.user, "of");
	assert_string_equal(cfg->database.password, "s3cret");
	assert_string_equal(cfg->database.name, "of_main");
	assert_true(cfg->database.inbox_retention_s == 5000000000L);

	assert_int_equal(cfg->retry.delay_count, 2);
	assert_int_equal(cfg->retry.delays_ms[0], 500);
	assert_int_equal(cfg->retry.delays_ms[1], 5000);
	assert_int_equal(cfg->retry.max_attempts, 4);
	assert_int_equal(cfg->supervisor.restart_backoff_min_ms, 2000);
	assert_int_equal(cfg->supervisor.restart_backoff_max_ms, 120000);
	assert_int_equal(cfg->supervisor.shutdown_timeout_ms, 10000);

	assert_int_equal(d[DOM_ORDER].workers, 2);
	assert_int_equal(d[DOM_ORDER].prefetch, 8);
	assert_int_equal(d[DOM_ORDER].crash_limit, 5);
	assert_string_equal(config_domain_db(cfg, DOM_ORDER), "of_order");
	assert_string_equal(d[DOM_ORDER].currency, "USD");
	assert_int_equal(d[DOM_INVENTORY].workers, 3);
	/* A domain without its own prefetch takes the broker's. */
	assert_int_equal(d[DOM_INVENTORY].prefetch, 32);
	assert_true(d[DOM_PAYMENT].decline_over_cents == 10000000000LL);
	assert_int_equal(d[DOM_PAYMENT].decline_customers.count, 2);
	assert_string_equal(d[DOM_PAYMENT].decline_customers.items[1], "c-broke");
	assert_int_equal(d[DOM_PAYMENT].latency_ms, 25);
	assert_int_equal(d[DOM_SHIPPING].workers, 0);
	assert_int_equal(d[DOM_NOTIFICATION].crash_limit, 1);
	assert_int_equal(d[DOM_NOTIFICATION].linger_ms, 50);
	assert_int_equal(d[DOM_AUDIT].linger_ms, 0);
	assert_string_equal(d[DOM_WEBHOOK].url, "https://hooks.example/orderflow");
	assert_int_equal(d[DOM_WEBHOOK].events.count, 2);
	assert_string_equal(d[DOM_WEBHOOK].events.items[1], "shipping.scheduled");
	assert_int_equal(d[DOM_WEBHOOK].timeout_ms, 2500);
	assert_int_equal(d[DOM_WEBHOOK].breaker_failures, 3);
	assert_int_equal(d[DOM_WEBHOOK].breaker_cooldown_ms, 10000);
	assert_string_equal(config_domain_db(cfg, DOM_AUDIT), "of_audit");
	assert_string_equal(config_domain_db(cfg, DOM_SHIPPING), "of_main");

	assert_int_equal(cfg->relay.workers, 2);
	assert_int_equal(cfg->relay.batch_size, 50);
	assert_int_equal(cfg->relay.poll_ms, 100);
	assert_int_equal(cfg->relay.retention_s, 3600);
	assert_string_equal(cfg->http.listen, "[::1]:9090");
	assert_int_equal(cfg->http.workers, 4);
	assert_int_equal(cfg->http.max_body_bytes, 131072);
	assert_int_equal(cfg->log_level, LOG_LVL_DEBUG);
	config_free(cfg);
}

static void test_several_broker_nodes_are_kept_in_order(void **state)
{
	struct config *cfg = load_ok(golden("valid_full.conf"));

	(void)state;
	assert_int_equal(cfg->broker.urls.count, 3);
	assert_string_equal(cfg->broker.urls.items[0], "amqp://a:5672/%2f");
	assert_string_equal(cfg->broker.urls.items[1], "amqps://b:5671/%2f");
	assert_string_equal(cfg->broker.urls.items[2], "amqp://c:5672/%2f");
	config_free(cfg);
}

static void test_tokens_file_adds_to_inline_tokens(void **state)
{
	struct config *cfg = load_ok(golden("valid_full.conf"));

	(void)state;
	/* The file holds "tok-a", a blank line and "  tok-b  \r\n". */
	assert_int_equal(cfg->http.tokens.count, 3);
	assert_string_equal(cfg->http.tokens.items[0], "tok-inline");
	assert_string_equal(cfg->http.tokens.items[1], "tok-a");
	assert_string_equal(cfg->http.tokens.items[2], "tok-b");
	config_free(cfg);
}

static void test_workers_zero_is_accepted(void **state)
{
	struct config *cfg = load_ok(golden("valid_workers_zero.conf"));

	(void)state;
	assert_int_equal(cfg->domains[DOM_WEBHOOK].workers, 0);
	assert_int_equal(cfg->domains[DOM_AUDIT].workers, 0);
	assert_int_equal(cfg->domains[DOM_ORDER].workers, 1);
	assert_int_equal(cfg->relay.workers, 0);
	assert_int_equal(cfg->http.workers, 0);
	config_free(cfg);
}

/* Notification and webhook emit nothing: their databases do not matter. */
static void test_log_from_outbox_with_the_emitters_in_audits_database(void **state)
{
	struct config *cfg = load_ok(golden("valid_log_from_outbox.conf"));

	(void)state;
	assert_string_equal(cfg->domains[DOM_AUDIT].log_from, "outbox");
	assert_true(config_log_from_outbox(cfg));
	assert_string_equal(config_domain_db(cfg, DOM_NOTIFICATION), "of_notify");
	config_free(cfg);
}

static void test_socket_without_host_leaves_host_unset(void **state)
{
	struct config *cfg = load_ok(golden("valid_socket.conf"));

	(void)state;
	assert_null(cfg->database.host);
	assert_string_equal(cfg->database.socket, "/run/mysqld/mysqld.sock");
	config_free(cfg);
}

static void test_password_file_is_read_and_trimmed(void **state)
{
	struct scratch s;
	char text[PATH_MAX * 2];
	const char *pw, *conf;
	struct config *cfg;

	(void)state;
	scratch_init(&s);
	/* Only the first line counts, without its CRLF. */
	pw = scratch_file(&s, "pw", "p4ss word\r\nnot this\n", 0600);
	snprintf(text, sizeof(text),
		 "broker = { url = \"amqp://h\"; };\n"
		 "database = { user = \"u\"; password_file = \"%s\"; };\n", pw);
	conf = scratch_file(&s, "of.conf", text, 0600);
	cfg = load_ok(conf);
	assert_string_equal(cfg->database.password, "p4ss word");
	assert_string_equal(cfg->database.password_file, pw);
	config_free(cfg);
	scratch_done(&s);
}

static void test_relative_password_file_is_found_next_to_the_config(void **state)
{
	char cwd[PATH_MAX], dir[PATH_MAX], want[PATH_MAX + 32], conf[PATH_MAX];
	struct config *cfg;

	(void)state;
	snprintf(conf, sizeof(conf), "%s", golden("valid_password_file.conf"));
	assert_non_null(realpath(golden(""), dir));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	/* From elsewhere, so only the config's folder can explain success. */
	assert_int_equal(chdir("/"), 0);
	cfg = load_ok(conf);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(cfg->database.password, "s3cret");
	snprintf(want, sizeof(want), "%s/db.password", dir);
	assert_string_equal(cfg->database.password_file, want);
	config_free(cfg);
}

static void test_relative_file_error_names_the_resolved_path(void **state)
{
	struct scratch s;
	char want[PATH_MAX * 2], dir[PATH_MAX];
	const char *conf;

	(void)state;
	scratch_init(&s);
	conf = scratch_file(&s, "of.conf",
			    "broker = { url = \"amqp://h\"; };\n"
			    "database = {\n"
			    "  user = \"u\";\n"
			    "  password_file = \"missing.password\";\n"
			    "};\n", 0600);
	assert_non_null(realpath(s.dir, dir));
	snprintf(want, sizeof(want),
		 "%s:4: database.password_file: cannot read: No such file or directory "
		 "(%s/missing.password)\n", conf, dir);
	expect_text(conf, want);
	scratch_done(&s);
}

static void test_retention_equal_to_redelivery_window_is_accepted(void **state)
{
	struct scratch s;
	struct config *cfg;
	const char *conf;

	(void)state;
	scratch_init(&s);
	/* Defaults: 1 + 10 + 60 + 300 * 6 s of retries = 1871 s, + 86400 s. */
	conf = scratch_file(&s, "of.conf",
			    "broker = { url = \"amqp://h\"; };\n"
			    "database = { user = \"u\"; inbox_retention_s = 88271; };\n", 0600);
	cfg = load_ok(conf);
	assert_int_equal(cfg->database.inbox_retention_s, 88271);
	config_free(cfg);
	scratch_done(&s);
}

/* A shorter replay window allows a shorter inbox retention, and no shorter:
 * 0.1 + 0.2 s of retries over max_attempts 3 round up to 1 s, + 60 s. */
static void test_replay_window_sets_the_minimum_retention(void **state)
{
	struct scratch s;
	struct config *cfg;
	const char *ok, *bad;
	char *errors = NULL;

	(void)state;
	scratch_init(&s);
	ok = scratch_file(&s, "ok.conf",
			  "broker = { url = \"amqp://h\"; };\n"
			  "retry = { delays_ms = [100, 200]; max_attempts = 3; replay_window_s = 60; };\n"
			  "database = { user = \"u\"; inbox_retention_s = 61; };\n", 0600);
	cfg = load_ok(ok);
	assert_int_equal(cfg->retry.replay_window_s, 60);
	assert_int_equal(cfg->database.inbox_retention_s, 61);
	config_free(cfg);
	bad = scratch_file(&s, "bad.conf",
			   "broker = { url = \"amqp://h\"; };\n"
			   "retry = { delays_ms = [100, 200]; max_attempts = 3; replay_window_s = 60; };\n"
			   "database = { user = \"u\"; inbox_retention_s = 60; };\n", 0600);
	assert_int_equal(config_load(bad, &cfg, &errors), -1);
	assert_non_null(strstr(errors, "database.inbox_retention_s: must be at least 61 "
				       "(retries can bring a message back for 1 s, and a parked one may "
				       "be replayed for 60 s)"));
	free(errors);
	scratch_done(&s);
}

static void test_example_config_loads_cleanly(void **state)
{
	char path[PATH_MAX];
	struct config *cfg;

	(void)state;
	assert_true((size_t)snprintf(path, sizeof(path), "%s/etc/orderflow.conf", source_dir()) <
		    sizeof(path));
	cfg = load_ok(path);
	assert_int_equal(cfg->broker.urls.count, 1);
	assert_string_equal(cfg->database.user, "orderflow");
	assert_int_equal(cfg->domains[DOM_WEBHOOK].events.count, 3);
	config_free(cfg);
}

/* ---- the mode warning ---- */

static char *load_capturing(const char *conf)
{
	struct capture cap;
	struct config *cfg;

	log_set_level(LOG_LVL_WARN);
	capture_start(&cap);
	cfg = load_ok(conf);
	config_free(cfg);
	log_set_level(LOG_LVL_ERROR);
	return capture_stop(&cap);
}

static void test_password_readable_by_others_warns(void **state)
{
	struct scratch s;
	char want[PATH_MAX + 128], *out;
	const char *conf;

	(void)state;
	scratch_init(&s);
	conf = scratch_file(&s, "of.conf",
			    "broker = { url = \"amqp://h\"; };\n"
			    "database = { user = \"u\"; password = \"pw\"; };\n", 0644);
	out = load_capturing(conf);
	snprintf(want, sizeof(want),
		 "%s: holds a password and is readable by others (mode 0644); chmod 600 it",
		 conf);
	assert_non_null(strstr(out, want));
	free(out);
	scratch_done(&s);
}

static void test_private_file_with_password_does_not_warn(void **state)
{
	struct scratch s;
	char *out;
	const char *conf;

	(void)state;
	scratch_init(&s);
	conf = scratch_file(&s, "of.conf",
			    "broker = { url = \"amqp://h\"; };\n"
			    "database = { user = \"u\"; };\n"
			    "http = { tokens = [\"t\"]; };\n", 0600);
	out = load_capturing(conf);
	assert_string_equal(out, "");
	free(out);
	scratch_done(&s);
}

static void test_group_readable_file_does_not_warn(void **state)
{
	struct scratch s;
	char *out;
	const char *conf;

	(void)state;
	scratch_init(&s);
	/* 0640 root:orderflow: the package's mode, the service reads through its group. */
	conf = scratch_file(&s, "of.conf",
			    "broker = { url = \"amqp://h\"; };\n"
			    "database = { user = \"u\"; password = \"pw\"; };\n", 0640);
	out = load_capturing(conf);
	assert_string_equal(out, "");
	free(out);
	scratch_done(&s);
}

static void test_world_readable_file_warns(void **state)
{
	struct scratch s;
	char want[PATH_MAX + 128], *out;
	const char *conf;

	(void)state;
	scratch_init(&s);
	conf = scratch_file(&s, "of.conf",
			    "broker = { url = \"amqp://h\"; };\n"
			    "database = { user = \"u\"; };\n"
			    "http = { tokens = [\"t\"]; };\n", 0604);
	out = load_capturing(conf);
	snprintf(want, sizeof(want), "%s: holds a password and is readable by others (mode 0604)",
		 conf);
	assert_non_null(strstr(out, want));
	free(out);
	scratch_done(&s);
}

/* ---- placeholder secrets: warned about, the file still loads ---- */

static void expect_warning(const char *out, const char *path, const char *suffix)
{
	char want[PATH_MAX + 256];

	snprintf(want, sizeof(want), "%s%s: a placeholder secret (\"change-me\"); replace it", path,
		 suffix);
	if (strstr(out, want) == NULL) {
		print_error("missing warning \"%s\" in:\n%s", want, out);
		fail();
	}
}

static void test_placeholder_secrets_are_warned_about(void **state)
{
	const char *path = golden("warn_placeholder_secrets.conf");
	char *out;

	(void)state;
	out = load_capturing(path);
	expect_warning(out, path, ":3: broker.urls[0]");
	expect_warning(out, path, ":8: database.password");
	expect_warning(out, path, ":11: domains.webhook.url");
	expect_warning(out, path, ":13: http.tokens[0]");
	/* A host named change-me is not a password; a real token is not either. */
	assert_null(strstr(out, "broker.urls[1]"));
	assert_null(strstr(out, "http.tokens[1]"));
	free(out);
}

static void test_placeholder_in_password_file_is_warned_about(void **state)
{
	struct scratch s;
	const char *conf;
	char *out;

	(void)state;
	scratch_init(&s);
	scratch_file(&s, "pw", "change-me\n", 0600);
	scratch_file(&s, "tok", "real\nchange-me-too\n", 0600);
	conf = scratch_file(&s, "of.conf",
			    "broker = { url = \"amqp://h\"; };\n"
			    "database = { user = \"u\"; password_file = \"pw\"; };\n"
			    "http = { tokens_file = \"tok\"; };\n", 0600);
	out = load_capturing(conf);
	expect_warning(out, conf, ":2: database.password_file");
	expect_warning(out, conf, ":3: http.tokens_file");
	free(out);
	scratch_done(&s);
}

static void test_example_config_placeholders_are_warned_about(void **state)
{
	char path[PATH_MAX], *out;

	(void)state;
	assert_true((size_t)snprintf(path, sizeof(path), "%s/etc/orderflow.conf", source_dir()) <
		    sizeof(path));
	out = load_capturing(path);
	assert_non_null(strstr(out, "broker.url: a placeholder secret"));
	assert_non_null(strstr(out, "database.password: a placeholder secret"));
	assert_non_null(strstr(out, "http.tokens[0]: a placeholder secret"));
	free(out);
}

/* ---- the key table: fingerprints and --dump-keys ---- */

static struct config *load_text(struct scratch *s, const char *name, const char *extra)
{
	char text[1024];

	/* `extra` may bring its own broker section. */
	snprintf(text, sizeof(text), "%sdatabase = { user = \"u\"; };\n%s",
		 strstr(extra, "broker =") != NULL ? "" : "broker = { url = \"amqp://h\"; };\n",
		 extra);
	return load_ok(scratch_file(s, name, text, 0600));
}

/* Which fingerprints differ between the minimal config and one with `extra`:
 * a string of one letter per service, domains in order then r(elay) h(ttp)
 * s(upervisor), '.' where equal. */
static void fingerprint_diff(const char *extra, char *out)
{
	static const enum config_role roles[] = { CONFIG_ROLE_RELAY, CONFIG_ROLE_HTTP,
						  CONFIG_ROLE_SUPERVISOR };
	struct scratch s;
	struct config *a, *b;

	scratch_init(&s);
	a = load_text(&s, "a.conf", "");
	b = load_text(&s, "b.conf", extra);
	for (int i = 0; i < DOM_COUNT + 3; i++) {
		enum config_role role = i < DOM_COUNT ? CONFIG_ROLE_DOMAIN : roles[i - DOM_COUNT];
		enum domain_id dom = i < DOM_COUNT ? (enum domain_id)i : DOM_ORDER;
		char *fa = config_fingerprint(a, role, dom), *fb = config_fingerprint(b, role, dom);

		assert_non_null(fa);
		assert_non_null(fb);
		out[i] = strcmp(fa, fb) == 0 ? '.' : i < DOM_COUNT ? 'd' : "rhs"[i - DOM_COUNT];
		free(fa);
		free(fb);
	}
	out[DOM_COUNT + 3] = '\0';
	config_free(a);
	config_free(b);
	scratch_done(&s);
}

static void test_fingerprints_follow_the_roles_of_the_table(void **state)
{
	char diff[DOM_COUNT + 4];

	(void)state;
	/* Issue 13: the HTTP process drains in half of it; it was left out. */
	fingerprint_diff("supervisor = { shutdown_timeout_ms = 5000; };\n", diff);
	assert_string_equal(diff, "........hs");
	fingerprint_diff("http = { listen = \"127.0.0.1:9999\"; };\n", diff);
	assert_string_equal(diff, "........h.");
	fingerprint_diff("broker = { url = \"amqp://other\"; };\n", diff);
	assert_string_equal(diff, "dddddddrh.");
	/* order, payment (prices in it) and http read the currency. */
	fingerprint_diff("domains = { order = { currency = \"USD\"; }; };\n", diff);
	assert_string_equal(diff, "d.d.....h.");
	fingerprint_diff("domains = { webhook = { events = [\"order.created\"]; }; };\n", diff);
	assert_string_equal(diff, ".....d.r..");
	/* Only the supervisor counts workers: no child restarts for that. */
	fingerprint_diff("domains = { inventory = { workers = 3; }; };\n"
			 "http = { workers = 2; };\n", diff);
	assert_string_equal(diff, ".........s");
	fingerprint_diff("domains = { audit = { prefetch = 4; }; };\n", diff);
	assert_string_equal(diff, "......d...");
}

static void test_dump_keys_prints_one_row_per_key(void **state)
{
	char *text = NULL, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rows = 0, seen = 0;

	(void)state;
	assert_non_null(f);
	assert_int_equal(config_dump_keys(f), 0);
	fclose(f);
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		int tabs = 0;

		for (const char *p = line; *p; p++)
			tabs += *p == '\t';
		assert_int_equal(tabs, 4);
		if (line[0] == '#') {
			assert_string_equal(line, "#key\ttype\tdefault\trange\troles");
			continue;
		}
		rows++;
		seen += strcmp(line, "broker.heartbeat_s\tinteger\t10\t0..65535\t"
				     "domain:*,relay,http,ctl") == 0;
		seen += strcmp(line, "supervisor.shutdown_timeout_ms\tinteger\t30000\t>= 1\t"
				     "supervisor,http") == 0;
		seen += strcmp(line, "domains.*.prefetch\tinteger\tbroker.prefetch\t1..65535\t"
				     "domain:self") == 0;
	}
	assert_int_equal(seen, 3);
	assert_true(rows >= 40);
	free(text);
}

/* ---- errors ---- */

GOLDEN_ERROR(test_unknown_key_is_reported_with_line, "err_unknown_key.conf",
	     ":4: broker.colour: unknown key")
GOLDEN_ERROR(test_unknown_section_is_an_unknown_key, "err_unknown_section.conf",
	     ":4: metrics: unknown key")
GOLDEN_ERROR(test_unknown_domain_is_an_unknown_key, "err_unknown_domain.conf",
	     ":6: domains.billing: unknown key")
GOLDEN_ERROR(test_domain_key_under_another_domain_is_unknown, "err_domain_key_elsewhere.conf",
	     ":7: domains.inventory.decline_over_cents: unknown key")
GOLDEN_ERROR(test_negative_workers_are_refused, "err_negative_workers.conf",
	     ":6: domains.shipping.workers: must be >= 0")
GOLDEN_ERROR(test_string_for_integer_is_a_type_error, "err_wrong_type.conf",
	     ":5: database.port: expected an integer")
GOLDEN_ERROR(test_float_for_integer_is_a_type_error, "err_float_integer.conf",
	     ":4: broker.heartbeat_s: expected an integer")
GOLDEN_ERROR(test_value_for_section_is_a_type_error, "err_not_a_group.conf",
	     ":2: broker: expected a group")
GOLDEN_ERROR(test_string_for_list_is_a_type_error, "err_string_for_list.conf",
	     ":3: broker.urls: expected a list of strings")
GOLDEN_ERROR(test_int64_beyond_int_is_out_of_range, "err_int_too_big.conf",
	     ":5: retry.max_attempts: must be <= 2147483647")
GOLDEN_ERROR(test_unknown_queue_type_is_refused, "err_bad_queue_type.conf",
	     ":4: broker.queue_type: must be \"quorum\" or \"classic\"")
GOLDEN_ERROR(test_url_and_urls_together_are_refused, "err_both_url_urls.conf",
	     ":4: broker.urls: both url and urls are set; keep one")
GOLDEN_ERROR(test_missing_url_is_reported_at_its_section, "err_missing_url.conf",
	     ":2: broker.url: missing required key")
/* At the file's last line, where the reader gave up looking for it. */
GOLDEN_ERROR(test_missing_section_is_reported_at_the_end_of_file, "err_missing_broker.conf",
	     ":2: broker: missing section (broker.url or broker.urls is required)")
GOLDEN_ERROR(test_empty_file_misses_both_required_sections, "err_empty_file.conf",
	     ":1: broker: missing section (broker.url or broker.urls is required)",
	     ":1: database: missing section (database.user is required)")
GOLDEN_ERROR(test_unknown_key_near_a_known_one_gets_a_suggestion, "err_unknown_key_near.conf",
	     ":4: broker.heartbeat: unknown key; did you mean heartbeat_s?",
	     ":7: supervisr: unknown key; did you mean supervisor?",
	     ":9: domains.webhok: unknown key; did you mean webhook?",
	     ":10: domains.webhook.timeout: unknown key; did you mean timeout_ms?")
GOLDEN_ERROR(test_url_port_out_of_range_is_refused, "err_url_port.conf",
	     ":3: broker.url: port 99999 is out of range (1..65535)")
GOLDEN_ERROR(test_url_port_not_a_number_is_refused, "err_url_port_not_number.conf",
	     ":4: broker.urls[1]: port \"56x2\" is not a number",
	     ":8: domains.webhook.url: the port after ':' is empty")
GOLDEN_ERROR(test_non_amqp_node_is_reported_with_its_index, "err_bad_url.conf",
	     ":4: broker.urls[1]: must start with amqp:// or amqps://")
GOLDEN_ERROR(test_missing_user_is_reported_at_its_section, "err_missing_user.conf",
	     ":3: database.user: missing required key")
GOLDEN_ERROR(test_password_and_password_file_together_are_refused, "err_both_password.conf",
	     ":6: database.password_file: both password and password_file are set; keep one")
GOLDEN_ERROR(test_unreadable_password_file_says_why, "err_password_file_unreadable.conf",
	     ":5: database.password_file: cannot read: No such file or directory")
GOLDEN_ERROR(test_empty_password_file_is_refused, "err_password_file_empty.conf",
	     ":5: database.password_file: the file is empty")
GOLDEN_ERROR(test_unreadable_tokens_file_says_why, "err_tokens_file_unreadable.conf",
	     ":5: http.tokens_file: cannot read: No such file or directory")
GOLDEN_ERROR(test_empty_token_is_refused_with_its_index, "err_empty_token.conf",
	     ":6: http.tokens[1]: must not be empty")
GOLDEN_ERROR(test_listen_without_host_is_refused, "err_bad_listen.conf",
	     ":5: http.listen: expected host:port, e.g. \"127.0.0.1:8080\"")
/* What config_load() accepts, the HTTP process must be able to bind (found
 * by tests/fuzz/fuzz_config.c comparing it with http_listen_parse()). */
GOLDEN_ERROR(test_listen_port_in_more_than_five_digits_is_refused, "err_listen_port_digits.conf",
	     ":5: http.listen: expected host:port, e.g. \"127.0.0.1:8080\"")
GOLDEN_ERROR(test_listen_host_over_255_bytes_is_refused, "err_listen_host_too_long.conf",
	     ":5: http.listen: the host is longer than 255 bytes")
GOLDEN_ERROR(test_port_out_of_range_is_refused, "err_bad_port.conf",
	     ":5: database.port: must be between 1 and 65535")
GOLDEN_ERROR(test_unknown_log_level_is_refused, "err_bad_log_level.conf",
	     ":5: log.level: unknown level \"loud\"; expected error, warn, info or debug")
GOLDEN_ERROR(test_lower_case_currency_is_refused, "err_bad_currency.conf",
	     ":6: domains.order.currency: expected 3 upper-case letters (ISO 4217)")
GOLDEN_ERROR(test_webhook_event_must_be_a_routing_key, "err_bad_event.conf",
	     ":7: domains.webhook.events[1]: \"order.shipped\" is not an event routing key")
GOLDEN_ERROR(test_empty_delays_are_refused, "err_empty_delays.conf",
	     ":5: retry.delays_ms: must not be empty")
GOLDEN_ERROR(test_zero_delay_is_refused_with_its_index, "err_zero_delay.conf",
	     ":5: retry.delays_ms[1]: must be >= 1")
GOLDEN_ERROR(test_zero_prefetch_is_refused, "err_prefetch_zero.conf",
	     ":6: domains.audit.prefetch: must be between 1 and 65535")
GOLDEN_ERROR(test_linger_over_a_second_is_refused, "err_linger_too_long.conf",
	     ":6: domains.audit.linger_ms: must be between 0 and 1000")
GOLDEN_ERROR(test_log_from_must_be_queue_or_outbox, "err_log_from_value.conf",
	     ":6: domains.audit.log_from: must be \"queue\" or \"outbox\"")
GOLDEN_ERROR(test_log_from_outbox_needs_the_emitters_in_audits_database,
	     "err_log_from_other_db.conf",
	     ":7: domains.audit.log_from: \"outbox\" needs payment's database (of_pay) to be "
	     "audit's (of_main): event_log is written in the transaction that emits the event")
GOLDEN_ERROR(test_backoff_min_over_max_is_refused, "err_backoff_min_over_max.conf",
	     ":5: supervisor.restart_backoff_min_ms: restart_backoff_min_ms (5000) is greater "
	     "than restart_backoff_max_ms (2000)")
GOLDEN_ERROR(test_retention_shorter_than_redelivery_is_refused, "err_retention_too_short.conf",
	     ":6: database.inbox_retention_s: must be at least 88271 (retries can bring a "
	     "message back for 1871 s, and a parked one may be replayed for 86400 s)")
GOLDEN_ERROR(test_unreadable_ca_file_is_found_at_load, "err_ca_file_unreadable.conf",
	     ":4: broker.ca_file: cannot read: No such file or directory")
GOLDEN_ERROR(test_webhook_url_must_be_http, "err_bad_webhook_url.conf",
	     ":6: domains.webhook.url: must be empty or start with http:// or https://")
GOLDEN_ERROR(test_empty_node_list_is_refused, "err_empty_urls.conf",
	     ":3: broker.urls: must not be empty")
GOLDEN_ERROR(test_syntax_error_names_file_and_line, "err_syntax.conf",
	     ":4: syntax error: syntax error")
GOLDEN_ERROR(test_duplicate_key_is_a_syntax_error, "err_duplicate_key.conf",
	     ":4: syntax error: duplicate setting name")
GOLDEN_ERROR(test_every_problem_is_reported_in_file_order, "err_several.conf",
	     ":4: broker.queue_type: must be \"quorum\" or \"classic\"",
	     ":6: database.user: missing required key",
	     ":7: database.port: must be between 1 and 65535")

static void test_missing_file_says_why(void **state)
{
	(void)state;
	expect_text("/nonexistent/orderflow.conf",
		    "/nonexistent/orderflow.conf: cannot open: No such file or directory\n");
}

static void test_folder_is_not_a_config(void **state)
{
	char want[PATH_MAX + 64];

	(void)state;
	snprintf(want, sizeof(want), "%s: cannot open: Is a directory\n", source_dir());
	expect_text(source_dir(), want);
}

/* ---- the rest of the contract ---- */

static void test_config_free_null_is_a_no_op(void **state)
{
	(void)state;
	config_free(NULL);
}

static void test_domain_names_follow_enum_order(void **state)
{
	static const char *const names[] = { "order", "inventory", "payment", "shipping",
					     "notification", "webhook", "audit" };

	(void)state;
	for (int i = 0; i < DOM_COUNT; i++) {
		assert_string_equal(domain_name((enum domain_id)i), names[i]);
		assert_int_equal(domain_lookup(names[i]), i);
	}
	assert_null(domain_name(DOM_COUNT));
	assert_null(domain_name((enum domain_id)-1));
	assert_int_equal(domain_lookup("billing"), -1);
	assert_int_equal(domain_lookup(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_config_gets_every_default),
		cmocka_unit_test(test_full_config_sets_every_key),
		cmocka_unit_test(test_several_broker_nodes_are_kept_in_order),
		cmocka_unit_test(test_tokens_file_adds_to_inline_tokens),
		cmocka_unit_test(test_workers_zero_is_accepted),
		cmocka_unit_test(test_socket_without_host_leaves_host_unset),
		cmocka_unit_test(test_password_file_is_read_and_trimmed),
		cmocka_unit_test(test_relative_password_file_is_found_next_to_the_config),
		cmocka_unit_test(test_relative_file_error_names_the_resolved_path),
		cmocka_unit_test(test_retention_equal_to_redelivery_window_is_accepted),
		cmocka_unit_test(test_replay_window_sets_the_minimum_retention),
		cmocka_unit_test(test_example_config_loads_cleanly),
		cmocka_unit_test(test_password_readable_by_others_warns),
		cmocka_unit_test(test_private_file_with_password_does_not_warn),
		cmocka_unit_test(test_unknown_key_is_reported_with_line),
		cmocka_unit_test(test_unknown_section_is_an_unknown_key),
		cmocka_unit_test(test_unknown_domain_is_an_unknown_key),
		cmocka_unit_test(test_domain_key_under_another_domain_is_unknown),
		cmocka_unit_test(test_negative_workers_are_refused),
		cmocka_unit_test(test_string_for_integer_is_a_type_error),
		cmocka_unit_test(test_float_for_integer_is_a_type_error),
		cmocka_unit_test(test_value_for_section_is_a_type_error),
		cmocka_unit_test(test_string_for_list_is_a_type_error),
		cmocka_unit_test(test_int64_beyond_int_is_out_of_range),
		cmocka_unit_test(test_unknown_queue_type_is_refused),
		cmocka_unit_test(test_url_and_urls_together_are_refused),
		cmocka_unit_test(test_missing_url_is_reported_at_its_section),
		cmocka_unit_test(test_missing_section_is_reported_at_the_end_of_file),
		cmocka_unit_test(test_empty_file_misses_both_required_sections),
		cmocka_unit_test(test_unknown_key_near_a_known_one_gets_a_suggestion),
		cmocka_unit_test(test_url_port_out_of_range_is_refused),
		cmocka_unit_test(test_url_port_not_a_number_is_refused),
		cmocka_unit_test(test_group_readable_file_does_not_warn),
		cmocka_unit_test(test_world_readable_file_warns),
		cmocka_unit_test(test_placeholder_secrets_are_warned_about),
		cmocka_unit_test(test_placeholder_in_password_file_is_warned_about),
		cmocka_unit_test(test_example_config_placeholders_are_warned_about),
		cmocka_unit_test(test_fingerprints_follow_the_roles_of_the_table),
		cmocka_unit_test(test_dump_keys_prints_one_row_per_key),
		cmocka_unit_test(test_non_amqp_node_is_reported_with_its_index),
		cmocka_unit_test(test_missing_user_is_reported_at_its_section),
		cmocka_unit_test(test_password_and_password_file_together_are_refused),
		cmocka_unit_test(test_unreadable_password_file_says_why),
		cmocka_unit_test(test_empty_password_file_is_refused),
		cmocka_unit_test(test_unreadable_tokens_file_says_why),
		cmocka_unit_test(test_empty_token_is_refused_with_its_index),
		cmocka_unit_test(test_listen_without_host_is_refused),
		cmocka_unit_test(test_listen_port_in_more_than_five_digits_is_refused),
		cmocka_unit_test(test_listen_host_over_255_bytes_is_refused),
		cmocka_unit_test(test_port_out_of_range_is_refused),
		cmocka_unit_test(test_unknown_log_level_is_refused),
		cmocka_unit_test(test_lower_case_currency_is_refused),
		cmocka_unit_test(test_webhook_event_must_be_a_routing_key),
		cmocka_unit_test(test_empty_delays_are_refused),
		cmocka_unit_test(test_zero_delay_is_refused_with_its_index),
		cmocka_unit_test(test_zero_prefetch_is_refused),
		cmocka_unit_test(test_linger_over_a_second_is_refused),
		cmocka_unit_test(test_log_from_must_be_queue_or_outbox),
		cmocka_unit_test(test_log_from_outbox_needs_the_emitters_in_audits_database),
		cmocka_unit_test(test_log_from_outbox_with_the_emitters_in_audits_database),
		cmocka_unit_test(test_backoff_min_over_max_is_refused),
		cmocka_unit_test(test_retention_shorter_than_redelivery_is_refused),
		cmocka_unit_test(test_unreadable_ca_file_is_found_at_load),
		cmocka_unit_test(test_webhook_url_must_be_http),
		cmocka_unit_test(test_empty_node_list_is_refused),
		cmocka_unit_test(test_syntax_error_names_file_and_line),
		cmocka_unit_test(test_duplicate_key_is_a_syntax_error),
		cmocka_unit_test(test_every_problem_is_reported_in_file_order),
		cmocka_unit_test(test_missing_file_says_why),
		cmocka_unit_test(test_folder_is_not_a_config),
		cmocka_unit_test(test_config_free_null_is_a_no_op),
		cmocka_unit_test(test_domain_names_follow_enum_order),
	};

	/* The golden files are checked out 0644 and some hold a password: their
	 * warning is expected, so only the capture tests let warnings through. */
	log_set_level(LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
