/*
 * test_envelope: envelope_decode() against valid and invalid bodies (each
 * invalid case on its own, the exact error text for most), the version check
 * and the upcaster chain, and the round trip envelope_init -> encode -> decode.
 *
 * Bodies are built from a known-good object and changed one field at a time,
 * so each test shows the one thing that makes a body wrong. Decoding reads
 * from an exact-size heap copy without a terminator, so ASan catches any read
 * past the body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/envelope.h"

#define GOOD_ID "0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11"
#define GOOD_TIME "2026-11-22T10:15:30.123Z"

/* ---- helpers ---- */

static json_t *good_object(void)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:i}}",
			 "event_id", GOOD_ID, "event_type", "order.created",
			 "schema_version", 1, "aggregate_type", "order",
			 "aggregate_id", "a1b2", "correlation_id", "a1b2",
			 "causation_id", "", "occurred_at", GOOD_TIME,
			 "payload", "customer_id", "c1", "total_cents", 1250);
}

/* Decodes len bytes from a heap buffer of exactly that size (no NUL). */
static enum envelope_status decode_n(const char *body, size_t len, size_t max,
				     struct envelope *ev, char *err, size_t errlen)
{
	char *copy = malloc(len > 0 ? len : 1);
	enum envelope_status st;

	assert_non_null(copy);
	memcpy(copy, body, len);
	st = envelope_decode(copy, len, max, ev, err, errlen);
	free(copy);
	return st;
}

static enum envelope_status decode_str(const char *body, struct envelope *ev, char *err,
				       size_t errlen)
{
	return decode_n(body, strlen(body), ENVELOPE_DEFAULT_MAX_BYTES, ev, err, errlen);
}

/* Encodes obj (and drops it), then decodes the text. */
static enum envelope_status decode_obj(json_t *obj, struct envelope *ev, char *err,
				       size_t errlen)
{
	char *text;
	enum envelope_status st;

	assert_non_null(obj);
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	assert_non_null(text);
	st = decode_str(text, ev, err, errlen);
	free(text);
	return st;
}

static json_t *good_with(const char *key, json_t *value)
{
	json_t *o = good_object();

	assert_int_equal(json_object_set_new(o, key, value), 0);
	return o;
}

static json_t *good_without(const char *key)
{
	json_t *o = good_object();

	assert_int_equal(json_object_del(o, key), 0);
	return o;
}

/* Expects ENV_INVALID with exactly `want` and a struct holding nothing. */
static void expect_invalid_obj(json_t *obj, const char *want)
{
	struct envelope ev;
	char err[512];

	assert_int_equal(decode_obj(obj, &ev, err, sizeof(err)), ENV_INVALID);
	if (want != NULL)
		assert_string_equal(err, want);
	else
		assert_true(err[0] != '\0');
	assert_null(ev.payload);
	envelope_clear(&ev);
}

static void expect_invalid_str(const char *body, const char *want)
{
	struct envelope ev;
	char err[512];

	assert_int_equal(decode_str(body, &ev, err, sizeof(err)), ENV_INVALID);
	if (want != NULL)
		assert_string_equal(err, want);
	else
		assert_true(err[0] != '\0');
	assert_null(ev.payload);
	envelope_clear(&ev);
}

static void expect_ok_obj(json_t *obj, struct envelope *ev)
{
	char err[512];
	enum envelope_status st = decode_obj(obj, ev, err, sizeof(err));

	if (st != ENV_OK)
		fail_msg("decode failed: %s", err);
	assert_non_null(ev->payload);
}

/* ---- valid bodies and the round trip ---- */

static void test_valid_body_fills_every_field(void **state)
{
	struct envelope ev;

	(void)state;
	expect_ok_obj(good_object(), &ev);
	assert_string_equal(ev.event_id, GOOD_ID);
	assert_string_equal(ev.event_type, "order.created");
	assert_int_equal(ev.schema_version, 1);
	assert_string_equal(ev.aggregate_type, "order");
	assert_string_equal(ev.aggregate_id, "a1b2");
	assert_string_equal(ev.correlation_id, "a1b2");
	assert_string_equal(ev.causation_id, "");
	assert_string_equal(ev.occurred_at, GOOD_TIME);
	assert_string_equal(json_string_value(json_object_get(ev.payload, "customer_id")), "c1");
	assert_int_equal(json_integer_value(json_object_get(ev.payload, "total_cents")), 1250);
	envelope_clear(&ev);
	assert_null(ev.payload);
	envelope_clear(&ev); /* twice is harmless */
}

