/* http_handlers: the intake's endpoints (see http_handlers.h). */
#include "http/http_handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "db/outbox.h"
#include "intake/order_intake.h"
#include "db/sqltime.h"
#include "http/http_metrics.h"
#include "intake/http_request.h"
#include "proc/poolstats.h"
#include "relay/relay_wake.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* A command on a borrowed connection: fills reply. */
typedef void (*db_op)(const struct http_ctx *ctx, struct db *db, const void *arg,
		      struct http_reply *reply);

static void reply_unavailable(struct http_reply *reply)
{
	http_reply_error(reply, 503, "database unavailable");
}

/* Runs op on a connection to dom's database; once more after a reconnect
 * when the connection was lost and `retry` says running it again is safe. */
static void with_db(const struct http_ctx *ctx, enum domain_id dom, int retry, db_op op,
		    const void *arg, struct http_reply *reply)
{
	struct db *db = http_db_acquire(ctx->dbconns, dom);

	if (db == NULL) {
		reply_unavailable(reply);
		return;
	}
	op(ctx, db, arg, reply);
	if (reply->status == 503 && retry && db_connection_lost(db)) {
		log_warn("%s; reconnecting and trying once more", db_error(db));
		if (db_reconnect(db) == DB_OK) {
			http_reply_clear(reply);
			op(ctx, db, arg, reply);
		}
	}
	http_db_release(ctx->dbconns, dom, db);
}

/* An intake result: the order on success, else {"error": err}. */
static void reply_order(struct http_reply *reply, int ok, int status, json_t *order,
			const char *err)
{
	if (ok == 0)
		http_reply_json(reply, status, order);
	else
		http_reply_error(reply, status, err);
}

/* ---- POST /api/orders ---------------------------------------------------- */

struct place_arg {
	const struct order_request *o;
	const char *idempotency_key;
};

static void op_place(const struct http_ctx *ctx, struct db *db, const void *arg,
		     struct http_reply *reply)
{
	const struct place_arg *p = arg;
	json_t *order = NULL;
	char err[512];
	int status, rc;

	rc = order_place(db, ctx->cfg, p->o->customer_id, p->o->currency, p->o->items,
			 p->o->nitems, p->idempotency_key, &order, &status, err, sizeof(err));
	if (rc == 0 && status == 201) {
		snprintf(reply->location, sizeof(reply->location), "/api/orders/%s",
			 json_string_value(json_object_get(order, "id")));
		if (poolstats_shared != NULL)
			poolstats_add(&poolstats_shared->orders_placed, 1);
		relay_wake_notify();
	}
	reply_order(reply, rc, status, order, err);
}

/* The body is checked before a connection is borrowed: bad input is a 400
 * even while the database is down. */
static void handle_place(const struct http_ctx *ctx, const struct http_req *req,
			 struct http_reply *reply)
{
	struct order_request o;
	struct place_arg p = { .o = &o, .idempotency_key = req->idempotency_key };
	char err[512];
	int status = http_parse_order(req->body, req->body_len, &o, err, sizeof(err));

	if (status != 0) {
		http_reply_error(reply, status, err);
		return;
	}
	with_db(ctx, DOM_ORDER, req->idempotency_key != NULL, op_place, &p, reply);
	order_request_free(&o);
}

/* ---- GET /api/orders?customer=, GET /api/orders/{id} --------------------- */

static void op_list(const struct http_ctx *ctx, struct db *db, const void *arg,
		    struct http_reply *reply)
{
	json_t *doc = NULL;
	int status;

	(void)ctx;
	status = order_list_by_customer(db, arg, &doc);
	if (status == 200)
		http_reply_json(reply, 200, doc);
	else
		http_reply_error(reply, status, status == 503 ? "database unavailable"
							      : "database error");
}

static void op_get(const struct http_ctx *ctx, struct db *db, const void *arg,
		   struct http_reply *reply)
{
	json_t *order = NULL;
	char msg[128];
	int status;

	(void)ctx;
	status = order_get(db, arg, &order);
	if (status == 200) {
		http_reply_json(reply, 200, order);
		return;
	}
	if (status == 404)
		snprintf(msg, sizeof(msg), "order %s not found", (const char *)arg);
	else
		snprintf(msg, sizeof(msg), "%s",
			 status == 503 ? "database unavailable" : "database error");
	http_reply_error(reply, status, msg);
}

/* ---- POST /api/orders/{id}/cancel ---------------------------------------- */

struct cancel_arg {
	const char *id;
	const char *reason;
};

static void op_cancel(const struct http_ctx *ctx, struct db *db, const void *arg,
		      struct http_reply *reply)
{
	const struct cancel_arg *c = arg;
	json_t *order = NULL;
	char err[512];
	int status, rc;

	rc = order_cancel(db, ctx->cfg, c->id, c->reason, &order, &status, err, sizeof(err));
	if (rc == 0)
		relay_wake_notify(); /* a cancel emits order.cancelled (unless a no-op) */
	reply_order(reply, rc, status, order, err);
}

static void handle_cancel(const struct http_ctx *ctx, const struct http_req *req,
			  struct http_reply *reply)
{
	struct cancel_arg c = { .id = req->route.param };
	char *reason = NULL, err[256];
	int status = http_parse_cancel(req->body, req->body_len, &reason, err, sizeof(err));

	if (status != 0) {
		http_reply_error(reply, status, err);
		return;
	}
	c.reason = reason;
	with_db(ctx, DOM_ORDER, 1, op_cancel, &c, reply);
	free(reason);
}

