/*
 * poolstats: counters of the whole process pool, in a shared anonymous mapping
 * the supervisor makes before it forks, so that /metrics (served by any one
 * http process) reports every worker's work, not only its own.
 *
 * Children increment with relaxed atomics; readers sum what they see. The
 * counters start at zero with the supervisor (Prometheus handles resets).
 * The supervisor has no connections, but it counts here too: the children
 * it starts again after they died, by role.
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

/* The roles of the pool, numbered as the supervisor numbers its services:
 * the domains by id, then the relay, then the HTTP intake. */
#define POOLSTATS_ROLE_RELAY DOM_COUNT
#define POOLSTATS_ROLE_HTTP (DOM_COUNT + 1)
#define POOLSTATS_ROLES (DOM_COUNT + 2)

struct pool_stats {
	struct domain_stats domains[DOM_COUNT];
	atomic_ullong relayed;         /* outbox rows published by relays */
	atomic_ullong orders_placed;   /* by the intake (HTTP or ctl in the pool) */
	atomic_ullong restarts[POOLSTATS_ROLES]; /* children that died unexpectedly
						    and are started again */
	atomic_ullong outbox_refused;  /* publishes the broker nacked or returned */
	atomic_ullong pruned_inbox;    /* expired rows deleted by the pruner */
	atomic_ullong pruned_outbox;
};

/* "order", ..., "relay", "http"; NULL out of range. */
const char *poolstats_role_name(int role);

struct pool_stats *poolstats_create(void);
void poolstats_destroy(struct pool_stats *ps);

/* NULL outside a supervised pool; every helper below accepts NULL. */
extern struct pool_stats *poolstats_shared;

/* The stats of a domain by name, NULL for a name that is not a domain. */
struct domain_stats *poolstats_domain(const char *name);
void poolstats_add(atomic_ullong *counter, unsigned long long n);
void poolstats_latency(struct domain_stats *ds, double ms);

#endif
