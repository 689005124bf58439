/*
 * poolstats: counters of the whole process pool, in a shared anonymous mapping
 * the supervisor makes before it forks, so that /metrics (served by any one
 * http process) reports every worker's work, not only its own.
 *
 * Children increment with relaxed atomics; readers sum what they see. The
 * counters start at zero with the supervisor (Prometheus handles resets).
 */
#ifndef ORDERFLOW_POOLSTATS_H
#define ORDERFLOW_POOLSTATS_H

#include <stdatomic.h>

#include "core/config.h"

/* Handler latency buckets, upper bounds in milliseconds; +Inf is implied. */
#define POOLSTATS_BUCKETS 12
extern const double poolstats_bucket_ms[POOLSTATS_BUCKETS];

struct domain_stats {
	atomic_ullong processed;   /* committed and acked */
	atomic_ullong duplicates;  /* inbox said already processed */
	atomic_ullong retried;     /* copies sent to a delay tier */
	atomic_ullong parked;      /* copies sent to the parking lot */
	atomic_ullong latency_bucket[POOLSTATS_BUCKETS + 1];
	atomic_ullong latency_sum_us;
	atomic_ullong latency_count;
};

struct pool_stats {
	struct domain_stats domains[DOM_COUNT];
	atomic_ullong relayed;         /* outbox rows published by relays */
	atomic_ullong orders_placed;   /* by the intake (HTTP or ctl in the pool) */
	atomic_ullong outbox_refused;  /* publishes the broker nacked or returned */
	atomic_ullong pruned_inbox;    /* expired rows deleted by the pruner */
	atomic_ullong pruned_outbox;
};

struct pool_stats *poolstats_create(void);
void poolstats_destroy(struct pool_stats *ps);

/* NULL outside a supervised pool; every helper below accepts NULL. */
extern struct pool_stats *poolstats_shared;

/* The stats of a domain by name, NULL for a name that is not a domain. */
struct domain_stats *poolstats_domain(const char *name);
void poolstats_add(atomic_ullong *counter, unsigned long long n);
void poolstats_latency(struct domain_stats *ds, double ms);

#endif
