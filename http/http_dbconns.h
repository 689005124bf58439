/*
 * http_dbconns: the database connections the HTTP intake's request threads
 * borrow and give back.
 *
 * A struct db is not thread-safe, so each request borrows one: http_dbconns
 * keeps the idle connections of one database (the order domain's, and the
 * notification domain's when it is configured apart), makes a new one when
 * none is idle (at most one per concurrent request, that is per MHD thread)
 * and, before lending one that sat idle, pings it and reconnects once when
 * the server dropped it, so a restarted database costs no request. A
 * connection that comes back broken is closed instead of kept.
 */
#ifndef ORDERFLOW_HTTP_DBCONNS_H
#define ORDERFLOW_HTTP_DBCONNS_H

#include <stddef.h>

#include "core/config.h"
#include "db/db.h"

struct http_dbconns;

/* Returns 0 and *conns_r, or -1 (out of memory, logged). No connection is
 * opened here. */
int http_dbconns_new(const struct config *cfg, struct http_dbconns **conns_r);
/* Closes every idle connection; nothing may be borrowed any more. */
void http_dbconns_free(struct http_dbconns *conns);

/* A connection to the database of `dom` (DOM_ORDER or DOM_NOTIFICATION),
 * or NULL when the database cannot be reached (logged). */
struct db *http_db_acquire(struct http_dbconns *conns, enum domain_id dom);
/* Gives it back (closed when its connection was lost). */
void http_db_release(struct http_dbconns *conns, enum domain_id dom, struct db *db);

#endif
