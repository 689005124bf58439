/*
 * orderflowctl stats: per enabled domain, what AMQP tells about its queues
 * (a passive declare gives the ready messages and the consumers of a queue;
 * unacknowledged messages are not in it, only the management API knows
 * those, so they are not shown): the work queue's ready messages and
 * consumers, the messages waiting in its retry tiers, and the parked ones;
 * then the outbox: rows not yet published and the age of the oldest, rows
 * set aside after the broker refused them too often, and what the pruner
 * deleted from the inbox and the outbox (prune_stats), summed over every
 * database the enabled domains use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/amqp_link.h"
#include "broker/topology.h"
#include "db/db.h"
#include "db/outbox.h"
#include "db/prune.h"
#include "tools/ctl.h"

/* A queue's ready count as JSON; null when the queue cannot be inspected
 * (not declared yet: the domain's worker declares it when it starts). */
static json_t *depth(struct amqp_link *link, const char *queue, unsigned *consumers_r,
		     int *missing_r)
{
	unsigned n = 0;

	if (topology_queue_depth(link, queue, &n, consumers_r) != 0) {
		*missing_r = 1;
		return json_null();
	}
	return json_integer(n);
}

static json_t *domain_stats(struct ctl *ctl, struct amqp_link *link, const char *dom)
{
	const struct config *cfg = ctl->cfg;
	unsigned consumers = 0, n;
	long long retrying = 0;
	int missing = 0, retry_missing = 0;
	char q[128];
	json_t *ready, *parked;

	topology_work_queue(q, sizeof(q), dom);
	ready = depth(link, q, &consumers, &missing);
	for (int t = 1; t <= cfg->retry.delay_count; t++) {
		topology_retry_queue(q, sizeof(q), dom, t);
		if (topology_queue_depth(link, q, &n, NULL) == 0)
			retrying += n;
		else
			retry_missing = 1;
	}
	topology_dead_queue(q, sizeof(q), dom);
	parked = depth(link, q, NULL, &missing);
	topology_work_queue(q, sizeof(q), dom);
	return json_pack("{s:s, s:s, s:o, s:I, s:o, s:o}", "domain", dom, "queue", q, "ready",
			 ready, "consumers", (json_int_t)consumers, "retrying",
			 retry_missing ? json_null() : json_integer(retrying), "parked", parked);
}

struct db_figures {
	double lag;
	long long pending, set_aside;
	struct prune_total inbox, outbox;
};

/* One database's figures into *f (lag: the largest; counts: summed). */
static int db_figures(struct ctl *ctl, const char *name, struct db_figures *f)
{
	struct db *db = NULL;
	char *err = NULL;
	double l = 0;
	long long p = 0, a = 0;
	struct prune_total in, out;

	if (db_connect(&ctl->cfg->database, name, &db, &err) != 0) {
		ctl_error("stats: %s", err != NULL ? err : "cannot connect to the database");
		free(err);
		return -1;
	}
	if (outbox_lag(db, &l, &p) != DB_OK || outbox_set_aside(db, &a) != DB_OK ||
	    prune_totals(db, &in, &out) != DB_OK) {
		ctl_error("stats: database %s: %s", name, db_error(db));
		db_close(db);
		return -1;
	}
	db_close(db);
	f->pending += p;
	f->set_aside += a;
	f->lag = l > f->lag ? l : f->lag;
	f->inbox.rows += in.rows;
	f->outbox.rows += out.rows;
	if (strcmp(in.last_at, f->inbox.last_at) > 0)
		memcpy(f->inbox.last_at, in.last_at, sizeof(in.last_at));
	if (strcmp(out.last_at, f->outbox.last_at) > 0)
		memcpy(f->outbox.last_at, out.last_at, sizeof(out.last_at));
	return 0;
}

static json_t *pruned_json(const struct prune_total *t)
{
	return json_pack("{s:I, s:o}", "rows", (json_int_t)t->rows, "last_at",
			 t->last_at[0] != '\0' ? json_string(t->last_at) : json_null());
}

/* Outbox lag, set-aside rows and pruned rows over the distinct databases of
 * the enabled domains; NULL (reported) when one of them cannot be read. */
static json_t *outbox_stats(struct ctl *ctl)
{
	const char *seen[DOM_COUNT] = { 0 };
	int nseen = 0;
	struct db_figures f;

	memset(&f, 0, sizeof(f));
	for (int d = 0; d < DOM_COUNT; d++) {
		const char *name = config_domain_db(ctl->cfg, (enum domain_id)d);
		int dup = 0;

		for (int i = 0; i < nseen; i++)
			dup |= strcmp(seen[i], name) == 0;
		if (ctl->cfg->domains[d].workers == 0 || dup)
			continue;
		seen[nseen++] = name;
		if (db_figures(ctl, name, &f) != 0)
			return NULL;
	}
	return json_pack("{s:I, s:f, s:I, s:{s:o, s:o}}", "pending", (json_int_t)f.pending,
			 "lag_seconds", f.lag, "set_aside", (json_int_t)f.set_aside, "pruned",
			 "inbox", pruned_json(&f.inbox), "outbox", pruned_json(&f.outbox));
}

