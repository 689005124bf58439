/* orderflowctl stock set SKU QTY [--price CENTS] | stock show: the catalogue,
 * in the inventory domain's database. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "tools/ctl.h"

static int parse_count(const char *s, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' || *out < 0 || *out > max) ? -1 : 0;
}

static int stock_set(struct ctl *ctl)
{
	const char *sku = NULL, *qty_s = NULL, *price_s = NULL;
	long long qty, price = -1;
	unsigned long long affected = 0;
	struct db *db = NULL;
	enum db_status st;
	int rc = CTL_ERROR;

	for (int i = 1; i < ctl->argc; i++) {
		if (strcmp(ctl->argv[i], "--price") == 0 && i + 1 < ctl->argc)
			price_s = ctl->argv[++i];
		else if (sku == NULL)
			sku = ctl->argv[i];
		else if (qty_s == NULL)
			qty_s = ctl->argv[i];
		else
			return ctl_usage(ctl, "stock set: unexpected argument '%s'", ctl->argv[i]);
	}
	if (sku == NULL || qty_s == NULL)
		return ctl_usage(ctl, "stock set: SKU and QTY are required");
	if (strlen(sku) == 0 || strlen(sku) > 64)
		return ctl_usage(ctl, "stock set: a SKU has 1 to 64 bytes");
	if (parse_count(qty_s, INT_MAX, &qty) != 0)
		return ctl_usage(ctl, "stock set: QTY must be a whole number from 0 to %d", INT_MAX);
	if (price_s != NULL && parse_count(price_s, LLONG_MAX / 100000, &price) != 0)
		return ctl_usage(ctl, "stock set: --price must be a whole number of cents >= 0");
	if (ctl_db(ctl, DOM_INVENTORY, &db) != CTL_OK)
		return CTL_ERROR;
	if (price >= 0) {
		struct db_param p[3] = { DBP_STR(sku), DBP_INT(qty), DBP_INT(price) };

		st = db_run(db, "INSERT INTO stock (sku, available, price_cents) VALUES (?, ?, ?) "
				"ON DUPLICATE KEY UPDATE available = VALUES(available), "
				"price_cents = VALUES(price_cents)", p, 3, &affected, NULL);
	} else {
		struct db_param p[2] = { DBP_INT(qty), DBP_STR(sku) };

		st = db_run(db, "UPDATE stock SET available = ? WHERE sku = ?", p, 2, &affected, NULL);
		if (st == DB_OK && affected == 0) {
			struct db_rows rows = { 0 };
			struct db_param k[1] = { DBP_STR(sku) };

			/* 0 rows changed: unknown SKU, or the same quantity again. */
			if (db_select(db, "SELECT 1 FROM stock WHERE sku = ?", k, 1, &rows) == DB_OK &&
			    rows.nrows == 0) {
				db_rows_free(&rows);
				rc = ctl_error("stock set: unknown SKU \"%s\": a new SKU needs --price", sku);
				goto out;
			}
			db_rows_free(&rows);
		}
	}
	if (st != DB_OK) {
		rc = ctl_error("stock set %s: %s", sku, db_error(db));
		goto out;
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:s, s:I}", "sku", sku, "available", (json_int_t)qty));
	else
		printf("%s: %lld available\n", sku, qty);
	rc = CTL_OK;
out:
	db_close(db);
	return rc;
}

static int stock_show(struct ctl *ctl)
{
	struct db *db = NULL;
	struct db_rows rows = { 0 };
	json_t *items;
	int rc = CTL_ERROR;

	if (ctl->argc != 1)
		return ctl_usage(ctl, "stock show takes no arguments");
	if (ctl_db(ctl, DOM_INVENTORY, &db) != CTL_OK)
		return CTL_ERROR;
	if (db_select(db, "SELECT sku, available, price_cents FROM stock ORDER BY sku", NULL, 0,
		      &rows) != DB_OK) {
		rc = ctl_error("stock show: %s", db_error(db));
		goto out;
	}
	items = json_array();
	if (!ctl->json)
		printf("%-24s %10s %12s\n", "SKU", "AVAILABLE", "PRICE_CENTS");
	for (int r = 0; r < rows.nrows; r++) {
		if (ctl->json)
			json_array_append_new(items, json_pack("{s:s, s:I, s:I}", "sku",
				db_rows_get(&rows, r, 0), "available",
				(json_int_t)atoll(db_rows_get(&rows, r, 1)), "price_cents",
				(json_int_t)atoll(db_rows_get(&rows, r, 2))));
		else
			printf("%-24s %10s %12s\n", db_rows_get(&rows, r, 0),
			       db_rows_get(&rows, r, 1), db_rows_get(&rows, r, 2));
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:o}", "stock", items));
	else
		json_decref(items);
	rc = CTL_OK;
out:
	db_rows_free(&rows);
	db_close(db);
	return rc;
}

static const struct ctl_help stock_help[] = {
	{ "set",
	  "usage: orderflowctl stock set SKU QTY [--price CENTS]\n\n"
	  "Sets (does not add to) the quantity available of SKU.\n"
	  "  SKU            1 to 64 bytes\n"
	  "  QTY            a whole number from 0\n"
	  "  --price CENTS  the unit price in cents; required for a SKU not in the\n"
	  "                 catalogue yet, and then it is added\n\n"
	  "--json prints {\"sku\": SKU, \"available\": QTY}.\n",
	  stock_set },
	{ "show",
	  "usage: orderflowctl stock show\n\n"
	  "The catalogue, by SKU. Takes no flags.\n\n"
	  "--json prints {\"stock\": [{\"sku\", \"available\", \"price_cents\"}, ...]}:\n"
	  "  sku          the SKU\n"
	  "  available    the quantity that can still be reserved\n"
	  "  price_cents  the unit price in cents\n",
	  stock_show },
	{ NULL, NULL, NULL },
};

const struct ctl_command ctl_stock_cmd = {
	.group = "stock",
	.help = stock_help,
	.usage = "  orderflowctl stock set SKU QTY [--price CENTS]  set (not add) the available quantity\n"
		 "  orderflowctl stock show                      the catalogue\n",
};
