/* order_intake: the order domain's commands (see order_intake.h). */
#include "intake/order_intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"
#include "core/log.h"
#include "db/outbox.h"
#include "db/sqltime.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The columns order_json_row() reads, times as text with microseconds (so the
 * JSON does not depend on how the db layer would format a DATETIME). */
#define ORDER_COLS                                                                 \
	"id, customer_id, status, total_cents, currency, "                         \
	"DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'), "                        \
	"DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f'), "                        \
	"DATE_FORMAT(confirmed_at, '%Y-%m-%d %H:%i:%s.%f'), "                      \
	"DATE_FORMAT(shipped_at, '%Y-%m-%d %H:%i:%s.%f'), "                        \
	"DATE_FORMAT(cancelled_at, '%Y-%m-%d %H:%i:%s.%f'), cancel_reason"

#define DEFAULT_CANCEL_REASON "cancelled by the customer"

/* ---- small helpers ------------------------------------------------------- */

/* Maps a failed database call to 503 (transient) or 500 and logs the detail;
 * the client sees only "database unavailable" / "database error". */
static int db_fail(struct db *db, enum db_status st, const char *what, char *err, size_t errlen)
{
	char why[600];

	db_error_join(why, sizeof(why), what, db_error(db));
	if (st == DB_TRANSIENT) {
		log_warn("order intake: %s", why);
		snprintf(err, errlen, "database unavailable");
		return 503;
	}
	log_error("order intake: %s", why);
	snprintf(err, errlen, "database error");
	return 500;
}

static int utf8_ok(const char *s)
{
	json_t *j = json_string(s); /* NULL for invalid UTF-8 */

	json_decref(j);
	return j != NULL;
}

/* Appends an event of a command (no cause: causation_id "") to the outbox. */
static enum db_status order_outbox(struct db *db, const char *type, const char *order_id,
				   json_t *payload)
{
	struct envelope ev;
	char e[256];
	enum db_status st;

	if (payload == NULL)
		return DB_FATAL;
	if (envelope_init(&ev, type, "order", order_id, order_id, "", payload, e, sizeof(e)) != 0) {
		log_error("order intake: cannot build %s for %s: %s", type, order_id, e);
		return DB_FATAL;
	}
	st = outbox_append(db, &ev, NULL);
	envelope_clear(&ev);
	return st;
}

/* ---- reading orders as JSON ---------------------------------------------- */

static void set_time(json_t *o, const char *key, const char *sql)
{
	char iso[SQLTIME_LEN];

	if (sql != NULL && sqltime_to_iso(sql, iso) == 0)
		json_object_set_new(o, key, json_string(iso));
}

/* One row of ORDER_COLS as an order object with an empty "items". */
static json_t *order_json_row(const struct db_rows *rows, int r)
{
	static const char *const times[] = { "created_at", "updated_at", "confirmed_at",
					     "shipped_at", "cancelled_at" };
	const char *reason = db_rows_get(rows, r, 10);
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:[]}", "id", db_rows_get(rows, r, 0),
		      "customer_id", db_rows_get(rows, r, 1), "status", db_rows_get(rows, r, 2),
		      "total_cents", (json_int_t)atoll(db_rows_get(rows, r, 3)), "currency",
		      db_rows_get(rows, r, 4), "items");
	if (o == NULL)
		return NULL;
	for (int i = 0; i < 5; i++)
		set_time(o, times[i], db_rows_get(rows, r, 5 + i));
	if (reason != NULL)
		json_object_set_new(o, "cancel_reason", json_string(reason));
	return o;
}

static int item_append(json_t *items, const char *sku, const char *qty, const char *price)
{
	return json_array_append_new(items, json_pack("{s:s, s:I, s:I}", "sku", sku, "quantity",
						      (json_int_t)atoll(qty), "unit_price_cents",
						      (json_int_t)atoll(price)));
}

