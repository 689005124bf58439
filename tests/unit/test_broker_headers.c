/* Pure parts of broker/: URL redaction, reading delivery headers, building
 * the header sets of the copies we publish. No broker needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "broker/amqp_link.h"
#include "broker/consumer.h"

#include <string.h>

static void assert_redacted(const char *url, const char *want)
{
	char out[256];

	amqp_link_redact_url(url, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_redact_hides_the_password_only(void **state)
{
	(void)state;
	assert_redacted("amqp://guest:secret@127.0.0.1:5672/t-x", "amqp://guest:***@127.0.0.1:5672/t-x");
	assert_redacted("amqps://u:p%40ss@rabbit.example:5671/%2F",
			"amqps://u:***@rabbit.example:5671/%2F");
	assert_redacted("amqp://user@host/vh", "amqp://user@host/vh");
	assert_redacted("amqp://host:5672/", "amqp://host:5672/");
	assert_redacted("amqp://", "amqp://");
}

static void test_redact_hides_passwords_of_malformed_urls(void **state)
{
	(void)state;
	/* an unencoded '/' or '@' in the password makes the URL invalid, yet
	 * the error naming it must not show the password */
	assert_redacted("amqp://u:pa/ss@h/v", "amqp://u:***@h/v");
	assert_redacted("amqp://u:p@ss@h/v", "amqp://u:***@h/v");
	assert_redacted("u:secret@h", "u:***@h");
	assert_redacted("http://u:secret@h", "http://u:***@h");
}

static void test_redact_truncates_safely(void **state)
{
	char out[12];

	(void)state;
	memset(out, 'x', sizeof(out));
	amqp_link_redact_url("amqp://guest:secret@127.0.0.1/", out, sizeof(out));
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_null(strstr(out, "secret"));
	amqp_link_redact_url("amqp://a:b@c", out, 0); /* writes nothing */
}

/* ---- a delivery with the headers a dead-lettered retry copy has ---------- */

static amqp_table_entry_t death_entry[] = {
	{ .key = { 6, "reason" }, .value = { .kind = AMQP_FIELD_KIND_UTF8,
					     .value.bytes = { 14, "delivery_limit" } } },
	{ .key = { 5, "count" }, .value = { .kind = AMQP_FIELD_KIND_I64, .value.i64 = 1 } },
};
static amqp_table_entry_t older_death_entry[] = {
	{ .key = { 6, "reason" }, .value = { .kind = AMQP_FIELD_KIND_UTF8,
					     .value.bytes = { 7, "expired" } } },
};
static amqp_field_value_t deaths[] = {
	{ .kind = AMQP_FIELD_KIND_TABLE, .value.table = { 2, death_entry } },
	{ .kind = AMQP_FIELD_KIND_TABLE, .value.table = { 1, older_death_entry } },
};
static amqp_table_entry_t nested_entry[] = {
	{ .key = { 1, "k" }, .value = { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = { 1, "v" } } },
};
static amqp_table_entry_t headers[] = {
	{ .key = { 17, "orderflow-attempt" },
	  .value = { .kind = AMQP_FIELD_KIND_I64, .value.i64 = 3 } },
	{ .key = { 20, "orderflow-last-error" },
	  .value = { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = { 13, "deadlock 1213" } } },
	{ .key = { 7, "x-death" },
	  .value = { .kind = AMQP_FIELD_KIND_ARRAY, .value.array = { 2, deaths } } },
	{ .key = { 20, "x-first-death-reason" },
	  .value = { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = { 7, "expired" } } },
	{ .key = { 19, "x-last-death-reason" },
	  .value = { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = { 14, "delivery_limit" } } },
	{ .key = { 16, "x-delivery-count" },
	  .value = { .kind = AMQP_FIELD_KIND_I64, .value.i64 = 20 } },
	{ .key = { 7, "keep-me" }, .value = { .kind = AMQP_FIELD_KIND_I32, .value.i32 = -7 } },
	{ .key = { 7, "drop-me" },
	  .value = { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = { 1, "x" } } },
	{ .key = { 6, "nested" },
	  .value = { .kind = AMQP_FIELD_KIND_TABLE, .value.table = { 1, nested_entry } } },
	{ .key = { 4, "flag" }, .value = { .kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1 } },
	{ .key = { 2, "ts" },
	  .value = { .kind = AMQP_FIELD_KIND_TIMESTAMP, .value.u64 = 1764000000 } },
};

static struct delivery fake_delivery(void)
{
	struct delivery d;

	memset(&d, 0, sizeof(d));
	d.raw.message.properties._flags = AMQP_BASIC_HEADERS_FLAG;
	d.raw.message.properties.headers.num_entries = sizeof(headers) / sizeof(headers[0]);
	d.raw.message.properties.headers.entries = headers;
	return d;
}

static const amqp_field_value_t *find(const amqp_table_t *t, const char *key)
{
	for (int i = 0; i < t->num_entries; i++)
		if (t->entries[i].key.len == strlen(key) &&
		    memcmp(t->entries[i].key.bytes, key, strlen(key)) == 0)
			return &t->entries[i].value;
	return NULL;
}

