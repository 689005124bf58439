/*
 * worker: the one delivery protocol of DESIGN.md ("Processing a delivery"),
 * run by every domain worker process.
 *
 * worker_run() connects (AMQP consumer link, AMQP publisher link, database),
 * declares the domain's topology, consumes orderflow.<domain> and for each
 * delivery: decode -> attempt check -> BEGIN -> inbox -> handler -> COMMIT ->
 * ack; retry copies to the delay tiers and parked copies to the parking lot are
 * confirmed by the broker before the original is acked. It returns the process
 * exit code: EXIT_DRAINED after a requested stop (SIGTERM/SIGINT), EXIT_RESTART
 * when it cannot go on, EXIT_CONFIG for a configuration the broker refuses.
 */
#ifndef ORDERFLOW_WORKER_H
#define ORDERFLOW_WORKER_H

#include "core/config.h"
#include "workers/domain.h"

struct crash_slot;

/* Test-only fault injection: called right after a successful COMMIT, before
 * the ack. NULL in production. */
extern void (*worker_after_commit_hook)(const struct envelope *ev);

/* slot: this child's crash-memory slot (NULL when not supervised). */
int worker_run(const struct domain *dom, const struct config *cfg, struct crash_slot *slot);

#endif
