/*
 * notification: writes one readable message per (order, type) for the
 * customer named in the event's payload; the table at the end says which
 * type (created, confirmed, cancelled, shipped, refunded) each event writes.
 *
 * The unique key (order_id, type) makes a second message of a type a
 * duplicate key, which is the "already notified" answer (no INSERT IGNORE: it
 * would hide other errors too).
 */
#include "workers/domains/notification.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "intake/money.h"
#include "workers/domains/dom_payload.h"
#include "workers/domains/domains.h"
#include "db/sqltime.h"

#define MESSAGE_MAX 512

#define STR_(x) #x
#define STR(x) STR_(x)

/* Writes the message of `type` into msg; 0, or -1 (rejected). */
static int message_for(struct handler_ctx *ctx, const char *type, const char *id, char *msg,
		       size_t len)
{
	char money[32];
	long long cents;
	const char *a, *b;

	if (strcmp(type, "created") == 0 || strcmp(type, "refunded") == 0) {
		if (dom_cents(ctx, strcmp(type, "created") == 0 ? "total_cents" : "amount_cents",
			      &cents) != 0 ||
		    (a = dom_str(ctx, "currency", 3)) == NULL)
			return -1;
		money_format_cents(cents, money, sizeof(money));
		if (strcmp(type, "created") == 0)
			snprintf(msg, len, "Your order %s (%s %s) has been received.", id, money, a);
		else
			snprintf(msg, len, "Your payment of %s %s for order %s has been refunded.",
				 money, a, id);
	} else if (strcmp(type, "confirmed") == 0) {
		snprintf(msg, len, "Your order %s is confirmed.", id);
	} else if (strcmp(type, "cancelled") == 0) {
		a = dom_str_opt(ctx, "reason");
		snprintf(msg, len, "Your order %s has been cancelled%s%.200s.", id,
			 a != NULL && a[0] != '\0' ? ": " : "", a != NULL ? a : "");
	} else {
		if ((a = dom_str(ctx, "carrier", 16)) == NULL ||
		    (b = dom_str(ctx, "tracking_number", 64)) == NULL)
			return -1;
		snprintf(msg, len, "Your order %s has shipped with %s, tracking %s.", id, a, b);
	}
	return 0;
}

/* Writes the message of `type` (created, confirmed, ...) for the event. */
static enum handler_result notify(struct handler_ctx *ctx, const char *type)
{
	const char *id, *customer;
	char msg[MESSAGE_MAX];
	enum db_status st;

	if (dom_order_ref(ctx, &id, &customer) != 0 ||
	    message_for(ctx, type, id, msg, sizeof(msg)) != 0)
		return HANDLER_REJECT;
	{
		struct db_param p[4] = { DBP_STR(id), DBP_STR(customer), DBP_STR(type),
					 DBP_STR(msg) };

		st = db_run(ctx->db, "INSERT INTO notifications (order_id, customer_id, type, "
				     "message, created_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6))",
			    p, 4, NULL, NULL);
	}
	if (st == DB_DUPLICATE) {
		log_debug("order %s: %s notification exists already", id, type);
		return HANDLER_OK;
	}
	if (st != DB_OK)
		return handler_db_failed(ctx, "insert notification");
	log_debug("order %s: %s notification for %s", id, type, customer);
	return HANDLER_OK;
}

static enum handler_result on_created(struct handler_ctx *ctx)
{
	return notify(ctx, "created");
}

static enum handler_result on_confirmed(struct handler_ctx *ctx)
{
	return notify(ctx, "confirmed");
}

static enum handler_result on_cancelled(struct handler_ctx *ctx)
{
	return notify(ctx, "cancelled");
}

static enum handler_result on_shipped(struct handler_ctx *ctx)
{
	return notify(ctx, "shipped");
}

static enum handler_result on_refunded(struct handler_ctx *ctx)
{
	return notify(ctx, "refunded");
}

int notification_list(struct db *db, const char *customer_id, json_t **r)
{
	struct db_rows rows = { 0 };
	struct db_param p[1] = { DBP_STR(customer_id) };
	enum db_status st;
	json_t *list;

	*r = NULL;
	st = db_select(db, "SELECT order_id, type, message, "
			   "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM notifications "
			   "WHERE customer_id = ? ORDER BY created_at DESC, id DESC "
			   "LIMIT " STR(NOTIFICATION_LIST_MAX),
		       p, 1, &rows);
	if (st != DB_OK) {
		log_warn("notifications of %s: %s", customer_id, db_error(db));
		return st == DB_TRANSIENT ? 503 : 500;
	}
	list = json_array();
	for (int i = 0; i < rows.nrows; i++) {
		char iso[SQLTIME_LEN];
		const char *at = db_rows_get(&rows, i, 3);

		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "order_id",
			db_rows_get(&rows, i, 0), "type", db_rows_get(&rows, i, 1), "message",
			db_rows_get(&rows, i, 2), "created_at",
			sqltime_to_iso(at, iso) == 0 ? iso : at));
	}
	db_rows_free(&rows);
	*r = json_pack("{s:s, s:o}", "customer_id", customer_id, "notifications", list);
	return 200;
}

static const struct domain_event notification_events[] = {
	{ "order.created", on_created, DOM_EV_BATCH },
	{ "order.confirmed", on_confirmed, DOM_EV_BATCH },
	{ "order.cancelled", on_cancelled, DOM_EV_BATCH },
	{ "shipping.scheduled", on_shipped, DOM_EV_BATCH },
	{ "payment.refunded", on_refunded, DOM_EV_BATCH },
};

const struct domain notification_domain = {
	.name = "notification",
	DOMAIN_TABLE(notification_events),
};
