/*
 * dom_compensation: the rules of order.cancelled's compensations, shared by
 * the domains that keep one row per order (inventory, payment, shipping).
 */
#ifndef ORDERFLOW_DOM_COMPENSATION_H
#define ORDERFLOW_DOM_COMPENSATION_H

#include "workers/domain.h"

/* What order.cancelled undoes in a domain that keeps one row per order. */
struct dom_cancel_rules {
	const char *row;          /* "payment", "shipment": for the log and errors */
	const char *active;       /* the status a compensation undoes */
	const char *verb;         /* "refund", "cancel": "nothing to VERB" */
	const char *never;        /* why no row means nothing to do, for the log */
	const char *stage;        /* "cancelled before STAGE: tombstone written" */
	enum db_status (*lock)(struct db *db, const char *id, struct db_rows *rows);
	/* Undoes the active row (rows: what lock read). */
	enum handler_result (*undo)(struct handler_ctx *ctx, const char *id,
				    const struct db_rows *rows);
	/* Inserts the tombstone row: DB_DUPLICATE when a concurrent writer
	 * created the row meanwhile. */
	enum db_status (*tombstone)(struct handler_ctx *ctx, const char *id, const char *customer);
};

/* order.cancelled for such a domain: reads the order reference, locks the
 * row and undoes it when active, or writes a tombstone when the event that
 * would create the row may still come; when a concurrent writer created the
 * row meanwhile it runs once more, and a third loss is a retry ("ROW of
 * order X changed concurrently"). */
enum handler_result dom_cancel_twice(struct handler_ctx *ctx, const struct dom_cancel_rules *r);

/* For order.cancelled: 1 when a domain that has no row for the order yet
 * must write a tombstone, because the event that would create the row may
 * still come (the customer cancelled, or the cause is unknown); 0 when the
 * cause (stock.rejected, payment.failed) proves the order never got past
 * PENDING's first steps. See order_intake.h. */
int dom_cancel_needs_tombstone(struct handler_ctx *ctx);

#endif
