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
 * A row the broker refuses (a nack, or a basic.return: no queue takes its
 * routing key) does not fail its batch: the rest is marked published, and
 * the refused row gets retry_at and is retried alone, with backoff, by
 * relay_retry(); after RELAY_REFUSE_LIMIT refusals it is set aside
 * (failed_at, last_error) for an operator. The batches never claim a refused
 * row, so nothing waits behind it.
 *
 * The pruner (relay/pruner.h) runs in a thread of this process.
 *
 * The relay declares every domain's topology before publishing, so an event
 * is never published before the queues that want it exist.
 *
 * Every database a domain writes (domains.<name>.database, else
 * database.name) has its own outbox: the relay keeps one connection per
 * distinct database and takes a batch from each in turn.
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
#include "relay/outbox_send.h"
#include "relay/pruner.h"
#include "relay/relay_wake.h"
#include "relay/relay.h"
#include "workers/domains/topology_all.h"
#include "proc/role_server.h"

#define RELAY_CONFIRM_TIMEOUT_MS 30000
#define RELAY_REFUSE_LIMIT 5          /* refusals before a row is set aside */
#define RELAY_REFUSE_BACKOFF_MS 1000  /* first retry alone; doubles each time */
#define RELAY_RETRY_CHECK_MS 500      /* how often due retries are looked for */

struct relay {
	const struct config *cfg;
	struct amqp_link *link;
	const char *dbnames[DOM_COUNT];  /* config_databases() */
	struct db *dbs[DOM_COUNT];
	int ndbs;
	struct db *db;                   /* the one of dbs[] in use */
	struct role_server *rs;        /* the skeleton: signals, stop */
	long backoff_ms;
	double next_retry_check;
	unsigned long long published;
	struct pruner pruner;
};

/* What became of each row of a batch while the confirms came in. */
struct relay_sent {
	const struct outbox_batch *b;
	uint64_t *tags;
	char (*refused)[400];     /* "" = not refused */
};