static void test_round_trip_keeps_fields_and_payload(void **state)
{
	struct envelope in, out;
	json_t *payload = json_pack("{s:s, s:[{s:s, s:i}]}", "customer_id", "c7", "items",
				    "sku", "SKU-Ä", "quantity", 2);
	char err[256], *text;

	(void)state;
	assert_int_equal(envelope_init(&in, "stock.reserved", "order", "o-1", "o-1",
				       GOOD_ID, payload, err, sizeof(err)), 0);
	assert_true(envelope_is_uuid(in.event_id));
	text = envelope_encode(&in);
	assert_non_null(text);
	assert_int_equal(decode_str(text, &out, err, sizeof(err)), ENV_OK);
	assert_string_equal(out.event_id, in.event_id);
	assert_string_equal(out.event_type, in.event_type);
	assert_int_equal(out.schema_version, in.schema_version);
	assert_string_equal(out.aggregate_type, in.aggregate_type);
	assert_string_equal(out.aggregate_id, in.aggregate_id);
	assert_string_equal(out.correlation_id, in.correlation_id);
	assert_string_equal(out.causation_id, in.causation_id);
	assert_string_equal(out.occurred_at, in.occurred_at);
	assert_true(json_equal(out.payload, in.payload));
	free(text);
	envelope_clear(&in);
	envelope_clear(&out);
}

static void test_encode_writes_keys_in_design_order(void **state)
{
	static const char *const keys[] = {
		"\"event_id\":", "\"event_type\":", "\"schema_version\":", "\"aggregate_type\":",
		"\"aggregate_id\":", "\"correlation_id\":", "\"causation_id\":",
		"\"occurred_at\":", "\"payload\":",
	};
	struct envelope ev;
	char err[256], *text;
	const char *prev;

	(void)state;
	assert_int_equal(envelope_init(&ev, "order.created", "order", "o-1", "o-1", "",
				       json_object(), err, sizeof(err)), 0);
	text = envelope_encode(&ev);
	assert_non_null(text);
	assert_null(strchr(text, ' ')); /* compact */
	assert_null(strchr(text, '\n'));
	prev = text;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *at = strstr(text, keys[i]);

		assert_non_null(at);
		assert_true(at >= prev);
		prev = at;
	}
	assert_true(strncmp(text, "{\"event_id\":\"", 13) == 0);
	free(text);
	envelope_clear(&ev);
}

static void test_init_fills_id_time_and_version(void **state)
{
	struct envelope a, b;
	char err[256];

	(void)state;
	assert_int_equal(envelope_init(&a, "order.created", "order", "o-1", "o-1", "",
				       json_object(), err, sizeof(err)), 0);
	assert_int_equal(envelope_init(&b, "order.created", "order", "o-1", "o-1", "",
				       json_object(), err, sizeof(err)), 0);
	assert_true(envelope_is_uuid(a.event_id));
	assert_string_not_equal(a.event_id, b.event_id);
	assert_int_equal(strlen(a.occurred_at), strlen(GOOD_TIME));
	assert_int_equal(a.occurred_at[23], 'Z');
	assert_int_equal(a.schema_version, 1);
	envelope_clear(&a);
	envelope_clear(&b);
}

static void test_init_refuses_what_decode_would_refuse(void **state)
{
	struct envelope ev;
	char err[256], long_id[ENVELOPE_STR_MAX + 2];

	(void)state;
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	/* Each payload is stolen on failure too: ASan reports a leak otherwise. */
	assert_int_equal(envelope_init(&ev, "Order Created", "order", "o-1", "o-1", "",
				       json_object(), err, sizeof(err)), -1);
	assert_string_equal(err, "field \"event_type\" is not a routing key (word.word of a-z and _)");
	assert_null(ev.payload);
	assert_int_equal(envelope_init(&ev, "order.created", "order", long_id, "o-1", "",
				       json_object(), err, sizeof(err)), -1);
	assert_string_equal(err, "field \"aggregate_id\" is longer than 128 bytes");
	assert_int_equal(envelope_init(&ev, "order.created", "order", "o-1", "", "",
				       json_object(), err, sizeof(err)), -1);
	assert_string_equal(err, "field \"correlation_id\" must not be empty");
	assert_int_equal(envelope_init(&ev, "order.created", "order", "o-1", "o-1", NULL,
				       json_object(), err, sizeof(err)), -1);
	assert_string_equal(err, "field \"causation_id\" is NULL");
	assert_int_equal(envelope_init(&ev, "order.created", "order", "o-\xff", "o-1", "",
				       json_object(), err, sizeof(err)), -1);
	assert_string_equal(err, "field \"aggregate_id\" is not UTF-8 text");
	assert_int_equal(envelope_init(&ev, "order.created", "order", "o-1", "o-1", "",
				       json_array(), err, sizeof(err)), -1);
	assert_string_equal(err, "field \"payload\" must be an object");
	assert_int_equal(envelope_init(&ev, "order.created", "order", "o-1", "o-1", "",
				       NULL, err, sizeof(err)), -1);
	envelope_clear(&ev);
}

