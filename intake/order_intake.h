/*
 * order_intake: the order domain's commands, the one code path behind
 * `orderflowctl order place` and the HTTP API (POST /api/orders, GET
 * /api/orders/{id}, GET /api/orders?customer=ID, POST /api/orders/{id}/cancel).
 *
 * Each command runs in its own transaction on the caller's connection (the
 * order domain's database; the intake also reads prices from `stock`, the one
 * read across domains, so today that is one schema). A command either commits
 * all its rows and the event it emits to the outbox, or writes nothing.
 *
 * Results are HTTP status codes, for the API to pass through and for
 * orderflowctl to map to its exit status (2xx = 0, else 1 with the message):
 *   200 ok (an Idempotency-Key replay, a read, a cancel), 201 created,
 *   400 a malformed Idempotency-Key, 404 unknown order, 409 a cancel after
 *   SHIPPED or an Idempotency-Key reused with another request, 422 an order
 *   that breaks a rule, 500 a database error that is a bug, 503 the database
 *   is unavailable (try again). err gets a one-line message for every status
 *   >= 400, meant for the client ({"error": err}); the details of a database
 *   failure go to the log, not to the client.
 *
 * An order as JSON (what every command returns):
 *   {"id", "customer_id", "status", "total_cents", "currency",
 *    "items": [{"sku", "quantity", "unit_price_cents"}],   sorted by sku
 *    "created_at", "updated_at",                            ISO 8601 UTC, ms
 *    "confirmed_at", "shipped_at", "cancelled_at", "cancel_reason"}
 *                                                           only when set
 *
 * Rules of order_place():
 *   - customer_id: 1..64 bytes of UTF-8;
 *   - currency: NULL (= domains.order.currency) or exactly that currency;
 *   - 1..ORDER_MAX_ITEMS items; each quantity 1..ORDER_MAX_QUANTITY;
 *   - lines with the same SKU are merged (quantities added, the sum obeying the
 *     same limit): one order_items row per SKU;
 *   - every SKU exists in `stock`; its price_cents is copied into
 *     order_items.unit_price_cents; availability is not looked at (that is
 *     the inventory's decision);
 *   - total_cents = sum of quantity x unit price, refused when it overflows;
 *   - Idempotency-Key (1..128 bytes, optional): the key is stored with the
 *     canonical request (customer, currency, merged items sorted
 *     by SKU). The same key with the same request returns the first order
 *     (200); with another request it is 409.
 *
 * ---- Event payloads (every domain reads and writes these shapes) ----------
 *
 * Every event about an order has aggregate_type "order", aggregate_id = the
 * order id, correlation_id = the order id. Members marked ? may be absent.
 *
 *   order.created       {"order_id", "customer_id", "currency", "total_cents",
 *                        "items": [{"sku", "quantity", "unit_price_cents"}]}
 *   order.confirmed     {"order_id", "customer_id"}
 *   order.cancelled     {"order_id", "customer_id", "reason"?, "cause"?}
 *   stock.reserved      {"order_id", "customer_id", "total_cents", "currency"}
 *   stock.rejected      {"order_id", "customer_id", "total_cents", "currency",
 *                        "reason"}
 *   stock.released      {"order_id"}
 *   payment.completed   {"order_id", "customer_id", "amount_cents", "currency"}
 *   payment.failed      {"order_id", "customer_id", "amount_cents", "currency",
 *                        "reason"}
 *   payment.refunded    {"order_id", "customer_id", "amount_cents", "currency"}
 *   shipping.scheduled  {"order_id", "customer_id", "carrier", "tracking_number"}
 *   shipping.cancelled  {"order_id", "customer_id", "carrier", "tracking_number"}
 *
 * Ids are UUID strings, customer_id 1..64 bytes, sku 1..64 bytes, money in
 * integer cents with an ISO 4217 currency, reasons short English text.
 *
 * order.cancelled's "cause" says who cancelled: "customer" (the cancel
 * command), or the event that cancelled a PENDING order: "stock.rejected" or
 * "payment.failed". Payment and shipping write a tombstone for a cancel that
 * overtook the event creating their row only when the cause is the customer
 * (or absent): after stock.rejected or payment.failed the order never reaches
 * payment (resp. confirmation), so no late event can come.
 */
#ifndef ORDERFLOW_ORDER_INTAKE_H
#define ORDERFLOW_ORDER_INTAKE_H

#include <jansson.h>
#include <stddef.h>

#include "core/config.h"
#include "db/db.h"
#include "intake/order_state.h"

/* Column sizes of the schema the payloads fill. */
#define DOM_CUSTOMER_MAX 64 /* orders.customer_id etc. */
#define DOM_SKU_MAX 64      /* stock.sku */
#define DOM_REASON_MAX 255  /* *.reason, orders.cancel_reason */

#define ORDER_MAX_ITEMS 100
#define ORDER_MAX_QUANTITY 10000
#define ORDER_IDEMPOTENCY_KEY_MAX 128

/* order.cancelled "cause" of the cancel command. */
#define ORDER_CAUSE_CUSTOMER "customer"

struct order_item_req {
	char sku[65];
	long long quantity;
};

/* Places an order (see the rules above). On 200/201 returns 0 and *order_r
 * (the caller owns it); otherwise -1 with *status_r and err. currency and
 * idempotency_key may be NULL. */
int order_place(struct db *db, const struct config *cfg, const char *customer_id,
		const char *currency, const struct order_item_req *items, int nitems,
		const char *idempotency_key, json_t **order_r, int *status_r, char *err,
		size_t errlen);

/* Reads one order. Returns 200 with *order_r, 404, 500 or 503. */
int order_get(struct db *db, const char *id, json_t **order_r);

/* {"customer_id", "orders": [...]}: the customer's newest ORDER_LIST_MAX
 * orders, newest first. Returns 200 with *r, 500 or 503. */
#define ORDER_LIST_MAX 1000
int order_list_by_customer(struct db *db, const char *customer_id, json_t **r);

/* Cancels an order: PENDING or CONFIRMED -> CANCELLED and order.cancelled in
 * the outbox, in one transaction (the compensations follow through events).
 * reason NULL = "cancelled by the customer". Already CANCELLED: 200 and no
 * change. SHIPPED: 409. Unknown: 404. On 200 returns 0 and *order_r,
 * otherwise -1 with *status_r and err. */
int order_cancel(struct db *db, const struct config *cfg, const char *id, const char *reason,
		 json_t **order_r, int *status_r, char *err, size_t errlen);

/* For the order domain's handler as well as the intake: applies from -> to
 * to order `id` in the caller's transaction, guarded by the old status, with
 * the matching timestamp (confirmed_at, shipped_at, cancelled_at) and, for
 * CANCELLED, cancel_reason. *affected_r = 0 when the order was not in `from`. */
enum db_status order_apply(struct db *db, const char *id, enum order_status from,
			   enum order_status to, const char *reason,
			   unsigned long long *affected_r);

#endif
