/*
 * event_log: the append-only history of every event (DESIGN.md, "Who writes
 * event_log"), written by the audit domain from a delivery or, with
 * domains.audit.log_from = "outbox", by the transaction that emits the event.
 */
#ifndef ORDERFLOW_EVENT_LOG_H
#define ORDERFLOW_EVENT_LOG_H

#include <stddef.h>

#include "core/envelope.h"
#include "db/db.h"

/* Inserts ev's row in the caller's transaction; body (len bytes) is the
 * envelope as published. DB_DUPLICATE: the event is in the log already. */
enum db_status event_log_append(struct db *db, const struct envelope *ev, const char *body,
				size_t len);

#endif
