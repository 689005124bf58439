#include "db/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum db_status outbox_append(struct db *db, const struct envelope *ev,
			     unsigned long long *id_r)
{
	char *body = envelope_encode(ev);
	enum db_status st;

	if (body == NULL)
		return DB_FATAL;
	{
		struct db_param p[3] = { DBP_STR(ev->event_id), DBP_STR(ev->event_type),
					 DBP_STR(body) };

		st = db_run(db, "INSERT INTO outbox (event_id, routing_key, body, created_at) "
				"VALUES (?, ?, ?, UTC_TIMESTAMP(6))", p, 3, NULL, id_r);
	}
	free(body);
	return st;
}

enum db_status outbox_claim(struct db *db, int limit, struct outbox_batch *batch)
{
	struct db_param p[1] = { DBP_INT(limit) };
	struct db_rows rows;
	enum db_status st;

	memset(batch, 0, sizeof(*batch));
	st = db_select(db, "SELECT id, event_id, routing_key, body FROM outbox "
			   "WHERE published_at IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
		       p, 1, &rows);
	if (st != DB_OK)
		return st;
	if (rows.nrows > 0) {
		batch->rows = calloc((size_t)rows.nrows, sizeof(*batch->rows));
		if (batch->rows == NULL) {
			db_rows_free(&rows);
			return DB_FATAL;
		}
	}
	for (int r = 0; r < rows.nrows; r++) {
		struct outbox_row *o = &batch->rows[r];
		char **cell = &rows.cells[(size_t)r * 4];

		o->id = strtoull(cell[0], NULL, 10);
		snprintf(o->event_id, sizeof(o->event_id), "%s", cell[1]);
		/* Take the strings over instead of copying them. */
		o->routing_key = cell[2];
		o->body = cell[3];
		o->body_len = strlen(cell[3]);
		cell[2] = cell[3] = NULL;
	}
	batch->count = rows.nrows;
	db_rows_free(&rows);
	return DB_OK;
}

enum db_status outbox_mark_published(struct db *db, const unsigned long long *ids, int n)
{
	for (int i = 0; i < n; i++) {
		struct db_param p[1] = { DBP_INT((long long)ids[i]) };
		enum db_status st = db_run(db, "UPDATE outbox SET published_at = UTC_TIMESTAMP(6) "
					       "WHERE id = ? AND published_at IS NULL",
					   p, 1, NULL, NULL);

		if (st != DB_OK)
			return st;
	}
	return DB_OK;
}

void outbox_batch_free(struct outbox_batch *batch)
{
	for (int i = 0; i < batch->count; i++) {
		free(batch->rows[i].routing_key);
		free(batch->rows[i].body);
	}
	free(batch->rows);
	memset(batch, 0, sizeof(*batch));
}

enum db_status outbox_prune(struct db *db, long retention_s, int batch, int *deleted_r)
{
	struct db_param p[2] = { DBP_INT(retention_s), DBP_INT(batch) };
	unsigned long long n = 0;
	enum db_status st;

	st = db_run(db, "DELETE FROM outbox WHERE published_at IS NOT NULL AND "
			"published_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND ORDER BY id LIMIT ?",
		    p, 2, &n, NULL);
	if (deleted_r != NULL)
		*deleted_r = (int)n;
	return st;
}

enum db_status outbox_lag(struct db *db, double *seconds_r, long long *pending_r)
{
	struct db_rows rows;
	enum db_status st;

	st = db_select(db, "SELECT COUNT(*), COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), "
			   "UTC_TIMESTAMP(6)), 0) FROM outbox WHERE published_at IS NULL",
		       NULL, 0, &rows);
	if (st != DB_OK)
		return st;
	*pending_r = rows.nrows > 0 ? atoll(db_rows_get(&rows, 0, 0)) : 0;
	*seconds_r = rows.nrows > 0 ? atof(db_rows_get(&rows, 0, 1)) / 1e6 : 0;
	db_rows_free(&rows);
	return DB_OK;
}
