/*
 * outbox.c: events waiting for the relay (see db/outbox.h).
 *
 * The index (published_at, failed_at, retry_at, id) serves the queries that
 * matter: the relay's claim (all three NULL, in id order: one contiguous
 * stretch of the index, read in order, no sort), the retry claim and the
 * set-aside count (ranges of it), the prune of published rows (published_at
 * < cut-off, oldest first) and the lag (covered by the index).
 */
#include "db/outbox.h"

#include "db/db_int.h"
#include "db/event_log.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void outbox_log_events(struct db *db)
{
	db->log_events = 1;
}

/* Inserts ev; relay_after_ms > 0 holds the row back from the relay that long
 * (outbox.relay_after). Hands the encoded body to *body_r when it is not NULL. */
static enum db_status outbox_insert(struct db *db, const struct envelope *ev,
				    long relay_after_ms, unsigned long long *id_r, char **body_r)
{
	char *body = envelope_encode(ev);
	enum db_status st;

	if (body == NULL)
		return dbi_fail_own(db, "insert into outbox (event %s, %s): encoding the envelope "
				    "failed (out of memory)", ev->event_id, ev->event_type);
	if (relay_after_ms > 0) {
		struct db_param p[4] = { DBP_STR(ev->event_id), DBP_STR(ev->event_type),
					 DBP_STR(body), DBP_INT((long long)relay_after_ms * 1000) };

		st = db_run(db, "INSERT INTO outbox (event_id, routing_key, body, created_at, "
				"relay_after) VALUES (?, ?, ?, UTC_TIMESTAMP(6), "
				"UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND)", p, 4, NULL, id_r);
	} else {
		struct db_param p[3] = { DBP_STR(ev->event_id), DBP_STR(ev->event_type),
					 DBP_STR(body) };

		st = db_run(db, "INSERT INTO outbox (event_id, routing_key, body, created_at) "
				"VALUES (?, ?, ?, UTC_TIMESTAMP(6))", p, 3, NULL, id_r);
	}
	if (st != DB_OK)
		db_error_context(db, "insert into outbox (event %s, %s)", ev->event_id,
				 ev->event_type);
	else if (db->log_events)
		st = event_log_append(db, ev, body, strlen(body));
	if (st == DB_OK && body_r != NULL)
		*body_r = body;
	else
		free(body);
	return st;
}

enum db_status outbox_append(struct db *db, const struct envelope *ev,
			     unsigned long long *id_r)
{
	return outbox_insert(db, ev, 0, id_r, NULL);
}

enum db_status outbox_append_held(struct db *db, const struct envelope *ev, long grace_ms,
				  struct outbox_row *row_r)
{
	enum db_status st;

	memset(row_r, 0, sizeof(*row_r));
	row_r->routing_key = strdup(ev->event_type);
	if (row_r->routing_key == NULL)
		return dbi_fail_own(db, "insert into outbox (event %s, %s): out of memory",
				    ev->event_id, ev->event_type);
	st = outbox_insert(db, ev, grace_ms, &row_r->id, &row_r->body);
	if (st != DB_OK) {
		free(row_r->routing_key);
		row_r->routing_key = NULL;
		return st;
	}
	snprintf(row_r->event_id, sizeof(row_r->event_id), "%s", ev->event_id);
	row_r->body_len = strlen(row_r->body);
	return DB_OK;
}

void outbox_row_free(struct outbox_row *row)
{
	free(row->routing_key);
	free(row->body);
	memset(row, 0, sizeof(*row));
}

/* Moves the rows' text into the batch (no copy of the bodies). */
static enum db_status outbox_take(struct db *db, struct db_rows *rows,
				  struct outbox_batch *batch)
{
	if (rows->nrows == 0)
		return DB_OK;
	batch->rows = calloc((size_t)rows->nrows, sizeof(*batch->rows));
	if (batch->rows == NULL)
		return dbi_fail_own(db, "claiming outbox rows: out of memory");
	for (int r = 0; r < rows->nrows; r++) {
		struct outbox_row *o = &batch->rows[batch->count];
		char **cell = &rows->cells[(size_t)r * (size_t)rows->ncols];

		if (cell[0] == NULL || cell[1] == NULL || cell[2] == NULL || cell[3] == NULL ||
		    cell[4] == NULL ||
		    strlen(cell[1]) > ENVELOPE_ID_LEN)
			return dbi_fail_own(db, "claiming outbox rows: row %s is malformed",
					    cell[0] != NULL ? cell[0] : "(null id)");
		o->id = strtoull(cell[0], NULL, 10);
		snprintf(o->event_id, sizeof(o->event_id), "%s", cell[1]);
		o->routing_key = cell[2];
		o->body = cell[3];
		o->body_len = strlen(cell[3]); /* JSON text: no NUL inside */
		o->attempts = atoi(cell[4]);
		o->unlogged = rows->ncols > 5 && cell[5] != NULL && strcmp(cell[5], "1") == 0;
		cell[2] = cell[3] = NULL;
		batch->count++;
	}
	return DB_OK;
}

