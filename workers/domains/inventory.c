/*
 * inventory: reserves stock for an order, commits the reservation when the
 * order is confirmed and gives the stock back when it is cancelled.
 *
 *   order.created    all lines or none: HELD (stock taken) + stock.reserved,
 *                    or REJECTED (nothing taken) + stock.rejected
 *   order.confirmed  HELD -> COMMITTED (no reservation yet: retry later)
 *   order.cancelled  HELD or COMMITTED -> RELEASED, stock given back,
 *                    stock.released; no reservation yet: a RELEASED tombstone
 *
 * The reservations row (key order_id) is where concurrent events of one order
 * meet: order.created INSERTs it before touching stock, so a tombstone that
 * order.cancelled wrote first turns the late order.created into a duplicate
 * key and nothing is taken; an order.cancelled that finds no row INSERTs the
 * tombstone, and if order.created got there meanwhile (duplicate key) it
 * reads that row and releases it. Locks are taken in one order everywhere:
 * the reservation row, then stock rows by SKU ascending (strcmp order, which
 * utf8mb4_bin shares), so two orders never deadlock over the same SKUs.
 *
 * Invariant: for every SKU, initial stock = available + HELD + COMMITTED
 * quantities; available never goes below 0 (the schema's CHECK backs it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "workers/domains/dom_payload.h"
#include "workers/domains/domains.h"

/* What fits the INT columns, far above what the intake accepts. */
#define MAX_LINE_QTY 1000000000

struct line {
	const char *sku;
	long long qty;
};

struct created {
	const char *order_id, *customer_id, *currency;
	long long total;
	struct line *lines;  /* sorted by sku, merged */
	int n;
};

/* ---- order.created --------------------------------------------------------- */

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->sku, ((const struct line *)b)->sku);
}

/* Reads items[] into c->lines, sorted by SKU with duplicates merged. */
static enum handler_result parse_lines(struct handler_ctx *ctx, struct created *c)
{
	json_t *items = json_object_get(ctx->ev->payload, "items"), *it;
	size_t i;
	int n = 0;

	if (!json_is_array(items) || json_array_size(items) == 0)
		return handler_reject(ctx, "order.created: payload.items is not a non-empty array");
	c->lines = calloc(json_array_size(items), sizeof(*c->lines));
	if (c->lines == NULL)
		return handler_retry(ctx, "inventory: out of memory");
	json_array_foreach(items, i, it) {
		const char *sku = json_string_value(json_object_get(it, "sku"));
		json_t *q = json_object_get(it, "quantity");

		if (sku == NULL || sku[0] == '\0' || strlen(sku) > DOM_SKU_MAX || !json_is_integer(q) ||
		    json_integer_value(q) < 1 || json_integer_value(q) > MAX_LINE_QTY)
			return handler_reject(ctx, "order.created: payload.items[%zu] needs a sku of "
					      "1 to %d bytes and a quantity from 1 to %d", i,
					      DOM_SKU_MAX, MAX_LINE_QTY);
		c->lines[n].sku = sku;
		c->lines[n++].qty = json_integer_value(q);
	}
	qsort(c->lines, (size_t)n, sizeof(*c->lines), line_cmp);
	c->n = 0;
	for (int k = 0; k < n; k++) {
		if (c->n > 0 && strcmp(c->lines[c->n - 1].sku, c->lines[k].sku) == 0)
			c->lines[c->n - 1].qty += c->lines[k].qty;
		else
			c->lines[c->n++] = c->lines[k];
		if (c->lines[c->n - 1].qty > MAX_LINE_QTY)
			return handler_reject(ctx, "order.created: %s is ordered more than %d times",
					      c->lines[c->n - 1].sku, MAX_LINE_QTY);
	}
	return HANDLER_OK;
}

static enum handler_result parse_created(struct handler_ctx *ctx, struct created *c)
{
	if (dom_order_ref(ctx, &c->order_id, &c->customer_id) != 0 ||
	    (c->currency = dom_str(ctx, "currency", 3)) == NULL ||
	    dom_cents(ctx, "total_cents", &c->total) != 0)
		return HANDLER_REJECT;
	return parse_lines(ctx, c);
}

/* Locks the lines' stock rows in SKU order until one falls short. 0 when all
 * suffice; 1 with the reason in `why`; -1 on a database failure. */