/* Loads order `id`; *order_r = NULL when there is no such order. */
static enum db_status order_load(struct db *db, const char *id, json_t **order_r)
{
	struct db_rows rows = { 0 };
	struct db_param p[1] = { DBP_STR(id) };
	json_t *o = NULL, *items;
	enum db_status st;

	*order_r = NULL;
	st = db_select(db, "SELECT " ORDER_COLS " FROM orders WHERE id = ?", p, 1, &rows);
	if (st != DB_OK || rows.nrows == 0)
		goto out;
	o = order_json_row(&rows, 0);
	db_rows_free(&rows);
	st = db_select(db, "SELECT sku, quantity, unit_price_cents FROM order_items "
			   "WHERE order_id = ? ORDER BY sku", p, 1, &rows);
	if (st != DB_OK || o == NULL)
		goto out;
	items = json_object_get(o, "items");
	for (int r = 0; r < rows.nrows; r++)
		item_append(items, db_rows_get(&rows, r, 0), db_rows_get(&rows, r, 1),
			    db_rows_get(&rows, r, 2));
	*order_r = o;
	o = NULL;
out:
	json_decref(o);
	db_rows_free(&rows);
	return st;
}

int order_get(struct db *db, const char *id, json_t **order_r)
{
	char err[64];
	enum db_status st = order_load(db, id, order_r);

	if (st != DB_OK)
		return db_fail(db, st, "read order", err, sizeof(err));
	return *order_r != NULL ? 200 : 404;
}

/* The orders' items, attached through an index id -> order object. */
static enum db_status list_items(struct db *db, const char *customer_id, json_t *index)
{
	struct db_rows rows = { 0 };
	struct db_param p[1] = { DBP_STR(customer_id) };
	enum db_status st;

	st = db_select(db, "SELECT i.order_id, i.sku, i.quantity, i.unit_price_cents "
			   "FROM order_items i JOIN (SELECT id FROM orders WHERE customer_id = ? "
			   "ORDER BY created_at DESC, id DESC LIMIT " STR(ORDER_LIST_MAX) ") o "
			   "ON o.id = i.order_id ORDER BY i.order_id, i.sku", p, 1, &rows);
	if (st != DB_OK)
		return st;
	for (int r = 0; r < rows.nrows; r++) {
		/* An order placed between the two queries has no entry: skipped. */
		json_t *o = json_object_get(index, db_rows_get(&rows, r, 0));

		if (o != NULL)
			item_append(json_object_get(o, "items"), db_rows_get(&rows, r, 1),
				    db_rows_get(&rows, r, 2), db_rows_get(&rows, r, 3));
	}
	db_rows_free(&rows);
	return DB_OK;
}

int order_list_by_customer(struct db *db, const char *customer_id, json_t **r)
{
	struct db_rows rows = { 0 };
	struct db_param p[1] = { DBP_STR(customer_id) };
	json_t *orders = json_array(), *index = json_object();
	enum db_status st;
	char err[64];
	int code = 200;

	*r = NULL;
	st = db_select(db, "SELECT " ORDER_COLS " FROM orders WHERE customer_id = ? "
			   "ORDER BY created_at DESC, id DESC LIMIT " STR(ORDER_LIST_MAX), p, 1,
		       &rows);
	if (st != DB_OK)
		goto fail;
	for (int i = 0; i < rows.nrows; i++) {
		json_t *o = order_json_row(&rows, i);

		if (o == NULL)
			continue;
		json_object_set(index, db_rows_get(&rows, i, 0), o);
		json_array_append_new(orders, o);
	}
	if ((st = list_items(db, customer_id, index)) != DB_OK)
		goto fail;
	*r = json_pack("{s:s, s:O}", "customer_id", customer_id, "orders", orders);
	goto out;
fail:
	code = db_fail(db, st, "list orders", err, sizeof(err));
out:
	db_rows_free(&rows);
	json_decref(index);
	json_decref(orders);
	return code;
}

/* ---- applying a transition ----------------------------------------------- */

