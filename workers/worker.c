/*
 * worker: the delivery protocol (DESIGN.md "Processing a delivery").
 *
 * One process, three connections: a consuming AMQP link, a publishing AMQP
 * link in confirm mode (a consuming channel would interleave deliveries with
 * the confirms we wait for), and the database. The loop below owns them;
 * worker_process() decides the fate of one delivery; the outcome helpers
 * (ack, retry copy, parked copy) never ack before the broker confirmed the
 * copy, and never ack before the commit.
 */
#include "workers/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/amqp_link.h"
#include "broker/consumer.h"
#include "broker/publisher.h"
#include "broker/topology.h"
#include "core/log.h"
#include "core/retry.h"
#include "workers/eager.h"
#include "db/inbox.h"
#include "db/outbox.h"
#include "proc/crashmem.h"
#include "proc/poolstats.h"
#include "relay/relay_wake.h"
#include "core/clock.h"
#include "proc/role_server.h"

void (*worker_after_commit_hook)(const struct envelope *ev);

#define CONFIRM_TIMEOUT_MS 30000
#define POLL_SLICE_MS 250
/* Events published after their commit whose confirms may be outstanding
 * before the worker waits for them (eager dispatch). */
#define EAGER_INFLIGHT_MAX 256

struct worker {
	const struct domain *dom;
	const struct config *cfg;
	const struct cfg_domain *dcfg;
	struct crash_slot *slot;
	void *state;
	const char **keys;      /* domain_keys(): bound from orderflow.events */
	int nkeys;
	int batch;              /* a row of the table is DOM_EV_BATCH */
	char queue[128];
	struct domain_stats *stats;     /* NULL outside a supervised pool */
	const char *abort_event;        /* test-only fault: abort on this event */
	const char *abort_committed;    /* test-only fault: abort after committing this type */

	struct amqp_link *in;   /* consuming */
	struct amqp_link *out;  /* publishing, confirm mode */
	struct db *db;
	char ctag[64];
	int consuming;
	struct role_server *rs; /* the skeleton: signals, stop */
	int inited;             /* dom->init succeeded: fini is due */
	long backoff_ms;        /* before the next reconnect */
	int redo_left;          /* in-process tries left after a lock conflict */
	struct eager eager;     /* events this worker publishes itself (eager.h) */
};

enum outcome {
	OUT_DONE,       /* acked (or given back): next delivery */
	OUT_DB_DOWN,    /* the database went away: keep the delivery, redo later */
	OUT_BROKER,     /* a broker link failed: the delivery will come back */
	OUT_REDO,       /* a deadlock or lock wait timeout: try again at once */
};

/* Tries of one delivery in process after a deadlock (1213) or lock wait
 * timeout (1205), before it goes to a delay tier: such a conflict is over as
 * soon as the other transaction ends, so a delay tier (1 s at least, and an
 * attempt used) would only slow the order down. */
#define LOCK_REDO_TRIES 3

static int worker_prefetch(const struct worker *w)
{
	return w->dcfg->prefetch > 0 ? w->dcfg->prefetch : w->cfg->broker.prefetch;
}

/* ---- signals ---------------------------------------------------------- */

/* ---- connections ------------------------------------------------------ */

static int worker_connect_db(struct worker *w)
{
	char *err = NULL;

	if (w->db != NULL)
		return 0;
	int id = domain_lookup(w->dom->name);
	const char *dbname = id >= 0 ? config_domain_db(w->cfg, id) : w->cfg->database.name;

	if (db_connect(&w->cfg->database, dbname, &w->db, &err) != 0) {
		log_warn("database: %s; not taking deliveries until it is back", err);
		free(err);
		return -1;
	}
	if (id >= 0 && config_log_from_outbox(w->cfg))
		outbox_log_events(w->db);
	log_info("database: connected to %s", db_where(w->db));
	return 0;
}

static void worker_drop_in(struct worker *w)
{
	if (w->in != NULL)
		amqp_link_close(w->in);
	w->in = NULL;
	w->consuming = 0;
}

static void worker_drop_out(struct worker *w)
{
	if (w->out != NULL)
		amqp_link_close(w->out);
	w->out = NULL;
	eager_lost(&w->eager);
}

/* Opens *link unless it is up: 1 when it was up, 0 when opened now, -1 when
 * the broker could not be reached (said in the log, as `what`). */
static int worker_link_up(struct worker *w, struct amqp_link **link, const char *what)
{
	char *err = NULL;

	if (*link != NULL && amqp_link_ok(*link))
		return 1;
	if (*link != NULL)
		amqp_link_close(*link);
	*link = NULL;
	if (amqp_link_open(&w->cfg->broker, w->dom->name, link, &err) != 0) {
		log_warn("%s: %s", what, err);
		free(err);
		return -1;
	}
	amqp_link_keepalive_start(*link);
	return 0;
}

