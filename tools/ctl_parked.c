/*
 * orderflowctl parked list DOMAIN
 * orderflowctl parked replay DOMAIN --all | --event ID
 * orderflowctl parked purge DOMAIN
 *
 * The parking lot orderflow.DOMAIN.dead (DESIGN.md "Topology").
 *
 * `list` reads without taking: it consumes as many messages as a passive
 * declare says are ready, with a prefetch that holds them all, describes
 * each, then gives every one back (basic.nack, requeue). The parking lot has
 * no x-delivery-limit (broker/topology.c declares it with x-queue-type only),
 * so the redelivery count a quorum queue keeps on a requeue does no harm.
 *
 * `replay` republishes each matching message to orderflow.return with the
 * domain as routing key (only that domain's work queue is bound with it),
 * as a fresh first attempt: orderflow-attempt, orderflow-parked-*,
 * orderflow-last-error, orderflow-first-failed-at and the broker's x-death
 * are dropped. The copy goes out on a separate publishing link and the
 * original is acked in the parking lot only after the broker confirmed the
 * copy; a failed publish leaves the original in place. Messages that do not
 * match are held until the end and then given back, so none is seen twice.
 *
 * `purge` is queue.purge of the parking lot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/amqp_link.h"
#include "broker/consumer.h"
#include "broker/publisher.h"
#include "broker/topology.h"
#include "tools/ctl.h"

#define PARKED_WAIT_MS 3000        /* for the next message of those counted */
#define PARKED_CONFIRM_MS 30000
#define PARKED_MAX_PREFETCH 65535  /* AMQP's prefetch-count is 16 bits */

struct lot {
	struct ctl *ctl;
	const char *domain;
	char queue[128];
	char work[128];
	struct amqp_link *in;
	char ctag[128];
	int consuming;
	unsigned expected;      /* ready messages when we looked */
	uint64_t held_tag;      /* highest delivery tag still unacked; 0 = none */
};

/* ---- the session on the parking lot -------------------------------------- */

static int domain_arg(struct ctl *ctl, const char *verb, const char **domain_r)
{
	char list[160] = "";
	size_t used = 0;

	if (ctl->argc >= 2 && domain_lookup(ctl->argv[1]) >= 0) {
		*domain_r = ctl->argv[1];
		return CTL_OK;
	}
	for (int i = 0; i < DOM_COUNT && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 domain_name((enum domain_id)i));
	if (ctl->argc < 2)
		return ctl_usage(ctl, "parked %s: a DOMAIN is required (%s)", verb, list);
	return ctl_usage(ctl, "parked %s: unknown domain \"%s\"; domains: %s", verb, ctl->argv[1],
			 list);
}

static int lot_open(struct lot *l)
{
	if (ctl_link(l->ctl, &l->in) != CTL_OK)
		return CTL_ERROR;
	topology_dead_queue(l->queue, sizeof(l->queue), l->domain);
	topology_work_queue(l->work, sizeof(l->work), l->domain);
	if (topology_queue_depth(l->in, l->queue, &l->expected, NULL) != 0)
		return ctl_error("parked: %s", amqp_link_error(l->in));
	return CTL_OK;
}

static int lot_consume(struct lot *l)
{
	int prefetch = l->expected > PARKED_MAX_PREFETCH ? PARKED_MAX_PREFETCH : (int)l->expected;

	if (consumer_start(l->in, l->queue, prefetch, l->ctag, sizeof(l->ctag)) != 0)
		return ctl_error("parked: %s", amqp_link_error(l->in));
	l->consuming = 1;
	return CTL_OK;
}

/* 1 with *d, 0 when nothing more comes, -1 on a broker failure (reported). */
static int lot_next(struct lot *l, struct delivery *d)
{
	switch (consumer_next(l->in, PARKED_WAIT_MS, d)) {
	case CONSUMER_DELIVERY:
		return 1;
	case CONSUMER_TIMEOUT:
		return 0;
	case CONSUMER_CANCELLED:
		ctl_error("parked: the broker cancelled the consumer on %s", l->queue);
		l->consuming = 0;
		return -1;
	default:
		ctl_error("parked: %s", amqp_link_error(l->in));
		l->consuming = 0;
		return -1;
	}
}

static void lot_hold(struct lot *l, uint64_t tag)
{
	if (tag > l->held_tag)
		l->held_tag = tag;
}

/* Stops consuming, gives back every message still held (those the broker
 * pushed after the cancel too), and closes the link. */
