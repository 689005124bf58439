/*
 * headers: reading the headers of a delivery and building the header tables
 * of the copies we publish (declared in consumer.h).
 *
 * A header_set owns every byte of its table (keys, strings, nested arrays and
 * tables are deep copies), so it outlives the delivery it came from. Memory
 * exhaustion here is fatal (exit 75, restart me): the message in hand is
 * unacked and comes back, which beats publishing a copy without its headers.
 */
#include "broker/consumer.h"
#include "core/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Headers the broker writes; never carried over to a copy we publish. */
static const char *const broker_headers[] = { "x-death", "x-delivery-count", NULL };
static const char *const broker_prefixes[] = { "x-first-death-", "x-last-death-", NULL };

struct header_set {
	amqp_table_t table;
	int cap;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		log_fatal(EXIT_RESTART, "build message headers: out of memory (%zu bytes)", n);
	return p;
}

static int bytes_eq(amqp_bytes_t b, const char *s)
{
	size_t n = strlen(s);

	return b.len == n && (n == 0 || memcmp(b.bytes, s, n) == 0);
}

static int bytes_prefix(amqp_bytes_t b, const char *s)
{
	size_t n = strlen(s);

	return b.len >= n && memcmp(b.bytes, s, n) == 0;
}

static const amqp_field_value_t *table_get(const amqp_table_t *t, const char *key)
{
	for (int i = 0; i < t->num_entries; i++)
		if (bytes_eq(t->entries[i].key, key))
			return &t->entries[i].value;
	return NULL;
}

static const amqp_table_t *delivery_headers(const struct delivery *d)
{
	const amqp_basic_properties_t *p;

	if (d == NULL)
		return NULL;
	p = &d->raw.message.properties;
	return (p->_flags & AMQP_BASIC_HEADERS_FLAG) ? &p->headers : NULL;
}

/* Strings as they are, integers (and timestamps) in decimal. */
static const char *value_text(const amqp_field_value_t *v, char *buf, size_t len)
{
	size_t n;

	if (v == NULL || len == 0)
		return NULL;
	switch (v->kind) {
	case AMQP_FIELD_KIND_UTF8:
	case AMQP_FIELD_KIND_BYTES:
		n = v->value.bytes.len < len - 1 ? v->value.bytes.len : len - 1;
		if (n > 0)
			memcpy(buf, v->value.bytes.bytes, n);
		buf[n] = '\0';
		return buf;
	case AMQP_FIELD_KIND_I8: snprintf(buf, len, "%d", v->value.i8); return buf;
	case AMQP_FIELD_KIND_U8: snprintf(buf, len, "%u", v->value.u8); return buf;
	case AMQP_FIELD_KIND_I16: snprintf(buf, len, "%d", v->value.i16); return buf;
	case AMQP_FIELD_KIND_U16: snprintf(buf, len, "%u", v->value.u16); return buf;
	case AMQP_FIELD_KIND_I32: snprintf(buf, len, "%" PRId32, v->value.i32); return buf;
	case AMQP_FIELD_KIND_U32: snprintf(buf, len, "%" PRIu32, v->value.u32); return buf;
	case AMQP_FIELD_KIND_I64: snprintf(buf, len, "%" PRId64, v->value.i64); return buf;
	case AMQP_FIELD_KIND_U64:
	case AMQP_FIELD_KIND_TIMESTAMP: snprintf(buf, len, "%" PRIu64, v->value.u64); return buf;
	default:
		return NULL;
	}
}

const char *delivery_header(const struct delivery *d, const char *key, char *buf, size_t len)
{
	const amqp_table_t *h = delivery_headers(d);

	return h ? value_text(table_get(h, key), buf, len) : NULL;
}

/* The newest entry of x-death (RabbitMQ puts it first), or NULL. */
static const amqp_table_t *x_death_newest(const struct delivery *d)
{
	const amqp_table_t *h = delivery_headers(d);
	const amqp_field_value_t *v = h ? table_get(h, "x-death") : NULL;

	if (v == NULL || v->kind != AMQP_FIELD_KIND_ARRAY || v->value.array.num_entries < 1 ||
	    v->value.array.entries[0].kind != AMQP_FIELD_KIND_TABLE)
		return NULL;
	return &v->value.array.entries[0].value.table;
}

int delivery_has_x_death(const struct delivery *d)
{
	const amqp_table_t *h = delivery_headers(d);

	return h != NULL && table_get(h, "x-death") != NULL;
}

const char *delivery_x_death_reason(const struct delivery *d, char *buf, size_t len)
{
	const amqp_table_t *t = x_death_newest(d);

	return t ? value_text(table_get(t, "reason"), buf, len) : NULL;
}

/* ---- deep copies -------------------------------------------------------- */

static void value_free(amqp_field_value_t *v);

static void table_free(amqp_table_t *t)
{
	for (int i = 0; i < t->num_entries; i++) {
		free(t->entries[i].key.bytes);
		value_free(&t->entries[i].value);
	}
	free(t->entries);
	t->entries = NULL;
	t->num_entries = 0;
}

