/*
 * test_http_metrics: GET /metrics text: every family has # HELP and # TYPE,
 * every sample line is `name{labels} value`, the histogram's buckets are
 * cumulative with +Inf equal to _count, _sum is in seconds, no pool means
 * zeros, and the outbox gauges appear only when the database answered;
 * build_info carries the version, child restarts are counted by role (every
 * role present), and the parked depth is shown for the domains the broker
 * answered for only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_metrics.h"

static char *render(const struct metrics_snapshot *s)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(s, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	return text;
}

/* How many times `needle` occurs in the text. */
static int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* 1 when `line` (without newline) is in the text. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void test_no_pool_reports_zeros(void **state)
{
	struct metrics_snapshot s;
	char *text;

	(void)state;
	metrics_snapshot_take(NULL, &s);
	text = render(&s);
	assert_true(has_line(text, "orderflow_events_processed_total{domain=\"order\"} 0"));
	assert_true(has_line(text, "orderflow_events_parked_total{domain=\"audit\"} 0"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"payment\","
				   "le=\"+Inf\"} 0"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_count{domain=\"payment\"} 0"));
	assert_true(has_line(text, "orderflow_relayed_total 0"));
	assert_true(has_line(text, "orderflow_orders_placed_total 0"));
	/* no database answer: no outbox gauges */
	assert_null(strstr(text, "orderflow_outbox_pending"));
	assert_true(has_line(text, "orderflow_child_restarts_total{role=\"order\"} 0"));
	assert_true(has_line(text, "orderflow_child_restarts_total{role=\"http\"} 0"));
	/* no broker answer: no parked depth, rather than a false 0 */
	assert_null(strstr(text, "orderflow_parked_messages"));
	free(text);
}

static void test_build_info_carries_the_version(void **state)
{
	struct metrics_snapshot s;
	char *text, want[128];

	(void)state;
	metrics_snapshot_take(NULL, &s);
	text = render(&s);
	snprintf(want, sizeof(want), "orderflow_build_info{version=\"%s\"} 1", ORDERFLOW_VERSION);
	assert_true(has_line(text, want));
	assert_true(has_line(text, "# TYPE orderflow_build_info gauge"));
	free(text);
	/* a label value is escaped as the text format wants */
	s.version = "1.0\"x\\y";
	text = render(&s);
	assert_true(has_line(text, "orderflow_build_info{version=\"1.0\\\"x\\\\y\"} 1"));
	free(text);
}

static void test_child_restarts_by_role(void **state)
{
	struct pool_stats *ps = calloc(1, sizeof(*ps));
	struct metrics_snapshot s;
	char *text;

	(void)state;
	poolstats_add(&ps->restarts[DOM_PAYMENT], 2);
	poolstats_add(&ps->restarts[POOLSTATS_ROLE_RELAY], 1);
	poolstats_add(&ps->restarts[POOLSTATS_ROLE_HTTP], 5);
	metrics_snapshot_take(ps, &s);
	text = render(&s);
	assert_true(has_line(text, "# TYPE orderflow_child_restarts_total counter"));
	assert_true(has_line(text, "orderflow_child_restarts_total{role=\"payment\"} 2"));
	assert_true(has_line(text, "orderflow_child_restarts_total{role=\"relay\"} 1"));
	assert_true(has_line(text, "orderflow_child_restarts_total{role=\"http\"} 5"));
	assert_true(has_line(text, "orderflow_child_restarts_total{role=\"inventory\"} 0"));
	free(text);
	free(ps);
}

static void test_parked_depth_for_the_lots_that_answered(void **state)
{
	struct metrics_snapshot s;
	char *text;

	(void)state;
	metrics_snapshot_take(NULL, &s);
	s.parked_depth[DOM_ORDER] = 0;
	s.parked_depth[DOM_WEBHOOK] = 17;
	text = render(&s);
	assert_true(has_line(text, "# TYPE orderflow_parked_messages gauge"));
	assert_true(has_line(text, "orderflow_parked_messages{domain=\"order\"} 0"));
	assert_true(has_line(text, "orderflow_parked_messages{domain=\"webhook\"} 17"));
	assert_null(strstr(text, "orderflow_parked_messages{domain=\"audit\"}"));
	/* one family header, however many samples */
	assert_int_equal(count_of(text, "# HELP orderflow_parked_messages "), 1);
	free(text);
}

static void test_counters_come_from_the_pool(void **state)
{
	struct pool_stats *ps = calloc(1, sizeof(*ps));
	struct metrics_snapshot s;
	char *text;

	(void)state;
	atomic_store(&ps->domains[DOM_INVENTORY].processed, 42);
	atomic_store(&ps->domains[DOM_INVENTORY].duplicates, 3);
	atomic_store(&ps->domains[DOM_WEBHOOK].retried, 7);
	atomic_store(&ps->domains[DOM_WEBHOOK].parked, 1);
	atomic_store(&ps->relayed, 99);
	atomic_store(&ps->orders_placed, 12);
	atomic_store(&ps->outbox_refused, 5);
	atomic_store(&ps->pruned_inbox, 200000);
	atomic_store(&ps->pruned_outbox, 50000);
	metrics_snapshot_take(ps, &s);
	text = render(&s);
	assert_true(has_line(text, "orderflow_events_processed_total{domain=\"inventory\"} 42"));
	assert_true(has_line(text, "orderflow_events_duplicate_total{domain=\"inventory\"} 3"));
	assert_true(has_line(text, "orderflow_events_retried_total{domain=\"webhook\"} 7"));
	assert_true(has_line(text, "orderflow_events_parked_total{domain=\"webhook\"} 1"));
	assert_true(has_line(text, "orderflow_relayed_total 99"));
	assert_true(has_line(text, "orderflow_orders_placed_total 12"));
	assert_true(has_line(text, "orderflow_outbox_refused_total 5"));
	assert_true(has_line(text, "orderflow_pruned_rows_total{table=\"inbox\"} 200000"));
	assert_true(has_line(text, "orderflow_pruned_rows_total{table=\"outbox\"} 50000"));
	free(text);
	free(ps);
}

static void test_histogram_buckets_are_cumulative_and_inf_is_count(void **state)
{
	struct pool_stats *ps = calloc(1, sizeof(*ps));
	struct domain_stats *ds = &ps->domains[DOM_ORDER];
	struct metrics_snapshot s;
	char *text;

	(void)state;
	/* through the writers' own helper: 0.5 ms, 3 ms twice, 40 ms, 9 s */
	poolstats_latency(ds, 0.5);
	poolstats_latency(ds, 3);
	poolstats_latency(ds, 3);
	poolstats_latency(ds, 40);
	poolstats_latency(ds, 9000);
	metrics_snapshot_take(ps, &s);
	text = render(&s);
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"order\","
				   "le=\"0.001\"} 1"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"order\","
				   "le=\"0.002\"} 1"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"order\","
				   "le=\"0.005\"} 3"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"order\","
				   "le=\"0.05\"} 4"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"order\","
				   "le=\"5\"} 4"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"order\","
				   "le=\"+Inf\"} 5"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_count{domain=\"order\"} 5"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_sum{domain=\"order\"} "
				   "9.046500"));
	free(text);
	free(ps);
}

static void test_count_follows_the_buckets_not_a_separate_counter(void **state)
{
	struct metrics_snapshot s;
	char *text;

	(void)state;
	metrics_snapshot_take(NULL, &s);
	/* as if a worker had bumped a bucket but not yet the count */
	s.domains[DOM_SHIPPING].bucket[0] = 2;
	s.domains[DOM_SHIPPING].bucket[POOLSTATS_BUCKETS] = 1;
	text = render(&s);
	assert_true(has_line(text, "orderflow_handler_duration_seconds_bucket{domain=\"shipping\","
				   "le=\"+Inf\"} 3"));
	assert_true(has_line(text, "orderflow_handler_duration_seconds_count{domain=\"shipping\"} 3"));
	free(text);
}

static void test_outbox_gauges_when_known(void **state)
{
	struct metrics_snapshot s;
	char *text;

	(void)state;
	metrics_snapshot_take(NULL, &s);
	s.have_outbox = 1;
	s.outbox_pending = 4;
	s.outbox_lag_s = 1.25;
	s.outbox_set_aside = 2;
	text = render(&s);
	assert_true(has_line(text, "# TYPE orderflow_outbox_set_aside gauge"));
	assert_true(has_line(text, "orderflow_outbox_set_aside 2"));
	assert_true(has_line(text, "# TYPE orderflow_outbox_pending gauge"));
	assert_true(has_line(text, "orderflow_outbox_pending 4"));
	assert_true(has_line(text, "# TYPE orderflow_outbox_lag_seconds gauge"));
	assert_true(has_line(text, "orderflow_outbox_lag_seconds 1.250"));
	free(text);
}

/* Every line is a comment or `name{labels} value`; every sample's family has
 * HELP and TYPE before it; the text ends with a newline. */
static void test_every_line_is_valid_exposition_text(void **state)
{
	static const char *const families[] = {
		"orderflow_events_processed_total", "orderflow_events_duplicate_total",
		"orderflow_events_retried_total", "orderflow_events_parked_total",
		"orderflow_handler_duration_seconds", "orderflow_relayed_total",
		"orderflow_orders_placed_total", "orderflow_outbox_pending",
		"orderflow_outbox_lag_seconds", "orderflow_build_info",
		"orderflow_child_restarts_total", "orderflow_parked_messages",
		"orderflow_outbox_refused_total", "orderflow_pruned_rows_total",
		"orderflow_outbox_set_aside",
	};
	struct metrics_snapshot s;
	regex_t sample, comment;
	char *text, *line, *save = NULL, want[160];

	(void)state;
	metrics_snapshot_take(NULL, &s);
	s.have_outbox = 1;
	for (int d = 0; d < DOM_COUNT; d++)
		s.parked_depth[d] = d;
	text = render(&s);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(want, sizeof(want), "# HELP %s ", families[i]);
		assert_non_null(strstr(text, want));
		snprintf(want, sizeof(want), "# TYPE %s ", families[i]);
		assert_non_null(strstr(text, want));
	}
	assert_int_equal(regcomp(&sample, "^[a-zA-Z_:][a-zA-Z0-9_:]*"
				 "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\",?)*\\})? "
				 "[-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN)$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&comment, "^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (regexec(&sample, line, 0, NULL, 0) != 0 && regexec(&comment, line, 0, NULL, 0) != 0)
			fail_msg("not exposition text: \"%s\"", line);
	regfree(&sample);
	regfree(&comment);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_pool_reports_zeros),
		cmocka_unit_test(test_build_info_carries_the_version),
		cmocka_unit_test(test_child_restarts_by_role),
		cmocka_unit_test(test_parked_depth_for_the_lots_that_answered),
		cmocka_unit_test(test_counters_come_from_the_pool),
		cmocka_unit_test(test_histogram_buckets_are_cumulative_and_inf_is_count),
		cmocka_unit_test(test_count_follows_the_buckets_not_a_separate_counter),
		cmocka_unit_test(test_outbox_gauges_when_known),
		cmocka_unit_test(test_every_line_is_valid_exposition_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
