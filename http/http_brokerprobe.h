/*
 * http_brokerprobe: the broker check of /healthz.
 *
 * It opens one amqp_link (role "http") on first use and keeps it, with the
 * keepalive thread sending heartbeats; a check is a passive declare of
 * amq.direct (one round trip), done at most once per second: in between the
 * last answer is returned. A broken link is reopened, at most once per second
 * as well. On the same link it gives /metrics the depth of every domain's
 * parking lot (a passive queue.declare each), at most every few seconds.
 * Thread-safe.
 */
#ifndef ORDERFLOW_HTTP_BROKERPROBE_H
#define ORDERFLOW_HTTP_BROKERPROBE_H

#include "core/config.h"

struct http_brokerprobe;

/* Returns 0 and *probe_r, or -1 (out of memory, logged). No connection is
 * opened here. */
int http_brokerprobe_new(const struct config *cfg, struct http_brokerprobe **probe_r);
/* Closes the broker link. */
void http_brokerprobe_free(struct http_brokerprobe *probe);

/* 1 when the broker answered within the last second (or answers now); 0
 * otherwise. */
int http_broker_ok(struct http_brokerprobe *probe);

/* The messages in orderflow.<domain>.dead of every domain, by domain id; -1
 * for a lot the broker did not answer for (not declared yet, or the broker
 * is down). At most PARKED_CACHE_MS old: in between the last answer is
 * returned, so /metrics stays cheap however often it is scraped. */
void http_broker_parked(struct http_brokerprobe *probe, long long depth[DOM_COUNT]);

#endif
