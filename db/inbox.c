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
	enum db_status st = dbi_prune(db, "DELETE FROM inbox WHERE processed_at < "
					  "UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
					  "ORDER BY processed_at LIMIT ?", retention_s, batch, deleted_r);

	if (st != DB_OK)
		db_error_context(db, "pruning inbox rows older than %ld s", retention_s);
	return st;
}
