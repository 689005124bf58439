/*
 * test_http_request: the JSON bodies of the intake (what is 400, what is
 * left to order_place's 422 rules) and the checks before a body is read
 * (401, 404, 405, 415, 413), with the exact messages clients see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_gate.h"
#include "intake/http_request.h"

static char err[512];

static int parse(const char *body, struct order_request *req)
{
	err[0] = '\0';
	return http_parse_order(body, strlen(body), req, err, sizeof(err));
}

/* Expects status `want` and, when given, a message that begins with `msg`. */
static void expect(const char *body, int want, const char *msg)
{
	struct order_request req;
	int got = parse(body, &req);

	if (got != want)
		fail_msg("%s: got %d (%s), expected %d", body, got, err, want);
	if (msg != NULL && strncmp(err, msg, strlen(msg)) != 0)
		fail_msg("%s: message \"%s\", expected \"%s...\"", body, err, msg);
	if (got == 0)
		order_request_free(&req);
	else
		assert_null(req.doc);
}

static void test_well_formed_order_is_parsed(void **state)
{
	struct order_request req;

	(void)state;
	assert_int_equal(parse("{\"customer_id\": \"c1\", \"currency\": \"EUR\", \"items\": "
			       "[{\"sku\": \"SKU-A\", \"quantity\": 2}, {\"sku\": \"SKU-B\", "
			       "\"quantity\": 1, \"note\": \"x\"}], \"extra\": true}", &req), 0);
	assert_string_equal(req.customer_id, "c1");
	assert_string_equal(req.currency, "EUR");
	assert_int_equal(req.nitems, 2);
	assert_string_equal(req.items[0].sku, "SKU-A");
	assert_int_equal(req.items[0].quantity, 2);
	assert_string_equal(req.items[1].sku, "SKU-B");
	order_request_free(&req);
}

static void test_currency_may_be_left_out(void **state)
{
	struct order_request req;

	(void)state;
	assert_int_equal(parse("{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"A\", "
			       "\"quantity\": 1}]}", &req), 0);
	assert_null(req.currency);
	order_request_free(&req);
}

static void test_malformed_json_is_400(void **state)
{
	(void)state;
	expect("", 400, "a JSON request body is required");
	expect("{", 400, "malformed JSON");
	expect("{\"customer_id\": \"c1\",}", 400, "malformed JSON");
	expect("not json", 400, "malformed JSON");
	expect("{\"customer_id\": \"c1\", \"customer_id\": \"c2\", \"items\": []}", 400,
	       "malformed JSON");
	expect("{\"customer_id\": \"a\\u0000b\", \"items\": []}", 400, "malformed JSON");
	expect("{\"customer_id\": \"\xff\", \"items\": []}", 400, "malformed JSON");
	expect("[1, 2]", 400, "the request body must be a JSON object");
	expect("\"text\"", 400, "malformed JSON");
}

static void test_missing_fields_are_400(void **state)
{
	(void)state;
	expect("{\"items\": []}", 400, "customer_id is required");
	expect("{\"customer_id\": \"c1\"}", 400, "items is required");
	expect("{\"customer_id\": \"c1\", \"items\": [{\"quantity\": 1}]}", 400,
	       "items[0].sku is required");
	expect("{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"A\", \"quantity\": 1}, "
	       "{\"sku\": \"A\"}]}", 400, "items[1].quantity is required");
}

static void test_wrong_types_are_400(void **state)
{
	(void)state;
	expect("{\"customer_id\": 7, \"items\": []}", 400, HTTP_MSG_CUSTOMER_ID);
	expect("{\"customer_id\": null, \"items\": []}", 400, HTTP_MSG_CUSTOMER_ID);
	expect("{\"customer_id\": \"c1\", \"currency\": 978, \"items\": []}", 400,
	       "currency must be a string");
	expect("{\"customer_id\": \"c1\", \"items\": {}}", 400, "items must be an array");
	expect("{\"customer_id\": \"c1\", \"items\": [\"SKU-A\"]}", 400,
	       "items[0] must be an object");
	expect("{\"customer_id\": \"c1\", \"items\": [{\"sku\": 5, \"quantity\": 1}]}", 400,
	       "items[0].sku must be a string");
}

static void test_quantity_must_be_a_json_integer(void **state)
{
	static const char *const bad[] = { "2.0", "\"2\"", "true", "null", "[2]", "1e3" };
	char body[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"A\", "
					     "\"quantity\": %s}]}", bad[i]);
		expect(body, 400, "items[0].quantity must be an integer");
	}
}

static void test_quantity_beyond_64_bits_is_400(void **state)
{
	(void)state;
	expect("{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"A\", \"quantity\": "
	       "99999999999999999999999}]}", 400, "malformed JSON");
	expect("{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"A\", \"quantity\": "
	       "-99999999999999999999999}]}", 400, "malformed JSON");
}

