/*
 * notification: the customer-facing messages, one per (order, type): types
 * created, confirmed, cancelled, shipped, refunded (DESIGN.md "Database").
 *
 * notification_list() is the read side for GET
 * /api/customers/{id}/notifications.
 */
#ifndef ORDERFLOW_NOTIFICATION_H
#define ORDERFLOW_NOTIFICATION_H

#include <jansson.h>

#include "db/db.h"

#define NOTIFICATION_LIST_MAX 1000

/* {"customer_id", "notifications": [{"order_id", "type", "message",
 * "created_at"}]}, newest first, at most NOTIFICATION_LIST_MAX. Returns 200
 * with *r, or 503 (database unavailable) / 500. */
int notification_list(struct db *db, const char *customer_id, json_t **r);

#endif