static void value_free(amqp_field_value_t *v)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_UTF8:
	case AMQP_FIELD_KIND_BYTES:
		free(v->value.bytes.bytes);
		break;
	case AMQP_FIELD_KIND_ARRAY:
		for (int i = 0; i < v->value.array.num_entries; i++)
			value_free(&v->value.array.entries[i]);
		free(v->value.array.entries);
		break;
	case AMQP_FIELD_KIND_TABLE:
		table_free(&v->value.table);
		break;
	default:
		break;
	}
}

static amqp_bytes_t bytes_copy(amqp_bytes_t b)
{
	amqp_bytes_t c = { .len = b.len, .bytes = xmalloc(b.len) };

	if (b.len > 0)
		memcpy(c.bytes, b.bytes, b.len);
	return c;
}

static void value_copy(amqp_field_value_t *dst, const amqp_field_value_t *src);

static void table_copy(amqp_table_t *dst, const amqp_table_t *src)
{
	dst->num_entries = src->num_entries;
	dst->entries = xmalloc(sizeof(*dst->entries) * (size_t)src->num_entries);
	for (int i = 0; i < src->num_entries; i++) {
		dst->entries[i].key = bytes_copy(src->entries[i].key);
		value_copy(&dst->entries[i].value, &src->entries[i].value);
	}
}

static void value_copy(amqp_field_value_t *dst, const amqp_field_value_t *src)
{
	*dst = *src; /* scalars are complete with this */
	switch (src->kind) {
	case AMQP_FIELD_KIND_UTF8:
	case AMQP_FIELD_KIND_BYTES:
		dst->value.bytes = bytes_copy(src->value.bytes);
		break;
	case AMQP_FIELD_KIND_ARRAY:
		dst->value.array.entries = xmalloc(sizeof(amqp_field_value_t) *
						   (size_t)src->value.array.num_entries);
		for (int i = 0; i < src->value.array.num_entries; i++)
			value_copy(&dst->value.array.entries[i], &src->value.array.entries[i]);
		break;
	case AMQP_FIELD_KIND_TABLE:
		table_copy(&dst->value.table, &src->value.table);
		break;
	default:
		break;
	}
}

/* ---- header sets -------------------------------------------------------- */

static int is_dropped(amqp_bytes_t key, const char *const *drop)
{
	for (int i = 0; broker_headers[i]; i++)
		if (bytes_eq(key, broker_headers[i]))
			return 1;
	for (int i = 0; broker_prefixes[i]; i++)
		if (bytes_prefix(key, broker_prefixes[i]))
			return 1;
	for (int i = 0; drop && drop[i]; i++)
		if (bytes_eq(key, drop[i]))
			return 1;
	return 0;
}

/* The entry for key: the existing one (its old value freed) or a new one. */
static amqp_table_entry_t *slot_for(struct header_set *h, const char *key)
{
	amqp_table_entry_t *e;

	for (int i = 0; i < h->table.num_entries; i++) {
		e = &h->table.entries[i];
		if (bytes_eq(e->key, key)) {
			value_free(&e->value);
			return e;
		}
	}
	if (h->table.num_entries == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		e = realloc(h->table.entries, sizeof(*e) * (size_t)h->cap);
		if (e == NULL)
			log_fatal(EXIT_RESTART, "build message headers: out of memory");
		h->table.entries = e;
	}
	e = &h->table.entries[h->table.num_entries++];
	e->key = bytes_copy(amqp_cstring_bytes(key));
	return e;
}

struct header_set *header_set_new(const struct delivery *from, const char *const *drop)
{
	struct header_set *h = xmalloc(sizeof(*h));
	const amqp_table_t *src = delivery_headers(from);

	memset(h, 0, sizeof(*h));
	for (int i = 0; src && i < src->num_entries; i++) {
		const amqp_table_entry_t *e = &src->entries[i];
		char key[256];

		if (is_dropped(e->key, drop) || e->key.len >= sizeof(key))
			continue;
		memcpy(key, e->key.bytes, e->key.len);
		key[e->key.len] = '\0';
		value_copy(&slot_for(h, key)->value, &e->value);
	}
	return h;
}

void header_set_str(struct header_set *h, const char *key, const char *value)
{
	amqp_table_entry_t *e = slot_for(h, key);

	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = bytes_copy(amqp_cstring_bytes(value));
}

void header_set_int(struct header_set *h, const char *key, long long value)
{
	amqp_table_entry_t *e = slot_for(h, key);

	e->value.kind = AMQP_FIELD_KIND_I64;
	e->value.value.i64 = value;
}

const amqp_table_t *header_set_table(const struct header_set *h)
{
	return &h->table;
}

void header_set_free(struct header_set *h)
{
	if (h == NULL)
		return;
	table_free(&h->table);
	free(h);
}