static void test_rule_breaks_are_left_to_the_intake(void **state)
{
	struct order_request req;

	(void)state;
	/* negative, zero, huge quantities and no items are order_place's 422 */
	assert_int_equal(parse("{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"A\", "
			       "\"quantity\": -5}, {\"sku\": \"B\", \"quantity\": 0}, {\"sku\": \"C\", "
			       "\"quantity\": 9223372036854775807}]}", &req), 0);
	assert_int_equal(req.items[0].quantity, -5);
	assert_int_equal(req.items[2].quantity, 9223372036854775807LL);
	order_request_free(&req);
	assert_int_equal(parse("{\"customer_id\": \"c1\", \"items\": []}", &req), 0);
	assert_int_equal(req.nitems, 0);
	assert_null(req.items);
	order_request_free(&req);
	assert_int_equal(parse("{\"customer_id\": \"c1\", \"currency\": \"USD\", \"items\": []}",
			       &req), 0);
	order_request_free(&req);
}

static void test_customer_id_length_is_checked_in_bytes(void **state)
{
	char body[512], id[200];

	(void)state;
	memset(id, 'x', 64);
	id[64] = '\0';
	snprintf(body, sizeof(body), "{\"customer_id\": \"%s\", \"items\": []}", id);
	expect(body, 0, NULL);
	expect("{\"customer_id\": \"\", \"items\": []}", 400, HTTP_MSG_CUSTOMER_ID);
	/* 22 three-byte characters: 66 bytes */
	id[0] = '\0';
	for (int i = 0; i < 22; i++)
		memcpy(id + i * 3, "\xe5\xae\xa2", 4);
	snprintf(body, sizeof(body), "{\"customer_id\": \"%s\", \"items\": []}", id);
	expect(body, 400, HTTP_MSG_CUSTOMER_ID);
	expect("{\"customer_id\": \"'; DROP TABLE orders; --\", \"items\": []}", 0, NULL);
}

static void test_sku_longer_than_the_catalogue_allows_is_422(void **state)
{
	char body[512], sku[100];

	(void)state;
	memset(sku, 'S', 65);
	sku[65] = '\0';
	snprintf(body, sizeof(body), "{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"%s\", "
				     "\"quantity\": 1}]}", sku);
	expect(body, 422, "unknown SKU \"SSSS");
	sku[64] = '\0';
	snprintf(body, sizeof(body), "{\"customer_id\": \"c1\", \"items\": [{\"sku\": \"%s\", "
				     "\"quantity\": 1}]}", sku);
	expect(body, 0, NULL);
}

/* An order whose member "x" nests k arrays: depth k + 1 with the root. */
static void nested_body(char *body, size_t len, int k)
{
	size_t n = (size_t)snprintf(body, len, "{\"customer_id\": \"c1\", \"items\": [], \"x\": ");

	for (int i = 0; i < k; i++)
		body[n++] = '[';
	for (int i = 0; i < k; i++)
		body[n++] = ']';
	body[n++] = '}';
	body[n] = '\0';
}

static void test_nesting_deeper_than_32_is_400(void **state)
{
	char body[256];

	(void)state;
	nested_body(body, sizeof(body), 31);
	expect(body, 0, NULL);
	nested_body(body, sizeof(body), 32);
	expect(body, 400, "malformed JSON: nested deeper than 32 levels");
	nested_body(body, sizeof(body), 100);
	expect(body, 400, "malformed JSON: nested deeper than 32 levels");
}

static void test_cancel_body_is_optional(void **state)
{
	char *reason = NULL;

	(void)state;
	assert_int_equal(http_parse_cancel("", 0, &reason, err, sizeof(err)), 0);
	assert_null(reason);
	assert_int_equal(http_parse_cancel("{\"reason\": \"changed my mind\"}", 29, &reason, err,
					   sizeof(err)), 0);
	assert_string_equal(reason, "changed my mind");
	free(reason);
	reason = NULL;
	assert_int_equal(http_parse_cancel("{}", 2, &reason, err, sizeof(err)), 0);
	assert_null(reason);
	assert_int_equal(http_parse_cancel("{\"reason\": 1}", 13, &reason, err, sizeof(err)), 400);
	assert_string_equal(err, "reason must be a string");
	assert_int_equal(http_parse_cancel("{", 1, &reason, err, sizeof(err)), 400);
}

/* ---- the gate ------------------------------------------------------------ */

static char tok[] = "t0ken";
static char *toks[] = { tok };
static struct config cfg = { .http = { .tokens = { .items = toks, .count = 1 },
				       .max_body_bytes = 100 } };

static int gate(const char *method, const char *path, const char *auth, const char *ct,
		long long length, struct http_reply *reply)
{
	struct http_req req = { .method = method, .path = path, .authorization = auth,
				.content_type = ct };

	http_route_parse(path, &req.route);
	if (length >= 0) {
		req.has_length = 1;
		req.content_length = (unsigned long long)length;
		req.has_body = length > 0;
	}
	memset(reply, 0, sizeof(*reply));
	return http_gate(&cfg, &req, reply);
}

