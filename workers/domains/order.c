/*
 * order: the order domain's handler. The intake (order_intake.c) creates and
 * cancels orders; this handler moves them on the events of the saga:
 *
 *   stock.rejected      PENDING -> CANCELLED ("out of stock"), order.cancelled
 *   payment.completed   PENDING -> CONFIRMED, order.confirmed
 *   payment.failed      PENDING -> CANCELLED ("payment declined"), order.cancelled
 *   shipping.scheduled  CONFIRMED -> SHIPPED
 *
 * Any other pair changes nothing (order_transition() says so): e.g. a
 * payment.completed for an order the customer cancelled meanwhile leaves it
 * CANCELLED, and the payment domain refunds on that order.cancelled.
 */
#include <stdio.h>

#include "core/log.h"
#include "workers/domains/dom_payload.h"
#include "workers/domains/domains.h"
#include "intake/order_intake.h"
#include "intake/order_state.h"

/* The cancel reason an event carries to order.cancelled: fixed words the
 * customer reads; the detail (which SKU, which rule) stays in the event log. */
static const char *cancel_reason(enum order_input in)
{
	return in == OIN_STOCK_REJECTED ? "out of stock" : "payment declined";
}

/* Emits what a transition announces: order.confirmed or order.cancelled. */
static enum handler_result order_announce(struct handler_ctx *ctx, const char *id,
					  const char *customer, enum order_status to,
					  const char *reason)
{
	enum db_status st = DB_OK;

	if (to == ORDER_CONFIRMED)
		st = dom_emit(ctx, "order.confirmed", id,
			      json_pack("{s:s, s:s}", "order_id", id, "customer_id", customer));
	else if (to == ORDER_CANCELLED)
		st = dom_emit(ctx, "order.cancelled", id,
			      json_pack("{s:s, s:s, s:s, s:s}", "order_id", id, "customer_id",
					customer, "reason", reason, "cause", ctx->ev->event_type));
	if (st != DB_OK)
		return handler_db_failed(ctx, to == ORDER_CONFIRMED ? "append order.confirmed"
								     : "append order.cancelled");
	return HANDLER_OK;
}

static enum handler_result order_handle(struct handler_ctx *ctx)
{
	enum order_input in = order_input_parse(ctx->ev->event_type);
	struct db_rows rows = { 0 };
	const char *id, *reason = NULL;
	enum order_status from, to;
	unsigned long long affected = 0;
	char customer[DOM_CUSTOMER_MAX + 1];
	enum handler_result hr;

	/* The table and order_state.c agree on the inputs; a new row without
	 * its transitions lands here. */
	if (in == OIN_NONE)
		return handler_reject(ctx, "order: %s is no input of the order's state machine",
				      ctx->ev->event_type);
	if (dom_order_ref(ctx, &id, NULL) != 0)
		return HANDLER_REJECT;
	{
		struct db_param p[1] = { DBP_STR(id) };

		if (db_select(ctx->db, "SELECT status, customer_id FROM orders WHERE id = ? "
				       "FOR UPDATE", p, 1, &rows) != DB_OK)
			return handler_db_failed(ctx, "lock order");
	}
	if (rows.nrows == 0) {
		/* The intake writes the order in the transaction that emits
		 * order.created, before any event of the saga exists: an order
		 * that is not there is not coming (another database?). */
		db_rows_free(&rows);
		return handler_reject(ctx, "order %s not found", id);
	}
	from = order_status_parse(db_rows_get(&rows, 0, 0));
	snprintf(customer, sizeof(customer), "%s", db_rows_get(&rows, 0, 1));
	db_rows_free(&rows);
	to = order_transition(from, in);
	if (to == ORDER_NONE) {
		log_debug("order %s is %s: %s changes nothing", id, order_status_name(from),
			  ctx->ev->event_type);
		return HANDLER_OK;
	}
	if (to == ORDER_CANCELLED)
		reason = cancel_reason(in);
	if (order_apply(ctx->db, id, from, to, reason, &affected) != DB_OK)
		return handler_db_failed(ctx, "update order");
	if (affected != 1)
		return handler_retry(ctx, "order %s changed while locked (%llu rows)", id, affected);
	hr = order_announce(ctx, id, customer, to, reason);
	if (hr == HANDLER_OK)
		log_info("order %s: %s -> %s on %s", id, order_status_name(from),
			 order_status_name(to), ctx->ev->event_type);
	return hr;
}

/* Each event is an input of the order's state machine (order_state.c). */
static const struct domain_event order_events[] = {
	{ "stock.rejected", order_handle, DOM_EV_BATCH },
	{ "payment.completed", order_handle, DOM_EV_BATCH },
	{ "payment.failed", order_handle, DOM_EV_BATCH },
	{ "shipping.scheduled", order_handle, DOM_EV_BATCH },
};

const struct domain order_domain = {
	.name = "order",
	DOMAIN_TABLE(order_events),
};
