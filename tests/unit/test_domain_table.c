/*
 * test_domain_table: each domain's table of events (workers/domain.h) against
 * tests/spec/subscriptions.txt, DESIGN.md's "Events" table: under the default
 * configuration a domain binds and handles exactly the keys the spec gives it;
 * no event type is written twice in a table; an event no row takes is
 * refused; the webhook's rows follow domains.webhook.events; and the AMQP
 * topic matching the dispatch shares with the broker.
 *
 * The files are found through ORDERFLOW_SOURCE_DIR (set by ctest), else next
 * to this source file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "workers/domain.h"

#define SPEC_MAX 32
#define WORDS_MAX 16

/* One line of the spec: a routing key and its consumers. */
struct spec_row {
	char key[64];
	char consumers[WORDS_MAX][32];
	int nconsumers;
};

static struct spec_row spec[SPEC_MAX];
static int nspec;

static const char *source_path(const char *rel)
{
	static char path[PATH_MAX];
	const char *env = getenv("ORDERFLOW_SOURCE_DIR");
	const char *tail = "/tests/unit/test_domain_table.c";
	size_t n = strlen(__FILE__);

	if (env != NULL && *env != '\0')
		snprintf(path, sizeof(path), "%s/%s", env, rel);
	else if (n >= strlen(tail) && strcmp(__FILE__ + n - strlen(tail), tail) == 0)
		snprintf(path, sizeof(path), "%.*s/%s", (int)(n - strlen(tail)), __FILE__, rel);
	else
		snprintf(path, sizeof(path), "%s", rel);
	return path;
}

/* Reads the spec: "key emitted_by consumer..." a line, '#' starts a comment. */
static void spec_read(void)
{
	FILE *f = fopen(source_path("tests/spec/subscriptions.txt"), "r");
	char line[512];

	assert_non_null(f);
	nspec = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#'), *save = NULL, *w;
		struct spec_row *r = &spec[nspec];
		int nw = 0;

		if (hash != NULL)
			*hash = '\0';
		memset(r, 0, sizeof(*r));
		for (w = strtok_r(line, " \t\n", &save); w != NULL; w = strtok_r(NULL, " \t\n", &save)) {
			if (nw == 0)
				snprintf(r->key, sizeof(r->key), "%s", w);
			else if (nw >= 2 && r->nconsumers < WORDS_MAX)
				snprintf(r->consumers[r->nconsumers++], sizeof(r->consumers[0]), "%s", w);
			nw++;
		}
		if (nw == 0)
			continue;
		assert_true(nw >= 3);
		assert_true(++nspec < SPEC_MAX);
	}
	fclose(f);
	assert_true(nspec >= 11);
}

static int spec_consumes(const struct spec_row *r, const char *domain)
{
	for (int i = 0; i < r->nconsumers; i++)
		if (strcmp(r->consumers[i], domain) == 0)
			return 1;
	return 0;
}

static struct config *load_defaults(void)
{
	struct config *cfg = NULL;
	char *errors = NULL;

	if (config_load(source_path("tests/configs/valid_minimal.conf"), &cfg, &errors) != 0)
		fail_msg("valid_minimal.conf: %s", errors);
	return cfg;
}

/* 1 when one of the domain's binding keys routes `key` to its queue. */
static int bound(const struct domain *dom, const struct config *cfg, const char *key)
{
	const char **keys;
	int n = domain_keys(dom, cfg, &keys), hit = 0;

	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		hit |= topic_match(keys[i], key);
	free(keys);
	return hit;
}

static void test_every_domain_binds_and_handles_what_the_spec_says(void **state)
{
	struct config *cfg = load_defaults();

	(void)state;
	spec_read();
	for (int d = 0; d < DOM_COUNT; d++) {
		const struct domain *dom = domain_get((enum domain_id)d);

		assert_non_null(dom);
		assert_string_equal(dom->name, domain_name((enum domain_id)d));
		for (int i = 0; i < nspec; i++) {
			int want = spec_consumes(&spec[i], dom->name);

			if (bound(dom, cfg, spec[i].key) != want)
				fail_msg("%s %s bound to %s", dom->name, want ? "is not" : "is",
					 spec[i].key);
			if ((domain_route(dom, cfg, spec[i].key) != NULL) != want)
				fail_msg("%s %s a row for %s", dom->name, want ? "has no" : "has",
					 spec[i].key);
		}
	}
	config_free(cfg);
}

/* The audit domain takes every event through one "#" row: the binding. */
static void test_audit_is_one_catch_all_row(void **state)
{
	const struct domain *audit = domain_get(DOM_AUDIT);
	const char **keys;

	(void)state;
	assert_int_equal(domain_keys(audit, NULL, &keys), 1);
	assert_string_equal(keys[0], "#");
	free(keys);
	assert_non_null(domain_route(audit, NULL, "some.future.event"));
}

/* With log_from = "outbox" the audit queue is bound only to the events no
 * other domain takes (with no webhook events: stock.released and
 * shipping.cancelled), so that the broker has a queue for every event; it
 * still handles whatever waits there. */
