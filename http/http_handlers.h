/*
 * http_handlers: the endpoints of DESIGN.md "Commands" once a request has
 * passed http_gate() and its body is read. Each fills a struct http_reply;
 * none depends on libmicrohttpd.
 *
 * Database work borrows a connection from http_dbconns. When a command fails
 * because the connection was lost (503 with db_connection_lost()), the
 * connection is reconnected once and the command run again, but only where
 * running it twice cannot do twice: reads, a cancel (cancelling a cancelled
 * order changes nothing) and a POST /api/orders with an Idempotency-Key. A
 * POST without one is not retried: if the connection died during COMMIT the
 * order may exist, and a second try would place another; the client gets
 * 503 "database unavailable" and decides. (Connections are pinged before
 * they are lent, so a server restart while idle costs no request.)
 */
#ifndef ORDERFLOW_HTTP_HANDLERS_H
#define ORDERFLOW_HTTP_HANDLERS_H

#include "core/config.h"
#include "http/http_brokerprobe.h"
#include "http/http_dbconns.h"
#include "http/http_gate.h"

#define HTTP_NOTIFICATIONS_MAX 1000

struct http_ctx {
	const struct config *cfg;
	struct http_dbconns *dbconns;
	struct http_brokerprobe *broker;
};

/* Answers a request that passed http_gate(); *reply is always decided. */
void http_handle(const struct http_ctx *ctx, const struct http_req *req,
		 struct http_reply *reply);

#endif
