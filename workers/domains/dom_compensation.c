/*
 * dom_compensation: the rules of order.cancelled's compensations shared by
 * the domains that keep one row per order (see dom_compensation.h).
 */
#include "workers/domains/dom_compensation.h"

#include <string.h>

#include "workers/domains/dom_payload.h"

int dom_cancel_needs_tombstone(struct handler_ctx *ctx)
{
	const char *cause = dom_str_opt(ctx, "cause");

	return cause == NULL ||
	       (strcmp(cause, "stock.rejected") != 0 && strcmp(cause, "payment.failed") != 0);
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
