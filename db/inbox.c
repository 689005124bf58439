/*
 * inbox.c: the idempotency record (see db/inbox.h).
 *
 * processed_at is written as UTC_TIMESTAMP(6) rather than left to the
 * column's default, so the row's time does not depend on a session's
 * time_zone. The prune walks the processed_at index oldest first, in one
 * small batch, so it locks few rows and returns quickly.
 */
#include "db/inbox.h"

#include "db/db_int.h"

enum db_status inbox_insert(struct db *db, const char *consumer, const char *event_id)
{
	struct db_param p[2] = { DBP_STR(consumer), DBP_STR(event_id) };
	enum db_status st;

	st = db_run(db, "INSERT INTO inbox (consumer, event_id, processed_at) "
			"VALUES (?, ?, UTC_TIMESTAMP(6))", p, 2, NULL, NULL);
	if (st != DB_OK)
		db_error_context(db, "insert into inbox (consumer %s, event %s)", consumer, event_id);
	return st;
}

enum db_status inbox_prune(struct db *db, long retention_s, int batch, int *deleted_r)
{
	struct db_param p[2] = { DBP_INT(retention_s), DBP_INT(batch) };
	unsigned long long n = 0;
	enum db_status st;

	if (deleted_r != NULL)
		*deleted_r = 0;
	if (retention_s < 0 || batch < 1)
		return dbi_fail_own(db, "inbox prune: retention %ld s and batch %d: both must be "
				    "positive", retention_s, batch);
	st = db_run(db, "DELETE FROM inbox WHERE processed_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
			"ORDER BY processed_at LIMIT ?", p, 2, &n, NULL);
	if (st != DB_OK) {
		db_error_context(db, "pruning inbox rows older than %ld s", retention_s);
		return st;
	}
	if (deleted_r != NULL)
		*deleted_r = (int)n;
	return DB_OK;
}
