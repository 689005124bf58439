/*
 * shipping: schedules the shipment of a confirmed order and cancels it when
 * the order is cancelled.
 *
 *   order.confirmed  no shipments row: SCHEDULED with a carrier and tracking
 *                    number derived from the order id (shipping_rules.h) +
 *                    shipping.scheduled; a row exists (scheduled already, or
 *                    the cancel's tombstone): nothing
 *   order.cancelled  SCHEDULED -> CANCELLED + shipping.cancelled; CANCELLED:
 *                    nothing; no row yet: a CANCELLED tombstone without
 *                    carrier (no event: nothing was scheduled) if the customer
 *                    cancelled (an order cancelled on stock.rejected or
 *                    payment.failed is never confirmed)
 *
 * As in inventory and payment, the row's primary key (order_id) is where a
 * late order.confirmed and the cancel meet: the second INSERT gets a
 * duplicate key; order.confirmed then does nothing, order.cancelled reads the
 * row and cancels it.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "workers/domains/dom_compensation.h"
#include "workers/domains/dom_payload.h"
#include "workers/domains/domains.h"
#include "workers/domains/shipping_rules.h"

static enum db_status lock_shipment(struct db *db, const char *id, struct db_rows *rows)
{
	struct db_param p[1] = { DBP_STR(id) };

	return db_select(db, "SELECT status, carrier, tracking_number, customer_id "
			     "FROM shipments WHERE order_id = ? FOR UPDATE", p, 1, rows);
}

static json_t *shipping_payload(const char *id, const char *customer, const char *carrier,
				const char *tracking)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "order_id", id, "customer_id", customer,
			 "carrier", carrier, "tracking_number", tracking);
}

static enum handler_result on_confirmed(struct handler_ctx *ctx)
{
	struct db_rows rows = { 0 };
	const char *id, *customer, *carrier;
	char tracking[SHIPPING_TRACKING_MAX];
	enum db_status st;
	int exists;

	if (dom_order_ref(ctx, &id, &customer) != 0)
		return HANDLER_REJECT;
	if (lock_shipment(ctx->db, id, &rows) != DB_OK)
		return handler_db_failed(ctx, "lock shipment");
	exists = rows.nrows > 0;
	if (exists)
		log_debug("order %s: shipment is %s already: nothing to schedule", id,
			  db_rows_get(&rows, 0, 0));
	db_rows_free(&rows);
	if (exists)
		return HANDLER_OK;
	carrier = shipping_carrier(id);
	if (shipping_tracking_number(id, tracking, sizeof(tracking)) != 0)
		return handler_reject(ctx, "order %s: no tracking number", id);
	{
		struct db_param p[4] = { DBP_STR(id), DBP_STR(customer), DBP_STR(carrier),
					 DBP_STR(tracking) };

		st = db_run(ctx->db, "INSERT INTO shipments (order_id, status, customer_id, carrier, "
				     "tracking_number, created_at, updated_at) VALUES (?, "
				     "'SCHEDULED', ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
			    p, 4, NULL, NULL);
	}
	if (st == DB_DUPLICATE) {
		log_info("order %s: cancelled while being scheduled: nothing scheduled", id);
		return HANDLER_OK;
	}
	if (st != DB_OK)
		return handler_db_failed(ctx, "insert shipment");
	if (dom_emit(ctx, "shipping.scheduled", id,
		     shipping_payload(id, customer, carrier, tracking)) != DB_OK)
		return handler_db_failed(ctx, "append shipping.scheduled");
	log_info("order %s: shipment scheduled with %s, tracking %s", id, carrier, tracking);
	return HANDLER_OK;
}

static enum handler_result cancel_shipment(struct handler_ctx *ctx, const char *id,
					   const struct db_rows *rows)
{
	struct db_param p[1] = { DBP_STR(id) };
	const char *carrier = db_rows_get(rows, 0, 1), *tracking = db_rows_get(rows, 0, 2);

	if (db_run(ctx->db, "UPDATE shipments SET status = 'CANCELLED', "
			    "updated_at = UTC_TIMESTAMP(6) WHERE order_id = ? AND status = "
			    "'SCHEDULED'", p, 1, NULL, NULL) != DB_OK)
		return handler_db_failed(ctx, "cancel shipment");
	if (dom_emit(ctx, "shipping.cancelled", id,
		     shipping_payload(id, db_rows_get(rows, 0, 3), carrier != NULL ? carrier : "",
				      tracking != NULL ? tracking : "")) != DB_OK)
		return handler_db_failed(ctx, "append shipping.cancelled");
	log_info("order %s: shipment cancelled", id);
	return HANDLER_OK;
}

/* One look at the row; *again_r = 1 when the tombstone met a concurrent
 * order.confirmed's row (look again). */
static enum db_status shipment_tombstone(struct handler_ctx *ctx, const char *id,
					 const char *customer)
{
	struct db_param t[2] = { DBP_STR(id), DBP_STR(customer) };

	return db_run(ctx->db, "INSERT INTO shipments (order_id, status, customer_id, created_at, "
			       "updated_at) VALUES (?, 'CANCELLED', ?, UTC_TIMESTAMP(6), "
			       "UTC_TIMESTAMP(6))", t, 2, NULL, NULL);
}

static enum handler_result on_cancelled(struct handler_ctx *ctx)
{
	static const struct dom_cancel_rules rules = {
		.row = "shipment", .active = "SCHEDULED", .verb = "cancel",
		.never = ", never confirmed", .stage = "shipping",
		.lock = lock_shipment, .undo = cancel_shipment, .tombstone = shipment_tombstone,
	};

	return dom_cancel_twice(ctx, &rules);
}

static const struct domain_event shipping_events[] = {
	{ "order.confirmed", on_confirmed, DOM_EV_BATCH },
	{ "order.cancelled", on_cancelled, DOM_EV_BATCH },
};

const struct domain shipping_domain = {
	.name = "shipping",
	DOMAIN_TABLE(shipping_events),
};
