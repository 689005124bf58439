/*
 * dom_payload: what every domain handler reads from an event's payload, and
 * how it emits an event about an order (see dom_payload.h).
 */
#include "workers/domains/dom_payload.h"

#include <stdio.h>
#include <string.h>

#include "core/envelope.h"

const char *dom_str(struct handler_ctx *ctx, const char *key, size_t maxlen)
{
	json_t *v = json_object_get(ctx->ev->payload, key);
	const char *s = json_string_value(v);

	if (s == NULL) {
		handler_reject(ctx, "%s: payload.%s is %s", ctx->ev->event_type, key,
			       v == NULL ? "missing" : "not a string");
		return NULL;
	}
	if (json_string_length(v) == 0 || json_string_length(v) > maxlen ||
	    strlen(s) != json_string_length(v)) {
		handler_reject(ctx, "%s: payload.%s must have 1 to %zu bytes", ctx->ev->event_type,
			       key, maxlen);
		return NULL;
	}
	return s;
}

const char *dom_str_opt(struct handler_ctx *ctx, const char *key)
{
	return json_string_value(json_object_get(ctx->ev->payload, key));
}

int dom_cents(struct handler_ctx *ctx, const char *key, long long *out)
{
	json_t *v = json_object_get(ctx->ev->payload, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		handler_reject(ctx, "%s: payload.%s is %s", ctx->ev->event_type, key,
			       v == NULL ? "missing" : "not a whole number of cents >= 0");
		return -1;
	}
	*out = (long long)json_integer_value(v);
	return 0;
}

int dom_order_ref(struct handler_ctx *ctx, const char **order_id_r, const char **customer_r)
{
	const char *id = dom_str(ctx, "order_id", ENVELOPE_ID_LEN);

	if (id == NULL)
		return -1;
	if (!envelope_is_uuid(id)) {
		handler_reject(ctx, "%s: payload.order_id \"%s\" is not a UUID",
			       ctx->ev->event_type, id);
		return -1;
	}
	*order_id_r = id;
	if (customer_r != NULL && (*customer_r = dom_str(ctx, "customer_id", DOM_CUSTOMER_MAX)) == NULL)
		return -1;
	return 0;
}

enum db_status dom_emit(struct handler_ctx *ctx, const char *event_type, const char *order_id,
			json_t *payload)
{
	if (payload == NULL)
		return DB_FATAL;
	return handler_emit(ctx, event_type, "order", order_id, payload);
}
