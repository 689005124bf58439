/*
 * http_brokerprobe: the broker check of /healthz.
 *
 * It opens one amqp_link (role "http") on first use and keeps it, with the
 * keepalive thread sending heartbeats; a check is a passive declare of
 * amq.direct (one round trip), done at most once per second: in between the
 * last answer is returned. A broken link is reopened, at most once per second
 * as well. Thread-safe.
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

#endif
