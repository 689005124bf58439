/*
 * envelope: the event envelope of DESIGN.md ("Event envelope"), decoded,
 * validated, upcast and encoded with jansson.
 *
 * envelope_decode() accepts a message body only if it is valid UTF-8 JSON no
 * larger than max_bytes, an object with every required field of the right
 * type: event_id (a UUID), event_type (a routing-key word: [a-z_]+.[a-z_]+),
 * schema_version (integer >= 1), aggregate_type, aggregate_id, correlation_id
 * (non-empty strings), causation_id (string, may be empty), occurred_at (an ISO
 * 8601 UTC timestamp), payload (an object). An older schema_version is upcast
 * to the current one before it is returned; a newer one than the code knows is
 * ENV_UNKNOWN_VERSION. The error text says which field is wrong and why.
 *
 * A struct envelope owns its payload (a jansson reference); envelope_clear()
 * releases it.
 */
#ifndef ORDERFLOW_ENVELOPE_H
#define ORDERFLOW_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>

#define ENVELOPE_ID_LEN 36   /* a UUID in text */
#define ENVELOPE_TYPE_MAX 64
#define ENVELOPE_STR_MAX 128 /* aggregate and correlation ids, aggregate_type */
#define ENVELOPE_DEFAULT_MAX_BYTES (256 * 1024)
#define ENVELOPE_MAX_DEPTH 32  /* nesting of objects and arrays, the root counts as 1 */

enum envelope_status {
	ENV_OK = 0,
	ENV_INVALID,             /* park: invalid-envelope */
	ENV_UNKNOWN_VERSION,     /* park: unknown-schema-version */
};

struct envelope {
	char event_id[ENVELOPE_ID_LEN + 1];
	char event_type[ENVELOPE_TYPE_MAX + 1];
	int schema_version;
	char aggregate_type[ENVELOPE_STR_MAX + 1];
	char aggregate_id[ENVELOPE_STR_MAX + 1];
	char correlation_id[ENVELOPE_STR_MAX + 1];
	char causation_id[ENVELOPE_STR_MAX + 1];
	char occurred_at[32];    /* "2026-11-22T10:15:30.123Z" */
	json_t *payload;         /* an object; owned */
};

/* body need not be NUL-terminated. ev is overwritten: on ENV_OK it owns the
 * payload, on failure it holds no reference (envelope_clear() is safe either
 * way) and err says what is wrong. */
enum envelope_status envelope_decode(const char *body, size_t len, size_t max_bytes,
				     struct envelope *ev, char *err, size_t errlen);

/* Builds a new event: a fresh event_id (libuuid), occurred_at = now, the
 * current schema_version for its type. correlation_id and causation_id may be
 * "" (causation) but not NULL. Takes ownership of payload (a reference is
 * stolen, as json_object_set_new does). Returns 0, or -1 with err filled. */
int envelope_init(struct envelope *ev, const char *event_type, const char *aggregate_type,
		  const char *aggregate_id, const char *correlation_id,
		  const char *causation_id, json_t *payload, char *err, size_t errlen);

/* Compact JSON text of the whole envelope, malloc'd; NULL on allocation failure. */
char *envelope_encode(const struct envelope *ev);

void envelope_clear(struct envelope *ev);

/* The schema_version this build writes and reads for an event type
 * (1 for every type today). */
int envelope_current_version(const char *event_type);

/*
 * Schema evolution. An upcaster turns the payload of event_type from
 * from_version into from_version + 1, in place (it may empty and refill the
 * object); it returns 0, or -1 with err filled, which makes the message
 * ENV_INVALID. envelope_decode() chains upcasters from the message's version
 * up to envelope_current_version(); a missing link is ENV_UNKNOWN_VERSION.
 *
 * Both tables are process-global and unlocked: register at start-up (after
 * fork is fine), before any decode. Registering the same key again replaces
 * the entry. Return 0, or -1 when an argument is invalid or a table is full.
 */
typedef int (*envelope_upcaster_fn)(json_t *payload, char *err, size_t errlen);

/* Makes current_version (>= 1) the version this build reads and writes for
 * event_type, overriding the built-in table. */
int envelope_register_version(const char *event_type, int current_version);
int envelope_register_upcaster(const char *event_type, int from_version,
			       envelope_upcaster_fn fn);

/* A new version 7 UUID (time-ordered, random below the millisecond) in
 * text, lower case, into out[37]. */
void envelope_new_uuid(char out[ENVELOPE_ID_LEN + 1]);
/* 1 if s is a UUID in text (8-4-4-4-12 hex digits), 0 otherwise. */
int envelope_is_uuid(const char *s);
/* Now in UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ", into out[32]. */
void envelope_now_iso(char out[32]);

#endif
