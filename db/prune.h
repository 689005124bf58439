/*
 * prune: the bookkeeping around deleting expired inbox and outbox rows (the
 * deletes themselves are inbox_prune() and outbox_prune()).
 *
 * prune_lock() elects one pruner per database: a named lock (GET_LOCK) that
 * its connection holds until it closes, so relays on several hosts do not
 * delete the same rows side by side; when its holder dies the server frees
 * it. prune_count() adds a round's deletions to prune_stats, which
 * `orderflowctl stats` reads.
 */
#ifndef ORDERFLOW_PRUNE_H
#define ORDERFLOW_PRUNE_H

#include "db/db.h"

/* Tries the database's pruner lock without waiting: *held_r 1 when this
 * connection holds it now (taken now or before), 0 when another does. */
enum db_status prune_lock(struct db *db, int *held_r);
/* prune_stats[table] += rows (autocommit). */
enum db_status prune_count(struct db *db, const char *table, unsigned long long rows);

struct prune_total {
	unsigned long long rows;
	char last_at[32];          /* "" when the table was never pruned */
};
/* The totals of prune_stats for "inbox" and "outbox". */
enum db_status prune_totals(struct db *db, struct prune_total *inbox,
			    struct prune_total *outbox);

#endif
