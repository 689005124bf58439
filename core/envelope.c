/*
 * envelope: decoding, validation, upcasting and encoding of the event
 * envelope (see envelope.h and DESIGN.md "Event envelope").
 *
 * Every check runs before a handler sees the message, so a body that fails
 * here is parked once instead of failing in every domain that consumes it.
 */
#include "core/envelope.h"
#include "core/clock.h"
#include "core/json_depth.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#define MAX_VERSIONS 32
#define MAX_UPCASTERS 64

struct version_entry {
	char type[ENVELOPE_TYPE_MAX + 1];
	int current;
};

struct upcaster_entry {
	char type[ENVELOPE_TYPE_MAX + 1];
	int from;
	envelope_upcaster_fn fn;
};

/* DESIGN.md "Events". A schema change bumps the version here and registers
 * an upcaster from the old one. */
static const struct version_entry builtin_versions[] = {
	{ "order.created", 1 },      { "stock.reserved", 1 },   { "stock.rejected", 1 },
	{ "payment.completed", 1 },  { "payment.failed", 1 },   { "order.confirmed", 1 },
	{ "order.cancelled", 1 },    { "stock.released", 1 },   { "payment.refunded", 1 },
	{ "shipping.scheduled", 1 }, { "shipping.cancelled", 1 },
};

static struct version_entry versions[MAX_VERSIONS];
static size_t nversions;
static struct upcaster_entry upcasters[MAX_UPCASTERS];
static size_t nupcasters;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- shapes of single values ---- */

