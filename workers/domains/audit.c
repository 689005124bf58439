/*
 * audit: the append-only history. Bound to "#", it writes every event once
 * into event_log (key event_id); a second copy of an event is a duplicate
 * key and changes nothing. `orderflowctl order show` and the read model are
 * built from this table.
 * The body column holds the envelope as received: the delivery's own bytes.
 * With domains.audit.log_from = "outbox" the emitting transaction writes the
 * row instead (db/outbox.c) and this queue is bound only to the events no
 * other domain takes (so that every event has a queue): those copies, and
 * what waited from before, are duplicates here.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "workers/domains/domains.h"
#include "db/event_log.h"
#include "db/sqltime.h"

static enum handler_result audit_handle(struct handler_ctx *ctx)
{
	const struct envelope *ev = ctx->ev;
	char occurred[SQLTIME_LEN];
	enum handler_result hr = HANDLER_OK;
	enum db_status st;

	if (sqltime_from_iso(ev->occurred_at, occurred) != 0)
		return handler_reject(ctx, "audit: occurred_at \"%s\" is not an ISO 8601 UTC time",
				      ev->occurred_at);
	st = event_log_append(ctx->db, ev, ctx->body, ctx->body_len);
	if (st == DB_DUPLICATE)
		log_debug("audit: event %s is in the log already", ev->event_id);
	else if (st != DB_OK)
		hr = handler_db_failed(ctx, "audit");
	return hr;
}

/* One row for every event: bound to "#", it takes whatever is published
 * (domain_keys() narrows the binding with log_from = "outbox"). */
static const struct domain_event audit_events[] = {
	{ "#", audit_handle, DOM_EV_BATCH | DOM_EV_LOG_QUEUE },
};

const struct domain audit_domain = {
	.name = "audit",
	DOMAIN_TABLE(audit_events),
};