static void test_extra_fields_are_ignored(void **state)
{
	struct envelope ev;
	json_t *o = good_object();

	(void)state;
	json_object_set_new(o, "trace", json_pack("{s:[i,i]}", "spans", 1, 2));
	json_object_set_new(o, "priority", json_integer(5));
	expect_ok_obj(o, &ev);
	assert_string_equal(ev.event_id, GOOD_ID);
	assert_null(json_object_get(ev.payload, "trace"));
	envelope_clear(&ev);
}

static void test_empty_causation_id_is_accepted(void **state)
{
	struct envelope ev;

	(void)state;
	expect_ok_obj(good_with("causation_id", json_string("")), &ev);
	assert_string_equal(ev.causation_id, "");
	envelope_clear(&ev);
}

static void test_upper_case_event_id_is_stored_lower_case(void **state)
{
	struct envelope ev;

	(void)state;
	expect_ok_obj(good_with("event_id", json_string("0B6F7C1E-3F0A-4C2B-9A57-3F1F0D2B8E11")),
		      &ev);
	assert_string_equal(ev.event_id, GOOD_ID);
	envelope_clear(&ev);
}

static void test_occurred_at_fraction_is_optional(void **state)
{
	static const char *const ok[] = {
		"2026-11-22T10:15:30Z", "2026-11-22T10:15:30.1Z", "2026-11-22T10:15:30.123456789Z",
		"2026-12-31T23:59:60Z",
	};
	struct envelope ev;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		expect_ok_obj(good_with("occurred_at", json_string(ok[i])), &ev);
		assert_string_equal(ev.occurred_at, ok[i]);
		envelope_clear(&ev);
	}
}

static void test_strings_at_their_buffer_size_are_accepted(void **state)
{
	char id[ENVELOPE_STR_MAX + 1], type[ENVELOPE_TYPE_MAX + 1];
	struct envelope ev;
	json_t *o;

	(void)state;
	memset(id, 'x', ENVELOPE_STR_MAX);
	id[ENVELOPE_STR_MAX] = '\0';
	memset(type, 'a', ENVELOPE_TYPE_MAX);
	type[ENVELOPE_TYPE_MAX] = '\0';
	type[5] = '.';
	o = good_with("aggregate_id", json_string(id));
	json_object_set_new(o, "event_type", json_string(type));
	expect_ok_obj(o, &ev);
	assert_string_equal(ev.aggregate_id, id);
	assert_string_equal(ev.event_type, type);
	envelope_clear(&ev);
}

/* ---- bodies that are not an envelope at all ---- */

static void test_not_json_is_invalid(void **state)
{
	(void)state;
	expect_invalid_str("this is not json",
			   "malformed JSON at line 1 column 4: '[' or '{' expected near 'this'");
}

static void test_truncated_json_is_invalid(void **state)
{
	(void)state;
	expect_invalid_str("{\"event_id\": \"" GOOD_ID "\", \"event_type\": \"ord",
			   "malformed JSON at line 1 column 71: premature end of input near '\"ord'");
}

static void test_empty_body_is_invalid(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	assert_int_equal(envelope_decode(NULL, 0, 100, &ev, err, sizeof(err)), ENV_INVALID);
	assert_string_equal(err, "malformed JSON at line 1 column 0: '[' or '{' expected near end of file");
	assert_int_equal(decode_n("", 0, 100, &ev, err, sizeof(err)), ENV_INVALID);
}

static void test_array_root_is_invalid(void **state)
{
	(void)state;
	expect_invalid_str("[{\"event_id\": \"" GOOD_ID "\"}]",
			   "the body must be a JSON object, got array");
}

static char *good_text(void)
{
	json_t *o = good_object();
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	assert_non_null(text);
	return text;
}

static void test_body_of_exactly_the_limit_is_accepted(void **state)
{
	struct envelope ev;
	char err[256], *text = good_text();
	size_t len = strlen(text);

	(void)state;
	assert_int_equal(decode_n(text, len, len, &ev, err, sizeof(err)), ENV_OK);
	envelope_clear(&ev);
	free(text);
}

