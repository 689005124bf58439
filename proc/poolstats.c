/*
 * poolstats: the pool's shared counters and latency histogram, read by
 * /metrics in whichever HTTP process serves it (see poolstats.h).
 */
#include "proc/poolstats.h"
#include "proc/shm.h"

#include <stddef.h>
#include <string.h>

const double poolstats_bucket_ms[POOLSTATS_BUCKETS] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
};

struct pool_stats *poolstats_shared;

struct pool_stats *poolstats_create(void)
{
	return shm_create(sizeof(struct pool_stats));
}

void poolstats_destroy(struct pool_stats *ps)
{
	shm_destroy(ps, sizeof(*ps));
}

const char *poolstats_role_name(int role)
{
	if (role >= 0 && role < DOM_COUNT)
		return domain_name((enum domain_id)role);
	if (role == POOLSTATS_ROLE_RELAY)
		return "relay";
	return role == POOLSTATS_ROLE_HTTP ? "http" : NULL;
}

struct domain_stats *poolstats_domain(const char *name)
{
	int id = domain_lookup(name);

	if (poolstats_shared == NULL || id < 0)
		return NULL;
	return &poolstats_shared->domains[id];
}

void poolstats_add(atomic_ullong *counter, unsigned long long n)
{
	if (counter != NULL)
		atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

void poolstats_latency(struct domain_stats *ds, double ms)
{
	int b = 0;

	if (ds == NULL)
		return;
	while (b < POOLSTATS_BUCKETS && ms > poolstats_bucket_ms[b])
		b++;
	atomic_fetch_add_explicit(&ds->latency_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&ds->latency_sum_us, (unsigned long long)(ms * 1000.0),
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&ds->latency_count, 1, memory_order_relaxed);
}