/* An eager worker publishes its own events, maybe before the relay has
 * declared every queue: after a restart that set domains.audit.log_from back
 * to "queue", its events would miss event_log until the audit queue is bound
 * to "#" again, so it binds it first. */
static int worker_bind_audit(struct worker *w)
{
	int id = domain_lookup(w->dom->name);
	const char **keys;
	int n, rc;

	/* Only the domains that emit publish anything. */
	if (w->cfg->relay.grace_ms == 0 || config_log_from_outbox(w->cfg) || id < 0 ||
	    !config_domain_emits((enum domain_id)id))
		return 0;
	n = domain_keys(domain_get(DOM_AUDIT), w->cfg, &keys);
	if (n < 0)
		return -1;
	rc = topology_declare_domain(w->in, w->cfg, "audit", keys, n);
	free(keys);
	return rc;
}

static int worker_connect_in(struct worker *w)
{
	int up;

	if (w->in == NULL || !amqp_link_ok(w->in))
		w->consuming = 0;
	up = worker_link_up(w, &w->in, "broker");
	if (up != 0)
		return up > 0 ? 0 : -1;
	if (topology_declare_domain(w->in, w->cfg, w->dom->name, w->keys, w->nkeys) != 0 ||
	    worker_bind_audit(w) != 0) {
		/* Only a refusal on a live connection (a conflicting declaration,
		 * 406; no access, 403) is the configuration's fault. A connection
		 * lost meanwhile (the broker shutting down: CONNECTION_FORCED) is
		 * transient: try again with the backoff, not as exit 78. */
		int refused = amqp_link_ok(w->in);

		if (refused)
			log_error("broker: %s", amqp_link_error(w->in));
		else
			log_warn("broker: %s", amqp_link_error(w->in));
		worker_drop_in(w);
		return refused ? -2 : -1;
	}
	log_info("broker: connected to %s, topology of %s declared", amqp_link_node(w->in),
		 w->queue);
	return 0;
}

static int worker_connect_out(struct worker *w)
{
	int up = worker_link_up(w, &w->out, "broker (publisher)");

	if (up != 0)
		return up > 0 ? 0 : -1;
	if (publisher_enable(w->out) != 0) {
		log_warn("broker (publisher): %s", amqp_link_error(w->out));
		worker_drop_out(w);
		return -1;
	}
	return 0;
}

static int worker_start_consuming(struct worker *w)
{
	if (w->consuming)
		return 0;
	if (consumer_start(w->in, w->queue, worker_prefetch(w), w->ctag, sizeof(w->ctag)) != 0) {
		log_warn("broker: consume %s: %s", w->queue, amqp_link_error(w->in));
		return -1;
	}
	w->consuming = 1;
	crash_slot_ready(w->slot);
	log_info("consuming %s (prefetch %d)", w->queue, worker_prefetch(w));
	return 0;
}

static void worker_stop_consuming(struct worker *w, const char *why)
{
	if (!w->consuming || w->in == NULL)
		return;
	if (consumer_cancel(w->in, w->ctag) != 0)
		log_warn("broker: cancel consumer on %s: %s", w->queue, amqp_link_error(w->in));
	else
		log_info("stopped consuming %s: %s", w->queue, why);
	w->consuming = 0;
}

/* Brings every connection up; with a backoff on failure. Returns 0 when all
 * are up, -1 to try again, -2 for a configuration the broker refuses. */
static int worker_connect(struct worker *w, long *backoff_ms)
{
	int r;

	if (worker_connect_db(w) != 0)
		goto again;
	r = worker_connect_in(w);
	if (r == -2)
		return -2;
	if (r != 0 || worker_connect_out(w) != 0)
		goto again;
	*backoff_ms = 500;
	return 0;
again:
	role_server_nap(w->rs, *backoff_ms);
	*backoff_ms = *backoff_ms * 2 > 10000 ? 10000 : *backoff_ms * 2;
	return -1;
}

/* ---- eager dispatch (workers/eager.h) ------------------------------------ */

static int worker_eager_on(const struct worker *w)
{
	return w->cfg->relay.grace_ms > 0;
}

/* The confirms of what earlier commits published: those that arrived, or
 * (wait) all of them, before the publishing link is used for a copy. */
static void worker_eager_collect(struct worker *w, int wait)
{
	if (eager_collect(&w->eager, w->out, wait) != 0)
		worker_drop_out(w);
}

/* After a commit: the marks in it are done; publish what it wrote. */
static void worker_eager_committed(struct worker *w, int emitted)
{
	eager_marked(&w->eager, 1);
	if (!worker_eager_on(w)) {
		if (emitted > 0)
			relay_wake_notify();
		return;
	}
	if (eager_send(&w->eager, w->out) != 0)
		worker_drop_out(w);
}

