#include "db/inbox.h"

enum db_status inbox_insert(struct db *db, const char *consumer, const char *event_id)
{
	struct db_param p[2] = { DBP_STR(consumer), DBP_STR(event_id) };

	return db_run(db, "INSERT INTO inbox (consumer, event_id, processed_at) "
			  "VALUES (?, ?, UTC_TIMESTAMP(6))", p, 2, NULL, NULL);
}

enum db_status inbox_prune(struct db *db, long retention_s, int batch, int *deleted_r)
{
	struct db_param p[2] = { DBP_INT(retention_s), DBP_INT(batch) };
	unsigned long long n = 0;
	enum db_status st;

	st = db_run(db, "DELETE FROM inbox WHERE processed_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
			"ORDER BY processed_at LIMIT ?", p, 2, &n, NULL);
	if (deleted_r != NULL)
		*deleted_r = (int)n;
	return st;
}
