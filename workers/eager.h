/*
 * eager: a worker publishes the events it has just committed (eager
 * dispatch, relay.grace_ms > 0; DESIGN.md "Eager dispatch").
 *
 * In the transaction, handler_emit() writes each event to the outbox held
 * back from the relay for the grace (outbox_append_held) and keeps the row
 * here (eager_add). After the commit, eager_send() publishes them on the
 * worker's publishing link without waiting for the confirms. eager_collect()
 * picks up the confirms that have arrived (at the next transaction's BEGIN,
 * without waiting; when idle or before the link is used for anything else,
 * waiting). The confirmed ids are marked published by eager_mark() inside
 * the worker's next transaction (eager_marked() once it ended), or alone by
 * eager_flush(). Anything that goes wrong only leaves rows unpublished: the
 * relay takes them when the grace has passed, and the consumers' inbox
 * absorbs a second copy.
 */
#ifndef ORDERFLOW_EAGER_H
#define ORDERFLOW_EAGER_H

#include <stdint.h>

#include "db/db.h"
#include "db/outbox.h"

struct amqp_link;

struct eager_sent {
	unsigned long long id;
	char event_id[ENVELOPE_ID_LEN + 1];
	uint64_t tag;
	int refused;
};

struct eager {
	struct outbox_row *rows;      /* written in the open transaction */
	int nrows, cap_rows;
	struct eager_sent *sent;      /* published, confirms due */
	int nsent, cap_sent;
	unsigned long long *marks;    /* confirmed, not marked published yet */
	int nmarks, cap_marks;
	int marking;                  /* marks[0..marking) are in the open transaction */
	unsigned long long published; /* confirmed in all */
};

/* Keeps row (taken over: the caller's copy is cleared). -1: out of memory,
 * the row is freed and stays the relay's. */
int eager_add(struct eager *e, struct outbox_row *row);
/* The transaction rolled back: its rows were never written. */
void eager_discard(struct eager *e);
/* After the commit: publishes the rows (mandatory, persistent) on out, a
 * link in confirm mode. -1 when a send failed: drop the link (eager_lost). */
int eager_send(struct eager *e, struct amqp_link *out);
/* Takes the confirms that arrived (wait = 0) or all that are due (wait = 1);
 * confirmed rows become marks. -1 when the link failed: drop it. */
int eager_collect(struct eager *e, struct amqp_link *out, int wait);
/* The publishing link is gone: its unconfirmed rows are the relay's. */
void eager_lost(struct eager *e);
/* In the caller's open transaction: marks the confirmed rows published. */
enum db_status eager_mark(struct eager *e, struct db *db);
/* That transaction committed (1) or not (0). */
void eager_marked(struct eager *e, int committed);
/* Outside a transaction: marks what is confirmed, in autocommit. */
enum db_status eager_flush(struct eager *e, struct db *db);
void eager_free(struct eager *e);

#endif