/* Idle or stopping: confirms read, and marked without waiting for a
 * transaction that may not come. */
static void worker_eager_flush(struct worker *w)
{
	worker_eager_collect(w, 1);
	if (w->db != NULL && eager_flush(&w->eager, w->db) != DB_OK)
		log_warn("%s; the marks are tried again", db_error(w->db));
}

/* Every rollback of a delivery's transaction: its rows and marks are void. */
static void worker_rollback(struct worker *w)
{
	db_rollback(w->db);
	eager_discard(&w->eager);
	eager_marked(&w->eager, 0);
}

/* BEGIN, then the marks of the last commit's events. */
static enum db_status worker_begin(struct worker *w)
{
	enum db_status st;

	/* Without waiting, unless many are due: the worker goes on meanwhile. */
	worker_eager_collect(w, w->eager.nsent > EAGER_INFLIGHT_MAX);
	st = db_begin(w->db);
	if (st != DB_OK)
		return st;
	return eager_mark(&w->eager, w->db);
}

static void worker_ctx_eager(struct worker *w, struct handler_ctx *ctx)
{
	if (!worker_eager_on(w))
		return;
	ctx->eager = &w->eager;
	ctx->keep = eager_add;
	ctx->grace_ms = w->cfg->relay.grace_ms;
}

/* ---- outcomes ----------------------------------------------------------- */

static enum outcome worker_ack(struct worker *w, const struct delivery *d)
{
	if (consumer_ack(w->in, d->tag, 0) != 0) {
		/* The broker redelivers it; the inbox absorbs the duplicate. */
		log_warn("broker: ack of delivery %llu on %s: %s", (unsigned long long)d->tag,
			 w->queue, amqp_link_error(w->in));
		return OUT_BROKER;
	}
	return OUT_DONE;
}

/* Publishes a copy with confirm, then acks the original. */
static enum outcome worker_send_copy(struct worker *w, const struct delivery *d,
				     const char *exchange, const char *routing_key,
				     struct header_set *hs, const char *what, int expire_ms)
{
	char expiration[16];
	struct publish_msg msg = {
		.exchange = exchange,
		.routing_key = routing_key,
		.body = d->body,
		.body_len = d->body_len,
		.message_id = d->message_id,
		.type = d->type,
		.correlation_id = d->correlation_id,
		.headers = header_set_table(hs),
		.mandatory = 1,
	};

	if (expire_ms > 0) {
		snprintf(expiration, sizeof(expiration), "%d", expire_ms);
		msg.expiration = expiration;
	}
	worker_eager_collect(w, 1);
	if (worker_connect_out(w) != 0 ||
	    publisher_publish_confirmed(w->out, &msg, CONFIRM_TIMEOUT_MS) != 0) {
		/* Not acked: the original stays in the queue. Give it back so it
		 * is tried again, after a pause so a broker that refuses the copy
		 * is not hammered. */
		log_warn("%s: publish to %s/%s failed: %s; returning delivery to %s", what,
			 exchange, routing_key,
			 w->out ? amqp_link_error(w->out) : "no publisher link", w->queue);
		worker_drop_out(w);
		role_server_nap(w->rs, 1000);
		if (consumer_nack(w->in, d->tag, 0, 1) != 0)
			return OUT_BROKER;
		return OUT_DONE;
	}
	return worker_ack(w, d);
}

static enum outcome worker_park(struct worker *w, const struct delivery *d, int attempt,
				const char *reason)
{
	static const char *const drop[] = { "orderflow-parked-reason", "orderflow-parked-from",
					    "orderflow-attempt", NULL };
	struct header_set *hs = header_set_new(d, drop);
	char rk[64];
	enum outcome o;

	header_set_str(hs, "orderflow-parked-reason", reason);
	header_set_str(hs, "orderflow-parked-from", w->queue);
	header_set_int(hs, "orderflow-attempt", attempt);
	snprintf(rk, sizeof(rk), "%s", w->dom->name);
	o = worker_send_copy(w, d, EXCHANGE_DEAD, rk, hs, "park", 0);
	header_set_free(hs);
	if (o == OUT_DONE && w->stats != NULL)
		poolstats_add(&w->stats->parked, 1);
	if (o == OUT_DONE)
		log_warn("parked message %s (%s) from %s after attempt %d: %s",
			 d->message_id ? d->message_id : "(no id)", d->type ? d->type : "?",
			 w->queue, attempt, reason);
	return o;
}

