/*
 * dom_compensation: the rules of order.cancelled's compensations, shared by
 * the domains that keep one row per order (inventory, payment, shipping).
 */
#ifndef ORDERFLOW_DOM_COMPENSATION_H
#define ORDERFLOW_DOM_COMPENSATION_H

#include "workers/domain.h"

/* One attempt at a cancel compensation; sets *again_r when a concurrent
 * writer created the row meanwhile (a duplicate key) and the row must be
 * read again. */
typedef enum handler_result (*dom_cancel_once_fn)(struct handler_ctx *ctx, const char *id,
						  const char *customer, int *again_r);
/* order.cancelled for a domain that keeps one row per order: reads the
 * order reference, runs `once`, and runs it a second time when it lost a
 * race; a third loss is a retry ("WHAT of order X changed concurrently"). */
enum handler_result dom_cancel_twice(struct handler_ctx *ctx, dom_cancel_once_fn once,
				     const char *what);

/* For order.cancelled: 1 when a domain that has no row for the order yet
 * must write a tombstone, because the event that would create the row may
 * still come (the customer cancelled, or the cause is unknown); 0 when the
 * cause (stock.rejected, payment.failed) proves the order never got past
 * PENDING's first steps. See order_intake.h. */
int dom_cancel_needs_tombstone(struct handler_ctx *ctx);

#endif
