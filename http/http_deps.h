/*
 * http_deps: what the HTTP intake's request threads share: database
 * connections and the broker check of /healthz.
 *
 * A struct db is not thread-safe, so each request borrows one: the pool
 * keeps the idle connections of one database (the order domain's, and the
 * notification domain's when it is configured apart), makes a new one when
 * none is idle (at most one per concurrent request, that is per MHD thread)
 * and, before lending one that sat idle, pings it and reconnects once when
 * the server dropped it, so a restarted database costs no request. A
 * connection that comes back broken is closed instead of kept.
 *
 * The broker check opens one amqp_link (role "http") on first use and keeps
 * it, with the keepalive thread sending heartbeats; a check is a passive
 * declare of amq.direct (one round trip), done at most once per second: in
 * between the last answer is returned. A broken link is reopened, at most
 * once per second as well.
 */
#ifndef ORDERFLOW_HTTP_DEPS_H
#define ORDERFLOW_HTTP_DEPS_H

#include <stddef.h>

#include "core/config.h"
#include "db/db.h"

struct http_deps;

/* Returns 0 and *deps_r, or -1 (out of memory, logged). No connection is
 * opened here. */
int http_deps_new(const struct config *cfg, struct http_deps **deps_r);
/* Closes every idle connection and the broker link; nothing may be
 * borrowed any more. */
void http_deps_free(struct http_deps *deps);

/* A connection to the database of `dom` (DOM_ORDER or DOM_NOTIFICATION),
 * or NULL when the database cannot be reached (logged). */
struct db *http_db_acquire(struct http_deps *deps, enum domain_id dom);
/* Gives it back (closed when its connection was lost). */
void http_db_release(struct http_deps *deps, enum domain_id dom, struct db *db);

/* 1 when the broker answered within the last second (or answers now); 0
 * otherwise. */
int http_broker_ok(struct http_deps *deps);

#endif
