/*
 * orderflowctl order place --customer ID --item SKU:QTY [--item ...]
 *                          [--currency CUR] [--idempotency-key K]
 * orderflowctl order show ID
 *
 * `place` runs order_place(), the code path of POST /api/orders, and refuses
 * what the API refuses with the API's message (exit 1); a malformed command
 * line (no --customer, an --item that is not SKU:QTY with an integer QTY) is
 * a usage error (exit 2). It prints the new order's id alone on the first
 * line, or with --json the order as the API returns it.
 *
 * `show` prints the order, then its event chain from event_log (the audit
 * domain's table) by correlation id, in order of occurred_at, with the time
 * since the previous event (for the first one: since the order was placed)
 * and since the order was placed (orders.created_at), in ms. The times are
 * the events' occurred_at, stamped by the processes that emitted them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "tools/ctl.h"
#include "intake/money.h"
#include "intake/order_intake.h"
#include "db/sqltime.h"
#include "intake/http_request.h"

struct place_args {
	const char *customer;
	const char *currency;
	const char *key;
	struct order_item_req *items;
	int nitems;
};

static int order_db(struct ctl *ctl, enum domain_id dom, struct db **db_r)
{
	char *err = NULL;

	if (ctl_config(ctl) != CTL_OK)
		return CTL_ERROR;
	if (db_connect(&ctl->cfg->database, config_domain_db(ctl->cfg, dom), db_r, &err) != 0) {
		ctl_error("%s", err != NULL ? err : "cannot connect to the database");
		free(err);
		return CTL_ERROR;
	}
	return CTL_OK;
}

/* ---- place --------------------------------------------------------------- */

/* "SKU:QTY" -> one line; CTL_USAGE for another shape, CTL_ERROR (with the
 * API's message) for a SKU no catalogue can hold. */