static enum outcome worker_retry(struct worker *w, const struct delivery *d,
				 const struct envelope *ev, int attempt, const char *reason)
{
	static const char *const drop[] = { "orderflow-attempt", "orderflow-last-error", NULL };
	const struct cfg_retry *rc = &w->cfg->retry;
	int tier = retry_tier_after_failure(attempt, rc->max_attempts, rc->delay_count);
	char last[257], rk[96], first[64], buf[64];
	struct header_set *hs;
	enum outcome o;

	if (tier == 0) {
		char why[300];

		snprintf(why, sizeof(why), "max-attempts: %s", reason);
		return worker_park(w, d, attempt, why);
	}
	hs = header_set_new(d, drop);
	retry_last_error(reason, last);
	header_set_int(hs, "orderflow-attempt", attempt + 1);
	header_set_str(hs, "orderflow-last-error", last);
	if (delivery_header(d, "orderflow-first-failed-at", buf, sizeof(buf)) == NULL) {
		envelope_now_iso(first);
		header_set_str(hs, "orderflow-first-failed-at", first);
	}
	snprintf(rk, sizeof(rk), "%s.%d", w->dom->name, tier);
	/* The tier's delay travels with the copy (the tier queue has no TTL of
	 * its own), so a reload that changes retry.delays_ms applies to the
	 * next retry. Dead-lettering back drops the expiration. */
	o = worker_send_copy(w, d, EXCHANGE_RETRY, rk, hs, "retry", rc->delays_ms[tier - 1]);
	header_set_free(hs);
	if (o == OUT_DONE && w->stats != NULL)
		poolstats_add(&w->stats->retried, 1);
	if (o == OUT_DONE)
		log_warn("%s of event %s failed: %s; retrying in %d ms (attempt %d/%d)",
			 ev->event_type, ev->event_id, reason, rc->delays_ms[tier - 1],
			 attempt + 1, rc->max_attempts);
	return o;
}

/* ---- the broker's delivery count ------------------------------------------ */

/* Times one event may be given a fresh delivery count (below). Past it the
 * broker's delivery limit applies again: it stays the backstop for a message
 * that kills its worker without the crash memory seeing it. */
#define REQUEUE_MAX 8

/* A quorum queue counts a delivery that went back unacked because its
 * consumer's channel or connection was lost (RabbitMQ 3.10: x-delivery-count
 * + 1 for each of the up to `prefetch` messages a killed worker held), and
 * dead-letters a message past broker.delivery_limit. A worker that is killed
 * or reconnects often would so park healthy messages that merely sat in its
 * buffer. Crashes are the crash memory's business (crash_limit, per event),
 * so once a message has used half the limit it is given back as a fresh copy
 * (the broker counts a new message from 0), with orderflow-requeued counting
 * how often. Returns 1 when it did so (the outcome in *o), 0 to go on. */
static int worker_requeue_if_worn(struct worker *w, const struct delivery *d, enum outcome *o)
{
	static const char *const drop[] = { "orderflow-requeued", NULL };
	int limit = w->cfg->broker.delivery_limit, count, requeued;
	struct header_set *hs;
	char buf[32], rk[64];

	if (strcmp(w->cfg->broker.queue_type, "quorum") != 0 ||
	    delivery_header(d, "x-delivery-count", buf, sizeof(buf)) == NULL)
		return 0;
	count = atoi(buf);
	if (count < (limit > 1 ? limit / 2 : 1))
		return 0;
	requeued = delivery_header(d, "orderflow-requeued", buf, sizeof(buf)) ? atoi(buf) : 0;
	if (requeued >= REQUEUE_MAX)
		return 0;
	hs = header_set_new(d, drop);
	header_set_int(hs, "orderflow-requeued", requeued + 1);
	snprintf(rk, sizeof(rk), "%s", w->dom->name);
	*o = worker_send_copy(w, d, EXCHANGE_RETURN, rk, hs, "requeue", 0);
	header_set_free(hs);
	if (*o == OUT_DONE)
		log_info("message %s on %s was delivered %d times without an answer (lost "
			 "channels): requeued as a fresh copy (%d of at most %d)",
			 d->message_id ? d->message_id : "(no id)", w->queue, count + 1,
			 requeued + 1, REQUEUE_MAX);
	return 1;
}

/* ---- one delivery ------------------------------------------------------- */

/* 1 when the failed statement lost a lock conflict and the delivery may be
 * tried again in process (the transaction is rolled back by then). */
static int worker_may_redo(struct worker *w)
{
	unsigned int e = db_errno(w->db);

	if ((e != 1213 && e != 1205) || w->redo_left <= 0)
		return 0;
	w->redo_left--;
	return 1;
}

/* A database failure outside the handler: retry the message, or report the
 * database gone so the caller pauses. */
static enum outcome worker_db_failed(struct worker *w, const struct delivery *d,
				     const struct envelope *ev, int attempt, const char *what)
{
	char reason[300];

	db_error_join(reason, sizeof(reason), what, db_error(w->db));
	worker_rollback(w);
	if (db_connection_lost(w->db)) {
		log_warn("event %s: %s", ev->event_id, reason);
		return OUT_DB_DOWN;
	}
	if (worker_may_redo(w))
		return OUT_REDO;
	return worker_retry(w, d, ev, attempt, reason);
}

