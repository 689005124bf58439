/*
 * test_breaker: the webhook's circuit breaker (a pure state machine driven
 * with made-up monotonic times) and the classification of receiver answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "workers/domains/breaker.h"
#include "workers/domains/webhook.h"

#define T0 1000000LL

static void test_breaker_starts_closed_and_allows(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 3, 30000);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_true(breaker_allow(&b, T0));
	assert_int_equal(breaker_hold_ms(&b, T0), 0);
}

static void test_breaker_opens_after_threshold_failures_in_a_row(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 3, 30000);
	breaker_failure(&b, T0);
	breaker_failure(&b, T0 + 1);
	assert_int_equal(b.state, BREAKER_CLOSED);
	breaker_failure(&b, T0 + 2);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_false(breaker_allow(&b, T0 + 3));
}

static void test_success_resets_the_failure_count(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 3, 30000);
	breaker_failure(&b, T0);
	breaker_failure(&b, T0);
	breaker_success(&b);
	breaker_failure(&b, T0);
	breaker_failure(&b, T0);
	assert_int_equal(b.state, BREAKER_CLOSED);
	breaker_failure(&b, T0);
	assert_int_equal(b.state, BREAKER_OPEN);
}

static void test_open_breaker_holds_for_the_cooldown(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 1, 30000);
	breaker_failure(&b, T0);
	assert_int_equal(breaker_hold_ms(&b, T0), 30000);
	assert_int_equal(breaker_hold_ms(&b, T0 + 10000), 20000);
	assert_int_equal(breaker_hold_ms(&b, T0 + 29999), 1);
	assert_false(breaker_allow(&b, T0 + 29999));
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(breaker_hold_ms(&b, T0 + 30000), 0);
}

static void test_after_cooldown_one_trial_is_allowed(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 1, 30000);
	breaker_failure(&b, T0);
	assert_true(breaker_allow(&b, T0 + 30000));
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	/* Only one trial until its outcome is known. */
	assert_false(breaker_allow(&b, T0 + 30001));
	assert_int_equal(breaker_hold_ms(&b, T0 + 30001), 0);
}

static void test_trial_success_closes_the_breaker(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 2, 1000);
	breaker_failure(&b, T0);
	breaker_failure(&b, T0);
	assert_true(breaker_allow(&b, T0 + 1000));
	breaker_success(&b);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_true(breaker_allow(&b, T0 + 1001));
	assert_true(breaker_allow(&b, T0 + 1002));
	/* A fresh count: one failure does not open it again. */
	breaker_failure(&b, T0 + 1003);
	assert_int_equal(b.state, BREAKER_CLOSED);
}

static void test_trial_failure_opens_for_another_cooldown(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 5, 1000);
	for (int i = 0; i < 5; i++)
		breaker_failure(&b, T0);
	assert_true(breaker_allow(&b, T0 + 1500));
	breaker_failure(&b, T0 + 1600);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(breaker_hold_ms(&b, T0 + 1600), 1000);
	assert_false(breaker_allow(&b, T0 + 2599));
	assert_true(breaker_allow(&b, T0 + 2600));
}

static void test_failure_reported_while_open_changes_nothing(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 1, 1000);
	breaker_failure(&b, T0);
	breaker_failure(&b, T0 + 900); /* an attempt begun before it opened */
	assert_int_equal(breaker_hold_ms(&b, T0 + 900), 100);
}

static void test_threshold_below_one_is_one(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, 0, 1000);
	breaker_failure(&b, T0);
	assert_int_equal(b.state, BREAKER_OPEN);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(breaker_state_name(BREAKER_CLOSED), "CLOSED");
	assert_string_equal(breaker_state_name(BREAKER_OPEN), "OPEN");
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "HALF_OPEN");
}

/* ---- receiver answers ---------------------------------------------------------- */

static void test_2xx_is_delivered(void **state)
{
	(void)state;
	assert_int_equal(webhook_classify(200), WEBHOOK_DELIVERED);
	assert_int_equal(webhook_classify(202), WEBHOOK_DELIVERED);
	assert_int_equal(webhook_classify(204), WEBHOOK_DELIVERED);
	assert_int_equal(webhook_classify(299), WEBHOOK_DELIVERED);
}

static void test_4xx_is_permanent_except_408_and_429(void **state)
{
	(void)state;
	assert_int_equal(webhook_classify(400), WEBHOOK_PERMANENT);
	assert_int_equal(webhook_classify(401), WEBHOOK_PERMANENT);
	assert_int_equal(webhook_classify(404), WEBHOOK_PERMANENT);
	assert_int_equal(webhook_classify(422), WEBHOOK_PERMANENT);
	assert_int_equal(webhook_classify(499), WEBHOOK_PERMANENT);
	assert_int_equal(webhook_classify(408), WEBHOOK_TRANSIENT);
	assert_int_equal(webhook_classify(429), WEBHOOK_TRANSIENT);
}

static void test_5xx_and_others_are_transient(void **state)
{
	(void)state;
	assert_int_equal(webhook_classify(500), WEBHOOK_TRANSIENT);
	assert_int_equal(webhook_classify(503), WEBHOOK_TRANSIENT);
	assert_int_equal(webhook_classify(302), WEBHOOK_TRANSIENT);
	assert_int_equal(webhook_classify(100), WEBHOOK_TRANSIENT);
	assert_int_equal(webhook_classify(0), WEBHOOK_TRANSIENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_breaker_starts_closed_and_allows),
		cmocka_unit_test(test_breaker_opens_after_threshold_failures_in_a_row),
		cmocka_unit_test(test_success_resets_the_failure_count),
		cmocka_unit_test(test_open_breaker_holds_for_the_cooldown),
		cmocka_unit_test(test_after_cooldown_one_trial_is_allowed),
		cmocka_unit_test(test_trial_success_closes_the_breaker),
		cmocka_unit_test(test_trial_failure_opens_for_another_cooldown),
		cmocka_unit_test(test_failure_reported_while_open_changes_nothing),
		cmocka_unit_test(test_threshold_below_one_is_one),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_2xx_is_delivered),
		cmocka_unit_test(test_4xx_is_permanent_except_408_and_429),
		cmocka_unit_test(test_5xx_and_others_are_transient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
