/*
 * dom_util: what the domain handlers share: reading the members of an event's
 * payload (the shapes are documented in order_intake.h), emitting an event
 * about an order, and reading one row's first column.
 *
 * The payload readers return NULL / -1 after setting ctx->reason through
 * handler_reject(): the caller returns HANDLER_REJECT, because a payload that
 * lacks what its type promises will not get better on a retry.
 */
#ifndef ORDERFLOW_DOM_UTIL_H
#define ORDERFLOW_DOM_UTIL_H

#include <stddef.h>

#include "workers/domain.h"

#define DOM_CUSTOMER_MAX 64 /* orders.customer_id etc. */
#define DOM_SKU_MAX 64      /* stock.sku */
#define DOM_REASON_MAX 255  /* *.reason, orders.cancel_reason */

/* A string member of 1..maxlen bytes, or NULL (rejected). */
const char *dom_str(struct handler_ctx *ctx, const char *key, size_t maxlen);
/* A string member if present and a string, else NULL (never rejects). */
const char *dom_str_opt(struct handler_ctx *ctx, const char *key);
/* An integer member >= 0, in *out; 0, or -1 (rejected). */
int dom_cents(struct handler_ctx *ctx, const char *key, long long *out);
/* payload.order_id (a UUID) and, when customer_r is not NULL,
 * payload.customer_id; 0, or -1 (rejected). */
int dom_order_ref(struct handler_ctx *ctx, const char **order_id_r, const char **customer_r);

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

/* Emits an event about an order (aggregate_type "order", aggregate_id the
 * order id) in the handler's transaction; takes payload (NULL = allocation
 * failure, reported as DB_FATAL). */
enum db_status dom_emit(struct handler_ctx *ctx, const char *event_type, const char *order_id,
			json_t *payload);

/* Runs a query and copies the first column of its first row into out
 * (truncated to outlen); *found_r = 0 when there is no row (out = ""). */
enum db_status dom_select_text(struct db *db, const char *sql, const struct db_param *params,
			       int nparams, char *out, size_t outlen, int *found_r);

/* Formats cents as "12.50" (integer arithmetic only) into out. */
void dom_format_cents(long long cents, char *out, size_t outlen);

#endif
