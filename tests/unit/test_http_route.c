/*
 * test_http_route: which route a path names (and what is not found), the
 * methods of each route, the Content-Type rule, the JSON depth limit, the
 * customer id rule, and http.listen parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"

#define UUID "0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11"

static enum http_route_id route(const char *path, char *param, size_t len)
{
	struct http_route r;

	http_route_parse(path, &r);
	if (param != NULL)
		snprintf(param, len, "%s", r.param);
	return r.id;
}

static void test_each_route_is_recognised(void **state)
{
	char p[80];

	(void)state;
	assert_int_equal(route("/api/orders", p, sizeof(p)), HTTP_RT_ORDERS);
	assert_string_equal(p, "");
	assert_int_equal(route("/api/orders/" UUID, p, sizeof(p)), HTTP_RT_ORDER);
	assert_string_equal(p, UUID);
	assert_int_equal(route("/api/orders/" UUID "/cancel", p, sizeof(p)), HTTP_RT_ORDER_CANCEL);
	assert_string_equal(p, UUID);
	assert_int_equal(route("/api/customers/c1/notifications", p, sizeof(p)),
			 HTTP_RT_NOTIFICATIONS);
	assert_string_equal(p, "c1");
	assert_int_equal(route("/healthz", NULL, 0), HTTP_RT_HEALTHZ);
	assert_int_equal(route("/metrics", NULL, 0), HTTP_RT_METRICS);
}

static void test_one_trailing_slash_is_ignored(void **state)
{
	(void)state;
	assert_int_equal(route("/api/orders/", NULL, 0), HTTP_RT_ORDERS);
	assert_int_equal(route("/api/orders/" UUID "/", NULL, 0), HTTP_RT_ORDER);
	assert_int_equal(route("/api/orders/" UUID "/cancel/", NULL, 0), HTTP_RT_ORDER_CANCEL);
	assert_int_equal(route("/healthz/", NULL, 0), HTTP_RT_HEALTHZ);
	assert_int_equal(route("/api/orders//", NULL, 0), HTTP_RT_NOT_FOUND);
}

static void test_other_paths_are_not_found(void **state)
{
	static const char *const paths[] = {
		"", "/", "api/orders", "/api", "/api/", "/api/order", "/api/orders/x/y",
		"/api/orders/" UUID "/cancel/now", "/api/orders//cancel", "//api/orders",
		"/api/customers/c1", "/api/customers//notifications", "/api/customers/c1/orders",
		"/healthz/x", "/metricsx", "/API/orders", "/api/orders/" UUID "/CANCEL",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (route(paths[i], NULL, 0) != HTTP_RT_NOT_FOUND)
			fail_msg("\"%s\" should be not found", paths[i]);
	}
	assert_int_equal(route(NULL, NULL, 0), HTTP_RT_NOT_FOUND);
}

static void test_order_ids_with_odd_characters_are_not_found(void **state)
{
	static const char *const ids[] = {
		"a b", "a'b", "1;DROP", "..", "%2e", "a%00", "\xc3\xa9t\xc3\xa9", "a\nb", "a_b",
		"a.b", "a+b", "<script>",
	};
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(path, sizeof(path), "/api/orders/%s", ids[i]);
		if (route(path, NULL, 0) != HTTP_RT_NOT_FOUND)
			fail_msg("order id \"%s\" should be not found", ids[i]);
		snprintf(path, sizeof(path), "/api/orders/%s/cancel", ids[i]);
		if (route(path, NULL, 0) != HTTP_RT_NOT_FOUND)
			fail_msg("cancel of \"%s\" should be not found", ids[i]);
	}
}

static void test_ids_longer_than_64_bytes_are_not_found(void **state)
{
	char path[256], id[80];

	(void)state;
	memset(id, 'a', 64);
	id[64] = '\0';
	snprintf(path, sizeof(path), "/api/orders/%s", id);
	assert_int_equal(route(path, NULL, 0), HTTP_RT_ORDER);
	snprintf(path, sizeof(path), "/api/customers/%s/notifications", id);
	assert_int_equal(route(path, NULL, 0), HTTP_RT_NOTIFICATIONS);
	id[64] = 'a';
	id[65] = '\0';
	snprintf(path, sizeof(path), "/api/orders/%s", id);
	assert_int_equal(route(path, NULL, 0), HTTP_RT_NOT_FOUND);
	snprintf(path, sizeof(path), "/api/customers/%s/notifications", id);
	assert_int_equal(route(path, NULL, 0), HTTP_RT_NOT_FOUND);
}

static void test_customer_ids_may_be_any_utf8(void **state)
{
	char p[80];

	(void)state;
	assert_int_equal(route("/api/customers/J\xc3\xbcrgen/notifications", p, sizeof(p)),
			 HTTP_RT_NOTIFICATIONS);
	assert_string_equal(p, "J\xc3\xbcrgen");
	assert_int_equal(route("/api/customers/'; DROP TABLE orders; --/notifications", p,
			       sizeof(p)), HTTP_RT_NOTIFICATIONS);
	assert_int_equal(route("/api/customers/\xff\xfe/notifications", NULL, 0),
			 HTTP_RT_NOT_FOUND);
	assert_int_equal(route("/api/customers/a\tb/notifications", NULL, 0), HTTP_RT_NOT_FOUND);
}

static void test_methods_per_route(void **state)
{
	(void)state;
	assert_true(http_route_method_ok(HTTP_RT_ORDERS, "GET"));
	assert_true(http_route_method_ok(HTTP_RT_ORDERS, "POST"));
	assert_true(http_route_method_ok(HTTP_RT_ORDERS, "HEAD"));
	assert_false(http_route_method_ok(HTTP_RT_ORDERS, "DELETE"));
	assert_false(http_route_method_ok(HTTP_RT_ORDER, "POST"));
	assert_false(http_route_method_ok(HTTP_RT_ORDER, "PUT"));
	assert_true(http_route_method_ok(HTTP_RT_ORDER_CANCEL, "POST"));
	assert_false(http_route_method_ok(HTTP_RT_ORDER_CANCEL, "GET"));
	assert_false(http_route_method_ok(HTTP_RT_METRICS, "POST"));
	assert_false(http_route_method_ok(HTTP_RT_NOT_FOUND, "GET"));
	assert_false(http_route_method_ok(HTTP_RT_ORDERS, "get"));
	assert_string_equal(http_route_allow(HTTP_RT_ORDERS), "GET, HEAD, POST");
	assert_string_equal(http_route_allow(HTTP_RT_ORDER_CANCEL), "POST");
	assert_string_equal(http_route_allow(HTTP_RT_HEALTHZ), "GET, HEAD");
}

static void test_api_paths_need_a_token(void **state)
{
	(void)state;
	assert_true(http_path_is_api("/api"));
	assert_true(http_path_is_api("/api/"));
	assert_true(http_path_is_api("/api/nothing/here"));
	assert_false(http_path_is_api("/apix"));
	assert_false(http_path_is_api("/healthz"));
	assert_false(http_path_is_api("/metrics"));
}

static void test_content_type_json_with_parameters(void **state)
{
	(void)state;
	assert_true(http_content_type_is_json("application/json"));
	assert_true(http_content_type_is_json("Application/JSON"));
	assert_true(http_content_type_is_json("application/json; charset=utf-8"));
	assert_true(http_content_type_is_json("application/json;charset=UTF-8"));
	assert_true(http_content_type_is_json(" application/json "));
	assert_false(http_content_type_is_json("application/jsonx"));
	assert_false(http_content_type_is_json("application/json-patch+json"));
	assert_false(http_content_type_is_json("text/plain"));
	assert_false(http_content_type_is_json("application/x-www-form-urlencoded"));
	assert_false(http_content_type_is_json(""));
	assert_false(http_content_type_is_json(NULL));
}

/* n arrays nested: "[[[...]]]" */
static char *nested(int n)
{
	char *s = malloc((size_t)n * 2 + 1);

	for (int i = 0; i < n; i++) {
		s[i] = '[';
		s[n * 2 - 1 - i] = ']';
	}
	s[n * 2] = '\0';
	return s;
}