/* ---- GET /api/customers/{id}/notifications ------------------------------- */

static json_t *notification_json(const struct db_rows *rows, int r)
{
	char iso[SQLTIME_LEN];
	const char *at = db_rows_get(rows, r, 3);

	if (at == NULL || sqltime_to_iso(at, iso) != 0)
		iso[0] = '\0';
	return json_pack("{s:s?, s:s?, s:s?, s:s}", "order_id", db_rows_get(rows, r, 0), "type",
			 db_rows_get(rows, r, 1), "message", db_rows_get(rows, r, 2),
			 "created_at", iso);
}

static void op_notifications(const struct http_ctx *ctx, struct db *db, const void *arg,
			     struct http_reply *reply)
{
	struct db_param p[1] = { DBP_STR(arg) };
	struct db_rows rows = { 0 };
	json_t *list;
	enum db_status st;

	(void)ctx;
	st = db_select(db, "SELECT order_id, type, message, "
			   "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM notifications "
			   "WHERE customer_id = ? ORDER BY created_at DESC, id DESC "
			   "LIMIT " STR(HTTP_NOTIFICATIONS_MAX), p, 1, &rows);
	if (st != DB_OK) {
		log_warn("notifications of %s: %s", (const char *)arg, db_error(db));
		http_reply_error(reply, st == DB_TRANSIENT ? 503 : 500,
				 st == DB_TRANSIENT ? "database unavailable" : "database error");
		return;
	}
	list = json_array();
	for (int r = 0; list != NULL && r < rows.nrows; r++)
		json_array_append_new(list, notification_json(&rows, r));
	db_rows_free(&rows);
	http_reply_json(reply, 200, list != NULL ? json_pack("{s:s, s:o}", "customer_id",
						       (const char *)arg, "notifications", list)
						 : NULL);
}

/* ---- /healthz and /metrics ----------------------------------------------- */

static void handle_healthz(const struct http_ctx *ctx, struct http_reply *reply)
{
	struct db *db = http_db_acquire(ctx->dbconns, DOM_ORDER);
	int db_up = db != NULL && db_ping(db) == DB_OK;
	int broker_up = http_broker_ok(ctx->broker);

	http_db_release(ctx->dbconns, DOM_ORDER, db);
	http_reply_json(reply, db_up && broker_up ? 200 : 503,
			json_pack("{s:s, s:s, s:s}", "status",
				  db_up && broker_up ? "ok" : "unavailable", "database",
				  db_up ? "ok" : "unavailable", "broker",
				  broker_up ? "ok" : "unavailable"));
}

static void handle_metrics(const struct http_ctx *ctx, struct http_reply *reply)
{
	struct metrics_snapshot snap;
	struct db *db = http_db_acquire(ctx->dbconns, DOM_ORDER);
	char *text = NULL;
	size_t len = 0;

	metrics_snapshot_take(poolstats_shared, &snap);
	if (db != NULL && outbox_lag(db, &snap.outbox_lag_s, &snap.outbox_pending) == DB_OK &&
	    outbox_set_aside(db, &snap.outbox_set_aside) == DB_OK)
		snap.have_outbox = 1;
	else if (db != NULL)
		log_warn("metrics: outbox lag: %s", db_error(db));
	http_db_release(ctx->dbconns, DOM_ORDER, db);
	http_broker_parked(ctx->broker, snap.parked_depth);
	if (metrics_render(&snap, &text, &len) != 0) {
		http_reply_error(reply, 503, "out of memory");
		return;
	}
	http_reply_clear(reply);
	reply->status = 200;
	reply->body = text;
	reply->body_len = len;
	reply->content_type = METRICS_CONTENT_TYPE;
}

/* ---- dispatch ------------------------------------------------------------ */

static void handle_orders(const struct http_ctx *ctx, const struct http_req *req,
			  struct http_reply *reply)
{
	if (strcmp(req->method, "POST") == 0) {
		handle_place(ctx, req, reply);
		return;
	}
	if (req->customer == NULL) {
		http_reply_error(reply, 400, "query parameter customer is required");
		return;
	}
	if (!http_customer_id_ok(req->customer)) {
		http_reply_error(reply, 400, "customer must have 1 to 64 bytes of UTF-8");
		return;
	}
	with_db(ctx, DOM_ORDER, 1, op_list, req->customer, reply);
}

void http_handle(const struct http_ctx *ctx, const struct http_req *req,
		 struct http_reply *reply)
{
	switch (req->route.id) {
	case HTTP_RT_ORDERS:
		handle_orders(ctx, req, reply);
		break;
	case HTTP_RT_ORDER:
		with_db(ctx, DOM_ORDER, 1, op_get, req->route.param, reply);
		break;
	case HTTP_RT_ORDER_CANCEL:
		handle_cancel(ctx, req, reply);
		break;
	case HTTP_RT_NOTIFICATIONS:
		with_db(ctx, DOM_NOTIFICATION, 1, op_notifications, req->route.param, reply);
		break;
	case HTTP_RT_HEALTHZ:
		handle_healthz(ctx, reply);
		break;
	case HTTP_RT_METRICS:
		handle_metrics(ctx, reply);
		break;
	default:
		http_reply_error(reply, 404, "not found");
		break;
	}
	if (reply->status == 0)
		http_reply_error(reply, 503, "no reply");
}