/* The event_log row of each claimed row its writer did not log (written by
 * a process on log_from = "queue": orderflowctl with another config file, or
 * before a restart), before it goes out past the narrowed audit queue. A
 * duplicate key is another relay (or host) that logged it first. A body this
 * build cannot read (a newer schema_version from a newer host) still goes
 * out, so the order is not held up, and is logged as a warning: the audit
 * domain would have parked it. */
static enum db_status outbox_log_claimed(struct db *db, struct outbox_batch *batch)
{
	for (int i = 0; i < batch->count; i++) {
		struct outbox_row *o = &batch->rows[i];
		struct envelope ev;
		enum db_status st;
		char err[256];

		if (!o->unlogged)
			continue;
		if (envelope_decode(o->body, o->body_len, o->body_len, &ev, err, sizeof(err)) !=
		    ENV_OK) {
			log_warn("event_log: outbox row %llu (event %s, %s) is published without its "
				 "event_log row: %s", o->id, o->event_id, o->routing_key, err);
			continue;
		}
		st = event_log_append(db, &ev, o->body, o->body_len);
		envelope_clear(&ev);
		if (st == DB_OK)
			batch->logged++;
		else if (st == DB_DUPLICATE)
			dbi_clear_error(db);
		else
			return st;
	}
	return DB_OK;
}

/* rest: the claim after its FROM (outbox o). With log_events, whether each
 * row has its event_log row comes along. */
static enum db_status outbox_claim_sql(struct db *db, const char *rest, int limit,
				       struct outbox_batch *batch)
{
	struct db_param p[1] = { DBP_INT(limit) };
	struct db_rows rows;
	enum db_status st;
	char sql[640];

	memset(batch, 0, sizeof(*batch));
	if (limit < 1)
		return dbi_fail_own(db, "claiming outbox rows: limit %d must be positive", limit);
	if (db->log_events)
		snprintf(sql, sizeof(sql), "SELECT o.id, o.event_id, o.routing_key, o.body, "
			 "o.attempts, l.event_id IS NULL FROM outbox o LEFT JOIN event_log l "
			 "ON l.event_id = o.event_id %s", rest);
	else
		snprintf(sql, sizeof(sql), "SELECT o.id, o.event_id, o.routing_key, o.body, "
			 "o.attempts FROM outbox o %s", rest);
	st = db_select(db, sql, p, 1, &rows);
	if (st != DB_OK) {
		db_error_context(db, "claiming up to %d outbox rows", limit);
		return st;
	}
	st = outbox_take(db, &rows, batch);
	db_rows_free(&rows);
	if (st == DB_OK && db->log_events)
		st = outbox_log_claimed(db, batch);
	if (st != DB_OK)
		outbox_batch_free(batch);
	return st;
}

enum db_status outbox_claim(struct db *db, int limit, struct outbox_batch *batch)
{
	return outbox_claim_sql(db, "WHERE o.published_at IS NULL AND o.failed_at IS NULL "
				    "AND o.retry_at IS NULL AND (o.relay_after IS NULL OR "
				    "o.relay_after <= UTC_TIMESTAMP(6)) "
				    "ORDER BY o.id LIMIT ? FOR UPDATE SKIP LOCKED", limit, batch);
}

enum db_status outbox_claim_retry(struct db *db, struct outbox_batch *batch)
{
	return outbox_claim_sql(db, "WHERE o.published_at IS NULL AND o.failed_at IS NULL "
				    "AND o.retry_at <= UTC_TIMESTAMP(6) "
				    "ORDER BY o.retry_at LIMIT ? FOR UPDATE SKIP LOCKED", 1, batch);
}

#define MARK_CHUNK 16
#define MARK_SQL_HEAD "UPDATE outbox SET published_at = UTC_TIMESTAMP(6), retry_at = NULL " \
	"WHERE published_at IS NULL AND "

enum db_status outbox_mark_published(struct db *db, const unsigned long long *ids, int n)
{
	struct db_param p[MARK_CHUNK];
	enum db_status st;
	int i = 0;