static void test_json_depth_limit_is_32(void **state)
{
	char *ok = nested(32), *deep = nested(33);
	static const char strings[] = "{\"a\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[\"}";

	(void)state;
	assert_true(http_json_depth_ok(ok, strlen(ok), HTTP_JSON_MAX_DEPTH));
	assert_false(http_json_depth_ok(deep, strlen(deep), HTTP_JSON_MAX_DEPTH));
	/* brackets inside strings (and escaped quotes) do not count */
	assert_true(http_json_depth_ok(strings, strlen(strings), 2));
	assert_true(http_json_depth_ok("{}", 2, 1));
	assert_false(http_json_depth_ok("{\"a\":{}}", 8, 1));
	free(ok);
	free(deep);
}

static void test_customer_id_rule(void **state)
{
	char big[80];

	(void)state;
	assert_true(http_customer_id_ok("c1"));
	assert_true(http_customer_id_ok("\xe5\xae\xa2\xe6\x88\xb7"));
	assert_false(http_customer_id_ok(""));
	assert_false(http_customer_id_ok(NULL));
	assert_false(http_customer_id_ok("a\x01"));
	assert_false(http_customer_id_ok("\xc0\xaf"));       /* overlong '/' */
	assert_false(http_customer_id_ok("\xed\xa0\x80"));   /* a surrogate */
	assert_false(http_customer_id_ok("\xe5\xae"));       /* cut short */
	memset(big, 'x', 65);
	big[65] = '\0';
	assert_false(http_customer_id_ok(big));
	big[64] = '\0';
	assert_true(http_customer_id_ok(big));
}