static int check_stock(struct db *db, const struct created *c, char *why, size_t whylen)
{
	for (int i = 0; i < c->n; i++) {
		struct db_param p[1] = { DBP_STR(c->lines[i].sku) };
		char avail[32];
		int found;

		if (db_select_text(db, "SELECT available FROM stock WHERE sku = ? FOR UPDATE", p, 1,
				    avail, sizeof(avail), &found) != DB_OK)
			return -1;
		if (!found) {
			snprintf(why, whylen, "unknown SKU %s", c->lines[i].sku);
			return 1;
		}
		if (atoll(avail) < c->lines[i].qty) {
			snprintf(why, whylen, "out of stock: %s (%lld requested, %s available)",
				 c->lines[i].sku, c->lines[i].qty, avail);
			return 1;
		}
	}
	return 0;
}

/* Takes the (locked, sufficient) quantities and records them. */
static enum handler_result take_stock(struct handler_ctx *ctx, const struct created *c)
{
	for (int i = 0; i < c->n; i++) {
		struct db_param s[3] = { DBP_INT(c->lines[i].qty), DBP_STR(c->lines[i].sku),
					 DBP_INT(c->lines[i].qty) };
		struct db_param r[3] = { DBP_STR(c->order_id), DBP_STR(c->lines[i].sku),
					 DBP_INT(c->lines[i].qty) };
		unsigned long long affected = 0;

		if (db_run(ctx->db, "UPDATE stock SET available = available - ? "
				    "WHERE sku = ? AND available >= ?", s, 3, &affected, NULL) != DB_OK)
			return handler_db_failed(ctx, "take stock");
		if (affected != 1)
			return handler_retry(ctx, "stock of %s changed while locked", c->lines[i].sku);
		if (db_run(ctx->db, "INSERT INTO reservation_items (order_id, sku, quantity) "
				    "VALUES (?, ?, ?)", r, 3, NULL, NULL) != DB_OK)
			return handler_db_failed(ctx, "insert reservation item");
	}
	return HANDLER_OK;
}

static enum handler_result reject_reservation(struct handler_ctx *ctx, const struct created *c,
					      const char *why)
{
	struct db_param p[2] = { DBP_STR(why), DBP_STR(c->order_id) };

	if (db_run(ctx->db, "UPDATE reservations SET status = 'REJECTED', reason = ?, "
			    "updated_at = UTC_TIMESTAMP(6) WHERE order_id = ?", p, 2, NULL, NULL) !=
	    DB_OK)
		return handler_db_failed(ctx, "reject reservation");
	if (dom_emit(ctx, "stock.rejected", c->order_id,
		     json_pack("{s:s, s:s, s:I, s:s, s:s}", "order_id", c->order_id, "customer_id",
			       c->customer_id, "total_cents", (json_int_t)c->total, "currency",
			       c->currency, "reason", why)) != DB_OK)
		return handler_db_failed(ctx, "append stock.rejected");
	log_info("order %s: reservation rejected: %s", c->order_id, why);
	return HANDLER_OK;
}

static enum handler_result reserve_all(struct handler_ctx *ctx, const struct created *c)
{
	enum handler_result hr;
	char why[DOM_REASON_MAX + 1];
	int r = check_stock(ctx->db, c, why, sizeof(why));

	if (r < 0)
		return handler_db_failed(ctx, "lock stock");
	if (r > 0)
		return reject_reservation(ctx, c, why);
	if ((hr = take_stock(ctx, c)) != HANDLER_OK)
		return hr;
	if (dom_emit(ctx, "stock.reserved", c->order_id,
		     json_pack("{s:s, s:s, s:I, s:s}", "order_id", c->order_id, "customer_id",
			       c->customer_id, "total_cents", (json_int_t)c->total, "currency",
			       c->currency)) != DB_OK)
		return handler_db_failed(ctx, "append stock.reserved");
	log_info("order %s: %d lines reserved", c->order_id, c->n);
	return HANDLER_OK;
}

static enum handler_result on_created(struct handler_ctx *ctx)
{
	struct created c = { 0 };
	struct db_param p[1];
	enum handler_result hr;
	enum db_status st;

