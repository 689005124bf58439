/*
 * inbox: the idempotency record of every (consumer, event_id) processed.
 *
 * inbox_insert() runs inside the caller's transaction; DB_DUPLICATE means the
 * event was already processed by that consumer and must be acked without
 * effect. inbox_prune() deletes rows older than the retention in one small
 * batch (LIMIT) so it never holds long locks; call it periodically.
 */
#ifndef ORDERFLOW_INBOX_H
#define ORDERFLOW_INBOX_H

#include "db/db.h"

enum db_status inbox_insert(struct db *db, const char *consumer, const char *event_id);
enum db_status inbox_prune(struct db *db, long retention_s, int batch, int *deleted_r);

#endif