static int relay_connect(struct relay *r)
{
	char *err = NULL;

	for (int i = 0; i < r->ndbs; i++) {
		if (r->dbs[i] != NULL)
			continue;
		if (db_connect(&r->cfg->database, r->dbnames[i], &r->dbs[i], &err) != 0) {
			log_warn("database %s: %s", r->dbnames[i], err);
			free(err);
			return -1;
		}
		/* The emitters share audit's database (cfg_after_log_from). */
		if (config_log_from_outbox(r->cfg) &&
		    strcmp(r->dbnames[i], config_domain_db(r->cfg, DOM_AUDIT)) == 0)
			outbox_log_events(r->dbs[i]);
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
	if (topology_declare_all(r->link, r->cfg, 0) != 0 || publisher_enable(r->link) != 0) {
		log_warn("broker: %s", amqp_link_error(r->link));
		amqp_link_close(r->link);
		r->link = NULL;
		return -1;
	}
	log_info("connected to %s; relaying the outbox of %d database%s (%s%s)",
		 amqp_link_node(r->link), r->ndbs, r->ndbs == 1 ? "" : "s", r->dbnames[0],
		 r->ndbs > 1 ? ", ..." : "");
	return 0;
}

static void relay_on_refused(void *ctx, uint64_t tag, const char *message_id,
			     const char *reason)
{
	struct relay_sent *sent = ctx;

	for (int i = 0; i < sent->b->count; i++) {
		int match = tag != 0 ? sent->tags[i] == tag
				     : strcmp(sent->b->rows[i].event_id, message_id) == 0;

		if (match && sent->refused[i][0] == '\0')
			snprintf(sent->refused[i], sizeof(sent->refused[i]), "%s", reason);
	}
}

static int relay_publish(struct relay *r, struct relay_sent *sent)
{
	const struct outbox_batch *b = sent->b;

	for (int i = 0; i < b->count; i++)
		if (outbox_send(r->link, &b->rows[i], &sent->tags[i]) != 0)
			return -1;
	return publisher_wait_each(r->link, sent->tags[b->count - 1], RELAY_CONFIRM_TIMEOUT_MS,
				   relay_on_refused, sent);
}

static const char *db_current_name(const struct relay *r)
{
	for (int i = 0; i < r->ndbs; i++)
		if (r->dbs[i] == r->db)
			return r->dbnames[i];
	return "?";
}

/* Refusal n of a row: retry alone after 1, 2, 4, 8 s, then set aside. */
static int relay_refused(struct relay *r, const struct outbox_row *row, const char *reason)
{
	int n = row->attempts + 1;
	long retry_ms = n >= RELAY_REFUSE_LIMIT ? -1 : RELAY_REFUSE_BACKOFF_MS << (n - 1);

	if (poolstats_shared != NULL)
		poolstats_add(&poolstats_shared->outbox_refused, 1);
	if (retry_ms < 0)
		log_warn("outbox row %llu (event %s, %s) refused %d times, set aside: %s",
			 row->id, row->event_id, row->routing_key, n, reason);
	else
		log_warn("outbox row %llu (event %s, %s) refused (%d of %d), retried alone in "
			 "%ld ms: %s", row->id, row->event_id, row->routing_key, n,
			 RELAY_REFUSE_LIMIT, retry_ms, reason);
	if (outbox_refused(r->db, row->id, n, reason, retry_ms) != DB_OK) {
		log_warn("%s", db_error(r->db));
		return -1;
	}
	return 0;
}

/* Marks what the broker took published and records what it refused. */
static int relay_settle(struct relay *r, const struct relay_sent *sent, int *published_r)
{
	const struct outbox_batch *b = sent->b;
	unsigned long long *ids = calloc((size_t)b->count, sizeof(*ids));
	int n = 0, rc = 0;

	if (ids == NULL)
		return -1;
	for (int i = 0; i < b->count && rc == 0; i++) {
		if (sent->refused[i][0] == '\0')
			ids[n++] = b->rows[i].id;
		else
			rc = relay_refused(r, &b->rows[i], sent->refused[i]);
	}
	if (rc == 0 && n > 0 && outbox_mark_published(r->db, ids, n) != DB_OK) {
		log_warn("marking %d outbox rows published: %s", n, db_error(r->db));
		rc = -1;
	}
	free(ids);
	*published_r = n;
	return rc;
}

/* One batch (retry: the one refused row that is due); returns the rows
 * claimed, or -1. */
static int relay_batch(struct relay *r, int retry)
{
	struct outbox_batch b = { 0 };
	struct relay_sent sent = { .b = &b };
	int n = -1, published = 0;
	enum db_status st = db_begin(r->db);

	if (st == DB_OK)
		st = retry ? outbox_claim_retry(r->db, &b)
			   : outbox_claim(r->db, r->cfg->relay.batch_size, &b);
	if (st != DB_OK) {
		log_warn("outbox claim in %s: %s", db_current_name(r), db_error(r->db));
		goto fail;
	}
	if (b.logged > 0)
		log_info("event_log: wrote the rows of %d event%s that their writer did not log "
			 "(it ran with domains.audit.log_from = \"queue\")", b.logged,
			 b.logged == 1 ? "" : "s");
	if (b.count == 0) {
		db_rollback(r->db);
		n = 0;
		goto out;
	}
	sent.tags = calloc((size_t)b.count, sizeof(*sent.tags));
	sent.refused = calloc((size_t)b.count, sizeof(*sent.refused));
	if (sent.tags == NULL || sent.refused == NULL)
		goto fail;
	if (relay_publish(r, &sent) != 0) {
		log_warn("publishing %d outbox rows from id %llu: %s; they stay unpublished",
			 b.count, b.rows[0].id, amqp_link_error(r->link));
		goto fail;
	}
	if (relay_settle(r, &sent, &published) != 0 || db_commit(r->db) != DB_OK) {
		/* Published but not marked: they go out again (at least once). */
		log_warn("settling %d outbox rows: %s", b.count, db_error(r->db));
		goto fail;
	}
	n = b.count;
	r->published += (unsigned long long)published;
	if (poolstats_shared != NULL)
		poolstats_add(&poolstats_shared->relayed, (unsigned long long)published);
	goto out;
fail:
	db_rollback(r->db);
out:
	free(sent.tags);
	free(sent.refused);
	outbox_batch_free(&b);
	return n;
}

/* Refused rows whose retry_at has come, one at a time, each alone. */
static int relay_retry(struct relay *r)
{
	double now = clock_monotonic_s();
	int n;

	if (now < r->next_retry_check)
		return 0;
	r->next_retry_check = now + RELAY_RETRY_CHECK_MS / 1000.0;
	n = 0;
	for (int i = 0; i < r->ndbs && n >= 0; i++) {
		r->db = r->dbs[i];
		while ((n = relay_batch(r, 1)) > 0 && !role_server_signals(r->rs))
			;
	}
	return n;
}

static void relay_drop(struct relay *r)
{
	if (r->link != NULL)
		amqp_link_close(r->link);
	r->link = NULL;
	for (int i = 0; i < r->ndbs; i++) {
		if (r->dbs[i] != NULL && db_connection_lost(r->dbs[i])) {
			db_close(r->dbs[i]);
			r->dbs[i] = NULL;
		}
	}
}

/* One batch from each database's outbox; the rows published in all, the
 * largest batch in *fullest_r, or -1 when one failed. */
static int relay_round(struct relay *r, int *fullest_r)
{
	int total = 0;

	*fullest_r = 0;
	for (int i = 0; i < r->ndbs; i++) {
		int n;

		r->db = r->dbs[i];
		n = relay_batch(r, 0);
		if (n < 0)
			return -1;
		total += n;
		if (n > *fullest_r)
			*fullest_r = n;
	}
	return total;
}

/* ---- the role skeleton (proc/role_server.h) ------------------------------ */

static int relay_start(void *role, struct role_server *rs)
{
	struct relay *r = role;

	r->rs = rs;
	r->backoff_ms = 500;
	r->ndbs = config_databases(r->cfg, r->dbnames);
	/* The skeleton opened the signalfd first: the thread inherits the
	 * blocked signals. */
	return pruner_start(&r->pruner, r->cfg) != 0 ? EXIT_RESTART : 0;
}

/* One round: every database's outbox once, then the refused rows due. */
static int relay_turn(void *role, struct role_server *rs)
{
	struct relay *r = role;
	int fullest, n;

	if (relay_connect(r) != 0) {
		role_server_nap(rs, r->backoff_ms);
		r->backoff_ms = r->backoff_ms * 2 > 10000 ? 10000 : r->backoff_ms * 2;
		return 0;
	}
	r->backoff_ms = 500;
	n = relay_round(r, &fullest);
	if (n >= 0 && relay_retry(r) < 0)
		n = -1;
	if (n < 0) {
		relay_drop(r);
		role_server_nap(rs, 500);
	} else if (fullest < r->cfg->relay.batch_size) {
		relay_wake_wait(rs->sigfd, r->cfg->relay.poll_ms);
	}
	return 0;
}

static void relay_stop(void *role)
{
	struct relay *r = role;

	pruner_stop(&r->pruner);
	log_info("stopping: %llu events relayed", r->published);
	if (r->link != NULL)
		amqp_link_close(r->link);
	for (int i = 0; i < r->ndbs; i++)
		if (r->dbs[i] != NULL)
			db_close(r->dbs[i]);
}

int relay_run(const struct config *cfg)
{
	static const struct role_ops ops = {
		.start = relay_start,
		.turn = relay_turn,
		.stop = relay_stop,
	};
	struct relay r = { .cfg = cfg };

	return role_server_run("relay", &ops, &r);
}