enum db_status order_apply(struct db *db, const char *id, enum order_status from,
			   enum order_status to, const char *reason,
			   unsigned long long *affected_r)
{
	const char *was = order_status_name(from);

	*affected_r = 0;
	if (was == NULL)
		return DB_OK;
	switch (to) {
	case ORDER_CONFIRMED: {
		struct db_param p[2] = { DBP_STR(id), DBP_STR(was) };

		return db_run(db, "UPDATE orders SET status = 'CONFIRMED', "
				  "updated_at = UTC_TIMESTAMP(6), confirmed_at = UTC_TIMESTAMP(6) "
				  "WHERE id = ? AND status = ?", p, 2, affected_r, NULL);
	}
	case ORDER_SHIPPED: {
		struct db_param p[2] = { DBP_STR(id), DBP_STR(was) };

		return db_run(db, "UPDATE orders SET status = 'SHIPPED', "
				  "updated_at = UTC_TIMESTAMP(6), shipped_at = UTC_TIMESTAMP(6) "
				  "WHERE id = ? AND status = ?", p, 2, affected_r, NULL);
	}
	case ORDER_CANCELLED: {
		struct db_param p[3] = { reason != NULL ? DBP_STR(reason) : DBP_NULL, DBP_STR(id),
					 DBP_STR(was) };

		return db_run(db, "UPDATE orders SET status = 'CANCELLED', "
				  "updated_at = UTC_TIMESTAMP(6), cancelled_at = UTC_TIMESTAMP(6), "
				  "cancel_reason = ? WHERE id = ? AND status = ?", p, 3, affected_r,
			      NULL);
	}
	default:
		/* PENDING is only ever inserted, never a transition's target. */
		return DB_OK;
	}
}

/* ---- placing an order ---------------------------------------------------- */

struct place_req {
	const char *customer_id;
	const char *currency;           /* resolved: domains.order.currency */
	struct order_item_req *items;   /* merged, sorted by sku */
	long long *prices;              /* unit prices, filled from stock */
	const char *stock_db;           /* inventory's database: the catalogue */
	int nitems;
	const char *key;                /* Idempotency-Key or NULL */
	char *canonical;                /* the canonical request, with a key */
};

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct order_item_req *)a)->sku,
		      ((const struct order_item_req *)b)->sku);
}

/* 0, or the 422 message in err. */
static int check_item(const struct order_item_req *it, char *err, size_t errlen)
{
	if (memchr(it->sku, '\0', sizeof(it->sku)) == NULL || it->sku[0] == '\0' ||
	    !utf8_ok(it->sku)) {
		snprintf(err, errlen, "unknown SKU \"%.*s\"", (int)strnlen(it->sku, 64), it->sku);
		return -1;
	}
	if (it->quantity < 1 || it->quantity > ORDER_MAX_QUANTITY) {
		snprintf(err, errlen, "quantity of %s must be from 1 to %d (got %lld)", it->sku,
			 ORDER_MAX_QUANTITY, it->quantity);
		return -1;
	}
	return 0;
}

/* Copies, sorts and merges the lines into p->items; 0 or 422 in err. */
static int merge_items(struct place_req *p, const struct order_item_req *items, int nitems,
		       char *err, size_t errlen)
{
	int n = 0;

	p->items = calloc((size_t)nitems, sizeof(*p->items));
	p->prices = calloc((size_t)nitems, sizeof(*p->prices));
	if (p->items == NULL || p->prices == NULL) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	for (int i = 0; i < nitems; i++)
		if (check_item(&items[i], err, errlen) != 0)
			return 422;
	memcpy(p->items, items, (size_t)nitems * sizeof(*items));
	qsort(p->items, (size_t)nitems, sizeof(*p->items), item_cmp);
	for (int i = 0; i < nitems; i++) {
		if (n > 0 && strcmp(p->items[n - 1].sku, p->items[i].sku) == 0)
			p->items[n - 1].quantity += p->items[i].quantity;
		else
			p->items[n++] = p->items[i];
		if (p->items[n - 1].quantity > ORDER_MAX_QUANTITY) {
			snprintf(err, errlen, "quantity of %s must be from 1 to %d (got %lld in all)",
				 p->items[n - 1].sku, ORDER_MAX_QUANTITY, p->items[n - 1].quantity);
			return 422;
		}
	}
	p->nitems = n;
	return 0;
}

