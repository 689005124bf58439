/* event_log: see db/event_log.h. */
#include "db/event_log.h"

#include "db/db_int.h"
#include "db/sqltime.h"

enum db_status event_log_append(struct db *db, const struct envelope *ev, const char *body,
				size_t len)
{
	char occurred[SQLTIME_LEN];
	enum db_status st;

	if (sqltime_from_iso(ev->occurred_at, occurred) != 0)
		return dbi_fail_own(db, "insert into event_log (event %s, %s): occurred_at \"%s\" "
				    "is not an ISO 8601 UTC time", ev->event_id, ev->event_type,
				    ev->occurred_at);
	{
		struct db_param p[8] = {
			DBP_STR(ev->event_id), DBP_STR(ev->event_type), DBP_STR(ev->aggregate_type),
			DBP_STR(ev->aggregate_id), DBP_STR(ev->correlation_id),
			DBP_STR(ev->causation_id), DBP_STR(occurred), DBP_STRN(body, len),
		};

		st = db_run(db, "INSERT INTO event_log (event_id, event_type, aggregate_type, "
				"aggregate_id, correlation_id, causation_id, occurred_at, "
				"recorded_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, "
				"UTC_TIMESTAMP(6), ?)", p, 8, NULL, NULL);
	}
	if (st != DB_OK && st != DB_DUPLICATE)
		db_error_context(db, "insert into event_log (event %s, %s)", ev->event_id,
				 ev->event_type);
	return st;
}
