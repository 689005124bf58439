/*
 * payment: charges an order once its stock is reserved, refunds it when it is
 * cancelled. The gateway is simulated: payment_decide() (payment_rules.h)
 * declines by customer or amount, and domains.payment.latency_ms stands for
 * the gateway's answer time.
 *
 *   stock.reserved   no payments row: charge -> COMPLETED + payment.completed,
 *                    or FAILED + payment.failed; a row exists: nothing (never
 *                    charge twice, and a tombstone means cancelled)
 *   order.cancelled  COMPLETED -> REFUNDED + payment.refunded; FAILED or
 *                    REFUNDED: nothing; no row yet: tombstone if the customer
 *                    cancelled (after stock.rejected no charge can come)
 *
 * Tombstone: a payments row with status FAILED, amount 0 and reason
 * 'cancelled before payment' (DESIGN.md "Database" allows no other status and one row
 * per order). The row's primary key is where a late stock.reserved and the
 * cancel meet: whichever INSERTs second gets a duplicate key; stock.reserved
 * then charges nothing, order.cancelled reads the row and refunds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "workers/domains/dom_compensation.h"
#include "workers/domains/dom_payload.h"
#include "workers/domains/domains.h"
#include "workers/domains/payment_rules.h"

#define TOMBSTONE_REASON "cancelled before payment"

/* Locks the order's payments row; status "" when there is none. */
static enum db_status lock_payment(struct db *db, const char *id, struct db_rows *rows)
{
	struct db_param p[1] = { DBP_STR(id) };

	return db_select(db, "SELECT status, amount_cents, currency, customer_id FROM payments "
			     "WHERE order_id = ? FOR UPDATE", p, 1, rows);
}

struct charge {
	const char *id, *customer, *currency;
	long long amount;
};

static enum handler_result record_charge(struct handler_ctx *ctx, const struct charge *c,
					 enum payment_decision d, const char *why)
{
	const char *status = d == PAYMENT_APPROVED ? "COMPLETED" : "FAILED";
	struct db_param p[6] = { DBP_STR(c->id), DBP_STR(status), DBP_INT(c->amount),
				 DBP_STR(c->currency), DBP_STR(c->customer),
				 why != NULL ? DBP_STR(why) : DBP_NULL };
	enum db_status st;
	json_t *payload;

	st = db_run(ctx->db, "INSERT INTO payments (order_id, status, amount_cents, currency, "
			     "customer_id, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, "
			     "UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))", p, 6, NULL, NULL);
	if (st == DB_DUPLICATE) {
		log_info("order %s: cancelled while being charged: nothing charged", c->id);
		return HANDLER_OK;
	}
	if (st != DB_OK)
		return handler_db_failed(ctx, "insert payment");
	payload = json_pack("{s:s, s:s, s:I, s:s}", "order_id", c->id, "customer_id", c->customer,
			    "amount_cents", (json_int_t)c->amount, "currency", c->currency);
	if (payload != NULL && why != NULL)
		json_object_set_new(payload, "reason", json_string(why));
	if (dom_emit(ctx, d == PAYMENT_APPROVED ? "payment.completed" : "payment.failed", c->id,
		     payload) != DB_OK)
		return handler_db_failed(ctx, "append payment event");
	log_info("order %s: payment of %lld cents %s %s%s%s", c->id, c->amount, c->currency,
		 status, why != NULL ? ": " : "", why != NULL ? why : "");
	return HANDLER_OK;
}

static enum handler_result on_reserved(struct handler_ctx *ctx)
{
	const struct cfg_domain *pcfg = &ctx->cfg->domains[DOM_PAYMENT];
	struct db_rows rows = { 0 };
	struct charge c;
	enum payment_decision d;
	const char *why;
	int exists;

	if (dom_order_ref(ctx, &c.id, &c.customer) != 0 ||
	    dom_cents(ctx, "total_cents", &c.amount) != 0 ||
	    (c.currency = dom_str(ctx, "currency", 3)) == NULL)
		return HANDLER_REJECT;
	if (lock_payment(ctx->db, c.id, &rows) != DB_OK)
		return handler_db_failed(ctx, "lock payment");
	exists = rows.nrows > 0;
	if (exists)
		log_debug("order %s: payment is %s already: nothing to charge", c.id,
			  db_rows_get(&rows, 0, 0));
	db_rows_free(&rows);
	if (exists)
		return HANDLER_OK;
	d = payment_decide(pcfg, c.customer, c.amount, &why);
	/* The simulated gateway's answer time (nanosleep), outside any row
	 * lock: the SELECT above found no row, so it locked nothing. */
	sleep_ms(pcfg->latency_ms);
	return record_charge(ctx, &c, d, why);
}

static enum handler_result refund(struct handler_ctx *ctx, const char *id,
				  const struct db_rows *rows)
{
	struct db_param p[1] = { DBP_STR(id) };
	long long amount = atoll(db_rows_get(rows, 0, 1));

	if (db_run(ctx->db, "UPDATE payments SET status = 'REFUNDED', reason = 'order cancelled', "
			    "updated_at = UTC_TIMESTAMP(6) WHERE order_id = ? AND status = "
			    "'COMPLETED'", p, 1, NULL, NULL) != DB_OK)
		return handler_db_failed(ctx, "refund payment");
	if (dom_emit(ctx, "payment.refunded", id,
		     json_pack("{s:s, s:s, s:I, s:s}", "order_id", id, "customer_id",
			       db_rows_get(rows, 0, 3), "amount_cents", (json_int_t)amount,
			       "currency", db_rows_get(rows, 0, 2))) != DB_OK)
		return handler_db_failed(ctx, "append payment.refunded");
	log_info("order %s: payment of %lld cents refunded", id, amount);
	return HANDLER_OK;
}

/* One look at the row: refund, nothing, or write the tombstone. *again_r = 1
 * when the tombstone met a concurrent charge's row (look again). */
/* The tombstone of a charge that never happened, in the catalogue's currency. */
static enum db_status payment_tombstone(struct handler_ctx *ctx, const char *id,
					const char *customer)
{
	struct db_param t[3] = { DBP_STR(id), DBP_STR(ctx->cfg->domains[DOM_ORDER].currency),
				 DBP_STR(customer) };

	return db_run(ctx->db, "INSERT INTO payments (order_id, status, amount_cents, currency, "
			       "customer_id, reason, created_at, updated_at) VALUES (?, 'FAILED', 0, "
			       "?, ?, '" TOMBSTONE_REASON "', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
		      t, 3, NULL, NULL);
}

static enum handler_result on_cancelled(struct handler_ctx *ctx)
{
	static const struct dom_cancel_rules rules = {
		.row = "payment", .active = "COMPLETED", .verb = "refund",
		.never = " before any charge", .stage = "payment",
		.lock = lock_payment, .undo = refund, .tombstone = payment_tombstone,
	};

	return dom_cancel_twice(ctx, &rules);
}

/* Not batchable: a charge stands for a payment gateway call, which a
 * rollback does not undo. */
static const struct domain_event payment_events[] = {
	{ "stock.reserved", on_reserved, 0 },
	{ "order.cancelled", on_cancelled, 0 },
};

const struct domain payment_domain = {
	.name = "payment",
	DOMAIN_TABLE(payment_events),
};
