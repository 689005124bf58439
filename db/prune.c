/* prune.c: the pruner's lock and counters (see db/prune.h). */
#include "db/prune.h"

#include "db/db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum db_status prune_lock(struct db *db, int *held_r)
{
	struct db_rows rows;
	enum db_status st;
	const char *v;

	*held_r = 0;
	/* The lock's name is server-wide: the database's name makes it ours. */
	st = db_select(db, "SELECT GET_LOCK(CONCAT('orderflow.prune.', DATABASE()), 0)", NULL, 0,
		       &rows);
	if (st != DB_OK) {
		db_error_context(db, "taking the pruner's lock (GET_LOCK)");
		return st;
	}
	v = db_rows_get(&rows, 0, 0);
	*held_r = v != NULL && strcmp(v, "1") == 0;
	db_rows_free(&rows);
	return DB_OK;
}

enum db_status prune_count(struct db *db, const char *table, unsigned long long rows)
{
	struct db_param p[2] = { DBP_STR(table), DBP_INT((long long)rows) };
	enum db_status st;

	st = db_run(db, "INSERT INTO prune_stats (table_name, rows_pruned, last_pruned_at) "
			"VALUES (?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
			"rows_pruned = rows_pruned + VALUES(rows_pruned), "
			"last_pruned_at = VALUES(last_pruned_at)", p, 2, NULL, NULL);
	if (st != DB_OK)
		db_error_context(db, "counting %llu pruned %s rows in prune_stats", rows, table);
	return st;
}

enum db_status prune_totals(struct db *db, struct prune_total *inbox,
			    struct prune_total *outbox)
{
	struct db_rows rows;
	enum db_status st;

	memset(inbox, 0, sizeof(*inbox));
	memset(outbox, 0, sizeof(*outbox));
	st = db_select(db, "SELECT table_name, rows_pruned, "
			   "DATE_FORMAT(last_pruned_at, '%Y-%m-%dT%H:%i:%sZ') FROM prune_stats",
		       NULL, 0, &rows);
	if (st != DB_OK) {
		db_error_context(db, "reading prune_stats");
		return st;
	}
	for (int r = 0; r < rows.nrows; r++) {
		const char *t = db_rows_get(&rows, r, 0), *n = db_rows_get(&rows, r, 1);
		const char *at = db_rows_get(&rows, r, 2);
		struct prune_total *pt = NULL;

		if (t != NULL && strcmp(t, "inbox") == 0)
			pt = inbox;
		else if (t != NULL && strcmp(t, "outbox") == 0)
			pt = outbox;
		if (pt == NULL)
			continue;
		pt->rows = n != NULL ? strtoull(n, NULL, 10) : 0;
		snprintf(pt->last_at, sizeof(pt->last_at), "%s", at != NULL ? at : "");
	}
	db_rows_free(&rows);
	return DB_OK;
}