static int parse_item_arg(struct ctl *ctl, const char *arg, struct order_item_req *out)
{
	const char *colon = strrchr(arg, ':');
	char sku[256], err[256], *end;
	long long qty;
	size_t skulen;

	if (colon == NULL || colon[1] == '\0')
		return ctl_usage(ctl, "order place: --item wants SKU:QTY, got \"%s\"", arg);
	errno = 0;
	qty = strtoll(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return ctl_usage(ctl, "order place: the QTY of \"%s\" must be an integer", arg);
	skulen = (size_t)(colon - arg);
	if (skulen >= sizeof(sku))
		skulen = sizeof(sku) - 1; /* longer than 64 bytes is refused below anyway */
	memcpy(sku, arg, skulen);
	sku[skulen] = '\0';
	if (http_order_item(sku, skulen, qty, out, err, sizeof(err)) != 0)
		return ctl_error("%s", err);
	return CTL_OK;
}

static int parse_place(struct ctl *ctl, struct place_args *a)
{
	int rc;

	a->items = calloc((size_t)ctl->argc, sizeof(*a->items));
	if (a->items == NULL)
		return ctl_error("out of memory");
	for (int i = 1; i < ctl->argc; i++) {
		const char *opt = ctl->argv[i];

		if (i + 1 >= ctl->argc)
			return ctl_usage(ctl, "order place: %s '%s'",
					 opt[0] == '-' ? "a value is missing after" : "unexpected argument",
					 opt);
		if (strcmp(opt, "--customer") == 0)
			a->customer = ctl->argv[++i];
		else if (strcmp(opt, "--currency") == 0)
			a->currency = ctl->argv[++i];
		else if (strcmp(opt, "--idempotency-key") == 0)
			a->key = ctl->argv[++i];
		else if (strcmp(opt, "--item") == 0) {
			if ((rc = parse_item_arg(ctl, ctl->argv[++i], &a->items[a->nitems])) != CTL_OK)
				return rc;
			a->nitems++;
		} else
			return ctl_usage(ctl, "order place: unexpected argument '%s'", opt);
	}
	if (a->customer == NULL)
		return ctl_usage(ctl, "order place: --customer is required");
	if (a->customer[0] == '\0' || strlen(a->customer) > 64)
		return ctl_error("%s", HTTP_MSG_CUSTOMER_ID);
	return CTL_OK;
}

static void print_placed(const json_t *o, int status)
{
	char total[32];

	money_format_cents((long long)json_integer_value(json_object_get(o, "total_cents")), total,
			 sizeof(total));
	printf("%s\n", json_string_value(json_object_get(o, "id")));
	printf("%s for customer %s: %zu lines, total %s %s, placed %s%s\n",
	       json_string_value(json_object_get(o, "status")),
	       json_string_value(json_object_get(o, "customer_id")),
	       json_array_size(json_object_get(o, "items")), total,
	       json_string_value(json_object_get(o, "currency")),
	       json_string_value(json_object_get(o, "created_at")),
	       status == 200 ? " (the Idempotency-Key's first order, returned again)" : "");
}

static int order_place_cmd(struct ctl *ctl)
{
	struct place_args a = { 0 };
	struct db *db = NULL;
	json_t *order = NULL;
	char err[512];
	int rc, status;

	if ((rc = parse_place(ctl, &a)) != CTL_OK)
		goto out;
	if ((rc = order_db(ctl, DOM_ORDER, &db)) != CTL_OK)
		goto out;
	if (order_place(db, ctl->cfg, a.customer, a.currency, a.items, a.nitems, a.key, &order,
			&status, err, sizeof(err)) != 0) {
		rc = ctl_error("%s", err);
		goto out;
	}
	if (ctl->json)
		ctl_print_json(order);
	else {
		print_placed(order, status);
		json_decref(order);
	}
	rc = CTL_OK;
out:
	if (db != NULL)
		db_close(db);
	free(a.items);
	return rc;
}

/* ---- show ---------------------------------------------------------------- */

/* The domain that emits an event type (DESIGN.md "Events"). */
static const char *emitter(const char *type)
{
	static const struct { const char *prefix, *domain; } map[] = {
		{ "order.", "order" },     { "stock.", "inventory" },
		{ "payment.", "payment" }, { "shipping.", "shipping" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(type, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].domain;
	return "?";
}

static json_t *iso_or_null(const char *sql)
{
	char iso[SQLTIME_LEN];

	return sql != NULL && sqltime_to_iso(sql, iso) == 0 ? json_string(iso) : json_null();
}

/* The event chain as JSON, with the timings in ms (from occurred_at). */
static int load_events(struct db *db, const char *id, const char *placed_sql, json_t **events_r)
{
	struct db_param p[2] = { DBP_STR(placed_sql), DBP_STR(id) };
	struct db_rows rows = { 0 };
	long long prev = 0;
	json_t *events;

	if (db_select(db, "SELECT event_id, event_type, causation_id, "
			  "DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f'), "
			  "DATE_FORMAT(recorded_at, '%Y-%m-%d %H:%i:%s.%f'), "
			  "TIMESTAMPDIFF(MICROSECOND, ?, occurred_at) "
			  "FROM event_log WHERE correlation_id = ? "
			  "ORDER BY occurred_at, recorded_at, event_id", p, 2, &rows) != DB_OK)
		return ctl_error("order show %s: event log: %s", id, db_error(db));
	events = json_array();
	for (int r = 0; r < rows.nrows; r++) {
		const char *type = db_rows_get(&rows, r, 1);
		long long us = atoll(db_rows_get(&rows, r, 5) ? db_rows_get(&rows, r, 5) : "0");

		json_array_append_new(events, json_pack(
			"{s:s, s:s, s:s, s:s?, s:o, s:o, s:I, s:I}", "event_id",
			db_rows_get(&rows, r, 0), "event_type", type, "domain", emitter(type),
			"causation_id", db_rows_get(&rows, r, 2), "occurred_at",
			iso_or_null(db_rows_get(&rows, r, 3)), "recorded_at",
			iso_or_null(db_rows_get(&rows, r, 4)), "since_previous_ms",
			(json_int_t)(r == 0 ? us / 1000 : (us - prev) / 1000), "since_start_ms",
			(json_int_t)(us / 1000)));
		prev = us;
	}
	db_rows_free(&rows);
	*events_r = events;
	return CTL_OK;
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static void print_show(const json_t *o, const json_t *events)
{
	static const char *const times[] = { "created_at", "confirmed_at", "shipped_at",
					     "cancelled_at" };
	char total[32];
	size_t i;
	json_t *e;

	money_format_cents((long long)json_integer_value(json_object_get(o, "total_cents")), total,
			 sizeof(total));
	printf("order %s  %s  customer %s  total %s %s\n", jstr(o, "id"), jstr(o, "status"),
	       jstr(o, "customer_id"), total, jstr(o, "currency"));
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if (json_object_get(o, times[i]) != NULL)
			printf("  %-13s %s\n", times[i], jstr(o, times[i]));
	if (json_object_get(o, "cancel_reason") != NULL)
		printf("  %-13s %s\n", "cancel_reason", jstr(o, "cancel_reason"));
	printf("events (%zu):\n", json_array_size(events));
	if (json_array_size(events) > 0)
		printf("  %10s %10s  %-20s %-10s %s\n", "+START_MS", "+PREV_MS", "EVENT", "DOMAIN",
		       "EVENT_ID");
	json_array_foreach(events, i, e)
		printf("  %10lld %10lld  %-20s %-10s %s\n",
		       (long long)json_integer_value(json_object_get(e, "since_start_ms")),
		       (long long)json_integer_value(json_object_get(e, "since_previous_ms")),
		       jstr(e, "event_type"), jstr(e, "domain"), jstr(e, "event_id"));
}

static int order_show_cmd(struct ctl *ctl)
{
	struct db *odb = NULL, *adb = NULL;
	json_t *order = NULL, *events = NULL;
	char placed[SQLTIME_LEN];
	const char *id;
	int rc, status;

	if (ctl->argc != 2)
		return ctl_usage(ctl, "order show: exactly one order id expected");
	id = ctl->argv[1];
	if ((rc = order_db(ctl, DOM_ORDER, &odb)) != CTL_OK)
		goto out;
	status = order_get(odb, id, &order);
	if (status != 200) {
		rc = status == 404 ? ctl_error("order %s not found", id)
				   : ctl_error("order show %s: %s", id, db_error(odb));
		goto out;
	}
	if (sqltime_from_iso(jstr(order, "created_at"), placed) != 0)
		snprintf(placed, sizeof(placed), "%s", "1970-01-01 00:00:00.000000");
	if (strcmp(config_domain_db(ctl->cfg, DOM_AUDIT), config_domain_db(ctl->cfg, DOM_ORDER)) != 0)
		rc = order_db(ctl, DOM_AUDIT, &adb);
	if (rc != CTL_OK || (rc = load_events(adb ? adb : odb, id, placed, &events)) != CTL_OK)
		goto out;
	if (ctl->json) {
		ctl_print_json(json_pack("{s:O, s:O}", "order", order, "events", events));
	} else {
		print_show(order, events);
	}
	rc = CTL_OK;
out:
	json_decref(order);
	json_decref(events);
	if (adb != NULL)
		db_close(adb);
	if (odb != NULL)
		db_close(odb);
	return rc;
}

static const struct ctl_help order_help[] = {
	{ "place",
	  "usage: orderflowctl order place --customer ID --item SKU:QTY\n"
	  "                    [--item SKU:QTY ...] [--currency CUR] [--idempotency-key K]\n\n"
	  "Places an order by the code path of POST /api/orders, and refuses what the\n"
	  "API refuses with the API's message (exit 1). Prints the new order's id alone\n"
	  "on the first line, then a summary.\n"
	  "  --customer ID          the customer, 1 to 64 bytes (required)\n"
	  "  --item SKU:QTY         one order line; repeat for more (at least one)\n"
	  "  --currency CUR         the currency (default: the configured one)\n"
	  "  --idempotency-key K    placing again with the same key returns the first\n"
	  "                         order instead of a new one\n\n"
	  "--json prints the order as the API returns it:\n"
	  "  id, customer_id, status, total_cents, currency,\n"
	  "  items [{\"sku\", \"quantity\", \"unit_price_cents\"}],\n"
	  "  created_at, updated_at (ISO 8601, UTC)\n",
	  order_place_cmd },
	{ "show",
	  "usage: orderflowctl order show ID\n\n"
	  "The order ID and its event chain (the audit domain's event_log) in order of\n"
	  "occurrence, with the time since the previous event and since the order was\n"
	  "placed. Takes no flags.\n\n"
	  "--json prints {\"order\": ORDER, \"events\": [...]}:\n"
	  "  order   as the API returns it (id, customer_id, status, total_cents, currency,\n"
	  "          items, created_at, updated_at and confirmed_at, shipped_at,\n"
	  "          cancelled_at, cancel_reason when they apply)\n"
	  "  events  one object per event: event_id, event_type, domain (the emitter),\n"
	  "          causation_id, occurred_at, recorded_at, since_previous_ms,\n"
	  "          since_start_ms\n",
	  order_show_cmd },
	{ NULL, NULL, NULL },
};

const struct ctl_command ctl_order_cmd = {
	.group = "order",
	.help = order_help,
	.usage = "  orderflowctl order place --customer ID --item SKU:QTY [--item ...] [--currency CUR]\n"
		 "                           [--idempotency-key K]   place an order (as POST /api/orders)\n"
		 "  orderflowctl order show ID                   status and the event chain with timings\n",
};