static void print_count(const json_t *v, int width)
{
	if (json_is_integer(v))
		printf(" %*lld", width, (long long)json_integer_value(v));
	else
		printf(" %*s", width, "-");
}

static void print_stats(const json_t *doms, const json_t *outbox)
{
	size_t i;
	json_t *d;

	printf("%-14s %8s %10s %9s %7s\n", "DOMAIN", "READY", "CONSUMERS", "RETRYING", "PARKED");
	json_array_foreach(doms, i, d) {
		printf("%-14s", json_string_value(json_object_get(d, "domain")));
		print_count(json_object_get(d, "ready"), 8);
		print_count(json_object_get(d, "consumers"), 10);
		print_count(json_object_get(d, "retrying"), 9);
		print_count(json_object_get(d, "parked"), 7);
		printf("\n");
	}
	printf("(\"-\": queue not declared yet; unacknowledged messages are not counted)\n");
	if (outbox != NULL) {
		const json_t *pr = json_object_get(outbox, "pruned");

		printf("outbox: %lld pending, oldest %.3f s, %lld set aside (refused by the broker)\n",
		       (long long)json_integer_value(json_object_get(outbox, "pending")),
		       json_real_value(json_object_get(outbox, "lag_seconds")),
		       (long long)json_integer_value(json_object_get(outbox, "set_aside")));
		static const char *const tables[] = { "inbox", "outbox" };

		for (int i = 0; i < 2; i++) {
			const char *t = tables[i];
			const json_t *p = json_object_get(pr, t);
			const char *at = json_string_value(json_object_get(p, "last_at"));

			printf("pruned %s: %lld rows (last %s)\n", t,
			       (long long)json_integer_value(json_object_get(p, "rows")),
			       at != NULL ? at : "never");
		}
	}
}

static int stats_run(struct ctl *ctl)
{
	struct amqp_link *link = NULL;
	json_t *doms, *outbox;
	int rc = CTL_OK;

	if (ctl->argc != 0)
		return ctl_usage(ctl, "stats takes no arguments");
	if (ctl_link(ctl, &link) != CTL_OK)
		return CTL_ERROR;
	doms = json_array();
	for (int d = 0; d < DOM_COUNT && amqp_link_ok(link); d++)
		if (ctl->cfg->domains[d].workers > 0)
			json_array_append_new(doms, domain_stats(ctl, link, domain_name((enum domain_id)d)));
	if (!amqp_link_ok(link))
		rc = ctl_error("stats: %s", amqp_link_error(link));
	amqp_link_close(link);
	outbox = outbox_stats(ctl);
	if (outbox == NULL)
		rc = CTL_ERROR;
	if (ctl->json)
		ctl_print_json(json_pack("{s:o, s:o}", "domains", doms, "outbox",
					 outbox != NULL ? outbox : json_null()));
	else {
		print_stats(doms, outbox);
		json_decref(doms);
		json_decref(outbox);
	}
	return rc;
}

static const struct ctl_help stats_help[] = {
	{ "",
	  "usage: orderflowctl stats\n\n"
	  "For each enabled domain the depths a passive queue.declare gives (ready\n"
	  "messages, consumers; unacknowledged messages are not counted), then the\n"
	  "outbox and the pruner's totals over every database the enabled domains\n"
	  "use. Takes no flags.\n\n"
	  "--json prints {\"domains\": [...], \"outbox\": {...}}:\n"
	  "  domains[]  domain, queue (its work queue), ready, consumers,\n"
	  "             retrying (the messages in its retry tiers), parked (in its\n"
	  "             parking lot); null for a queue not declared yet\n"
	  "  outbox     pending (rows not yet published), lag_seconds (the age of the\n"
	  "             oldest of them, 0 when none), set_aside (rows the broker refused\n"
	  "             5 times, failed_at set), pruned: {inbox, outbox} each with rows\n"
	  "             (expired rows the pruner deleted, ever) and last_at (UTC, null\n"
	  "             when never); null when a database cannot be read\n",
	  NULL },
	{ NULL, NULL, NULL },
};

const struct ctl_command ctl_stats_cmd = {
	.group = "stats",
	.help = stats_help,
	.usage = "  orderflowctl stats                           queue depths, retrying, parked, outbox lag\n",
	.run = stats_run,
};
