/*
 * http_metrics: GET /metrics in the Prometheus text format 0.0.4.
 *
 * metrics_snapshot_take() copies the pool-wide counters (proc/poolstats.h)
 * into a plain struct, zeros when there is no pool (not under the
 * supervisor); metrics_render() turns a snapshot into text. Both are pure, so
 * the format is unit-tested without a server.
 *
 * Families (each with # HELP and # TYPE):
 *   orderflow_events_processed_total{domain}      counter
 *   orderflow_events_duplicate_total{domain}      counter
 *   orderflow_events_retried_total{domain}        counter
 *   orderflow_events_parked_total{domain}         counter
 *   orderflow_handler_duration_seconds{domain}    histogram: _bucket{le}
 *       cumulative, le="+Inf" equal to _count; _sum in seconds
 *   orderflow_relayed_total                       counter
 *   orderflow_orders_placed_total                 counter
 *   orderflow_child_restarts_total{role}          counter: children that died
 *       unexpectedly and the supervisor starts again; role = a domain, relay,
 *       http
 *   orderflow_outbox_refused_total                counter: nacks and returns
 *   orderflow_pruned_rows_total{table}            counter: inbox, outbox
 *   orderflow_build_info{version}                 gauge, always 1
 *   orderflow_outbox_pending                      gauge   (when the database
 *   orderflow_outbox_lag_seconds                  gauge    answered)
 *   orderflow_outbox_set_aside                    gauge
 *   orderflow_parked_messages{domain}             gauge: messages in the
 *       parking lot orderflow.<domain>.dead; only the domains whose lot the
 *       broker answered for (none when it is down)
 */
#ifndef ORDERFLOW_HTTP_METRICS_H
#define ORDERFLOW_HTTP_METRICS_H

#include <stddef.h>

#include "core/config.h"
#include "proc/poolstats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

struct metrics_domain {
	const char *name;
	unsigned long long processed, duplicates, retried, parked;
	unsigned long long bucket[POOLSTATS_BUCKETS + 1]; /* per bucket, not cumulative */
	unsigned long long latency_sum_us;
};

struct metrics_snapshot {
	struct metrics_domain domains[DOM_COUNT];
	unsigned long long relayed, orders_placed, outbox_refused;
	unsigned long long pruned_inbox, pruned_outbox;
	unsigned long long restarts[POOLSTATS_ROLES];
	const char *version;        /* ORDERFLOW_VERSION */
	int have_outbox;            /* 0: the outbox gauges are left out */
	long long outbox_pending, outbox_set_aside;
	double outbox_lag_s;
	long long parked_depth[DOM_COUNT]; /* -1: unknown, the sample is left out */
};

/* ps may be NULL: every counter is then 0. The outbox and the parked depths
 * are the caller's to fill (left unknown here). */
void metrics_snapshot_take(const struct pool_stats *ps, struct metrics_snapshot *s);

/* The exposition text, malloc'd and NUL-terminated into *text_r (length in
 * *len_r). Returns 0, or -1 when out of memory. */
int metrics_render(const struct metrics_snapshot *s, char **text_r, size_t *len_r);

#endif
