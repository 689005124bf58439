/* test_payment_rules: the simulated gateway's decision (payment_decide). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "workers/domains/payment_rules.h"

/* The reasons are written out as the customer and the operator read them
 * (payment.failed, cancel_reason), not taken from payment_rules.h: a changed
 * text has to change this test too. */
static char *declined[] = { "c-fraud", "c-broke" };

static struct cfg_domain payment_cfg(long long over, int with_list)
{
	struct cfg_domain d;

	memset(&d, 0, sizeof(d));
	d.decline_over_cents = over;
	if (with_list) {
		d.decline_customers.items = declined;
		d.decline_customers.count = 2;
	}
	return d;
}

static void test_default_config_approves_everything(void **state)
{
	struct cfg_domain d = payment_cfg(0, 0);
	const char *why = "unset";

	(void)state;
	assert_int_equal(payment_decide(&d, "c1", 0, &why), PAYMENT_APPROVED);
	assert_null(why);
	assert_int_equal(payment_decide(&d, "c1", 9223372036854775807LL, &why), PAYMENT_APPROVED);
}

static void test_listed_customer_is_declined(void **state)
{
	struct cfg_domain d = payment_cfg(0, 1);
	const char *why = NULL;

	(void)state;
	assert_int_equal(payment_decide(&d, "c-broke", 100, &why), PAYMENT_DECLINED);
	assert_string_equal(why, "card declined");
}

static void test_unlisted_customer_is_approved(void **state)
{
	struct cfg_domain d = payment_cfg(0, 1);
	const char *why = "unset";

	(void)state;
	assert_int_equal(payment_decide(&d, "c-fraud2", 100, &why), PAYMENT_APPROVED);
	assert_null(why);
	/* Exact match only: no prefix, no case folding. */
	assert_int_equal(payment_decide(&d, "C-FRAUD", 100, NULL), PAYMENT_APPROVED);
	assert_int_equal(payment_decide(&d, "c-frau", 100, NULL), PAYMENT_APPROVED);
}

static void test_amount_over_limit_is_declined(void **state)
{
	struct cfg_domain d = payment_cfg(50000, 0);
	const char *why = NULL;

	(void)state;
	assert_int_equal(payment_decide(&d, "c1", 50001, &why), PAYMENT_DECLINED);
	assert_string_equal(why, "amount over the limit");
}

static void test_amount_at_limit_is_approved(void **state)
{
	struct cfg_domain d = payment_cfg(50000, 0);

	(void)state;
	assert_int_equal(payment_decide(&d, "c1", 50000, NULL), PAYMENT_APPROVED);
	assert_int_equal(payment_decide(&d, "c1", 0, NULL), PAYMENT_APPROVED);
}

static void test_zero_limit_means_no_limit(void **state)
{
	struct cfg_domain d = payment_cfg(0, 0);

	(void)state;
	assert_int_equal(payment_decide(&d, "c1", 1000000000000LL, NULL), PAYMENT_APPROVED);
}

static void test_listed_customer_reason_wins_over_limit(void **state)
{
	struct cfg_domain d = payment_cfg(10, 1);
	const char *why = NULL;

	(void)state;
	assert_int_equal(payment_decide(&d, "c-fraud", 11, &why), PAYMENT_DECLINED);
	assert_string_equal(why, "card declined");
	assert_int_equal(payment_decide(&d, "c-ok", 11, &why), PAYMENT_DECLINED);
	assert_string_equal(why, "amount over the limit");
}

static void test_decision_is_the_same_every_time(void **state)
{
	struct cfg_domain d = payment_cfg(500, 1);

	(void)state;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(payment_decide(&d, "c-broke", 1, NULL), PAYMENT_DECLINED);
		assert_int_equal(payment_decide(&d, "c1", 499, NULL), PAYMENT_APPROVED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_config_approves_everything),
		cmocka_unit_test(test_listed_customer_is_declined),
		cmocka_unit_test(test_unlisted_customer_is_approved),
		cmocka_unit_test(test_amount_over_limit_is_declined),
		cmocka_unit_test(test_amount_at_limit_is_approved),
		cmocka_unit_test(test_zero_limit_means_no_limit),
		cmocka_unit_test(test_listed_customer_reason_wins_over_limit),
		cmocka_unit_test(test_decision_is_the_same_every_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