/* BEGIN, inbox, handler, COMMIT, ack (steps 3-8). */
static enum outcome worker_transact(struct worker *w, const struct delivery *d,
				    const struct envelope *ev, int attempt)
{
	struct handler_ctx ctx = {
		.db = w->db, .cfg = w->cfg, .ev = ev, .consumer = w->dom->name,
		.body = d->body, .body_len = d->body_len,
		.state = w->state, .attempt = attempt,
	};
	enum db_status st;
	enum handler_result hr;
	double started;

	worker_ctx_eager(w, &ctx);
	if (worker_begin(w) != DB_OK)
		return worker_db_failed(w, d, ev, attempt, "begin");
	st = inbox_insert(w->db, w->dom->name, ev->event_id);
	if (st == DB_DUPLICATE) {
		worker_rollback(w);
		/* Info, not debug: a redelivery is rare and the proof that the
		 * inbox did its job (tests read this line). */
		log_info("event %s already processed by %s: acked without effect",
			 ev->event_id, w->dom->name);
		if (w->stats != NULL)
			poolstats_add(&w->stats->duplicates, 1);
		return worker_ack(w, d);
	}
	if (st != DB_OK)
		return worker_db_failed(w, d, ev, attempt, "insert into inbox");

	if (w->abort_event != NULL && strcmp(w->abort_event, ev->event_id) == 0) {
		log_warn("test fault: aborting on event %s", ev->event_id);
		abort();
	}
	started = clock_monotonic_s();
	hr = domain_dispatch(w->dom, &ctx);
	if (hr != HANDLER_OK) {
		worker_rollback(w);
		if (db_connection_lost(w->db))
			return OUT_DB_DOWN;
		if (hr == HANDLER_RETRY && worker_may_redo(w))
			return OUT_REDO;
		if (hr == HANDLER_RETRY)
			return worker_retry(w, d, ev, attempt, ctx.reason);
		{
			char why[300];

			snprintf(why, sizeof(why), "rejected: %s", ctx.reason);
			return worker_park(w, d, attempt, why);
		}
	}
	if (db_commit(w->db) != DB_OK)
		return worker_db_failed(w, d, ev, attempt, "commit");
	/* Tests kill here: committed, nothing published, nothing acked. */
	if (worker_after_commit_hook != NULL)
		worker_after_commit_hook(ev);
	if (w->abort_committed != NULL && strcmp(w->abort_committed, ev->event_type) == 0) {
		log_warn("test fault: aborting after the commit of event %s (%s)", ev->event_id,
			 ev->event_type);
		abort();
	}
	worker_eager_committed(w, ctx.emitted);
	if (w->stats != NULL) {
		poolstats_add(&w->stats->processed, 1);
		poolstats_latency(w->stats, (clock_monotonic_s() - started) * 1000.0);
	}
	return worker_ack(w, d);
}

/* Decodes a delivery and parks it at once when it is not to be handled
 * (undecodable, out of attempts, crashed its workers too often). Returns 1
 * with *ev and *attempt set when it goes on to a transaction; 0 when it was
 * settled here, with the outcome in *o. */
static int worker_admit(struct worker *w, const struct delivery *d, struct envelope *ev,
			int *attempt, enum outcome *o)
{
	char err[512], reason[600], buf[32];
	enum envelope_status es;
	int crashes;

	*attempt = retry_attempt_parse(delivery_header(d, "orderflow-attempt", buf, sizeof(buf)));
	es = envelope_decode(d->body, d->body_len, w->cfg->broker.max_message_bytes, ev, err,
			     sizeof(err));
	if (es != ENV_OK) {
		snprintf(reason, sizeof(reason), "%s: %s",
			 es == ENV_UNKNOWN_VERSION ? "unknown-schema-version" : "invalid-envelope",
			 err);
		*o = worker_park(w, d, *attempt, reason);
		return 0;
	}
	if (retry_on_arrival(*attempt, w->cfg->retry.max_attempts) == RETRY_PARK_MAX_ATTEMPTS) {
		snprintf(reason, sizeof(reason), "max-attempts: %d attempts of at most %d", *attempt,
			 w->cfg->retry.max_attempts);
		*o = worker_park(w, d, *attempt, reason);
		envelope_clear(ev);
		return 0;
	}
	crashes = crashmem_count(crashmem_shared, w->dom->name, ev->event_id);
	if (crashes >= w->dcfg->crash_limit) {
		snprintf(reason, sizeof(reason), "crashed: %d %s workers died handling it",
			 crashes, w->dom->name);
		*o = worker_park(w, d, *attempt, reason);
		/* Parked: a replay is a fresh start (issue 15, item 5). */
		if (*o == OUT_DONE)
			crashmem_forget(crashmem_shared, w->dom->name, ev->event_id);
		envelope_clear(ev);
		return 0;
	}
	if (worker_requeue_if_worn(w, d, o)) {
		envelope_clear(ev);
		return 0;
	}
	return 1;
}