int envelope_is_uuid(const char *s)
{
	if (s == NULL || strlen(s) != ENVELOPE_ID_LEN)
		return 0;
	for (int i = 0; i < ENVELOPE_ID_LEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

/* [a-z_]+.[a-z_]+ : the routing keys of DESIGN.md's "Events". */
static int is_routing_key(const char *s)
{
	const char *dot = strchr(s, '.');
	const char *p;

	if (dot == NULL || dot == s || dot[1] == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (p != dot && !is_word_char(*p))
			return 0;
	return 1;
}

/* Two digits at s within [lo, hi]. */
static int two_digits_in(const char *s, int lo, int hi)
{
	int v = (s[0] - '0') * 10 + (s[1] - '0');

	return v >= lo && v <= hi;
}

/* YYYY-MM-DDTHH:MM:SS(.fraction)?Z. Ranges are checked loosely (day 31 in
 * any month, second 60 for a leap second): the aim is to refuse garbage, not
 * to be a calendar. */
static int is_iso_utc(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	const char *p;
	int digits = 0;

	for (int i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	if (!two_digits_in(s + 5, 1, 12) || !two_digits_in(s + 8, 1, 31) ||
	    !two_digits_in(s + 11, 0, 23) || !two_digits_in(s + 14, 0, 59) ||
	    !two_digits_in(s + 17, 0, 60))
		return 0;
	p = s + 19;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
		if (digits < 1 || digits > 9)
			return 0;
	}
	return strcmp(p, "Z") == 0;
}

static const char *json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* ---- the string fields ---- */

#define STR_MAY_BE_EMPTY 0x1
#define STR_GENERATED 0x2 /* made by envelope_init, not given by its caller */

struct str_field {
	const char *name;
	size_t offset; /* of the buffer in struct envelope */
	size_t size;
	int flags;
	int (*shape)(const char *s);
	const char *shape_reason;
};

#define STR_FIELD(m) offsetof(struct envelope, m), sizeof(((struct envelope *)0)->m)

static const struct str_field str_fields[] = {
	{ "event_id", STR_FIELD(event_id), STR_GENERATED, envelope_is_uuid, "is not a UUID" },
	{ "event_type", STR_FIELD(event_type), 0, is_routing_key,
	  "is not a routing key (word.word of a-z and _)" },
	{ "aggregate_type", STR_FIELD(aggregate_type), 0, NULL, NULL },
	{ "aggregate_id", STR_FIELD(aggregate_id), 0, NULL, NULL },
	{ "correlation_id", STR_FIELD(correlation_id), 0, NULL, NULL },
	{ "causation_id", STR_FIELD(causation_id), STR_MAY_BE_EMPTY, NULL, NULL },
	{ "occurred_at", STR_FIELD(occurred_at), STR_GENERATED, is_iso_utc,
	  "is not an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS[.fff]Z)" },
};

#define NSTR_FIELDS (sizeof(str_fields) / sizeof(str_fields[0]))

/* Checks s (len bytes) against f and copies it into ev. */
static int put_str_field(const struct str_field *f, const char *s, size_t len,
			 struct envelope *ev, char *err, size_t errlen)
{
	char *dst = (char *)ev + f->offset;

	if (len >= f->size) {
		set_err(err, errlen, "field \"%s\" is longer than %zu bytes", f->name, f->size - 1);
		return -1;
	}
	/* A field with a shape says "is not a UUID" rather than "empty". */
	if (len == 0 && !(f->flags & STR_MAY_BE_EMPTY) && f->shape == NULL) {
		set_err(err, errlen, "field \"%s\" must not be empty", f->name);
		return -1;
	}
	if (f->shape != NULL && !f->shape(s)) {
		set_err(err, errlen, "field \"%s\" %s", f->name, f->shape_reason);
		return -1;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static json_t *get_field(json_t *root, const char *name, json_type want, const char *want_name,
			 char *err, size_t errlen)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL) {
		set_err(err, errlen, "missing field \"%s\"", name);
		return NULL;
	}
	if (json_typeof(v) != want) {
		set_err(err, errlen, "field \"%s\" must be %s, got %s", name, want_name,
			json_type_name(v));
		return NULL;
	}
	return v;
}

static int read_str_fields(json_t *root, struct envelope *ev, char *err, size_t errlen)
{
	for (size_t i = 0; i < NSTR_FIELDS; i++) {
		const struct str_field *f = &str_fields[i];
		json_t *v = get_field(root, f->name, JSON_STRING, "a string", err, errlen);

		/* json_string_length() rather than strlen(): the parser refuses
		 * \u0000 (no JSON_ALLOW_NUL), so the two agree anyway. */
		if (v == NULL ||
		    put_str_field(f, json_string_value(v), json_string_length(v), ev, err, errlen) != 0)
			return -1;
	}
	/* Ids are compared as text (inbox key, message_id): one spelling. */
	for (char *p = ev->event_id; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int read_version(json_t *root, json_int_t *version_r, char *err, size_t errlen)
{
	json_t *v = get_field(root, "schema_version", JSON_INTEGER, "an integer", err, errlen);

	if (v == NULL)
		return -1;
	*version_r = json_integer_value(v);
	if (*version_r < 1) {
		set_err(err, errlen, "field \"schema_version\" must be >= 1, got %" JSON_INTEGER_FORMAT,
			*version_r);
		return -1;
	}
	return 0;
}

static int read_fields(json_t *root, struct envelope *ev, json_int_t *version_r, char *err,
		       size_t errlen)
{
	json_t *payload;

	if (read_str_fields(root, ev, err, errlen) != 0 ||
	    read_version(root, version_r, err, errlen) != 0)
		return -1;
	payload = get_field(root, "payload", JSON_OBJECT, "an object", err, errlen);
	if (payload == NULL)
		return -1;
	ev->payload = json_incref(payload);
	return 0;
}

/* ---- parsing ---- */

static json_t *parse_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	if (!json_depth_ok(body, len, ENVELOPE_MAX_DEPTH)) {
		set_err(err, errlen, "JSON nested deeper than %d levels", ENVELOPE_MAX_DEPTH);
		return NULL;
	}
	/* json_loadb reads exactly len bytes: the body needs no terminator.
	 * jansson also refuses invalid UTF-8 and, without JSON_ALLOW_NUL, \u0000. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		set_err(err, errlen, "malformed JSON at line %d column %d: %s", jerr.line,
			jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		set_err(err, errlen, "the body must be a JSON object, got %s", json_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* ---- versions and upcasters ---- */

static int registrable_type(const char *type)
{
	return type != NULL && strlen(type) <= ENVELOPE_TYPE_MAX && is_routing_key(type);
}

int envelope_register_version(const char *event_type, int current_version)
{
	size_t i;

	if (!registrable_type(event_type) || current_version < 1)
		return -1;
	for (i = 0; i < nversions; i++)
		if (strcmp(versions[i].type, event_type) == 0)
			break;
	if (i == MAX_VERSIONS)
		return -1;
	snprintf(versions[i].type, sizeof(versions[i].type), "%s", event_type);
	versions[i].current = current_version;
	if (i == nversions)
		nversions++;
	return 0;
}

int envelope_register_upcaster(const char *event_type, int from_version,
			       envelope_upcaster_fn fn)
{
	size_t i;

	if (!registrable_type(event_type) || from_version < 1 || fn == NULL)
		return -1;
	for (i = 0; i < nupcasters; i++)
		if (upcasters[i].from == from_version && strcmp(upcasters[i].type, event_type) == 0)
			break;
	if (i == MAX_UPCASTERS)
		return -1;
	snprintf(upcasters[i].type, sizeof(upcasters[i].type), "%s", event_type);
	upcasters[i].from = from_version;
	upcasters[i].fn = fn;
	if (i == nupcasters)
		nupcasters++;
	return 0;
}

int envelope_current_version(const char *event_type)
{
	if (event_type == NULL)
		return 1;
	for (size_t i = 0; i < nversions; i++)
		if (strcmp(versions[i].type, event_type) == 0)
			return versions[i].current;
	for (size_t i = 0; i < sizeof(builtin_versions) / sizeof(builtin_versions[0]); i++)
		if (strcmp(builtin_versions[i].type, event_type) == 0)
			return builtin_versions[i].current;
	/* Unknown types (test domains, events of a newer build) are version 1:
	 * a newer schema of them is still caught by the version check. */
	return 1;
}

static envelope_upcaster_fn find_upcaster(const char *event_type, int from)
{
	for (size_t i = 0; i < nupcasters; i++)
		if (upcasters[i].from == from && strcmp(upcasters[i].type, event_type) == 0)
			return upcasters[i].fn;
	return NULL;
}

/* Brings ev's payload from `version` to the current version of its type. */
static enum envelope_status upcast(struct envelope *ev, json_int_t version, char *err,
				   size_t errlen)
{
	int current = envelope_current_version(ev->event_type);
	char why[256];

	if (version > current) {
		set_err(err, errlen,
			"schema_version %" JSON_INTEGER_FORMAT " of \"%s\" is newer than this build knows (%d)",
			version, ev->event_type, current);
		return ENV_UNKNOWN_VERSION;
	}
	/* version <= current <= INT_MAX from here on. */
	for (int v = (int)version; v < current; v++) {
		envelope_upcaster_fn fn = find_upcaster(ev->event_type, v);

		if (fn == NULL) {
			set_err(err, errlen,
				"schema_version %d of \"%s\" cannot be read: no upcaster from version %d (current %d)",
				(int)version, ev->event_type, v, current);
			return ENV_UNKNOWN_VERSION;
		}
		/* fn gets the object itself, so it stays an object whatever fn does. */
		why[0] = '\0';
		if (fn(ev->payload, why, sizeof(why)) != 0) {
			set_err(err, errlen, "upcasting \"%s\" from version %d to %d failed: %s",
				ev->event_type, v, v + 1, why[0] != '\0' ? why : "no reason given");
			return ENV_INVALID;
		}
	}
	ev->schema_version = current;
	return ENV_OK;
}

/* ---- the public calls ---- */

enum envelope_status envelope_decode(const char *body, size_t len, size_t max_bytes,
				     struct envelope *ev, char *err, size_t errlen)
{
	enum envelope_status st = ENV_INVALID;
	json_t *root = NULL;
	json_int_t version = 0;

	memset(ev, 0, sizeof(*ev));
	set_err(err, errlen, "%s", "");
	/* Before parsing: the limit protects the parser, not only the handler. */
	if (len > max_bytes) {
		set_err(err, errlen, "body of %zu bytes exceeds the limit of %zu bytes", len,
			max_bytes);
		goto out;
	}
	if (body == NULL) { /* json_loadb refuses NULL; an empty body is malformed */
		body = "";
		len = 0;
	}
	root = parse_object(body, len, err, errlen);
	if (root == NULL || read_fields(root, ev, &version, err, errlen) != 0)
		goto out;
	st = upcast(ev, version, err, errlen);
out:
	json_decref(root);
	if (st != ENV_OK)
		envelope_clear(ev);
	return st;
}

/* json_string() checks UTF-8; our buffers would otherwise accept text that
 * envelope_encode() cannot write. */
static int is_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static int init_str_fields(struct envelope *ev, const char *const given[NSTR_FIELDS],
			   char *err, size_t errlen)
{
	for (size_t i = 0; i < NSTR_FIELDS; i++) {
		const struct str_field *f = &str_fields[i];

		if (f->flags & STR_GENERATED)
			continue;
		if (given[i] == NULL) {
			set_err(err, errlen, "field \"%s\" is NULL", f->name);
			return -1;
		}
		if (!is_utf8(given[i])) {
			set_err(err, errlen, "field \"%s\" is not UTF-8 text", f->name);
			return -1;
		}
		if (put_str_field(f, given[i], strlen(given[i]), ev, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int envelope_init(struct envelope *ev, const char *event_type, const char *aggregate_type,
		  const char *aggregate_id, const char *correlation_id,
		  const char *causation_id, json_t *payload, char *err, size_t errlen)
{
	/* In the order of str_fields[]; NULL where the field is generated. */
	const char *const given[NSTR_FIELDS] = {
		NULL, event_type, aggregate_type, aggregate_id, correlation_id, causation_id, NULL,
	};
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(payload)) {
		set_err(err, errlen, "field \"payload\" must be an object");
		goto out;
	}
	if (init_str_fields(ev, given, err, errlen) != 0)
		goto out;
	envelope_new_uuid(ev->event_id);
	envelope_now_iso(ev->occurred_at);
	ev->schema_version = envelope_current_version(ev->event_type);
	ev->payload = payload;
	payload = NULL;
	rc = 0;
out:
	/* The reference is stolen even on failure, as json_object_set_new does,
	 * so a caller never has to tell the two cases apart. */
	json_decref(payload);
	if (rc != 0)
		memset(ev, 0, sizeof(*ev));
	return rc;
}

char *envelope_encode(const struct envelope *ev)
{
	json_t *payload = ev->payload != NULL ? json_incref(ev->payload) : json_object();
	json_t *root;
	char *text = NULL;

	/* "O" takes its own reference, so payload is ours to drop either way. */
	root = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:O}",
			 "event_id", ev->event_id, "event_type", ev->event_type,
			 "schema_version", ev->schema_version,
			 "aggregate_type", ev->aggregate_type, "aggregate_id", ev->aggregate_id,
			 "correlation_id", ev->correlation_id, "causation_id", ev->causation_id,
			 "occurred_at", ev->occurred_at, "payload", payload);
	if (root == NULL)
		goto out;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(root);
	json_decref(payload);
	return text;
}

void envelope_clear(struct envelope *ev)
{
	if (ev == NULL)
		return;
	json_decref(ev->payload);
	memset(ev, 0, sizeof(*ev));
}

/*
 * A version 7 UUID (RFC 9562): the Unix time in milliseconds in the first 48
 * bits, then libuuid's random bits. Every id orderflow makes is a primary or
 * unique key somewhere (orders, inbox, outbox, event_log), and ids that grow
 * with time are inserted at the right edge of those B-trees instead of on a
 * random leaf: once the tables outgrow the buffer pool, a random id costs a
 * page read and leaves another page dirty on every insert. Debian 12's
 * libuuid (util-linux 2.38) has no version 7 yet, hence the few lines here.
 */
void envelope_new_uuid(char out[ENVELOPE_ID_LEN + 1])
{
	unsigned long long ms = (unsigned long long)clock_realtime_ms();
	uuid_t u;

	uuid_generate_random(u);
	for (int i = 5; i >= 0; i--) {
		u[i] = (unsigned char)(ms & 0xff);
		ms >>= 8;
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x70);
	uuid_unparse_lower(u, out);
}

void envelope_now_iso(char out[32])
{
	struct timespec ts = { 0, 0 };
	struct tm tm;
	char secs[24] = "";

	clock_gettime(CLOCK_REALTIME, &ts);
	memset(&tm, 0, sizeof(tm));
	gmtime_r(&ts.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", secs, (int)(ts.tv_nsec / 1000000) % 1000);
}