static void lot_close(struct lot *l)
{
	struct delivery d;

	if (l->in == NULL)
		return;
	if (l->consuming && consumer_cancel(l->in, l->ctag) == 0) {
		while (consumer_next(l->in, 0, &d) == CONSUMER_DELIVERY) {
			lot_hold(l, d.tag);
			delivery_free(&d);
		}
	}
	/* If this fails, closing the channel requeues them all the same. */
	if (l->held_tag != 0 && consumer_nack(l->in, l->held_tag, 1, 1) != 0)
		ctl_warn("parked: giving the messages back: %s; closing the channel returns them",
			 amqp_link_error(l->in));
	amqp_link_close(l->in);
	l->in = NULL;
}

/* ---- list ---------------------------------------------------------------- */

static json_t *header_json(const struct delivery *d, const char *key)
{
	char buf[512];
	const char *v = delivery_header(d, key, buf, sizeof(buf));

	return v != NULL ? json_string(v) : json_null();
}

/* Our park reason, or the broker's own dead-lettering (x-death). */
static json_t *reason_json(const struct delivery *d)
{
	char buf[512], why[64];
	const char *v = delivery_header(d, "orderflow-parked-reason", buf, sizeof(buf));

	if (v != NULL)
		return json_string(v);
	if (delivery_x_death_reason(d, why, sizeof(why)) != NULL) {
		if (strcmp(why, "delivery_limit") == 0)
			return json_string("delivery-limit");
		snprintf(buf, sizeof(buf), "dead-lettered by the broker: %s", why);
		return json_string(buf);
	}
	return json_string("unknown");
}

static json_t *attempts_json(const struct delivery *d)
{
	char buf[32];
	const char *v = delivery_header(d, "orderflow-attempt", buf, sizeof(buf));

	return v != NULL ? json_integer(atoll(v)) : json_null();
}

static json_t *describe(const struct lot *l, const struct delivery *d)
{
	json_t *from = header_json(d, "orderflow-parked-from");
	char why[64];

	/* The broker dead-letters a work queue's message into its lot. */
	if (json_is_null(from) && delivery_x_death_reason(d, why, sizeof(why)) != NULL) {
		json_decref(from);
		from = json_string(l->work);
	}
	return json_pack("{s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, s:b}", "event_id",
			 d->message_id, "event_type", d->type, "correlation_id", d->correlation_id,
			 "reason", reason_json(d), "attempts", attempts_json(d), "first_failed_at",
			 header_json(d, "orderflow-first-failed-at"), "parked_from", from,
			 "redelivered", d->redelivered);
}

static const char *text_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static void print_list(const struct lot *l, json_t *msgs)
{
	size_t i;
	json_t *m;

	printf("%s: %zu parked message%s\n", l->queue, json_array_size(msgs),
	       json_array_size(msgs) == 1 ? "" : "s");
	if (json_array_size(msgs) == 0)
		return;
	printf("%-36s  %-18s  %8s  %-24s  %-22s  %s\n", "EVENT_ID", "TYPE", "ATTEMPTS",
	       "FIRST_FAILED_AT", "PARKED_FROM", "REASON");
	json_array_foreach(msgs, i, m) {
		json_t *a = json_object_get(m, "attempts");
		char attempts[24] = "-";

		if (json_is_integer(a))
			snprintf(attempts, sizeof(attempts), "%lld", (long long)json_integer_value(a));
		printf("%-36s  %-18s  %8s  %-24s  %-22s  %s\n", text_of(m, "event_id"),
		       text_of(m, "event_type"), attempts, text_of(m, "first_failed_at"),
		       text_of(m, "parked_from"), text_of(m, "reason"));
	}
}

static int parked_list(struct ctl *ctl)
{
	struct lot l = { .ctl = ctl };
	json_t *msgs = json_array();
	struct delivery d;
	int rc;

	if ((rc = domain_arg(ctl, "list", &l.domain)) != CTL_OK || ctl->argc != 2) {
		rc = rc != CTL_OK ? rc : ctl_usage(ctl, "parked list: only a DOMAIN is expected");
		goto out;
	}
	if ((rc = lot_open(&l)) != CTL_OK || (l.expected > 0 && (rc = lot_consume(&l)) != CTL_OK))
		goto out;
	for (unsigned n = 0; n < l.expected && n < PARKED_MAX_PREFETCH; n++) {
		int got = lot_next(&l, &d);

		if (got < 0)
			rc = CTL_ERROR;
		if (got <= 0)
			break;
		lot_hold(&l, d.tag);
		json_array_append_new(msgs, describe(&l, &d));
		delivery_free(&d);
	}
	if (rc != CTL_OK)
		goto out;
	if (ctl->json)
		ctl_print_json(json_pack("{s:s, s:s, s:I, s:O}", "domain", l.domain, "queue",
					 l.queue, "count", (json_int_t)json_array_size(msgs),
					 "messages", msgs));
	else
		print_list(&l, msgs);
out:
	lot_close(&l);
	json_decref(msgs);
	return rc;
}

