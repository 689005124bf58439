/*
 * relay: outbox -> broker (DESIGN.md "Relay").
 *
 * One batch is one transaction: claim up to relay.batch_size unpublished rows
 * in id order (FOR UPDATE SKIP LOCKED, so relays running side by side take
 * disjoint rows), publish them persistent, wait for the broker's confirms,
 * mark them published, commit. If anything fails before the commit the rows
 * stay unpublished and go out again: at least once, and the consumers' inbox
 * absorbs the duplicate. A full batch is followed at once by the next one;
 * otherwise the relay waits until a writer of the pool wakes it (relay_wake)
 * or relay.poll_ms passes.
 *
 * The relay declares every domain's topology before publishing, so an event
 * is never published before the queues that want it exist.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "broker/amqp_link.h"
#include "broker/publisher.h"
#include "broker/topology.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/outbox.h"
#include "proc/poolstats.h"
#include "relay/relay_wake.h"
#include "relay/relay.h"
#include "workers/domains/topology_all.h"
#include "proc/signals.h"

#define RELAY_CONFIRM_TIMEOUT_MS 30000
#define RELAY_PRUNE_INTERVAL_S 60
#define RELAY_PRUNE_BATCH 1000

struct relay {
	const struct config *cfg;
	struct amqp_link *link;
	struct db *db;
	int sigfd;
	int stop;
	double next_prune;
	unsigned long long published;
};

static void relay_signals(struct relay *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			r->stop = 1;
}

static void relay_nap(struct relay *r, long ms)
{
	while (ms > 0 && !r->stop) {
		long slice = ms < 100 ? ms : 100;

		sleep_ms(slice);
		ms -= slice;
		relay_signals(r);
	}
}

static int relay_connect(struct relay *r)
{
	char *err = NULL;

	if (r->db == NULL && db_connect(&r->cfg->database, NULL, &r->db, &err) != 0) {
		log_warn("database: %s", err);
		free(err);
		return -1;
	}
	if (r->link != NULL && amqp_link_ok(r->link))
		return 0;
	if (r->link != NULL)
		amqp_link_close(r->link);
	r->link = NULL;
	if (amqp_link_open(&r->cfg->broker, "relay", &r->link, &err) != 0) {
		log_warn("broker: %s", err);
		free(err);
		return -1;
	}
	amqp_link_keepalive_start(r->link);
	if (topology_declare_all(r->link, r->cfg) != 0 || publisher_enable(r->link) != 0) {
		log_warn("broker: %s", amqp_link_error(r->link));
		amqp_link_close(r->link);
		r->link = NULL;
		return -1;
	}
	log_info("connected to %s and %s; relaying", amqp_link_node(r->link),
		 db_where(r->db));
	return 0;
}

static int relay_publish(struct relay *r, const struct outbox_batch *b)
{
	uint64_t tag = 0;

	for (int i = 0; i < b->count; i++) {
		const struct outbox_row *row = &b->rows[i];
		char type[128];
		struct publish_msg msg = {
			.exchange = EXCHANGE_EVENTS,
			.routing_key = row->routing_key,
			.body = row->body,
			.body_len = row->body_len,
			.message_id = row->event_id,
			.type = type,
			/* An event no queue takes fails the batch (it stays in the
			 * outbox, and the reconnect declares the topology again)
			 * instead of vanishing. */
			.mandatory = 1,
		};

		/* The routing key is the event type (DESIGN.md "Topology"). */
		snprintf(type, sizeof(type), "%s", row->routing_key);
		if (publisher_send(r->link, &msg, &tag) != 0)
			return -1;
	}
	return publisher_wait(r->link, tag, RELAY_CONFIRM_TIMEOUT_MS);
}

/* One batch; returns the rows published, or -1. */
static int relay_batch(struct relay *r)
{
	struct outbox_batch b = { 0 };
	unsigned long long *ids = NULL;
	int n = -1;

	if (db_begin(r->db) != DB_OK || outbox_claim(r->db, r->cfg->relay.batch_size, &b) != DB_OK) {
		log_warn("outbox claim: %s", db_error(r->db));
		goto fail;
	}
	if (b.count == 0) {
		db_rollback(r->db);
		n = 0;
		goto out;
	}
	if (relay_publish(r, &b) != 0) {
		log_warn("publishing %d outbox rows from id %llu: %s; they stay unpublished",
			 b.count, b.rows[0].id, amqp_link_error(r->link));
		goto fail;
	}
	ids = calloc((size_t)b.count, sizeof(*ids));
	if (ids == NULL)
		goto fail;
	for (int i = 0; i < b.count; i++)
		ids[i] = b.rows[i].id;
	if (outbox_mark_published(r->db, ids, b.count) != DB_OK || db_commit(r->db) != DB_OK) {
		/* Published but not marked: they go out again (at least once). */
		log_warn("marking %d outbox rows published: %s", b.count, db_error(r->db));
		goto fail;
	}
	n = b.count;
	r->published += (unsigned long long)n;
	if (poolstats_shared != NULL)
		poolstats_add(&poolstats_shared->relayed, (unsigned long long)n);
	goto out;
fail:
	db_rollback(r->db);
out:
	free(ids);
	outbox_batch_free(&b);
	return n;
}

static void relay_prune(struct relay *r)
{
	int deleted = 0;
	double now = clock_monotonic_s();

	if (now < r->next_prune)
		return;
	r->next_prune = now + RELAY_PRUNE_INTERVAL_S;
	if (outbox_prune(r->db, r->cfg->relay.retention_s, RELAY_PRUNE_BATCH, &deleted) != DB_OK)
		log_warn("outbox prune: %s", db_error(r->db));
	else if (deleted > 0)
		log_info("outbox prune: %d published rows older than %ld s deleted", deleted,
			 r->cfg->relay.retention_s);
}

static void relay_drop(struct relay *r)
{
	if (r->link != NULL)
		amqp_link_close(r->link);
	r->link = NULL;
	if (r->db != NULL && db_connection_lost(r->db)) {
		db_close(r->db);
		r->db = NULL;
	}
}

int relay_run(const struct config *cfg)
{
	struct relay r = { .cfg = cfg };
	long backoff = 500;

	r.sigfd = signals_child_fd();
	if (r.sigfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return EXIT_RESTART;
	}
	while (!r.stop) {
		int n;

		if (relay_connect(&r) != 0) {
			relay_nap(&r, backoff);
			backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
			continue;
		}
		backoff = 500;
		n = relay_batch(&r);
		if (n < 0) {
			relay_drop(&r);
			relay_nap(&r, 500);
		} else if (n < cfg->relay.batch_size) {
			relay_prune(&r);
			relay_wake_wait(r.sigfd, cfg->relay.poll_ms);
		}
		relay_signals(&r);
	}
	log_info("stopping: %llu events relayed", r.published);
	if (r.link != NULL)
		amqp_link_close(r.link);
	if (r.db != NULL)
		db_close(r.db);
	close(r.sigfd);
	return EXIT_DRAINED;
}
