/*
 * test_http_auth: the bearer token check of the HTTP intake: the right token
 * passes, a wrong one, a prefix, an extension, an empty one and a missing
 * header do not; every configured token is tried; the header is parsed as
 * RFC 6750 says (scheme case-insensitive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/http_auth.h"

static char tok_a[] = "s3cret-token-A", tok_b[] = "another-token-B2";
static char *both[] = { tok_a, tok_b };
static const struct str_list tokens = { .items = both, .count = 2 };

static int eq(const char *given, const char *expected)
{
	return http_token_equal(given, strlen(given), expected);
}

static void test_right_token_is_equal(void **state)
{
	(void)state;
	assert_true(eq("s3cret-token-A", "s3cret-token-A"));
}

static void test_wrong_token_is_not_equal(void **state)
{
	(void)state;
	assert_false(eq("s3cret-token-B", "s3cret-token-A"));
	assert_false(eq("x3cret-token-A", "s3cret-token-A"));
	assert_false(eq("S3CRET-TOKEN-A", "s3cret-token-A"));
}

static void test_prefix_and_extension_are_not_equal(void **state)
{
	(void)state;
	assert_false(eq("s3cret", "s3cret-token-A"));
	assert_false(eq("s3cret-token-", "s3cret-token-A"));
	assert_false(eq("s3cret-token-AA", "s3cret-token-A"));
	/* The same bytes as the token, then a NUL: the length decides. */
	assert_false(http_token_equal("s3cret-token-A\0", 15, "s3cret-token-A"));
}

static void test_empty_offer_or_token_never_matches(void **state)
{
	(void)state;
	assert_false(eq("", "s3cret-token-A"));
	assert_false(eq("", ""));
	assert_false(http_token_matches(&tokens, "", 0));
}

static void test_every_configured_token_is_accepted(void **state)
{
	(void)state;
	assert_true(http_token_matches(&tokens, tok_a, strlen(tok_a)));
	assert_true(http_token_matches(&tokens, tok_b, strlen(tok_b)));
	assert_false(http_token_matches(&tokens, "another-token-B", 15));
	assert_false(http_token_matches(NULL, tok_a, strlen(tok_a)));
}

static void test_bearer_header_is_parsed(void **state)
{
	const char *t;
	size_t n;

	(void)state;
	assert_int_equal(http_bearer_token("Bearer abc", &t, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(t, "abc", 3);
	assert_int_equal(http_bearer_token("bearer\t  abc  ", &t, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(http_bearer_token("Basic abc", &t, &n), -1);
	assert_int_equal(http_bearer_token("Bearerabc", &t, &n), -1);
	assert_int_equal(http_bearer_token("Bearer ", &t, &n), -1);
	assert_int_equal(http_bearer_token("", &t, &n), -1);
	assert_int_equal(http_bearer_token(NULL, &t, &n), -1);
}

static void test_auth_needs_a_bearer_with_a_known_token(void **state)
{
	(void)state;
	assert_true(http_auth_ok(&tokens, "Bearer s3cret-token-A"));
	assert_true(http_auth_ok(&tokens, "BEARER another-token-B2"));
	assert_false(http_auth_ok(&tokens, "Bearer s3cret-token-a"));
	assert_false(http_auth_ok(&tokens, "s3cret-token-A"));
	assert_false(http_auth_ok(&tokens, NULL));
	/* A token with an inner space is not one of ours. */
	assert_false(http_auth_ok(&tokens, "Bearer s3cret-token-A extra"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_token_is_equal),
		cmocka_unit_test(test_wrong_token_is_not_equal),
		cmocka_unit_test(test_prefix_and_extension_are_not_equal),
		cmocka_unit_test(test_empty_offer_or_token_never_matches),
		cmocka_unit_test(test_every_configured_token_is_accepted),
		cmocka_unit_test(test_bearer_header_is_parsed),
		cmocka_unit_test(test_auth_needs_a_bearer_with_a_known_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
