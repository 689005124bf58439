/*
 * of-probe: a test-only domain that exercises the delivery protocol before
 * (and besides) the real domains.
 *
 *   of-probe worker -c CONF [--name NAME]
 *       runs the worker loop for domain NAME (default "probe"), bound to
 *       "probe.#". The handler does what the payload's "action" says:
 *         "ok"            insert a row into probe_effects (the effect)
 *         "retry"         a transient failure, every time
 *         "retry_until"   transient until attempt >= payload.attempts, then ok
 *         "reject"        a permanent failure
 *         "crash"         abort() the process
 *         "sleep"         SELECT SLEEP(payload.seconds) in the transaction, then ok
 *       With ORDERFLOW_PROBE_ALWAYS_OK=1 every event just has its effect.
 *       With ORDERFLOW_PROBE_KILL_AFTER_COMMIT=1 the process kills itself
 *       (SIGKILL) after the commit of an event whose payload has
 *       "kill_after_commit": true, before the ack.
 *
 *   of-probe publish -c CONF [--exchange X] [--rk KEY]
 *       reads one message body per line on stdin and publishes each, with
 *       publisher confirms, to X (default orderflow.events) with routing key
 *       KEY (default: the body's event_type). Prints the count.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/amqp_link.h"
#include "broker/publisher.h"
#include "broker/topology.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "workers/worker.h"

static enum handler_result probe_effect(struct handler_ctx *ctx)
{
	struct db_param p[2] = { DBP_STR(ctx->ev->event_id), DBP_STR(ctx->consumer) };

	if (db_run(ctx->db, "INSERT INTO probe_effects (event_id, consumer) VALUES (?, ?)", p, 2,
		   NULL, NULL) != DB_OK)
		return handler_db_failed(ctx, "insert into probe_effects");
	return HANDLER_OK;
}

static enum handler_result probe_handle(struct handler_ctx *ctx)
{
	const char *action = json_string_value(json_object_get(ctx->ev->payload, "action"));

	/* Another subscriber of the same events, which always succeeds. */
	if (getenv("ORDERFLOW_PROBE_ALWAYS_OK") != NULL)
		return probe_effect(ctx);
	if (action == NULL || strcmp(action, "ok") == 0)
		return probe_effect(ctx);
	if (strcmp(action, "retry") == 0)
		return handler_retry(ctx, "probe: asked to retry (attempt %d)", ctx->attempt);
	if (strcmp(action, "retry_until") == 0) {
		json_int_t n = json_integer_value(json_object_get(ctx->ev->payload, "attempts"));

		if (ctx->attempt < n)
			return handler_retry(ctx, "probe: attempt %d of %lld", ctx->attempt,
					     (long long)n);
		return probe_effect(ctx);
	}
	if (strcmp(action, "reject") == 0)
		return handler_reject(ctx, "probe: asked to reject");
	if (strcmp(action, "crash") == 0)
		abort();
	if (strcmp(action, "sleep") == 0) {
		json_int_t s = json_integer_value(json_object_get(ctx->ev->payload, "seconds"));
		struct db_rows rows = { 0 };
		struct db_param p[1] = { DBP_INT(s) };

		if (db_select(ctx->db, "SELECT SLEEP(?)", p, 1, &rows) != DB_OK)
			return handler_db_failed(ctx, "sleep");
		db_rows_free(&rows);
		return probe_effect(ctx);
	}
	return handler_reject(ctx, "probe: unknown action \"%s\"", action);
}

static int probe_init(const struct config *cfg, void **state_r, char **err_r)
{
	struct db *db = NULL;

	(void)state_r;
	/* The effects table belongs to the test, not to the migrations. */
	if (db_connect(&cfg->database, NULL, &db, err_r) != 0)
		return -1;
	if (db_exec_script(db, "CREATE TABLE IF NOT EXISTS probe_effects ("
			       " id BIGINT AUTO_INCREMENT PRIMARY KEY,"
			       " event_id CHAR(36) NOT NULL, consumer VARCHAR(64) NOT NULL,"
			       " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
			       ") ENGINE=InnoDB") != DB_OK) {
		*err_r = strdup(db_error(db));
		db_close(db);
		return -1;
	}
	db_close(db);
	return 0;
}

