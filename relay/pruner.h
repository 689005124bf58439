/*
 * pruner: a thread of the relay process that deletes expired inbox rows
 * (older than database.inbox_retention_s) and published outbox rows (older
 * than relay.retention_s) in every database the enabled domains use
 * (DESIGN.md "Processing a delivery": pruned in short transactions, at least
 * twice as fast as the busiest hour writes them, and while the system is
 * busy).
 *
 * Each round is one autocommit DELETE of at most PRUNER_ROUND rows, oldest
 * first along the processed_at / published_at index, so it locks only rows no
 * saga touches and holds them for milliseconds. Rounds follow each other with
 * a short pause while they come back full, then the pruner rests a second.
 * It runs beside the relay's publishing loop, on connections of its own, so
 * a backlog that keeps the relay busy does not stop it, and it does not delay
 * a publish. One pruner per database works at a time (db/prune.h's lock).
 */
#ifndef ORDERFLOW_PRUNER_H
#define ORDERFLOW_PRUNER_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/config.h"

#define PRUNER_ROUND 2000      /* rows per DELETE */
#define PRUNER_PAUSE_MS 20     /* between full rounds */
#define PRUNER_IDLE_MS 1000    /* after a round that was not full */

struct pruner {
	const struct config *cfg;
	pthread_t thread;
	atomic_int stop;
	int running;
};

/* Starts the thread (signals must already be blocked: it inherits the mask).
 * Returns 0, or -1 (logged). */
int pruner_start(struct pruner *p, const struct config *cfg);
/* Asks the thread to stop and joins it (a round in progress finishes). */
void pruner_stop(struct pruner *p);

#endif
