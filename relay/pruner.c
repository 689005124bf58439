/* pruner: expired inbox and outbox rows, deleted in bounded rounds (see
 * relay/pruner.h). */
#include "relay/pruner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "db/inbox.h"
#include "db/outbox.h"
#include "db/prune.h"
#include "proc/poolstats.h"

#define PRUNER_RETRY_S 10      /* a database we cannot reach or lock: try again then */

struct prune_target {
	const char *name;
	struct db *db;
	int held;                  /* this connection holds the database's lock */
	double next_try;
	unsigned long long streak[2]; /* rows deleted since the last quiet round */
};

/* database.name and the distinct databases of the enabled domains. */
static int pruner_targets(const struct config *cfg, struct prune_target *t, int max)
{
	int n = 0;

	t[n++] = (struct prune_target){ .name = cfg->database.name };
	for (int d = 0; d < DOM_COUNT && n < max; d++) {
		const char *name = config_domain_db(cfg, (enum domain_id)d);
		int dup = 0;

		for (int i = 0; i < n; i++)
			dup |= strcmp(t[i].name, name) == 0;
		if (cfg->domains[d].workers > 0 && !dup)
			t[n++] = (struct prune_target){ .name = name };
	}
	return n;
}

static void pruner_drop(struct prune_target *t, double now)
{
	if (t->db != NULL && db_connection_lost(t->db)) {
		db_close(t->db);
		t->db = NULL;
		t->held = 0;
	}
	t->next_try = now + PRUNER_RETRY_S;
}

/* Connected and holding the database's lock, or 0 (try later). */
static int pruner_ready(const struct config *cfg, struct prune_target *t, double now)
{
	char *err = NULL;

	if (now < t->next_try)
		return 0;
	if (t->db == NULL && db_connect(&cfg->database, t->name, &t->db, &err) != 0) {
		log_warn("pruner: database %s: %s; trying again in %d s", t->name, err,
			 PRUNER_RETRY_S);
		free(err);
		t->next_try = now + PRUNER_RETRY_S;
		return 0;
	}
	if (!t->held && prune_lock(t->db, &t->held) != DB_OK) {
		log_warn("pruner: %s", db_error(t->db));
		pruner_drop(t, now);
		return 0;
	}
	if (!t->held)
		t->next_try = now + PRUNER_RETRY_S; /* another relay prunes it */
	return t->held;
}

static void pruner_note(struct prune_target *t, int which, int deleted, long retention_s)
{
	static const char *const table[2] = { "inbox", "outbox" };

	if (deleted > 0) {
		t->streak[which] += (unsigned long long)deleted;
		return;
	}
	if (t->streak[which] > 0)
		log_info("pruner: %llu %s rows older than %ld s deleted from %s",
			 t->streak[which], table[which], retention_s, t->name);
	t->streak[which] = 0;
}

/* One round on each table of one database; 1 when a round came back full. */
static int pruner_round(const struct config *cfg, struct prune_target *t, double now)
{
	long ret[2] = { cfg->database.inbox_retention_s, cfg->relay.retention_s };
	int deleted[2] = { 0, 0 }, full = 0;
	enum db_status st;

	st = inbox_prune(t->db, ret[0], PRUNER_ROUND, &deleted[0]);
	if (st == DB_OK && deleted[0] > 0)
		st = prune_count(t->db, "inbox", (unsigned long long)deleted[0]);
	if (st == DB_OK)
		st = outbox_prune(t->db, ret[1], PRUNER_ROUND, &deleted[1]);
	if (st == DB_OK && deleted[1] > 0)
		st = prune_count(t->db, "outbox", (unsigned long long)deleted[1]);
	if (poolstats_shared != NULL) {
		poolstats_add(&poolstats_shared->pruned_inbox, (unsigned long long)deleted[0]);
		poolstats_add(&poolstats_shared->pruned_outbox, (unsigned long long)deleted[1]);
	}
	if (st != DB_OK) {
		log_warn("pruner: %s", db_error(t->db));
		pruner_drop(t, now);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		pruner_note(t, i, deleted[i], ret[i]);
		full |= deleted[i] >= PRUNER_ROUND;
	}
	return full;
}

static void pruner_nap(struct pruner *p, long ms)
{
	while (ms > 0 && !atomic_load(&p->stop)) {
		long slice = ms < 100 ? ms : 100;

		sleep_ms(slice);
		ms -= slice;
	}
}

static void *pruner_main(void *arg)
{
	struct pruner *p = arg;
	struct prune_target t[DOM_COUNT + 1];
	int n = pruner_targets(p->cfg, t, DOM_COUNT + 1);

	while (!atomic_load(&p->stop)) {
		double now = clock_monotonic_s();
		int full = 0;

		for (int i = 0; i < n && !atomic_load(&p->stop); i++)
			if (pruner_ready(p->cfg, &t[i], now))
				full |= pruner_round(p->cfg, &t[i], now);
		pruner_nap(p, full ? PRUNER_PAUSE_MS : PRUNER_IDLE_MS);
	}
	for (int i = 0; i < n; i++)
		if (t[i].db != NULL)
			db_close(t[i].db);
	return NULL;
}

int pruner_start(struct pruner *p, const struct config *cfg)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	atomic_init(&p->stop, 0);
	err = pthread_create(&p->thread, NULL, pruner_main, p);
	if (err != 0) {
		log_error("pruner: starting its thread: %s", strerror(err));
		return -1;
	}
	p->running = 1;
	return 0;
}

void pruner_stop(struct pruner *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	p->running = 0;
}
