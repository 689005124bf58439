/*
 * test_retry: the retry policy of core/retry.h with the default delays (orderflowd --dump-keys)
 * (4 delay tiers, max_attempts 10) and its edges: the first failure when one
 * attempt is allowed, attempt numbers from broken headers, and the
 * `orderflow-last-error` cut that must not split a UTF-8 character.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "core/retry.h"

/* ---- which tier after a failure ---- */

static void test_failed_attempts_walk_the_tiers_then_park(void **state)
{
	/* attempt n failed -> tier for the copy (attempt n + 1); 0 = park. */
	static const int want[13] = { 0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 0, 0, 0 };

	(void)state;
	for (int attempt = 1; attempt <= 12; attempt++)
		assert_int_equal(retry_tier_after_failure(attempt, 10, 4), want[attempt]);
}

static void test_attempt_past_the_tiers_reuses_the_last_tier(void **state)
{
	(void)state;
	assert_int_equal(retry_tier_after_failure(4, 10, 4), 4);
	assert_int_equal(retry_tier_after_failure(5, 10, 4), 4);
	assert_int_equal(retry_tier_after_failure(9, 10, 4), 4);
}

static void test_last_allowed_attempt_failing_parks(void **state)
{
	(void)state;
	assert_int_equal(retry_tier_after_failure(10, 10, 4), 0);
	assert_int_equal(retry_tier_after_failure(INT_MAX, 10, 4), 0);
	assert_int_equal(retry_tier_after_failure(INT_MAX, INT_MAX, 4), 0);
}

static void test_one_attempt_allowed_parks_on_first_failure(void **state)
{
	(void)state;
	assert_int_equal(retry_tier_after_failure(1, 1, 4), 0);
	assert_int_equal(retry_on_arrival(1, 1), RETRY_PROCESS);
	assert_int_equal(retry_on_arrival(2, 1), RETRY_PARK_MAX_ATTEMPTS);
}

static void test_more_tiers_than_attempts_uses_early_tiers_only(void **state)
{
	(void)state;
	assert_int_equal(retry_tier_after_failure(1, 3, 8), 1);
	assert_int_equal(retry_tier_after_failure(2, 3, 8), 2);
	assert_int_equal(retry_tier_after_failure(3, 3, 8), 0);
}

static void test_attempt_below_one_counts_as_first(void **state)
{
	(void)state;
	assert_int_equal(retry_tier_after_failure(0, 10, 4), 1);
	assert_int_equal(retry_tier_after_failure(-5, 10, 4), 1);
	assert_int_equal(retry_tier_after_failure(INT_MIN, 10, 4), 1);
}

static void test_no_tiers_means_park(void **state)
{
	(void)state;
	assert_int_equal(retry_tier_after_failure(1, 10, 0), 0);
	assert_int_equal(retry_tier_after_failure(1, 10, -1), 0);
}

/* ---- on arrival ---- */

static void test_arrival_within_the_limit_is_processed(void **state)
{
	(void)state;
	for (int attempt = 1; attempt <= 10; attempt++)
		assert_int_equal(retry_on_arrival(attempt, 10), RETRY_PROCESS);
}

static void test_arrival_past_the_limit_is_parked(void **state)
{
	(void)state;
	assert_int_equal(retry_on_arrival(11, 10), RETRY_PARK_MAX_ATTEMPTS);
	assert_int_equal(retry_on_arrival(INT_MAX, 10), RETRY_PARK_MAX_ATTEMPTS);
}

static void test_arrival_below_one_is_a_first_delivery(void **state)
{
	(void)state;
	assert_int_equal(retry_on_arrival(0, 1), RETRY_PROCESS);
	assert_int_equal(retry_on_arrival(-3, 1), RETRY_PROCESS);
	assert_int_equal(retry_on_arrival(INT_MIN, 10), RETRY_PROCESS);
}

static void test_limit_below_one_still_allows_one_try(void **state)
{
	(void)state;
	assert_int_equal(retry_on_arrival(1, 0), RETRY_PROCESS);
	assert_int_equal(retry_on_arrival(2, 0), RETRY_PARK_MAX_ATTEMPTS);
	assert_int_equal(retry_tier_after_failure(1, 0, 4), 0);
}

/* ---- parsing the header ---- */

static void test_attempt_parse_reads_decimal_text(void **state)
{
	(void)state;
	assert_int_equal(retry_attempt_parse("1"), 1);
	assert_int_equal(retry_attempt_parse("2"), 2);
	assert_int_equal(retry_attempt_parse("10"), 10);
	assert_int_equal(retry_attempt_parse("007"), 7);
	assert_int_equal(retry_attempt_parse("+3"), 3);
	assert_int_equal(retry_attempt_parse(" 4 "), 4);
	assert_int_equal(retry_attempt_parse("2147483647"), INT_MAX);
}