static void test_body_one_byte_over_the_limit_is_refused(void **state)
{
	struct envelope ev;
	char err[256], want[128], *text = good_text();
	size_t len = strlen(text);

	(void)state;
	assert_int_equal(decode_n(text, len, len - 1, &ev, err, sizeof(err)), ENV_INVALID);
	snprintf(want, sizeof(want), "body of %zu bytes exceeds the limit of %zu bytes", len,
		 len - 1);
	assert_string_equal(err, want);
	assert_null(ev.payload);
	free(text);
}

static void test_limit_is_checked_before_parsing(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	/* Garbage over the limit is reported as too big, not as malformed. */
	assert_int_equal(decode_n("not json at all", 15, 10, &ev, err, sizeof(err)), ENV_INVALID);
	assert_string_equal(err, "body of 15 bytes exceeds the limit of 10 bytes");
}

static void test_deep_nesting_is_refused(void **state)
{
	size_t n = 10000;
	char *body = malloc(n);

	(void)state;
	assert_non_null(body);
	memset(body, '[', n);
	{
		struct envelope ev;
		char err[256];

		assert_int_equal(decode_n(body, n, ENVELOPE_DEFAULT_MAX_BYTES, &ev, err, sizeof(err)),
				 ENV_INVALID);
		assert_string_equal(err, "JSON nested deeper than 32 levels");
	}
	free(body);
}

/* A good envelope whose payload nests `levels` objects in all (root included). */
static json_t *nested_to(int levels)
{
	json_t *inner = json_object();

	/* root = 1, payload = 2, each further object one more. */
	for (int depth = levels; depth > 2; depth--) {
		json_t *outer = json_object();

		json_object_set_new(outer, "x", inner);
		inner = outer;
	}
	return good_with("payload", inner);
}

static void test_nesting_of_32_levels_passes_and_33_does_not(void **state)
{
	struct envelope ev;

	(void)state;
	expect_ok_obj(nested_to(32), &ev);
	envelope_clear(&ev);
	expect_invalid_obj(nested_to(33), "JSON nested deeper than 32 levels");
}

static void test_brackets_inside_strings_do_not_count_as_nesting(void **state)
{
	char deep[200];
	struct envelope ev;

	(void)state;
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	deep[10] = '"'; /* an escaped quote must not end the string early */
	expect_ok_obj(good_with("aggregate_type", json_string("x\\\"[[")), &ev);
	envelope_clear(&ev);
	expect_ok_obj(good_with("payload", json_pack("{s:s}", "note", deep)), &ev);
	envelope_clear(&ev);
}

static void test_invalid_utf8_is_refused(void **state)
{
	(void)state;
	expect_invalid_str("{\"event_id\": \"\xff\xfe\"}",
			   "malformed JSON at line 1 column 14: unable to decode byte 0xff near '\"'");
	/* An overlong encoding of '/' and a lone continuation byte. */
	expect_invalid_str("{\"a\": \"\xc0\xaf\"}", NULL);
	expect_invalid_str("{\"a\": \"\x80\"}", NULL);
}

static void test_duplicate_keys_are_refused(void **state)
{
	(void)state;
	expect_invalid_str("{\"event_id\": \"" GOOD_ID "\", \"event_id\": \"" GOOD_ID "\"}",
			   "malformed JSON at line 1 column 63: duplicate object key near '\"event_id\"'");
}

static void test_embedded_nul_is_refused(void **state)
{
	static const char raw[] = "{\"aggregate_id\": \"a\0b\"}";
	struct envelope ev;
	char err[256];

	(void)state;
	expect_invalid_str("{\"aggregate_id\": \"a\\u0000b\"}",
			   "malformed JSON at line 1 column 27: \\u0000 is not allowed without "
			   "JSON_ALLOW_NUL near '\"a\\u0000b\"'");
	/* A raw NUL byte inside the given length. */
	assert_int_equal(decode_n(raw, sizeof(raw) - 1, 100, &ev, err, sizeof(err)), ENV_INVALID);
	assert_null(ev.payload);
}

static void test_trailing_garbage_is_refused(void **state)
{
	char *text = good_text(), body[2048];

	(void)state;
	snprintf(body, sizeof(body), "%s{}", text);
	free(text);
	expect_invalid_str(body, NULL);
}

/* ---- fields: presence and type ---- */

static const char *const required[] = {
	"event_id", "event_type", "schema_version", "aggregate_type", "aggregate_id",
	"correlation_id", "causation_id", "occurred_at", "payload",
};

#define NREQUIRED (sizeof(required) / sizeof(required[0]))

static void test_each_missing_field_is_named(void **state)
{
	char want[64];

	(void)state;
	for (size_t i = 0; i < NREQUIRED; i++) {
		snprintf(want, sizeof(want), "missing field \"%s\"", required[i]);
		expect_invalid_obj(good_without(required[i]), want);
	}
}