/* ---- replay -------------------------------------------------------------- */

struct replay {
	struct lot lot;
	const char *event;      /* NULL = --all */
	struct amqp_link *out;
	unsigned replayed, kept;
};

static int replay_args(struct ctl *ctl, struct replay *r)
{
	int all = 0, rc = domain_arg(ctl, "replay", &r->lot.domain);

	if (rc != CTL_OK)
		return rc;
	for (int i = 2; i < ctl->argc; i++) {
		if (strcmp(ctl->argv[i], "--all") == 0)
			all = 1;
		else if (strcmp(ctl->argv[i], "--event") == 0 && i + 1 < ctl->argc)
			r->event = ctl->argv[++i];
		else
			return ctl_usage(ctl, "parked replay: unexpected argument '%s'", ctl->argv[i]);
	}
	if (all == (r->event != NULL))
		return ctl_usage(ctl, "parked replay: give either --all or --event ID");
	return CTL_OK;
}

/* The copy, as a first attempt, to the domain's own work queue. */
static int replay_one(struct replay *r, const struct delivery *d)
{
	static const char *const drop[] = { "orderflow-attempt", "orderflow-parked-reason",
					    "orderflow-parked-from", "orderflow-last-error",
					    "orderflow-first-failed-at", NULL };
	const amqp_basic_properties_t *p = &d->raw.message.properties;
	struct header_set *hs = header_set_new(d, drop);
	struct publish_msg msg = {
		.exchange = EXCHANGE_RETURN,
		.routing_key = r->lot.domain,
		.body = d->body,
		.body_len = d->body_len,
		.message_id = d->message_id,
		.type = d->type,
		.correlation_id = d->correlation_id,
		.timestamp = (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG) ? p->timestamp : 0,
		.headers = header_set_table(hs),
		.mandatory = 1,
	};
	int rc = publisher_publish_confirmed(r->out, &msg, PARKED_CONFIRM_MS);

	header_set_free(hs);
	if (rc != 0)
		return ctl_error("parked replay: republishing %s to %s/%s: %s; it stays parked",
				 d->message_id ? d->message_id : "(no id)", EXCHANGE_RETURN,
				 r->lot.domain, amqp_link_error(r->out));
	/* Confirmed: only now does it leave the parking lot. */
	if (consumer_ack(r->lot.in, d->tag, 0) != 0)
		return ctl_error("parked replay: %s was republished but its ack failed: %s; it "
				 "stays parked too (the inbox makes the duplicate harmless)",
				 d->message_id ? d->message_id : "(no id)",
				 amqp_link_error(r->lot.in));
	r->replayed++;
	return CTL_OK;
}

static int replay_loop(struct replay *r)
{
	struct delivery d;
	int rc = CTL_OK;

	for (unsigned n = 0; n < r->lot.expected && rc == CTL_OK; n++) {
		int got = lot_next(&r->lot, &d);

		if (got <= 0)
			return got < 0 ? CTL_ERROR : CTL_OK;
		if (r->event == NULL ||
		    (d.message_id != NULL && strcmp(d.message_id, r->event) == 0)) {
			rc = replay_one(r, &d);
			if (rc != CTL_OK)
				lot_hold(&r->lot, d.tag);
		} else {
			lot_hold(&r->lot, d.tag);
			r->kept++;
		}
		delivery_free(&d);
	}
	return rc;
}