static void test_utf8_sanitize_replaces_bad_bytes(void **state)
{
	char s[] = "ok \xe5\xae\xa2 cut \xe5\xae";

	(void)state;
	http_utf8_sanitize(s);
	assert_string_equal(s, "ok \xe5\xae\xa2 cut ??");
}

static void test_listen_address_is_split(void **state)
{
	char host[64], port[8];

	(void)state;
	assert_int_equal(http_listen_parse("127.0.0.1:8080", host, sizeof(host), port,
					   sizeof(port)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "8080");
	assert_int_equal(http_listen_parse("[::1]:9", host, sizeof(host), port, sizeof(port)), 0);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "9");
	assert_int_equal(http_listen_parse("localhost:65535", host, sizeof(host), port,
					   sizeof(port)), 0);
	assert_int_equal(http_listen_parse("8080", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(http_listen_parse(":8080", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(http_listen_parse("h:0", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(http_listen_parse("h:65536", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(http_listen_parse("h:80x", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(http_listen_parse("::1:80", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(http_listen_parse("[]:80", host, sizeof(host), port, sizeof(port)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_route_is_recognised),
		cmocka_unit_test(test_one_trailing_slash_is_ignored),
		cmocka_unit_test(test_other_paths_are_not_found),
		cmocka_unit_test(test_order_ids_with_odd_characters_are_not_found),
		cmocka_unit_test(test_ids_longer_than_64_bytes_are_not_found),
		cmocka_unit_test(test_customer_ids_may_be_any_utf8),
		cmocka_unit_test(test_methods_per_route),
		cmocka_unit_test(test_api_paths_need_a_token),
		cmocka_unit_test(test_content_type_json_with_parameters),
		cmocka_unit_test(test_json_depth_limit_is_32),
		cmocka_unit_test(test_customer_id_rule),
		cmocka_unit_test(test_utf8_sanitize_replaces_bad_bytes),
		cmocka_unit_test(test_listen_address_is_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
