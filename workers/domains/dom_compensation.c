/*
 * dom_compensation: the rules of order.cancelled's compensations shared by
 * the domains that keep one row per order (see dom_compensation.h).
 */
#include "workers/domains/dom_compensation.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

#include "workers/domains/dom_payload.h"

int dom_cancel_needs_tombstone(struct handler_ctx *ctx)
{
	const char *cause = dom_str_opt(ctx, "cause");

	return cause == NULL ||
	       (strcmp(cause, "stock.rejected") != 0 && strcmp(cause, "payment.failed") != 0);
}

/* One attempt; *again_r when the tombstone lost a race to the real row. */
static enum handler_result cancel_once(struct handler_ctx *ctx, const struct dom_cancel_rules *r,
				       const char *id, const char *customer, int *again_r)
{
	struct db_rows rows = { 0 };
	enum handler_result hr = HANDLER_OK;
	enum db_status st;
	char what[64];

	*again_r = 0;
	snprintf(what, sizeof(what), "lock %s", r->row);
	if (r->lock(ctx->db, id, &rows) != DB_OK)
		return handler_db_failed(ctx, what);
	if (rows.nrows > 0) {
		if (strcmp(db_rows_get(&rows, 0, 0), r->active) == 0)
			hr = r->undo(ctx, id, &rows);
		else
			log_debug("order %s: %s is %s: nothing to %s", id, r->row,
				  db_rows_get(&rows, 0, 0), r->verb);
		db_rows_free(&rows);
		return hr;
	}
	db_rows_free(&rows);
	if (!dom_cancel_needs_tombstone(ctx)) {
		log_debug("order %s: cancelled on %s%s: nothing to do", id,
			  dom_str_opt(ctx, "cause"), r->never);
		return HANDLER_OK;
	}
	st = r->tombstone(ctx, id, customer);
	if (st == DB_DUPLICATE) {
		*again_r = 1;
		return HANDLER_OK;
	}
	snprintf(what, sizeof(what), "insert %s tombstone", r->row);
	if (st != DB_OK)
		return handler_db_failed(ctx, what);
	log_info("order %s: cancelled before %s: tombstone written", id, r->stage);
	return HANDLER_OK;
}

enum handler_result dom_cancel_twice(struct handler_ctx *ctx, const struct dom_cancel_rules *r)
{
	const char *id, *customer;
	enum handler_result hr;
	int again = 0;

	if (dom_order_ref(ctx, &id, &customer) != 0)
		return HANDLER_REJECT;
	for (int pass = 0; pass < 2; pass++) {
		hr = cancel_once(ctx, r, id, customer, &again);
		if (hr != HANDLER_OK || !again)
			return hr;
	}
	return handler_retry(ctx, "%s of order %s changed concurrently", r->row, id);
}