static void expect_reply(const struct http_reply *r, int status, const char *body)
{
	assert_int_equal(r->status, status);
	assert_string_equal(r->content_type, HTTP_JSON_TYPE);
	assert_non_null(r->body);
	assert_string_equal(r->body, body);
}

static void test_gate_refuses_a_missing_or_wrong_token(void **state)
{
	struct http_reply r;

	(void)state;
	assert_int_equal(gate("POST", "/api/orders", NULL, HTTP_JSON_TYPE, 10, &r), 1);
	expect_reply(&r, 401, "{\"error\":\"missing or invalid bearer token\"}");
	assert_true(r.www_authenticate);
	http_reply_clear(&r);
	assert_int_equal(gate("GET", "/api/orders/x", "Bearer t0ke", NULL, -1, &r), 1);
	assert_int_equal(r.status, 401);
	http_reply_clear(&r);
	/* an unknown path under /api needs the token first too */
	assert_int_equal(gate("GET", "/api/secret", NULL, NULL, -1, &r), 1);
	assert_int_equal(r.status, 401);
	http_reply_clear(&r);
	/* /healthz and /metrics need none */
	assert_int_equal(gate("GET", "/healthz", NULL, NULL, -1, &r), 0);
	assert_int_equal(gate("GET", "/metrics", NULL, NULL, -1, &r), 0);
}

static void test_gate_refuses_unknown_routes_and_methods(void **state)
{
	struct http_reply r;

	(void)state;
	assert_int_equal(gate("GET", "/api/nothing", "Bearer t0ken", NULL, -1, &r), 1);
	expect_reply(&r, 404, "{\"error\":\"not found\"}");
	http_reply_clear(&r);
	assert_int_equal(gate("GET", "/nothing", NULL, NULL, -1, &r), 1);
	assert_int_equal(r.status, 404);
	http_reply_clear(&r);
	assert_int_equal(gate("DELETE", "/api/orders", "Bearer t0ken", NULL, -1, &r), 1);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD, POST");
	http_reply_clear(&r);
	assert_int_equal(gate("GET", "/api/orders/abc/cancel", "Bearer t0ken", NULL, -1, &r), 1);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "POST");
	http_reply_clear(&r);
}

static void test_gate_checks_content_type_and_length(void **state)
{
	struct http_reply r;

	(void)state;
	assert_int_equal(gate("POST", "/api/orders", "Bearer t0ken", "text/plain", 10, &r), 1);
	expect_reply(&r, 415, "{\"error\":\"Content-Type must be application/json\"}");
	http_reply_clear(&r);
	assert_int_equal(gate("POST", "/api/orders", "Bearer t0ken", NULL, 10, &r), 1);
	assert_int_equal(r.status, 415);
	http_reply_clear(&r);
	assert_int_equal(gate("POST", "/api/orders", "Bearer t0ken",
			      "application/json; charset=utf-8", 101, &r), 1);
	expect_reply(&r, 413, "{\"error\":\"request body over 100 bytes\"}");
	http_reply_clear(&r);
	assert_int_equal(gate("POST", "/api/orders", "Bearer t0ken", "application/json", 100, &r),
			 0);
	/* a cancel without a body needs no Content-Type */
	assert_int_equal(gate("POST", "/api/orders/abc/cancel", "Bearer t0ken", NULL, 0, &r), 0);
	assert_int_equal(gate("POST", "/api/orders/abc/cancel", "Bearer t0ken", NULL, -1, &r), 0);
}

static void test_error_messages_are_made_valid_utf8(void **state)
{
	struct http_reply r = { 0 };

	(void)state;
	http_reply_error(&r, 422, "unknown SKU \"\xe5\xae\"");
	expect_reply(&r, 422, "{\"error\":\"unknown SKU \\\"??\\\"\"}");
	http_reply_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_order_is_parsed),
		cmocka_unit_test(test_currency_may_be_left_out),
		cmocka_unit_test(test_malformed_json_is_400),
		cmocka_unit_test(test_missing_fields_are_400),
		cmocka_unit_test(test_wrong_types_are_400),
		cmocka_unit_test(test_quantity_must_be_a_json_integer),
		cmocka_unit_test(test_quantity_beyond_64_bits_is_400),
		cmocka_unit_test(test_rule_breaks_are_left_to_the_intake),
		cmocka_unit_test(test_customer_id_length_is_checked_in_bytes),
		cmocka_unit_test(test_sku_longer_than_the_catalogue_allows_is_422),
		cmocka_unit_test(test_nesting_deeper_than_32_is_400),
		cmocka_unit_test(test_cancel_body_is_optional),
		cmocka_unit_test(test_gate_refuses_a_missing_or_wrong_token),
		cmocka_unit_test(test_gate_refuses_unknown_routes_and_methods),
		cmocka_unit_test(test_gate_checks_content_type_and_length),
		cmocka_unit_test(test_error_messages_are_made_valid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