	/* Chunks of 16 ids, then of 4, then one by one: three fixed statements,
	 * all cached, and at most 6 round trips for the tail of a batch. */
	while (i < n) {
		int k = n - i >= MARK_CHUNK ? MARK_CHUNK : n - i >= 4 ? 4 : 1;

		for (int j = 0; j < k; j++)
			p[j] = DBP_INT((long long)ids[i + j]);
		if (k == MARK_CHUNK)
			st = db_run(db, MARK_SQL_HEAD "id IN (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", p, k,
				    NULL, NULL);
		else if (k == 4)
			st = db_run(db, MARK_SQL_HEAD "id IN (?,?,?,?)", p, k, NULL, NULL);
		else
			st = db_run(db, MARK_SQL_HEAD "id = ?", p, 1, NULL, NULL);
		if (st != DB_OK) {
			db_error_context(db, "marking outbox rows published (ids %llu...)", ids[i]);
			return st;
		}
		i += k;
	}
	return DB_OK;
}

enum db_status outbox_refused(struct db *db, unsigned long long id, int attempts,
			      const char *reason, long retry_ms)
{
	struct db_param p[4] = { DBP_INT(attempts), DBP_STR(reason), DBP_INT(retry_ms * 1000),
				 DBP_INT((long long)id) };
	enum db_status st;

	if (retry_ms >= 0)
		st = db_run(db, "UPDATE outbox SET attempts = ?, last_error = LEFT(?, 512), "
				"retry_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND WHERE id = ?",
			    p, 4, NULL, NULL);
	else
		st = db_run(db, "UPDATE outbox SET attempts = ?, last_error = LEFT(?, 512), "
				"retry_at = NULL, failed_at = UTC_TIMESTAMP(6) WHERE id = ?",
			    (struct db_param[3]){ p[0], p[1], p[3] }, 3, NULL, NULL);
	if (st != DB_OK)
		db_error_context(db, "recording refusal %d of outbox row %llu", attempts, id);
	return st;
}

void outbox_batch_free(struct outbox_batch *batch)
{
	for (int i = 0; i < batch->count; i++)
		outbox_row_free(&batch->rows[i]);
	free(batch->rows);
	memset(batch, 0, sizeof(*batch));
}

enum db_status outbox_prune(struct db *db, long retention_s, int batch, int *deleted_r)
{
	enum db_status st = dbi_prune(db, "DELETE FROM outbox WHERE published_at IS NOT NULL "
					  "AND published_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
					  "ORDER BY published_at LIMIT ?", retention_s, batch, deleted_r);

	if (st != DB_OK)
		db_error_context(db, "pruning outbox rows published over %ld s ago", retention_s);
	return st;
}

/* The age is the oldest row's by id, the row the relay takes next: one index
 * lookup, where MIN(created_at) would read every pending row. Refused rows
 * are counted as pending (until set aside), not aged: they wait on purpose. */
enum db_status outbox_lag(struct db *db, double *seconds_r, long long *pending_r)
{
	struct db_rows rows;
	enum db_status st;
	const char *count, *age;

	*seconds_r = 0;
	*pending_r = 0;
	st = db_select(db, "SELECT COUNT(*), (SELECT TIMESTAMPDIFF(MICROSECOND, o.created_at, "
			   "UTC_TIMESTAMP(6)) FROM outbox o WHERE o.published_at IS NULL "
			   "AND o.failed_at IS NULL AND o.retry_at IS NULL ORDER BY o.id LIMIT 1) "
			   "FROM outbox WHERE published_at IS NULL AND failed_at IS NULL",
		       NULL, 0, &rows);
	if (st != DB_OK) {
		db_error_context(db, "measuring the outbox lag");
		return st;
	}
	count = db_rows_get(&rows, 0, 0);
	age = db_rows_get(&rows, 0, 1);
	if (count != NULL)
		*pending_r = strtoll(count, NULL, 10);
	if (age != NULL && strtod(age, NULL) > 0)
		*seconds_r = strtod(age, NULL) / 1e6;
	db_rows_free(&rows);
	return DB_OK;
}

enum db_status outbox_set_aside(struct db *db, long long *count_r)
{
	struct db_rows rows;
	enum db_status st;
	const char *v;

	*count_r = 0;
	st = db_select(db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL "
			   "AND failed_at IS NOT NULL", NULL, 0, &rows);
	if (st != DB_OK) {
		db_error_context(db, "counting the outbox rows set aside");
		return st;
	}
	v = db_rows_get(&rows, 0, 0);
	if (v != NULL)
		*count_r = strtoll(v, NULL, 10);
	db_rows_free(&rows);
	return DB_OK;
}
