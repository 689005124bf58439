/*
 * fuzz_envelope: envelope_decode() on any message body (core/envelope.h).
 *
 * Beyond "no crash, no leak, no sanitizer report", a body that decodes must
 * survive a round trip: envelope_encode() of it decodes again (ENV_OK) to the
 * same fields and an equal payload. The input is the body as the broker would
 * deliver it: not NUL-terminated, so it is copied to a buffer of exactly its
 * size and ASan catches any read past the end.
 *
 * Every built-in type is at version 1, so the upcast chain would never run:
 * two test types are registered at start. "fuzz.upcast" is at version 3 with
 * upcasters 1->2 (adds a member) and 2->3 (refuses a payload holding
 * "refuse"); "fuzz.gap" is at version 3 with only 1->2, a missing link.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding: libFuzzer saves the input that got here. */
static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_envelope: %s: %s\n", what, detail);
	abort();
}

static int add_member(json_t *payload, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	return json_object_set_new(payload, "upcast_from_1", json_true());
}

static int refuse_some(json_t *payload, char *err, size_t errlen)
{
	if (json_object_get(payload, "refuse") == NULL)
		return 0;
	snprintf(err, errlen, "payload holds \"refuse\"");
	return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (envelope_register_version("fuzz.upcast", 3) != 0 ||
	    envelope_register_upcaster("fuzz.upcast", 1, add_member) != 0 ||
	    envelope_register_upcaster("fuzz.upcast", 2, refuse_some) != 0 ||
	    envelope_register_version("fuzz.gap", 3) != 0 ||
	    envelope_register_upcaster("fuzz.gap", 1, add_member) != 0)
		fail("registering the test types", "refused");
	return 0;
}

static void check_same(const struct envelope *a, const struct envelope *b)
{
	if (strcmp(a->event_id, b->event_id) != 0 || strcmp(a->event_type, b->event_type) != 0 ||
	    a->schema_version != b->schema_version ||
	    strcmp(a->aggregate_type, b->aggregate_type) != 0 ||
	    strcmp(a->aggregate_id, b->aggregate_id) != 0 ||
	    strcmp(a->correlation_id, b->correlation_id) != 0 ||
	    strcmp(a->causation_id, b->causation_id) != 0 ||
	    strcmp(a->occurred_at, b->occurred_at) != 0)
		fail("round trip", "a field changed");
	if (!json_equal(a->payload, b->payload))
		fail("round trip", "the payload changed");
}

/* encode(ev) must decode again to ev. The limit is lifted for the second
 * decode: encoding may spell numbers longer than the sender did. */
static void round_trip(const struct envelope *ev)
{
	struct envelope again;
	char err[512];
	char *text = envelope_encode(ev);

	if (text == NULL)
		fail("envelope_encode", "returned NULL for a decoded envelope");
	if (envelope_decode(text, strlen(text), SIZE_MAX, &again, err, sizeof(err)) != ENV_OK) {
		fprintf(stderr, "fuzz_envelope: encoded text: %s\n", text);
		fail("decoding the encoded envelope", err);
	}
	check_same(ev, &again);
	envelope_clear(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope ev;
	char err[512];
	char *body = malloc(size > 0 ? size : 1);
	enum envelope_status st;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	st = envelope_decode(body, size, ENVELOPE_DEFAULT_MAX_BYTES, &ev, err, sizeof(err));
	if (st == ENV_OK) {
		round_trip(&ev);
	} else {
		/* Every refusal says why, and leaves nothing to free. */
		if (err[0] == '\0')
			fail("refusal", "empty error text");
		if (ev.payload != NULL)
			fail("refusal", "payload left behind");
	}
	envelope_clear(&ev);
	free(body);
	return 0;
}
