/*
 * dom_payload: what the domain handlers read from an event's payload (the
 * shapes are documented in intake/order_intake.h), and emitting an event about
 * an order.
 *
 * The payload readers return NULL / -1 after setting ctx->reason through
 * handler_reject(): the caller returns HANDLER_REJECT, because a payload that
 * lacks what its type promises will not get better on a retry.
 */
#ifndef ORDERFLOW_DOM_PAYLOAD_H
#define ORDERFLOW_DOM_PAYLOAD_H

#include <stddef.h>

#include "intake/order_intake.h"
#include "workers/domain.h"

/* A string member of 1..maxlen bytes, or NULL (rejected). */
const char *dom_str(struct handler_ctx *ctx, const char *key, size_t maxlen);
/* A string member if present and a string, else NULL (never rejects). */
const char *dom_str_opt(struct handler_ctx *ctx, const char *key);
/* An integer member >= 0, in *out; 0, or -1 (rejected). */
int dom_cents(struct handler_ctx *ctx, const char *key, long long *out);
/* payload.order_id (a UUID) and, when customer_r is not NULL,
 * payload.customer_id; 0, or -1 (rejected). */
int dom_order_ref(struct handler_ctx *ctx, const char **order_id_r, const char **customer_r);

/* Emits an event about an order (aggregate_type "order", aggregate_id the
 * order id) in the handler's transaction; takes payload (NULL = allocation
 * failure, reported as DB_FATAL). */
enum db_status dom_emit(struct handler_ctx *ctx, const char *event_type, const char *order_id,
			json_t *payload);

#endif