/* The canonical request, stored with the Idempotency-Key and compared as
 * text on a replay: compact JSON with sorted keys of the customer, the
 * currency and the merged, sorted lines. */
static int canonical_request(struct place_req *p)
{
	json_t *lines = json_array(), *doc;
	char *text;

	for (int i = 0; i < p->nitems; i++)
		json_array_append_new(lines, json_pack("[s, I]", p->items[i].sku,
						       (json_int_t)p->items[i].quantity));
	doc = json_pack("{s:s, s:s, s:o}", "customer_id", p->customer_id, "currency",
			p->currency, "items", lines);
	text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	p->canonical = text;
	return text == NULL ? -1 : 0;
}

/* Every rule that needs no database; returns 0 or an HTTP status with err. */
static int place_validate(struct place_req *p, const struct config *cfg,
			  const struct order_item_req *items, int nitems, char *err,
			  size_t errlen)
{
	const char *accepted = cfg->domains[DOM_ORDER].currency != NULL
				       ? cfg->domains[DOM_ORDER].currency : "EUR";
	size_t klen = p->key != NULL ? strlen(p->key) : 0;
	int code;

	if (p->key != NULL && (klen == 0 || klen > ORDER_IDEMPOTENCY_KEY_MAX || !utf8_ok(p->key))) {
		snprintf(err, errlen, "Idempotency-Key must have 1 to %d bytes of UTF-8",
			 ORDER_IDEMPOTENCY_KEY_MAX);
		return 400;
	}
	if (p->customer_id == NULL || p->customer_id[0] == '\0' ||
	    strlen(p->customer_id) > 64 || !utf8_ok(p->customer_id)) {
		snprintf(err, errlen, "customer_id must have 1 to 64 bytes of UTF-8");
		return 422;
	}
	if (p->currency != NULL && strcmp(p->currency, accepted) != 0) {
		snprintf(err, errlen, "currency %.16s is not accepted; the catalogue is in %s",
			 p->currency, accepted);
		return 422;
	}
	p->currency = accepted;
	if (nitems < 1 || items == NULL) {
		snprintf(err, errlen, "an order needs at least one item");
		return 422;
	}
	if (nitems > ORDER_MAX_ITEMS) {
		snprintf(err, errlen, "an order has at most %d items", ORDER_MAX_ITEMS);
		return 422;
	}
	if ((code = merge_items(p, items, nitems, err, errlen)) != 0)
		return code;
	if (p->key != NULL && canonical_request(p) != 0) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	return 0;
}

/* Prices from the catalogue and the total; 0, or an HTTP status with err. */
static int place_prices(struct db *db, struct place_req *p, long long *total_r, char *err,
			size_t errlen)
{
	long long total = 0, line;
	char sql[160];

	/* The catalogue lives in inventory's database, on the same server as
	 * the order's (one database.host): name it. The name is one of the
	 * config's database names, which migrations accept only as
	 * [A-Za-z0-9_]. */
	snprintf(sql, sizeof(sql), "SELECT price_cents FROM `%s`.stock WHERE sku = ?", p->stock_db);
	for (int i = 0; i < p->nitems; i++) {
		struct db_param k[1] = { DBP_STR(p->items[i].sku) };
		char price[32];
		int found;
		enum db_status st = db_select_text(db, sql, k, 1, price, sizeof(price), &found);

		if (st != DB_OK)
			return db_fail(db, st, "read price", err, errlen);
		if (!found) {
			snprintf(err, errlen, "unknown SKU \"%s\"", p->items[i].sku);
			return 422;
		}
		p->prices[i] = atoll(price);
		if (__builtin_mul_overflow(p->prices[i], p->items[i].quantity, &line) ||
		    __builtin_add_overflow(total, line, &total)) {
			snprintf(err, errlen, "the order's total is too large");
			return 422;
		}
	}
	*total_r = total;
	return 0;
}