static void test_null_field_is_a_wrong_type(void **state)
{
	(void)state;
	expect_invalid_obj(good_with("aggregate_id", json_null()),
			   "field \"aggregate_id\" must be a string, got null");
}

static void test_each_wrong_type_is_named(void **state)
{
	static const struct {
		const char *key;
		const char *json;
		const char *want;
	} cases[] = {
		{ "event_id", "42", "field \"event_id\" must be a string, got integer" },
		{ "event_type", "[\"order.created\"]", "field \"event_type\" must be a string, got array" },
		{ "schema_version", "\"1\"", "field \"schema_version\" must be an integer, got string" },
		{ "aggregate_type", "{}", "field \"aggregate_type\" must be a string, got object" },
		{ "aggregate_id", "12.5", "field \"aggregate_id\" must be a string, got real" },
		{ "correlation_id", "true", "field \"correlation_id\" must be a string, got boolean" },
		{ "causation_id", "false", "field \"causation_id\" must be a string, got boolean" },
		{ "occurred_at", "1700000000", "field \"occurred_at\" must be a string, got integer" },
		{ "payload", "[]", "field \"payload\" must be an object, got array" },
		{ "payload", "\"{}\"", "field \"payload\" must be an object, got string" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);

		assert_non_null(v);
		expect_invalid_obj(good_with(cases[i].key, v), cases[i].want);
	}
}

/* ---- fields: values ---- */

static void test_schema_version_zero_is_invalid(void **state)
{
	(void)state;
	expect_invalid_obj(good_with("schema_version", json_integer(0)),
			   "field \"schema_version\" must be >= 1, got 0");
}

static void test_schema_version_negative_is_invalid(void **state)
{
	(void)state;
	expect_invalid_obj(good_with("schema_version", json_integer(-1)),
			   "field \"schema_version\" must be >= 1, got -1");
}

static void test_schema_version_fraction_is_invalid(void **state)
{
	(void)state;
	expect_invalid_obj(good_with("schema_version", json_real(1.5)),
			   "field \"schema_version\" must be an integer, got real");
}

static void test_schema_version_real_one_is_invalid(void **state)
{
	char *text = good_text(), *at = strstr(text, "\"schema_version\":1,");
	char body[2048];

	(void)state;
	/* json_real(1.0) would print "1.0" too, but say it in the text itself. */
	assert_non_null(at);
	snprintf(body, sizeof(body), "%.*s\"schema_version\":1.0,%s", (int)(at - text), text,
		 at + strlen("\"schema_version\":1,"));
	free(text);
	expect_invalid_str(body, "field \"schema_version\" must be an integer, got real");
}

static void test_schema_version_string_is_invalid(void **state)
{
	(void)state;
	expect_invalid_obj(good_with("schema_version", json_string("1")),
			   "field \"schema_version\" must be an integer, got string");
}

static void test_event_id_not_a_uuid_is_invalid(void **state)
{
	static const char *const bad[] = {
		"not-a-uuid", "", "0b6f7c1e3f0a4c2b9a573f1f0d2b8e11",
		"0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e1",  "0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e111",
		"0b6f7c1g-3f0a-4c2b-9a57-3f1f0d2b8e11", "0b6f7c1e_3f0a-4c2b-9a57-3f1f0d2b8e11",
		"{0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e1}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid_obj(good_with("event_id", json_string(bad[i])),
				   strlen(bad[i]) > ENVELOPE_ID_LEN ?
					   "field \"event_id\" is longer than 36 bytes" :
					   "field \"event_id\" is not a UUID");
}

static void test_event_type_not_a_routing_key_is_invalid(void **state)
{
	static const char *const bad[] = {
		"Order Created", "order", "order.", ".created", "order.created.v2", "order.Created",
		"order-created.x", "order.cr3ated", "order created",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid_obj(good_with("event_type", json_string(bad[i])),
				   "field \"event_type\" is not a routing key (word.word of a-z and _)");
}

static void test_occurred_at_garbage_is_invalid(void **state)
{
	static const char *const bad[] = {
		"yesterday", "", "2026-11-22", "2026-11-22T10:15:30", "2026-11-22 10:15:30Z",
		"2026-13-22T10:15:30Z", "2026-00-22T10:15:30Z", "2026-11-32T10:15:30Z",
		"2026-11-22T24:15:30Z", "2026-11-22T10:60:30Z", "2026-11-22T10:15:61Z",
		"2026-11-22T10:15:30.Z", "2026-11-22T10:15:30.1234567890Z",
		"2026-11-22T10:15:30+00:00", "2026-11-22T10:15:30Zjunk", "2026-1-22T10:15:30Z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid_obj(good_with("occurred_at", json_string(bad[i])),
				   strlen(bad[i]) > 31 ?
					   "field \"occurred_at\" is longer than 31 bytes" :
					   "field \"occurred_at\" is not an ISO 8601 UTC time "
					   "(YYYY-MM-DDTHH:MM:SS[.fff]Z)");
}

static void test_empty_required_strings_are_invalid(void **state)
{
	static const char *const keys[] = { "aggregate_type", "aggregate_id", "correlation_id" };
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want), "field \"%s\" must not be empty", keys[i]);
		expect_invalid_obj(good_with(keys[i], json_string("")), want);
	}
}