static void test_header_reads_strings_and_integers(void **state)
{
	struct delivery d = fake_delivery();
	char buf[64], tiny[5];

	(void)state;
	assert_string_equal(delivery_header(&d, "orderflow-attempt", buf, sizeof(buf)), "3");
	assert_string_equal(delivery_header(&d, "orderflow-last-error", buf, sizeof(buf)),
			    "deadlock 1213");
	assert_string_equal(delivery_header(&d, "keep-me", buf, sizeof(buf)), "-7");
	assert_string_equal(delivery_header(&d, "ts", buf, sizeof(buf)), "1764000000");
	assert_string_equal(delivery_header(&d, "orderflow-last-error", tiny, sizeof(tiny)), "dead");
	assert_null(delivery_header(&d, "missing", buf, sizeof(buf)));
	assert_null(delivery_header(&d, "x-death", buf, sizeof(buf)));
	assert_null(delivery_header(&d, "flag", buf, sizeof(buf)));
	assert_null(delivery_header(&d, "orderflow-attempt", buf, 0));
}

static void test_header_absent_without_headers_flag(void **state)
{
	struct delivery d = fake_delivery();
	char buf[64];

	(void)state;
	d.raw.message.properties._flags = 0;
	assert_null(delivery_header(&d, "orderflow-attempt", buf, sizeof(buf)));
	assert_int_equal(delivery_has_x_death(&d), 0);
	assert_null(delivery_x_death_reason(&d, buf, sizeof(buf)));
}

static void test_x_death_reason_is_the_newest_entry(void **state)
{
	struct delivery d = fake_delivery();
	char buf[64];

	(void)state;
	assert_int_equal(delivery_has_x_death(&d), 1);
	assert_string_equal(delivery_x_death_reason(&d, buf, sizeof(buf)), "delivery_limit");
}

static void test_header_set_drops_broker_headers_and_named_ones(void **state)
{
	struct delivery d = fake_delivery();
	const char *const drop[] = { "drop-me", NULL };
	struct header_set *h = header_set_new(&d, drop);
	const amqp_table_t *t = header_set_table(h);

	(void)state;
	assert_int_equal(t->num_entries, 6);
	assert_non_null(find(t, "orderflow-attempt"));
	assert_non_null(find(t, "orderflow-last-error"));
	assert_non_null(find(t, "keep-me"));
	assert_non_null(find(t, "flag"));
	assert_non_null(find(t, "ts"));
	assert_null(find(t, "x-death"));
	assert_null(find(t, "x-first-death-reason"));
	assert_null(find(t, "x-last-death-reason"));
	assert_null(find(t, "x-delivery-count"));
	assert_null(find(t, "drop-me"));
	header_set_free(h);
}

static void test_header_set_copies_deeply(void **state)
{
	struct delivery d = fake_delivery();
	struct header_set *h = header_set_new(&d, NULL);
	const amqp_field_value_t *v = find(header_set_table(h), "nested");
	const amqp_field_value_t *s = find(header_set_table(h), "orderflow-last-error");

	(void)state;
	assert_non_null(v);
	assert_int_equal(v->kind, AMQP_FIELD_KIND_TABLE);
	assert_int_equal(v->value.table.num_entries, 1);
	assert_ptr_not_equal(v->value.table.entries, nested_entry);
	assert_memory_equal(v->value.table.entries[0].value.value.bytes.bytes, "v", 1);
	assert_ptr_not_equal(s->value.bytes.bytes, headers[1].value.value.bytes.bytes);
	header_set_free(h);
}

static void test_header_set_replaces_and_adds(void **state)
{
	struct delivery d = fake_delivery();
	struct header_set *h = header_set_new(&d, NULL);
	const amqp_table_t *t = header_set_table(h);
	int n = t->num_entries;

	(void)state;
	header_set_int(h, "orderflow-attempt", 4);
	header_set_str(h, "orderflow-last-error", "lock wait 1205");
	header_set_str(h, "orderflow-first-failed-at", "2026-11-22T10:15:30.123Z");
	t = header_set_table(h);
	assert_int_equal(t->num_entries, n + 1);
	assert_int_equal(find(t, "orderflow-attempt")->kind, AMQP_FIELD_KIND_I64);
	assert_int_equal(find(t, "orderflow-attempt")->value.i64, 4);
	assert_int_equal(find(t, "orderflow-last-error")->value.bytes.len, 14);
	assert_memory_equal(find(t, "orderflow-last-error")->value.bytes.bytes, "lock wait 1205", 14);
	header_set_free(h);
}

static void test_header_set_from_nothing(void **state)
{
	struct header_set *h = header_set_new(NULL, NULL);

	(void)state;
	assert_int_equal(header_set_table(h)->num_entries, 0);
	for (int i = 0; i < 20; i++) /* grows past its first allocation */
		header_set_int(h, i % 2 ? "a" : "b", i);
	header_set_str(h, "c", "");
	assert_int_equal(header_set_table(h)->num_entries, 3);
	header_set_free(h);
	header_set_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_hides_the_password_only),
		cmocka_unit_test(test_redact_hides_passwords_of_malformed_urls),
		cmocka_unit_test(test_redact_truncates_safely),
		cmocka_unit_test(test_header_reads_strings_and_integers),
		cmocka_unit_test(test_header_absent_without_headers_flag),
		cmocka_unit_test(test_x_death_reason_is_the_newest_entry),
		cmocka_unit_test(test_header_set_drops_broker_headers_and_named_ones),
		cmocka_unit_test(test_header_set_copies_deeply),
		cmocka_unit_test(test_header_set_replaces_and_adds),
		cmocka_unit_test(test_header_set_from_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