	if ((hr = parse_created(ctx, &c)) != HANDLER_OK)
		goto out;
	/* The row first: it serializes this order's events (see the top). It
	 * says HELD until the stock check turns it into REJECTED. */
	p[0] = DBP_STR(c.order_id);
	st = db_run(ctx->db, "INSERT INTO reservations (order_id, status, created_at, updated_at) "
			     "VALUES (?, 'HELD', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))", p, 1, NULL,
		    NULL);
	if (st == DB_DUPLICATE) {
		log_debug("order %s: a reservation (or a tombstone) exists: nothing to reserve",
			  c.order_id);
		hr = HANDLER_OK;
	} else if (st != DB_OK) {
		hr = handler_db_failed(ctx, "insert reservation");
	} else {
		hr = reserve_all(ctx, &c);
	}
out:
	free(c.lines);
	return hr;
}

/* ---- order.confirmed / order.cancelled ------------------------------------ */

/* Locks the order's reservation; status "" when there is none. */
static enum db_status lock_reservation(struct db *db, const char *order_id, char *status,
				       size_t len)
{
	struct db_param p[1] = { DBP_STR(order_id) };
	int found;

	return db_select_text(db, "SELECT status FROM reservations WHERE order_id = ? FOR UPDATE",
			       p, 1, status, len, &found);
}

static enum handler_result on_confirmed(struct handler_ctx *ctx)
{
	const char *id;
	char status[16];
	struct db_param p[1];

	if (dom_order_ref(ctx, &id, NULL) != 0)
		return HANDLER_REJECT;
	if (lock_reservation(ctx->db, id, status, sizeof(status)) != DB_OK)
		return handler_db_failed(ctx, "lock reservation");
	if (status[0] == '\0')
		return handler_retry(ctx, "reservation of order %s not seen yet", id);
	if (strcmp(status, "HELD") != 0) {
		log_debug("order %s: reservation is %s: order.confirmed changes nothing", id, status);
		return HANDLER_OK;
	}
	p[0] = DBP_STR(id);
	if (db_run(ctx->db, "UPDATE reservations SET status = 'COMMITTED', "
			    "updated_at = UTC_TIMESTAMP(6) WHERE order_id = ? AND status = 'HELD'",
		   p, 1, NULL, NULL) != DB_OK)
		return handler_db_failed(ctx, "commit reservation");
	log_info("order %s: reservation committed", id);
	return HANDLER_OK;
}

/* Gives a HELD or COMMITTED reservation's quantities back to stock. */
static enum handler_result give_back(struct handler_ctx *ctx, const char *id, const char *was)
{
	struct db_rows rows = { 0 };
	struct db_param p[1] = { DBP_STR(id) };
	enum handler_result hr = HANDLER_OK;

	if (db_select(ctx->db, "SELECT sku, quantity FROM reservation_items WHERE order_id = ? "
			       "ORDER BY sku", p, 1, &rows) != DB_OK)
		return handler_db_failed(ctx, "read reservation items");
	for (int r = 0; r < rows.nrows && hr == HANDLER_OK; r++) {
		const char *sku = db_rows_get(&rows, r, 0);
		struct db_param s[2] = { DBP_INT(atoll(db_rows_get(&rows, r, 1))), DBP_STR(sku) };
		unsigned long long affected = 0;

		if (db_run(ctx->db, "UPDATE stock SET available = available + ? WHERE sku = ?", s,
			   2, &affected, NULL) != DB_OK)
			hr = handler_db_failed(ctx, "give stock back");
		else if (affected != 1)
			hr = handler_reject(ctx, "order %s: stock row of %s is gone; cannot give "
					    "back its reservation", id, sku);
	}
	db_rows_free(&rows);
	if (hr != HANDLER_OK)
		return hr;
	if (db_run(ctx->db, "UPDATE reservations SET status = 'RELEASED', reason = "
			    "'order cancelled', updated_at = UTC_TIMESTAMP(6) WHERE order_id = ?",
		   p, 1, NULL, NULL) != DB_OK)
		return handler_db_failed(ctx, "release reservation");
	if (dom_emit(ctx, "stock.released", id, json_pack("{s:s}", "order_id", id)) != DB_OK)
		return handler_db_failed(ctx, "append stock.released");
	log_info("order %s: %s reservation released", id, was);
	return HANDLER_OK;
}

static enum handler_result on_cancelled(struct handler_ctx *ctx)
{
	const char *id;
	char status[16];
	struct db_param p[1];
	enum db_status st;