static void test_audit_binds_only_orphans_when_the_outbox_logs(void **state)
{
	const struct domain *audit = domain_get(DOM_AUDIT);
	static char *wh[] = { "shipping.cancelled" };
	struct config cfg;
	const char **keys = NULL;
	char outbox[] = "outbox";

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.domains[DOM_AUDIT].log_from = outbox;
	assert_int_equal(domain_keys(audit, &cfg, &keys), 2);
	free(keys);
	assert_int_equal(bound(audit, &cfg, "stock.released"), 1);
	assert_int_equal(bound(audit, &cfg, "shipping.cancelled"), 1);
	assert_int_equal(bound(audit, &cfg, "order.created"), 0);
	assert_non_null(domain_route(audit, &cfg, "order.created"));
	/* An event the webhook takes is no longer audit's. */
	cfg.domains[DOM_WEBHOOK].events.items = wh;
	cfg.domains[DOM_WEBHOOK].events.count = 1;
	assert_int_equal(bound(audit, &cfg, "shipping.cancelled"), 0);
	assert_int_equal(bound(audit, &cfg, "stock.released"), 1);
	/* The other domains bind what they did. */
	assert_int_equal(bound(domain_get(DOM_PAYMENT), &cfg, "stock.reserved"), 1);
}

static void test_no_event_type_is_written_twice_in_a_table(void **state)
{
	(void)state;
	for (int d = 0; d < DOM_COUNT; d++) {
		const struct domain *dom = domain_get((enum domain_id)d);

		assert_true(dom->nevents > 0);
		for (int i = 0; i < dom->nevents; i++) {
			assert_non_null(dom->events[i].handle);
			assert_true((dom->events[i].type == NULL) ==
				    ((dom->events[i].flags & DOM_EV_CONFIGURED) != 0));
			for (int j = 0; j < i && dom->events[i].type != NULL; j++)
				if (dom->events[j].type != NULL &&
				    strcmp(dom->events[i].type, dom->events[j].type) == 0)
					fail_msg("%s: %s twice", dom->name, dom->events[i].type);
		}
	}
}

/* The batch path is what it was: every row of order, inventory, shipping,
 * notification and audit; none of payment (a gateway call) and webhook (a
 * POST). */
static void test_batchable_rows(void **state)
{
	static const int batch[DOM_COUNT] = {
		[DOM_ORDER] = 1, [DOM_INVENTORY] = 1, [DOM_SHIPPING] = 1,
		[DOM_NOTIFICATION] = 1, [DOM_AUDIT] = 1,
	};

	(void)state;
	for (int d = 0; d < DOM_COUNT; d++) {
		const struct domain *dom = domain_get((enum domain_id)d);

		for (int i = 0; i < dom->nevents; i++)
			if (((dom->events[i].flags & DOM_EV_BATCH) != 0) != batch[d])
				fail_msg("%s: row %d batchable %d", dom->name, i, !batch[d]);
	}
}

static void test_webhook_rows_are_the_configured_events(void **state)
{
	static char *events[] = { "order.created", "payment.refunded" };
	const struct domain *wh = domain_get(DOM_WEBHOOK);
	struct config cfg;
	const char **keys = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.domains[DOM_WEBHOOK].events.items = events;
	cfg.domains[DOM_WEBHOOK].events.count = 2;
	assert_int_equal(domain_keys(wh, &cfg, &keys), 2);
	assert_string_equal(keys[0], "order.created");
	assert_string_equal(keys[1], "payment.refunded");
	free(keys);
	assert_non_null(domain_route(wh, &cfg, "payment.refunded"));
	assert_null(domain_route(wh, &cfg, "order.confirmed"));
}

static void test_an_event_with_no_row_is_rejected(void **state)
{
	struct envelope ev;
	struct handler_ctx ctx;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	memset(&ctx, 0, sizeof(ctx));
	snprintf(ev.event_type, sizeof(ev.event_type), "payment.completed");
	ctx.ev = &ev;
	assert_int_equal(domain_dispatch(domain_get(DOM_INVENTORY), &ctx), HANDLER_REJECT);
	assert_string_equal(ctx.reason,
			    "inventory: payment.completed is not an event of the inventory domain");
}

static void test_topic_match(void **state)
{
	(void)state;
	assert_true(topic_match("order.created", "order.created"));
	assert_false(topic_match("order.created", "order.cancelled"));
	assert_false(topic_match("order", "order.created"));
	assert_false(topic_match("order.created.x", "order.created"));
	assert_true(topic_match("#", "order.created"));
	assert_true(topic_match("#", "a"));
	assert_true(topic_match("probe.#", "probe"));
	assert_true(topic_match("probe.#", "probe.a.b"));
	assert_false(topic_match("probe.#", "order.created"));
	assert_true(topic_match("*.created", "order.created"));
	assert_false(topic_match("*.created", "order.x.created"));
	assert_true(topic_match("a.#.z", "a.z"));
	assert_true(topic_match("a.#.z", "a.b.c.z"));
	assert_false(topic_match("a.#.z", "a.b.c"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_domain_binds_and_handles_what_the_spec_says),
		cmocka_unit_test(test_audit_is_one_catch_all_row),
		cmocka_unit_test(test_audit_binds_only_orphans_when_the_outbox_logs),
		cmocka_unit_test(test_no_event_type_is_written_twice_in_a_table),
		cmocka_unit_test(test_batchable_rows),
		cmocka_unit_test(test_webhook_rows_are_the_configured_events),
		cmocka_unit_test(test_an_event_with_no_row_is_rejected),
		cmocka_unit_test(test_topic_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