static void test_overlong_strings_are_invalid(void **state)
{
	char id[ENVELOPE_STR_MAX + 2], type[ENVELOPE_TYPE_MAX + 2];

	(void)state;
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	memset(type, 'a', sizeof(type) - 1);
	type[sizeof(type) - 1] = '\0';
	type[5] = '.';
	expect_invalid_obj(good_with("aggregate_id", json_string(id)),
			   "field \"aggregate_id\" is longer than 128 bytes");
	expect_invalid_obj(good_with("causation_id", json_string(id)),
			   "field \"causation_id\" is longer than 128 bytes");
	expect_invalid_obj(good_with("event_type", json_string(type)),
			   "field \"event_type\" is longer than 64 bytes");
}

/* ---- versions and upcasters ---- */

static void test_newer_version_is_unknown(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	assert_int_equal(decode_obj(good_with("schema_version", json_integer(99)), &ev, err,
				    sizeof(err)), ENV_UNKNOWN_VERSION);
	assert_string_equal(err,
			    "schema_version 99 of \"order.created\" is newer than this build knows (1)");
	assert_null(ev.payload);
}

static void test_version_beyond_int_is_unknown_not_wrapped(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	assert_int_equal(decode_obj(good_with("schema_version", json_integer(4294967297LL)), &ev,
				    err, sizeof(err)), ENV_UNKNOWN_VERSION);
	assert_string_equal(err, "schema_version 4294967297 of \"order.created\" is newer than "
				 "this build knows (1)");
}