/* With an Idempotency-Key: 1 when the key was used before (*status_r set:
 * 200 and the first order, or 409), 0 when it is new, -1 on a failure. */
static int place_replay(struct db *db, const struct place_req *p, json_t **order_r,
			int *status_r, char *err, size_t errlen)
{
	struct db_rows rows = { 0 };
	struct db_param k[1] = { DBP_STR(p->key) };
	enum db_status st;
	const char *first;
	int r = 1;

	st = db_select(db, "SELECT id, idempotency_request FROM orders WHERE idempotency_key = ?",
		       k, 1, &rows);
	if (st != DB_OK) {
		*status_r = db_fail(db, st, "look up Idempotency-Key", err, errlen);
		return -1;
	}
	if (rows.nrows == 0) {
		r = 0;
		goto out;
	}
	first = db_rows_get(&rows, 0, 1);
	if (first == NULL || strcmp(first, p->canonical) != 0) {
		*status_r = 409;
		snprintf(err, errlen, "Idempotency-Key \"%s\" was already used with another request",
			 p->key);
		goto out;
	}
	st = order_load(db, db_rows_get(&rows, 0, 0), order_r);
	if (st != DB_OK || *order_r == NULL) {
		*status_r = db_fail(db, st != DB_OK ? st : DB_FATAL, "read the first order", err,
				    errlen);
		r = -1;
		goto out;
	}
	*status_r = 200;
	log_info("order %s returned again for Idempotency-Key \"%s\"", db_rows_get(&rows, 0, 0),
		 p->key);
out:
	db_rows_free(&rows);
	return r;
}

static json_t *created_payload(const struct place_req *p, const char *id, long long total)
{
	json_t *items = json_array();

	for (int i = 0; i < p->nitems; i++)
		json_array_append_new(items, json_pack("{s:s, s:I, s:I}", "sku", p->items[i].sku,
						       "quantity", (json_int_t)p->items[i].quantity,
						       "unit_price_cents", (json_int_t)p->prices[i]));
	return json_pack("{s:s, s:s, s:s, s:I, s:o}", "order_id", id, "customer_id",
			 p->customer_id, "currency", p->currency, "total_cents", (json_int_t)total,
			 "items", items);
}

/* The order's rows and its order.created. DB_DUPLICATE comes only from the
 * orders INSERT: the Idempotency-Key was taken meanwhile (or, without a key,
 * a UUID collision, which the caller treats as an error). */
static enum db_status place_insert(struct db *db, const struct place_req *p, const char *id,
				   long long total, const char **what_r)
{
	struct db_param o[6] = {
		DBP_STR(id), DBP_STR(p->customer_id), DBP_INT(total), DBP_STR(p->currency),
		p->key != NULL ? DBP_STR(p->key) : DBP_NULL,
		p->key != NULL ? DBP_STR(p->canonical) : DBP_NULL,
	};
	enum db_status st;

	*what_r = "insert order";
	st = db_run(db, "INSERT INTO orders (id, customer_id, status, total_cents, currency, "
			"created_at, updated_at, idempotency_key, idempotency_request) "
			"VALUES (?, ?, 'PENDING', ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), ?, ?)",
		    o, 6, NULL, NULL);
	*what_r = "insert order items";
	for (int i = 0; st == DB_OK && i < p->nitems; i++) {
		struct db_param it[4] = { DBP_STR(id), DBP_STR(p->items[i].sku),
					  DBP_INT(p->items[i].quantity), DBP_INT(p->prices[i]) };

		st = db_run(db, "INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) "
				"VALUES (?, ?, ?, ?)", it, 4, NULL, NULL);
		if (st == DB_DUPLICATE)
			st = DB_FATAL; /* merged lines: a duplicate here is a bug */
	}
	if (st != DB_OK)
		return st;
	*what_r = "append order.created";
	st = order_outbox(db, "order.created", id, created_payload(p, id, total));
	return st == DB_DUPLICATE ? DB_FATAL : st;
}