static void probe_kill_hook(const struct envelope *ev)
{
	if (json_is_true(json_object_get(ev->payload, "kill_after_commit"))) {
		log_warn("probe: killing myself after the commit of %s", ev->event_id);
		raise(SIGKILL);
	}
}

static int load(const char *path, struct config **cfg)
{
	char *errors = NULL;

	if (config_load(path, cfg, &errors) != 0) {
		fputs(errors, stderr);
		free(errors);
		return -1;
	}
	log_set_level((enum log_level)(*cfg)->log_level);
	return 0;
}

/* Batchable: the core tests then cover the batch path too. */
static const struct domain_event probe_events[] = {
	{ "probe.#", probe_handle, DOM_EV_BATCH },
};

static int run_worker(const char *conf, const char *name)
{
	struct domain dom = {
		.name = name, DOMAIN_TABLE(probe_events), .init = probe_init,
	};
	struct config *cfg = NULL;
	char title[64];
	int code;

	if (load(conf, &cfg) != 0)
		return EXIT_CONFIG;
	snprintf(title, sizeof(title), "%s worker", name);
	log_init(title);
	if (getenv("ORDERFLOW_PROBE_KILL_AFTER_COMMIT") != NULL)
		worker_after_commit_hook = probe_kill_hook;
	code = worker_run(&dom, cfg, NULL);
	config_free(cfg);
	return code;
}

static int run_publish(const char *conf, const char *exchange, const char *rk)
{
	struct config *cfg = NULL;
	struct amqp_link *link = NULL;
	char *err = NULL, *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t tag = 0;
	int n = 0, rc = 1;

	log_init("probe publisher");
	if (load(conf, &cfg) != 0)
		return 1;
	if (amqp_link_open(&cfg->broker, "probe", &link, &err) != 0 || publisher_enable(link) != 0) {
		fprintf(stderr, "of-probe: %s\n", err ? err : amqp_link_error(link));
		goto out;
	}
	while ((len = getline(&line, &cap, stdin)) > 0) {
		struct envelope ev;
		char e[256];
		struct publish_msg msg = { .exchange = exchange, .body = line, .mandatory = 0 };

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		msg.body_len = (size_t)len;
		msg.routing_key = rk;
		/* Valid envelopes get their properties; others go as they are. */
		if (envelope_decode(line, (size_t)len, (size_t)len + 1, &ev, e, sizeof(e)) == ENV_OK) {
			msg.message_id = ev.event_id;
			msg.type = ev.event_type;
			msg.correlation_id = ev.correlation_id;
			if (rk == NULL)
				msg.routing_key = ev.event_type;
		}
		if (msg.routing_key == NULL)
			msg.routing_key = "probe.invalid";
		if (publisher_send(link, &msg, &tag) != 0) {
			fprintf(stderr, "of-probe: publish: %s\n", amqp_link_error(link));
			envelope_clear(&ev);
			goto out;
		}
		envelope_clear(&ev);
		n++;
	}
	if (n > 0 && publisher_wait(link, tag, 30000) != 0) {
		fprintf(stderr, "of-probe: confirms: %s\n", amqp_link_error(link));
		goto out;
	}
	printf("%d\n", n);
	rc = 0;
out:
	free(line);
	free(err);
	if (link != NULL)
		amqp_link_close(link);
	config_free(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "exchange", required_argument, NULL, 'x' },
		{ "rk", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL, *name = "probe", *exchange = EXCHANGE_EVENTS, *rk = NULL;
	int opt;

	if (argc < 2) {
		fprintf(stderr, "usage: of-probe worker|publish -c CONF [options]\n");
		return 2;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "c:n:x:k:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'n': name = optarg; break;
		case 'x': exchange = optarg; break;
		case 'k': rk = optarg; break;
		default: return 2;
		}
	}
	if (conf == NULL) {
		fprintf(stderr, "of-probe: -c CONF is required\n");
		return 2;
	}
	if (strcmp(argv[1], "worker") == 0)
		return run_worker(conf, name);
	if (strcmp(argv[1], "publish") == 0)
		return run_publish(conf, exchange, rk);
	fprintf(stderr, "of-probe: unknown command '%s'\n", argv[1]);
	return 2;
}