	if (dom_order_ref(ctx, &id, NULL) != 0)
		return HANDLER_REJECT;
	p[0] = DBP_STR(id);
	/* Twice at most: a tombstone INSERT that meets a concurrent
	 * order.created's row reads that row the second time. */
	for (int pass = 0; pass < 2; pass++) {
		if (lock_reservation(ctx->db, id, status, sizeof(status)) != DB_OK)
			return handler_db_failed(ctx, "lock reservation");
		if (strcmp(status, "HELD") == 0 || strcmp(status, "COMMITTED") == 0)
			return give_back(ctx, id, status);
		if (status[0] != '\0') {
			log_debug("order %s: reservation is %s: nothing to release", id, status);
			return HANDLER_OK;
		}
		st = db_run(ctx->db, "INSERT INTO reservations (order_id, status, reason, created_at, "
				     "updated_at) VALUES (?, 'RELEASED', 'cancelled before "
				     "reservation', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))", p, 1, NULL,
			    NULL);
		if (st == DB_OK) {
			log_info("order %s: cancelled before its reservation: tombstone written", id);
			return HANDLER_OK;
		}
		if (st != DB_DUPLICATE)
			return handler_db_failed(ctx, "insert reservation tombstone");
	}
	return handler_retry(ctx, "reservation of order %s changed concurrently", id);
}

/* ---- batches --------------------------------------------------------------- */

static int sku_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sku_push(char ***v, int *n, int *cap, const char *sku)
{
	if (*n == *cap) {
		int ncap = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, (size_t)ncap * sizeof(**v));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	if (((*v)[*n] = strdup(sku)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* Adds the SKUs whose stock rows this event will lock to skus[] (strdup'd);
 * order.confirmed locks none. */
static enum db_status batch_skus(struct db *db, const struct envelope *ev, char ***skus,
				 int *n, int *cap)
{
	const char *type = ev->event_type, *id;
	struct db_rows rows = { 0 };
	struct db_param p[1];
	json_t *items, *it;
	size_t i;

	if (strcmp(type, "order.created") == 0) {
		items = json_object_get(ev->payload, "items");
		json_array_foreach(items, i, it) {
			const char *sku = json_string_value(json_object_get(it, "sku"));

			if (sku != NULL && sku_push(skus, n, cap, sku) != 0)
				return DB_FATAL;
		}
		return DB_OK;
	}
	if (strcmp(type, "order.cancelled") != 0 ||
	    (id = json_string_value(json_object_get(ev->payload, "order_id"))) == NULL)
		return DB_OK;
	p[0] = DBP_STR(id);
	if (db_select(db, "SELECT sku FROM reservation_items WHERE order_id = ?", p, 1, &rows) !=
	    DB_OK)
		return DB_TRANSIENT;
	for (int r = 0; r < rows.nrows; r++)
		if (sku_push(skus, n, cap, db_rows_get(&rows, r, 0)) != 0) {
			db_rows_free(&rows);
			return DB_FATAL;
		}
	db_rows_free(&rows);
	return DB_OK;
}

/* Locks the stock rows of every SKU the batch touches, ascending, before any
 * of its handlers runs: each handler locks its own SKUs in that order, but
 * one after the other they would not be (A, C of the first order, then B of
 * the second) and two workers' batches deadlock. A row locked twice by one
 * transaction costs nothing. */
static enum db_status inventory_batch_lock(struct db *db, const struct envelope *const *evs,
					   int nev)
{
	char **skus = NULL;
	int n = 0, cap = 0;
	enum db_status st = DB_OK;

	for (int e = 0; e < nev && st == DB_OK; e++)
		st = batch_skus(db, evs[e], &skus, &n, &cap);
	if (st == DB_OK && n > 0)
		qsort(skus, (size_t)n, sizeof(*skus), sku_cmp);
	for (int i = 0; i < n && st == DB_OK; i++) {
		struct db_rows rows = { 0 };
		struct db_param p[1] = { DBP_STR(skus[i]) };

		if (i > 0 && strcmp(skus[i - 1], skus[i]) == 0)
			continue;
		st = db_select(db, "SELECT sku FROM stock WHERE sku = ? FOR UPDATE", p, 1, &rows);
		db_rows_free(&rows);
	}
	for (int i = 0; i < n; i++)
		free(skus[i]);
	free(skus);
	return st;
}

static const struct domain_event inventory_events[] = {
	{ "order.created", on_created, DOM_EV_BATCH },
	{ "order.confirmed", on_confirmed, DOM_EV_BATCH },
	{ "order.cancelled", on_cancelled, DOM_EV_BATCH },
};

const struct domain inventory_domain = {
	.name = "inventory",
	DOMAIN_TABLE(inventory_events),
	.batch_lock = inventory_batch_lock,
};