static void test_every_design_event_is_version_1(void **state)
{
	static const char *const types[] = {
		"order.created", "stock.reserved", "stock.rejected", "payment.completed",
		"payment.failed", "order.confirmed", "order.cancelled", "stock.released",
		"payment.refunded", "shipping.scheduled", "shipping.cancelled", "probe.test",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_int_equal(envelope_current_version(types[i]), 1);
}

/* v1 -> v2 renames "amount" to "amount_cents"; v2 -> v3 adds "currency". */
static int up_1_to_2(json_t *payload, char *err, size_t errlen)
{
	json_t *amount = json_object_get(payload, "amount");

	if (!json_is_integer(amount)) {
		snprintf(err, errlen, "\"amount\" is not an integer");
		return -1;
	}
	json_object_set(payload, "amount_cents", amount);
	json_object_del(payload, "amount");
	return 0;
}

static int up_2_to_3(json_t *payload, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (json_object_get(payload, "currency") == NULL)
		json_object_set_new(payload, "currency", json_string("EUR"));
	return 0;
}

static json_t *test_event(const char *type, int version, json_t *payload)
{
	json_t *o = good_with("event_type", json_string(type));

	json_object_set_new(o, "schema_version", json_integer(version));
	json_object_set_new(o, "payload", payload);
	return o;
}

static void test_upcaster_chain_brings_v1_to_v3(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	assert_int_equal(envelope_register_version("test.upcast", 3), 0);
	assert_int_equal(envelope_register_upcaster("test.upcast", 1, up_1_to_2), 0);
	assert_int_equal(envelope_register_upcaster("test.upcast", 2, up_2_to_3), 0);
	assert_int_equal(envelope_current_version("test.upcast"), 3);

	assert_int_equal(decode_obj(test_event("test.upcast", 1, json_pack("{s:i}", "amount", 500)),
				    &ev, err, sizeof(err)), ENV_OK);
	assert_int_equal(ev.schema_version, 3);
	assert_int_equal(json_integer_value(json_object_get(ev.payload, "amount_cents")), 500);
	assert_null(json_object_get(ev.payload, "amount"));
	assert_string_equal(json_string_value(json_object_get(ev.payload, "currency")), "EUR");
	envelope_clear(&ev);

	/* A v2 message runs only the last step. */
	assert_int_equal(decode_obj(test_event("test.upcast", 2,
					       json_pack("{s:i, s:s}", "amount_cents", 7, "currency", "SEK")),
				    &ev, err, sizeof(err)), ENV_OK);
	assert_int_equal(ev.schema_version, 3);
	assert_string_equal(json_string_value(json_object_get(ev.payload, "currency")), "SEK");
	envelope_clear(&ev);

	/* The current version passes untouched; a newer one is unknown. */
	assert_int_equal(decode_obj(test_event("test.upcast", 3, json_object()), &ev, err,
				    sizeof(err)), ENV_OK);
	assert_int_equal(json_object_size(ev.payload), 0);
	envelope_clear(&ev);
	assert_int_equal(decode_obj(test_event("test.upcast", 4, json_object()), &ev, err,
				    sizeof(err)), ENV_UNKNOWN_VERSION);
	assert_string_equal(err, "schema_version 4 of \"test.upcast\" is newer than this build knows (3)");
}

static void test_failing_upcaster_makes_the_message_invalid(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	assert_int_equal(envelope_register_version("test.upfail", 2), 0);
	assert_int_equal(envelope_register_upcaster("test.upfail", 1, up_1_to_2), 0);
	assert_int_equal(decode_obj(test_event("test.upfail", 1, json_pack("{s:s}", "amount", "5")),
				    &ev, err, sizeof(err)), ENV_INVALID);
	assert_string_equal(err, "upcasting \"test.upfail\" from version 1 to 2 failed: "
				 "\"amount\" is not an integer");
	assert_null(ev.payload);
}

static void test_missing_upcaster_is_unknown_version(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	assert_int_equal(envelope_register_version("test.gap", 3), 0);
	assert_int_equal(envelope_register_upcaster("test.gap", 1, up_2_to_3), 0);
	assert_int_equal(decode_obj(test_event("test.gap", 1, json_object()), &ev, err,
				    sizeof(err)), ENV_UNKNOWN_VERSION);
	assert_string_equal(err, "schema_version 1 of \"test.gap\" cannot be read: "
				 "no upcaster from version 2 (current 3)");
	assert_null(ev.payload);
}

static void test_init_writes_the_registered_version(void **state)
{
	struct envelope ev;
	char err[256];

	(void)state;
	assert_int_equal(envelope_register_version("test.written", 5), 0);
	assert_int_equal(envelope_init(&ev, "test.written", "t", "1", "1", "", json_object(), err,
				       sizeof(err)), 0);
	assert_int_equal(ev.schema_version, 5);
	envelope_clear(&ev);
}

static void test_registration_refuses_bad_arguments(void **state)
{
	(void)state;
	assert_int_equal(envelope_register_version("Not A Type", 2), -1);
	assert_int_equal(envelope_register_version(NULL, 2), -1);
	assert_int_equal(envelope_register_version("test.zero", 0), -1);
	assert_int_equal(envelope_register_upcaster("test.zero", 0, up_2_to_3), -1);
	assert_int_equal(envelope_register_upcaster("test.zero", 1, NULL), -1);
}

/* ---- small helpers ---- */

/* The first 48 bits of an id: its milliseconds since the epoch. */
static unsigned long long uuid_ms(const char *id)
{
	char hex[13];

	memcpy(hex, id, 8);
	memcpy(hex + 8, id + 9, 4);
	hex[12] = '\0';
	return strtoull(hex, NULL, 16);
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
}

/* Version 7 (RFC 9562): the time in front, so that ids made later sort
 * later and the keys they become grow at the B-trees' right edge. */
static void test_new_uuid_is_version_7_in_time_order(void **state)
{
	char a[ENVELOPE_ID_LEN + 1], b[ENVELOPE_ID_LEN + 1];
	unsigned long long before, after;
	struct timespec pause = { 0, 2 * 1000 * 1000 };

	(void)state;
	before = now_ms();
	envelope_new_uuid(a);
	after = now_ms();
	assert_int_equal(a[14], '7');
	assert_non_null(strchr("89ab", a[19]));
	assert_true(uuid_ms(a) >= before && uuid_ms(a) <= after);
	assert_int_equal(nanosleep(&pause, NULL), 0);
	envelope_new_uuid(b);
	assert_true(strcmp(a, b) < 0);
	assert_true(uuid_ms(b) > uuid_ms(a));
}

static void test_is_uuid_accepts_any_case_only(void **state)
{
	(void)state;
	assert_true(envelope_is_uuid(GOOD_ID));
	assert_true(envelope_is_uuid("0B6F7C1E-3F0A-4C2B-9A57-3F1F0D2B8E11"));
	assert_false(envelope_is_uuid(NULL));
	assert_false(envelope_is_uuid(""));
	assert_false(envelope_is_uuid("0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11 "));
	assert_false(envelope_is_uuid("0b6f7c1e-3f0a-4c2b-9a57+3f1f0d2b8e11"));
}

static void test_new_uuid_is_lower_case_and_fresh(void **state)
{
	char a[ENVELOPE_ID_LEN + 1], b[ENVELOPE_ID_LEN + 1];

	(void)state;
	envelope_new_uuid(a);
	envelope_new_uuid(b);
	assert_true(envelope_is_uuid(a));
	assert_string_not_equal(a, b);
	for (const char *p = a; *p != '\0'; p++)
		assert_false(*p >= 'A' && *p <= 'F');
}

static void test_now_iso_has_milliseconds_and_z(void **state)
{
	struct envelope ev;
	char now[32];

	(void)state;
	envelope_now_iso(now);
	assert_int_equal(strlen(now), 24);
	assert_int_equal(now[19], '.');
	/* What we write, we read. */
	expect_ok_obj(good_with("occurred_at", json_string(now)), &ev);
	envelope_clear(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_body_fills_every_field),
		cmocka_unit_test(test_round_trip_keeps_fields_and_payload),
		cmocka_unit_test(test_encode_writes_keys_in_design_order),
		cmocka_unit_test(test_init_fills_id_time_and_version),
		cmocka_unit_test(test_init_refuses_what_decode_would_refuse),
		cmocka_unit_test(test_extra_fields_are_ignored),
		cmocka_unit_test(test_empty_causation_id_is_accepted),
		cmocka_unit_test(test_upper_case_event_id_is_stored_lower_case),
		cmocka_unit_test(test_occurred_at_fraction_is_optional),
		cmocka_unit_test(test_strings_at_their_buffer_size_are_accepted),
		cmocka_unit_test(test_not_json_is_invalid),
		cmocka_unit_test(test_truncated_json_is_invalid),
		cmocka_unit_test(test_empty_body_is_invalid),
		cmocka_unit_test(test_array_root_is_invalid),
		cmocka_unit_test(test_body_of_exactly_the_limit_is_accepted),
		cmocka_unit_test(test_body_one_byte_over_the_limit_is_refused),
		cmocka_unit_test(test_limit_is_checked_before_parsing),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_nesting_of_32_levels_passes_and_33_does_not),
		cmocka_unit_test(test_brackets_inside_strings_do_not_count_as_nesting),
		cmocka_unit_test(test_invalid_utf8_is_refused),
		cmocka_unit_test(test_duplicate_keys_are_refused),
		cmocka_unit_test(test_embedded_nul_is_refused),
		cmocka_unit_test(test_trailing_garbage_is_refused),
		cmocka_unit_test(test_each_missing_field_is_named),
		cmocka_unit_test(test_null_field_is_a_wrong_type),
		cmocka_unit_test(test_each_wrong_type_is_named),
		cmocka_unit_test(test_schema_version_zero_is_invalid),
		cmocka_unit_test(test_schema_version_negative_is_invalid),
		cmocka_unit_test(test_schema_version_fraction_is_invalid),
		cmocka_unit_test(test_schema_version_real_one_is_invalid),
		cmocka_unit_test(test_schema_version_string_is_invalid),
		cmocka_unit_test(test_event_id_not_a_uuid_is_invalid),
		cmocka_unit_test(test_event_type_not_a_routing_key_is_invalid),
		cmocka_unit_test(test_occurred_at_garbage_is_invalid),
		cmocka_unit_test(test_empty_required_strings_are_invalid),
		cmocka_unit_test(test_overlong_strings_are_invalid),
		cmocka_unit_test(test_newer_version_is_unknown),
		cmocka_unit_test(test_version_beyond_int_is_unknown_not_wrapped),
		cmocka_unit_test(test_every_design_event_is_version_1),
		cmocka_unit_test(test_upcaster_chain_brings_v1_to_v3),
		cmocka_unit_test(test_failing_upcaster_makes_the_message_invalid),
		cmocka_unit_test(test_missing_upcaster_is_unknown_version),
		cmocka_unit_test(test_init_writes_the_registered_version),
		cmocka_unit_test(test_registration_refuses_bad_arguments),
		cmocka_unit_test(test_is_uuid_accepts_any_case_only),
		cmocka_unit_test(test_new_uuid_is_version_7_in_time_order),
		cmocka_unit_test(test_new_uuid_is_lower_case_and_fresh),
		cmocka_unit_test(test_now_iso_has_milliseconds_and_z),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