enum place_step { PLACE_DONE, PLACE_AGAIN };

/* One attempt in one transaction. PLACE_AGAIN: a concurrent request with the
 * same Idempotency-Key committed first; look the key up again. */
static enum place_step place_txn(struct db *db, struct place_req *p, json_t **order_r,
				 int *status_r, char *err, size_t errlen)
{
	enum place_step step = PLACE_DONE;
	char id[ENVELOPE_ID_LEN + 1];
	const char *what = "begin";
	long long total = 0;
	enum db_status st;

	if ((st = db_begin(db)) != DB_OK)
		goto failed;
	if (p->key != NULL && place_replay(db, p, order_r, status_r, err, errlen) != 0)
		goto rollback;
	if ((*status_r = place_prices(db, p, &total, err, errlen)) != 0)
		goto rollback;
	envelope_new_uuid(id);
	st = place_insert(db, p, id, total, &what);
	if (st == DB_DUPLICATE && p->key != NULL) {
		step = PLACE_AGAIN;
		goto rollback;
	}
	if (st != DB_OK)
		goto failed;
	what = "read the new order";
	if ((st = order_load(db, id, order_r)) != DB_OK || *order_r == NULL)
		goto failed;
	what = "commit";
	if ((st = db_commit(db)) != DB_OK)
		goto failed;
	*status_r = 201;
	log_info("order %s placed: customer %s, %d lines, %lld cents %s", id, p->customer_id,
		 p->nitems, total, p->currency);
	return PLACE_DONE;
failed:
	*status_r = db_fail(db, st == DB_OK ? DB_FATAL : st, what, err, errlen);
	json_decref(*order_r);
	*order_r = NULL;
rollback:
	db_rollback(db);
	return step;
}

int order_place(struct db *db, const struct config *cfg, const char *customer_id,
		const char *currency, const struct order_item_req *items, int nitems,
		const char *idempotency_key, json_t **order_r, int *status_r, char *err,
		size_t errlen)
{
	struct place_req p = { .customer_id = customer_id, .currency = currency,
			       .key = idempotency_key,
			       .stock_db = config_domain_db(cfg, DOM_INVENTORY) };
	int code;

	*order_r = NULL;
	err[0] = '\0';
	if (config_log_from_outbox(cfg))
		outbox_log_events(db);
	code = place_validate(&p, cfg, items, nitems, err, errlen);
	/* Twice at most: the second time the concurrent request's order is there. */
	for (int i = 0; code == 0 && i < 2; i++) {
		if (place_txn(db, &p, order_r, &code, err, errlen) == PLACE_DONE)
			break;
		code = 0;
	}
	if (code == 0) {
		code = 503;
		snprintf(err, errlen, "database unavailable");
	}
	*status_r = code;
	free(p.items);
	free(p.prices);
	free(p.canonical);
	return (code == 200 || code == 201) ? 0 : -1;
}

/* ---- cancelling an order ------------------------------------------------- */

struct cancel_req {
	const char *id;
	const char *reason;
	char status[16];
	char customer_id[DOM_CUSTOMER_MAX + 1];
};

