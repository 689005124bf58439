/*
 * outbox: events waiting to be published, written in the same transaction as
 * the effects that emit them.
 *
 * outbox_append() encodes the envelope and inserts it (the caller's
 * transaction). The relay side claims unpublished rows in id order with
 * FOR UPDATE SKIP LOCKED (so several relays never take the same row), and marks
 * them published only after the broker confirmed them.
 */
#ifndef ORDERFLOW_OUTBOX_H
#define ORDERFLOW_OUTBOX_H

#include "core/envelope.h"
#include "db/db.h"

struct outbox_row {
	unsigned long long id;
	char event_id[ENVELOPE_ID_LEN + 1];
	char *routing_key;
	char *body;
	size_t body_len;
	int attempts;          /* refusals by the broker so far */
	int unlogged;          /* claimed without an event_log row (outbox_log_events) */
};

struct outbox_batch {
	struct outbox_row *rows;
	int count;
	int logged;            /* event_log rows the claim wrote (outbox_log_events) */
};

/* Appends ev with routing key = ev->event_type; *id_r (may be NULL) gets its id. */
enum db_status outbox_append(struct db *db, const struct envelope *ev,
			     unsigned long long *id_r);
/* Same, for a writer that publishes the row itself after its commit: the
 * relay leaves it alone for grace_ms (outbox.relay_after), and *row_r gets
 * its id, routing key and body to publish (outbox_row_free() them). */
enum db_status outbox_append_held(struct db *db, const struct envelope *ev, long grace_ms,
				  struct outbox_row *row_r);
void outbox_row_free(struct outbox_row *row);

/* domains.audit.log_from = "outbox", set by whoever uses the connection to
 * emit (the workers, the order intake) or to publish (the relay): from now
 * on every outbox insert on db also writes the event's event_log row, in the
 * same transaction, and a claim writes the row of each claimed event that
 * has none yet (its writer ran with "queue"), so that nothing goes out
 * unlogged past the audit queue, which no longer takes every event. */
void outbox_log_events(struct db *db);

/* Inside a transaction the caller opened: locks up to `limit` unpublished rows,
 * oldest id first, skipping rows another relay holds, rows the broker
 * refused (waiting for a retry alone, or set aside) and rows still in the
 * grace of the worker that wrote them (relay_after). */
enum db_status outbox_claim(struct db *db, int limit, struct outbox_batch *batch);
/* Same, for the one refused row whose retry_at has come (oldest first). */
enum db_status outbox_claim_retry(struct db *db, struct outbox_batch *batch);
/* Marks rows published (published_at = now) by id, those not marked yet; in
 * the caller's transaction, or alone in autocommit. */
enum db_status outbox_mark_published(struct db *db, const unsigned long long *ids, int n);
/* Records a refusal of row `id`: attempts and last_error (cut to 512 bytes);
 * then retry_at = now + retry_ms, or, with retry_ms < 0, failed_at = now (set
 * aside: no relay tries it again until an operator clears failed_at). */
enum db_status outbox_refused(struct db *db, unsigned long long id, int attempts,
			      const char *reason, long retry_ms);
void outbox_batch_free(struct outbox_batch *batch);

/* Deletes published rows older than retention_s, at most `batch` of them,
 * oldest first (one short autocommit statement). */
enum db_status outbox_prune(struct db *db, long retention_s, int batch, int *deleted_r);
/* Age in seconds of the oldest unpublished row, 0 when none; *pending_r
 * counts every unpublished row that is not set aside. */
enum db_status outbox_lag(struct db *db, double *seconds_r, long long *pending_r);
/* Rows set aside after too many refusals. */
enum db_status outbox_set_aside(struct db *db, long long *count_r);

#endif