static void test_attempt_parse_absent_or_garbage_is_one(void **state)
{
	static const char *const bad[] = {
		"", " ", "abc", "3abc", "3 4", "0x10", "1e3", "2.5", "-", "+", "++2", "\t\n",
	};

	(void)state;
	assert_int_equal(retry_attempt_parse(NULL), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(retry_attempt_parse(bad[i]), 1);
}

static void test_attempt_parse_below_one_is_one(void **state)
{
	(void)state;
	assert_int_equal(retry_attempt_parse("0"), 1);
	assert_int_equal(retry_attempt_parse("-0"), 1);
	assert_int_equal(retry_attempt_parse("-1"), 1);
	assert_int_equal(retry_attempt_parse("-2147483648"), 1);
	assert_int_equal(retry_attempt_parse("-99999999999999999999"), 1);
}

static void test_attempt_parse_huge_clamps_to_int_max(void **state)
{
	(void)state;
	assert_int_equal(retry_attempt_parse("2147483648"), INT_MAX);
	assert_int_equal(retry_attempt_parse("99999999999999999999999999999999"), INT_MAX);
	assert_int_equal(retry_attempt_parse("18446744073709551617"), INT_MAX);
}

/* ---- orderflow-last-error ---- */

static void fill(char *buf, size_t n, char c)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

static void test_last_error_short_text_is_kept(void **state)
{
	char out[257];

	(void)state;
	retry_last_error("deadlock (1213)", out);
	assert_string_equal(out, "deadlock (1213)");
	retry_last_error("", out);
	assert_string_equal(out, "");
	retry_last_error(NULL, out);
	assert_string_equal(out, "");
}

static void test_last_error_of_exactly_256_bytes_is_kept(void **state)
{
	char in[257], out[257];

	(void)state;
	fill(in, 256, 'e');
	retry_last_error(in, out);
	assert_string_equal(out, in);
}

static void test_last_error_longer_is_cut_at_256_bytes(void **state)
{
	char in[1001], out[257];

	(void)state;
	fill(in, 1000, 'e');
	memset(out, 'X', sizeof(out));
	retry_last_error(in, out);
	assert_int_equal(strlen(out), 256);
	assert_int_equal(out[256], '\0');
}

/* in = `lead` ASCII bytes, then one `seq`, then more ASCII; out must end at
 * `want` bytes, before the sequence if it would straddle byte 256. */
static void check_cut(size_t lead, const char *seq, size_t want)
{
	char in[400], out[257];
	size_t n = strlen(seq);

	fill(in, sizeof(in) - 1, 'a');
	memcpy(in + lead, seq, n);
	retry_last_error(in, out);
	assert_int_equal(strlen(out), want);
	assert_memory_equal(out, in, want);
}

static void test_last_error_never_splits_a_utf8_character(void **state)
{
	(void)state;
	/* 2 bytes (é) at 255-256: straddles, dropped whole. */
	check_cut(255, "\xc3\xa9", 255);
	/* ... at 254-255: fits, kept. */
	check_cut(254, "\xc3\xa9", 256);
	/* 3 bytes (€) at 254-256 and at 255-257: dropped whole. */
	check_cut(254, "\xe2\x82\xac", 254);
	check_cut(255, "\xe2\x82\xac", 255);
	check_cut(253, "\xe2\x82\xac", 256);
	/* 4 bytes (😀) starting at 253, 254 and 255: dropped whole. */
	check_cut(253, "\xf0\x9f\x98\x80", 253);
	check_cut(254, "\xf0\x9f\x98\x80", 254);
	check_cut(255, "\xf0\x9f\x98\x80", 255);
	check_cut(252, "\xf0\x9f\x98\x80", 256);
	/* Starting right at byte 256: the cut is clean already. */
	check_cut(256, "\xf0\x9f\x98\x80", 256);
}

static void test_last_error_of_multibyte_text_stays_whole_characters(void **state)
{
	char in[301], out[257];

	(void)state;
	/* 100 × "€" = 300 bytes: 85 whole characters fit in 256 bytes. */
	for (int i = 0; i < 100; i++)
		memcpy(in + 3 * i, "\xe2\x82\xac", 3);
	in[300] = '\0';
	retry_last_error(in, out);
	assert_int_equal(strlen(out), 255);
	assert_memory_equal(out, in, 255);
}

static void test_last_error_of_stray_continuation_bytes_still_ends(void **state)
{
	char in[301], out[257];

	(void)state;
	/* Not UTF-8: the cut backs off at most one character's worth. */
	fill(in, 300, '\x80');
	retry_last_error(in, out);
	assert_int_equal(strlen(out), 253);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_attempts_walk_the_tiers_then_park),
		cmocka_unit_test(test_attempt_past_the_tiers_reuses_the_last_tier),
		cmocka_unit_test(test_last_allowed_attempt_failing_parks),
		cmocka_unit_test(test_one_attempt_allowed_parks_on_first_failure),
		cmocka_unit_test(test_more_tiers_than_attempts_uses_early_tiers_only),
		cmocka_unit_test(test_attempt_below_one_counts_as_first),
		cmocka_unit_test(test_no_tiers_means_park),
		cmocka_unit_test(test_arrival_within_the_limit_is_processed),
		cmocka_unit_test(test_arrival_past_the_limit_is_parked),
		cmocka_unit_test(test_arrival_below_one_is_a_first_delivery),
		cmocka_unit_test(test_limit_below_one_still_allows_one_try),
		cmocka_unit_test(test_attempt_parse_reads_decimal_text),
		cmocka_unit_test(test_attempt_parse_absent_or_garbage_is_one),
		cmocka_unit_test(test_attempt_parse_below_one_is_one),
		cmocka_unit_test(test_attempt_parse_huge_clamps_to_int_max),
		cmocka_unit_test(test_last_error_short_text_is_kept),
		cmocka_unit_test(test_last_error_of_exactly_256_bytes_is_kept),
		cmocka_unit_test(test_last_error_longer_is_cut_at_256_bytes),
		cmocka_unit_test(test_last_error_never_splits_a_utf8_character),
		cmocka_unit_test(test_last_error_of_multibyte_text_stays_whole_characters),
		cmocka_unit_test(test_last_error_of_stray_continuation_bytes_still_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