/* Locks the order and reads its status and customer; 0, or an HTTP status. */
static int cancel_lock(struct db *db, struct cancel_req *c, char *err, size_t errlen)
{
	struct db_rows rows = { 0 };
	struct db_param p[1] = { DBP_STR(c->id) };
	enum db_status st;

	st = db_select(db, "SELECT status, customer_id FROM orders WHERE id = ? FOR UPDATE", p, 1,
		       &rows);
	if (st != DB_OK)
		return db_fail(db, st, "lock order", err, errlen);
	if (rows.nrows == 0) {
		db_rows_free(&rows);
		snprintf(err, errlen, "order %.64s not found", c->id);
		return 404;
	}
	snprintf(c->status, sizeof(c->status), "%s", db_rows_get(&rows, 0, 0));
	snprintf(c->customer_id, sizeof(c->customer_id), "%s", db_rows_get(&rows, 0, 1));
	db_rows_free(&rows);
	return 0;
}

/* The transition and its event; 0, or an HTTP status. */
static int cancel_apply(struct db *db, struct cancel_req *c, enum order_status from, char *err,
			size_t errlen)
{
	unsigned long long affected = 0;
	enum db_status st;

	if (order_transition(from, OIN_CANCEL) != ORDER_CANCELLED) {
		if (from == ORDER_SHIPPED)
			snprintf(err, errlen, "order %s has shipped and can no longer be cancelled",
				 c->id);
		else
			snprintf(err, errlen, "order %s is %s and cannot be cancelled", c->id,
				 c->status);
		return 409;
	}
	st = order_apply(db, c->id, from, ORDER_CANCELLED, c->reason, &affected);
	if (st != DB_OK)
		return db_fail(db, st, "cancel order", err, errlen);
	if (affected != 1) {
		/* The row is locked FOR UPDATE: its status cannot have moved. */
		snprintf(err, errlen, "database error");
		log_error("order intake: cancel of %s changed %llu rows", c->id, affected);
		return 500;
	}
	st = order_outbox(db, "order.cancelled", c->id,
			  json_pack("{s:s, s:s, s:s, s:s}", "order_id", c->id, "customer_id",
				    c->customer_id, "reason", c->reason, "cause",
				    ORDER_CAUSE_CUSTOMER));
	if (st != DB_OK)
		return db_fail(db, st == DB_DUPLICATE ? DB_FATAL : st, "append order.cancelled",
			       err, errlen);
	return 0;
}

int order_cancel(struct db *db, const struct config *cfg, const char *id, const char *reason,
		 json_t **order_r, int *status_r, char *err, size_t errlen)
{
	struct cancel_req c = { .id = id, .reason = reason != NULL ? reason : DEFAULT_CANCEL_REASON };
	enum order_status from;
	enum db_status st;
	int code;

	*order_r = NULL;
	if (config_log_from_outbox(cfg))
		outbox_log_events(db);
	err[0] = '\0';
	if (strlen(c.reason) > DOM_REASON_MAX || !utf8_ok(c.reason)) {
		snprintf(err, errlen, "a reason has at most %d bytes of UTF-8", DOM_REASON_MAX);
		*status_r = 422;
		return -1;
	}
	if ((st = db_begin(db)) != DB_OK) {
		*status_r = db_fail(db, st, "begin", err, errlen);
		return -1;
	}
	if ((code = cancel_lock(db, &c, err, errlen)) != 0)
		goto rollback;
	from = order_status_parse(c.status);
	if (from != ORDER_CANCELLED && (code = cancel_apply(db, &c, from, err, errlen)) != 0)
		goto rollback;
	if ((st = order_load(db, id, order_r)) != DB_OK || *order_r == NULL) {
		code = db_fail(db, st == DB_OK ? DB_FATAL : st, "read the order", err, errlen);
		goto rollback;
	}
	if ((st = db_commit(db)) != DB_OK) {
		code = db_fail(db, st, "commit", err, errlen);
		goto rollback;
	}
	if (from != ORDER_CANCELLED)
		log_info("order %s cancelled (was %s): %s", id, c.status, c.reason);
	*status_r = 200;
	return 0;
rollback:
	db_rollback(db);
	json_decref(*order_r);
	*order_r = NULL;
	*status_r = code;
	return -1;
}
