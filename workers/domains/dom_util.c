/* dom_util: helpers shared by the domain handlers (see dom_util.h). */
#include "workers/domains/dom_util.h"

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

int dom_cancel_needs_tombstone(struct handler_ctx *ctx)
{
	const char *cause = dom_str_opt(ctx, "cause");

	return cause == NULL ||
	       (strcmp(cause, "stock.rejected") != 0 && strcmp(cause, "payment.failed") != 0);
}

enum db_status dom_emit(struct handler_ctx *ctx, const char *event_type, const char *order_id,
			json_t *payload)
{
	if (payload == NULL)
		return DB_FATAL;
	return handler_emit(ctx, event_type, "order", order_id, payload);
}

enum db_status dom_select_text(struct db *db, const char *sql, const struct db_param *params,
			       int nparams, char *out, size_t outlen, int *found_r)
{
	struct db_rows rows = { 0 };
	enum db_status st = db_select(db, sql, params, nparams, &rows);
	const char *v;

	*found_r = 0;
	if (outlen > 0)
		out[0] = '\0';
	if (st != DB_OK)
		return st;
	if (rows.nrows > 0) {
		*found_r = 1;
		v = db_rows_get(&rows, 0, 0);
		snprintf(out, outlen, "%s", v != NULL ? v : "");
	}
	db_rows_free(&rows);
	return DB_OK;
}

void dom_format_cents(long long cents, char *out, size_t outlen)
{
	unsigned long long a = cents < 0 ? 0ull - (unsigned long long)cents
					 : (unsigned long long)cents;

	snprintf(out, outlen, "%s%llu.%02llu", cents < 0 ? "-" : "", a / 100, a % 100);
}

enum handler_result dom_cancel_twice(struct handler_ctx *ctx, dom_cancel_once_fn once,
				     const char *what)
{
	const char *id, *customer;
	enum handler_result hr;
	int again = 0;

	if (dom_order_ref(ctx, &id, &customer) != 0)
		return HANDLER_REJECT;
	for (int pass = 0; pass < 2; pass++) {
		hr = once(ctx, id, customer, &again);
		if (hr != HANDLER_OK || !again)
			return hr;
	}
	return handler_retry(ctx, "%s of order %s changed concurrently", what, id);
}