static int parked_replay(struct ctl *ctl)
{
	struct replay r = { .lot.ctl = ctl };
	int rc;

	if ((rc = replay_args(ctl, &r)) != CTL_OK)
		return rc;
	if ((rc = lot_open(&r.lot)) != CTL_OK)
		goto out;
	if (r.lot.expected > 0) {
		if ((rc = ctl_link(ctl, &r.out)) != CTL_OK)
			goto out;
		if (publisher_enable(r.out) != 0) {
			rc = ctl_error("parked replay: %s", amqp_link_error(r.out));
			goto out;
		}
		if ((rc = lot_consume(&r.lot)) != CTL_OK || (rc = replay_loop(&r)) != CTL_OK)
			goto out;
	}
	if (r.event != NULL && r.replayed == 0) {
		rc = ctl_error("parked replay: event %s not found in %s", r.event, r.lot.queue);
		goto out;
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I}", "domain", r.lot.domain,
					 "queue", r.lot.queue, "to", r.lot.work, "replayed",
					 (json_int_t)r.replayed, "kept", (json_int_t)r.kept));
	else
		printf("replayed %u message%s from %s to %s\n", r.replayed,
		       r.replayed == 1 ? "" : "s", r.lot.queue, r.lot.work);
out:
	if (rc != CTL_OK && r.replayed > 0)
		ctl_warn("parked replay: %u message%s replayed before the failure", r.replayed,
			 r.replayed == 1 ? "" : "s");
	lot_close(&r.lot);
	if (r.out != NULL)
		amqp_link_close(r.out);
	return rc;
}

/* ---- purge --------------------------------------------------------------- */

static int parked_purge(struct ctl *ctl)
{
	struct lot l = { .ctl = ctl };
	unsigned purged = 0;
	int rc;

	if ((rc = domain_arg(ctl, "purge", &l.domain)) != CTL_OK)
		return rc;
	if (ctl->argc != 2)
		return ctl_usage(ctl, "parked purge: only a DOMAIN is expected");
	if ((rc = lot_open(&l)) != CTL_OK)
		goto out;
	if (topology_queue_purge(l.in, l.queue, &purged) != 0) {
		rc = ctl_error("parked purge: %s", amqp_link_error(l.in));
		goto out;
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:s, s:s, s:I}", "domain", l.domain, "queue", l.queue,
					 "purged", (json_int_t)purged));
	else
		printf("purged %u message%s from %s\n", purged, purged == 1 ? "" : "s", l.queue);
out:
	lot_close(&l);
	return rc;
}

static const struct ctl_help parked_help[] = {
	{ "list",
	  "usage: orderflowctl parked list DOMAIN\n\n"
	  "What the parking lot orderflow.DOMAIN.dead holds, left in place (each message\n"
	  "is read and given back). Takes no flags.\n\n"
	  "--json prints {\"domain\", \"queue\", \"count\", \"messages\": [...]}, a message:\n"
	  "  event_id         the envelope's message id\n"
	  "  event_type       the event's type (order.placed, ...)\n"
	  "  correlation_id   the order it belongs to\n"
	  "  reason           why it was parked (\"delivery-limit\": the broker's\n"
	  "                   delivery limit; \"unknown\" when nothing says)\n"
	  "  attempts         the attempts made, or null\n"
	  "  first_failed_at  when the first attempt failed, or null\n"
	  "  parked_from      the queue it was parked from\n"
	  "  redelivered      true when another reader had it before\n",
	  parked_list },
	{ "replay",
	  "usage: orderflowctl parked replay DOMAIN --all | --event ID\n\n"
	  "Sends parked messages back to the domain's work queue as a first attempt\n"
	  "(attempt count, park reason, last error and x-death dropped). A message\n"
	  "leaves the parking lot only once the broker confirmed its copy.\n"
	  "  --all       every message of the parking lot\n"
	  "  --event ID  only the message whose event id is ID (exit 1 if none is)\n"
	  "Give exactly one of them.\n\n"
	  "--json prints {\"domain\", \"queue\", \"to\", \"replayed\", \"kept\"}:\n"
	  "  queue     the parking lot read\n"
	  "  to        the work queue the messages went back to\n"
	  "  replayed  how many went back\n"
	  "  kept      how many stayed parked (not the --event asked for)\n",
	  parked_replay },
	{ "purge",
	  "usage: orderflowctl parked purge DOMAIN\n\n"
	  "Drops every message of the parking lot orderflow.DOMAIN.dead for good.\n"
	  "Takes no flags.\n\n"
	  "--json prints {\"domain\", \"queue\", \"purged\": N}.\n",
	  parked_purge },
	{ NULL, NULL, NULL },
};

const struct ctl_command ctl_parked_cmd = {
	.group = "parked",
	.help = parked_help,
	.usage = "  orderflowctl parked list DOMAIN              what the parking lot holds (left in place)\n"
		 "  orderflowctl parked replay DOMAIN --all | --event ID\n"
		 "                                               back to the domain's work queue, attempt 1\n"
		 "  orderflowctl parked purge DOMAIN             drop every parked message\n",
};