/* The database went away while a delivery was in hand: stop taking
 * deliveries, wait for it, then let the caller redo the delivery. */
static int worker_wait_for_db(struct worker *w)
{
	long backoff = 500;

	worker_stop_consuming(w, "database unavailable");
	while (!w->rs->stop) {
		if (db_reconnect(w->db) == DB_OK) {
			log_info("database: back; resuming");
			return 0;
		}
		log_warn("database: still unavailable (%s); retrying in %ld ms", db_error(w->db),
			 backoff);
		role_server_nap(w->rs, backoff);
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
	return -1;
}

/* While the domain holds deliveries (an open circuit breaker), a delivery
 * already in hand waits here instead of burning an attempt; the consumer is
 * cancelled so no more arrive meanwhile. */
static void worker_wait_hold(struct worker *w)
{
	long hold;

	while (w->dom->hold_ms != NULL && (hold = w->dom->hold_ms(w->state)) > 0) {
		worker_stop_consuming(w, "the domain holds deliveries (breaker open)");
		if (w->rs->stop)
			return; /* drain: the handler settles it (it retries) */
		role_server_nap(w->rs, hold < 1000 ? hold : 1000);
	}
}

/* Takes an admitted delivery through its own transaction to the end; gives
 * it back when stopping before the database returns. */
static void worker_settle(struct worker *w, const struct delivery *d, const struct envelope *ev,
			  int attempt)
{
	w->redo_left = LOCK_REDO_TRIES;
	for (;;) {
		enum outcome o;

		crash_slot_enter(w->slot, w->dom->name, ev->event_id);
		o = worker_transact(w, d, ev, attempt);
		crash_slot_leave(w->slot);
		if (o == OUT_BROKER)
			worker_drop_in(w);
		if (o == OUT_REDO) {
			/* A few ms, jittered, so two workers that deadlocked do
			 * not meet again in step. */
			log_info("%s of event %s lost a lock conflict (%s); again at once (%d left)",
				 ev->event_type, ev->event_id, db_error(w->db), w->redo_left);
			sleep_ms(2 + rand() % 20);
			continue;
		}
		if (o != OUT_DB_DOWN)
			return;
		if (worker_wait_for_db(w) != 0) {
			consumer_nack(w->in, d->tag, 0, 1);
			return;
		}
	}
}

/* Handles one delivery to the end. */
static void worker_handle(struct worker *w, const struct delivery *d)
{
	struct envelope ev;
	enum outcome o;
	int attempt;

	worker_wait_hold(w);
	if (!worker_admit(w, d, &ev, &attempt, &o)) {
		if (o == OUT_BROKER)
			worker_drop_in(w);
		return;
	}
	worker_settle(w, d, &ev, attempt);
	envelope_clear(&ev);
}

/* ---- batches (rows with DOM_EV_BATCH) -------------------------------------- */

#define BATCH_MAX 32

struct batch_item {
	struct delivery d;
	struct envelope ev;
	int attempt;
	int duplicate;
	double started;
};

/* The handler of every item in one transaction. Returns 0 when all of them
 * committed, -1 after a rollback (an event whose row is not batchable or that
 * no row takes, a handler that did not answer OK, any database failure). */
static int batch_transact(struct worker *w, struct batch_item *it, int n, int *emitted_r)
{
	*emitted_r = 0;
	if (worker_begin(w) != DB_OK)
		goto rollback;
	if (w->dom->batch_lock != NULL) {
		const struct envelope *evs[BATCH_MAX];

		for (int i = 0; i < n; i++)
			evs[i] = &it[i].ev;
		if (w->dom->batch_lock(w->db, evs, n) != DB_OK) {
			log_info("batch of %d: taking its locks: %s; one at a time", n,
				 db_error(w->db));
			goto rollback;
		}
	}
	for (int i = 0; i < n; i++) {
		struct handler_ctx ctx = {
			.db = w->db, .cfg = w->cfg, .ev = &it[i].ev, .consumer = w->dom->name,
			.body = it[i].d.body, .body_len = it[i].d.body_len,
			.state = w->state, .attempt = it[i].attempt,
		};
		enum db_status st;
		const struct domain_event *row;
		enum handler_result hr;

		worker_ctx_eager(w, &ctx);
		st = inbox_insert(w->db, w->dom->name, it[i].ev.event_id);

		/* A duplicate key fails the statement only, not the transaction. */
		it[i].duplicate = st == DB_DUPLICATE;
		if (it[i].duplicate)
			continue;
		if (st != DB_OK)
			goto rollback;
		/* Alone, it is refused or handled as its row says. */
		row = domain_route(w->dom, w->cfg, it[i].ev.event_type);
		if (row == NULL || !(row->flags & DOM_EV_BATCH))
			goto rollback;
		/* From here a crash is this event's (crash memory). */
		crash_slot_enter(w->slot, w->dom->name, it[i].ev.event_id);
		if (w->abort_event != NULL && strcmp(w->abort_event, it[i].ev.event_id) == 0) {
			log_warn("test fault: aborting on event %s", it[i].ev.event_id);
			abort();
		}
		it[i].started = clock_monotonic_s();
		hr = row->handle(&ctx);
		crash_slot_leave(w->slot);
		if (hr != HANDLER_OK)
			goto rollback;
		*emitted_r += ctx.emitted;
	}
	if (db_commit(w->db) == DB_OK)
		return 0;
rollback:
	worker_rollback(w);
	return -1;
}

static void batch_committed(struct worker *w, struct batch_item *it, int n, int emitted)
{
	double now = clock_monotonic_s();

	log_debug("batch of %d deliveries committed in one transaction", n);
	for (int i = 0; i < n; i++) {
		if (it[i].duplicate)
			log_info("event %s already processed by %s: acked without effect",
				 it[i].ev.event_id, w->dom->name);
		if (w->stats != NULL && it[i].duplicate)
			poolstats_add(&w->stats->duplicates, 1);
		if (w->stats != NULL && !it[i].duplicate) {
			poolstats_add(&w->stats->processed, 1);
			poolstats_latency(w->stats, (now - it[i].started) * 1000.0);
		}
		if (!it[i].duplicate && worker_after_commit_hook != NULL)
			worker_after_commit_hook(&it[i].ev);
	}
	worker_eager_committed(w, emitted);
}

/* How long the batch that began at STARTED may still wait for its next
 * delivery: 0 once domains.NAME.linger_ms has passed (or is 0). */
static int batch_wait_ms(const struct worker *w, double started)
{
	double left = w->dcfg->linger_ms - (clock_monotonic_s() - started) * 1000.0;

	return left > 0 ? (int)left + (left > (int)left) : 0;
}

/* Takes the deliveries waiting behind FIRST, up to the prefetch, and those
 * that come within domains.NAME.linger_ms of it; parks the ones
 * worker_admit() refuses. Returns the count in IT, FIRST included (it is
 * moved there). A linger turns a domain's trickle of single deliveries into
 * fewer transactions and acks: worth it where no one waits for the result. */
static int batch_gather(struct worker *w, struct delivery *first, struct batch_item *it)
{
	int limit = worker_prefetch(w) < BATCH_MAX ? worker_prefetch(w) : BATCH_MAX;
	struct delivery d = *first;
	int n = 0;
	enum outcome o;
	double started = clock_monotonic_s();

	memset(first, 0, sizeof(*first));
	for (;;) {
		if (worker_admit(w, &d, &it[n].ev, &it[n].attempt, &o)) {
			it[n++].d = d;
		} else {
			delivery_free(&d);
			if (o == OUT_BROKER) {
				worker_drop_in(w);
				return n;
			}
		}
		if (n == limit || w->rs->stop)
			return n;
		switch (consumer_next(w->in, batch_wait_ms(w, started), &d)) {
		case CONSUMER_DELIVERY:
			break;
		case CONSUMER_CANCELLED:
			log_warn("broker cancelled our consumer on %s; consuming again", w->queue);
			w->consuming = 0;
			return n;
		default: /* nothing waiting, or a link error the loop meets next */
			return n;
		}
	}
}

/* One delivery and whatever waits behind it, in one transaction when they
 * all succeed; otherwise each alone, exactly as without batches. */
static void worker_batch(struct worker *w, struct delivery *first)
{
	struct batch_item it[BATCH_MAX];
	int n = batch_gather(w, first, it), emitted, i = 0;

	if (n > 1 && w->in != NULL && batch_transact(w, it, n, &emitted) == 0) {
		batch_committed(w, it, n, emitted);
		if (consumer_ack(w->in, it[n - 1].d.tag, 1) != 0) {
			/* The broker redelivers them; the inbox absorbs the duplicates. */
			log_warn("broker: ack of deliveries up to %llu on %s: %s",
				 (unsigned long long)it[n - 1].d.tag, w->queue,
				 amqp_link_error(w->in));
			worker_drop_in(w);
		}
		i = n;
	}
	/* One at a time; after a broker failure the rest are the broker's again. */
	for (; i < n; i++)
		if (w->in != NULL)
			worker_settle(w, &it[i].d, &it[i].ev, it[i].attempt);
	for (i = 0; i < n; i++) {
		envelope_clear(&it[i].ev);
		delivery_free(&it[i].d);
	}
}

/* ---- the loop ----------------------------------------------------------- */

/* After a stop request: cancel, finish what the broker already pushed, ack,
 * then close (RabbitMQ issue 10327). */
static void worker_drain(struct worker *w)
{
	struct delivery d;
	int n = 0;

	if (w->in == NULL || !amqp_link_ok(w->in))
		return;
	worker_stop_consuming(w, "stopping");
	while (w->in != NULL && consumer_next(w->in, 100, &d) == CONSUMER_DELIVERY) {
		worker_handle(w, &d);
		delivery_free(&d);
		n++;
	}
	worker_eager_flush(w);
	log_info("drained: %d deliveries finished after the consumer was cancelled", n);
}

/* One turn: (re)connect, then take at most one delivery (or one batch). */
static int worker_turn(void *role, struct role_server *rs)
{
	struct worker *w = role;
	struct delivery d;
	int r = worker_connect(w, &w->backoff_ms);
	long hold;

	(void)rs;
	if (r == -2)
		return EXIT_CONFIG;
	if (r != 0)
		return 0;
	hold = w->dom->hold_ms != NULL ? w->dom->hold_ms(w->state) : 0;
	if (hold > 0) {
		worker_stop_consuming(w, "the domain holds deliveries (breaker open)");
	} else if (worker_start_consuming(w) != 0) {
		worker_drop_in(w);
		return 0;
	}
	switch (consumer_next(w->in, POLL_SLICE_MS, &d)) {
	case CONSUMER_DELIVERY:
		if (w->batch)
			worker_batch(w, &d);
		else
			worker_handle(w, &d);
		delivery_free(&d);
		break;
	case CONSUMER_TIMEOUT:
		/* Expired inbox rows: the relay's pruner (relay/pruner.h). */
		worker_eager_flush(w);
		break;
	case CONSUMER_CANCELLED:
		log_warn("broker cancelled our consumer on %s; consuming again", w->queue);
		w->consuming = 0;
		break;
	case CONSUMER_ERROR:
		log_warn("broker: %s; reconnecting", amqp_link_error(w->in));
		worker_drop_in(w);
		break;
	}
	return 0;
}

static void worker_drain_role(void *role, struct role_server *rs)
{
	(void)rs;
	worker_drain(role);
}

/* The skeleton's start: the role_server fields are set, the rest here. */
static int worker_start(void *role, struct role_server *rs)
{
	struct worker *w = role;
	char *err = NULL;
	const struct domain *dom = w->dom;
	int id = domain_lookup(dom->name);

	w->rs = rs;
	w->backoff_ms = 500;
	w->dcfg = &w->cfg->domains[id >= 0 ? id : 0];
	w->nkeys = domain_keys(dom, w->cfg, &w->keys);
	if (w->nkeys < 0) {
		log_error("%s: routing keys: out of memory", dom->name);
		return EXIT_CONFIG;
	}
	for (int i = 0; i < dom->nevents; i++)
		if (dom->events[i].flags & DOM_EV_BATCH)
			w->batch = 1;
	topology_work_queue(w->queue, sizeof(w->queue), dom->name);
	w->stats = poolstats_domain(dom->name);
	/* Only tests set this: it proves that an event which kills its worker
	 * again and again is parked as `crashed`. */
	w->abort_event = getenv("ORDERFLOW_TEST_ABORT_ON_EVENT");
	/* DOMAIN:EVENT_TYPE: this domain's worker dies between its commit and
	 * the publish of what it wrote (eager dispatch: the relay's sweep). */
	{
		const char *f = getenv("ORDERFLOW_TEST_ABORT_AFTER_COMMIT");
		size_t n = strlen(dom->name);

		if (f != NULL && strncmp(f, dom->name, n) == 0 && f[n] == ':')
			w->abort_committed = f + n + 1;
	}
	if (dom->init != NULL && dom->init(w->cfg, &w->state, &err) != 0) {
		log_error("%s: set-up failed: %s", dom->name, err);
		free(err);
		return EXIT_CONFIG;
	}
	w->inited = 1;
	return 0;
}

static void worker_stop(void *role)
{
	struct worker *w = role;

	worker_eager_flush(w);
	if (w->eager.published > 0)
		log_info("stopping: %llu events published after their commit",
			 w->eager.published);
	eager_free(&w->eager);
	worker_drop_in(w);
	worker_drop_out(w);
	if (w->db != NULL)
		db_close(w->db);
	if (w->inited && w->dom->fini != NULL)
		w->dom->fini(w->state);
	free(w->keys);
}

int worker_run(const struct domain *dom, const struct config *cfg, struct crash_slot *slot)
{
	static const struct role_ops ops = {
		.start = worker_start,
		.turn = worker_turn,
		.drain = worker_drain_role,
		.stop = worker_stop,
	};
	struct worker w;

	memset(&w, 0, sizeof(w));
	w.dom = dom;
	w.cfg = cfg;
	w.slot = slot;
	return role_server_run(dom->name, &ops, &w);
}
