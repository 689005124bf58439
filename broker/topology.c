/*
 * topology: declaring the exchanges, work queues, delay tiers and parking
 * lots (see topology.h and DESIGN.md "Topology").
 */
#include "broker/topology.h"
#include "broker/amqp_link.h"
#include "broker/link_int.h"
#include "core/config.h"
#include "core/config_check.h"
#include "core/log.h"
#include "broker/policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest domain name we accept: every derived name stays well inside the
 * 128-byte buffers and AMQP's 255-byte short strings. */
#define TOPO_DOMAIN_MAX 64
#define TOPO_ARGS_MAX 8

/* Queue arguments. Numbers are always sent as AMQP 'l' (signed 64-bit):
 * RabbitMQ compares the type as well as the value when a queue is declared
 * again, so one field kind everywhere keeps redeclaring idempotent. */
struct qargs {
	amqp_table_entry_t e[TOPO_ARGS_MAX];
	int n;
};

static void arg_str(struct qargs *a, const char *key, const char *value)
{
	amqp_table_entry_t *e = &a->e[a->n++];

	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
}

static void arg_long(struct qargs *a, const char *key, int64_t value)
{
	amqp_table_entry_t *e = &a->e[a->n++];

	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_I64;
	e->value.value.i64 = value;
}

static int is_quorum(const struct config *cfg)
{
	return cfg->broker.queue_type == NULL || strcmp(cfg->broker.queue_type, "quorum") == 0;
}

/* Dead-lettering of a queue to (exchange, key); on a quorum queue with
 * at-least-once, which RabbitMQ only honours together with reject-publish
 * (with the default drop-head it silently falls back to at-most-once). */
static void args_dead_letter(struct qargs *a, const struct config *cfg, const char *exchange,
			     const char *key)
{
	arg_str(a, "x-dead-letter-exchange", exchange);
	arg_str(a, "x-dead-letter-routing-key", key);
	if (is_quorum(cfg)) {
		arg_str(a, "x-dead-letter-strategy", "at-least-once");
		arg_str(a, "x-overflow", "reject-publish");
	}
}

void topology_work_queue(char *out, size_t len, const char *domain)
{
	snprintf(out, len, "orderflow.%s", domain);
}

void topology_retry_queue(char *out, size_t len, const char *domain, int tier)
{
	snprintf(out, len, "orderflow.%s.retry.%d", domain, tier);
}

void topology_dead_queue(char *out, size_t len, const char *domain)
{
	snprintf(out, len, "orderflow.%s.dead", domain);
}

/* ---- single declarations ------------------------------------------------ */

static int declare_exchange(struct amqp_link *link, const char *name, const char *type)
{
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "declare exchange %s", name);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		amqp_exchange_declare(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(name),
				      amqp_cstring_bytes(type), 0, 1, 0, 0, amqp_empty_table);
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		amqp_maybe_release_buffers(link->conn);
	}
	amqp_link_unlock(link);
	return rc;
}

static int declare_queue(struct amqp_link *link, const char *name, struct qargs *a)
{
	amqp_table_t table = { .num_entries = a->n, .entries = a->e };
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "declare queue %s", name);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		/* durable, not exclusive, not auto-delete */
		amqp_queue_declare(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(name), 0, 1,
				   0, 0, table);
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		amqp_maybe_release_buffers(link->conn);
	}
	amqp_link_unlock(link);
	return rc;
}

static int bind_queue(struct amqp_link *link, const char *queue, const char *exchange,
		      const char *key)
{
	char what[400];
	int rc;

	snprintf(what, sizeof(what), "bind queue %s to exchange %s with key %s", queue, exchange,
		 key);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		amqp_queue_bind(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(queue),
				amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
				amqp_empty_table);
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		amqp_maybe_release_buffers(link->conn);
	}
	amqp_link_unlock(link);
	return rc;
}

/* 1 when the last error is the broker refusing a redeclaration because the
 * existing queue has argument `arg` (an older orderflow set it). */
static int refused_for_arg(struct amqp_link *link, const char *arg)
{
	char quoted[64];

	snprintf(quoted, sizeof(quoted), "'%s'", arg);
	return amqp_link_ok(link) && strstr(amqp_link_error(link), "PRECONDITION_FAILED") != NULL &&
	       strstr(amqp_link_error(link), quoted) != NULL;
}

/* Deletes a queue only when it holds no message (the broker checks that
 * atomically); -1 when it is not empty or the broker refuses. */
static int delete_if_empty(struct amqp_link *link, const char *name)
{
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "delete empty queue %s", name);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		amqp_queue_delete(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(name), 0, 1);
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		amqp_maybe_release_buffers(link->conn);
	}
	amqp_link_unlock(link);
	return rc;
}

static int unbind_queue(struct amqp_link *link, const char *queue, const char *exchange,
			const char *key)
{
	char what[400];
	int rc;

	snprintf(what, sizeof(what), "unbind queue %s from exchange %s with key %s", queue,
		 exchange, key);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		/* Unbinding what is not bound is not an error to RabbitMQ. */
		amqp_queue_unbind(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(queue),
				  amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
				  amqp_empty_table);
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		amqp_maybe_release_buffers(link->conn);
	}
	amqp_link_unlock(link);
	return rc;
}

/* ---- the contract ------------------------------------------------------- */

int topology_declare_exchanges(struct amqp_link *link)
{
	if (declare_exchange(link, EXCHANGE_EVENTS, "topic") < 0 ||
	    declare_exchange(link, EXCHANGE_RETRY, "direct") < 0 ||
	    declare_exchange(link, EXCHANGE_RETURN, "direct") < 0 ||
	    declare_exchange(link, EXCHANGE_DEAD, "direct") < 0)
		return -1;
	return 0;
}

static int declare_parking_lot(struct amqp_link *link, const struct config *cfg,
			       const char *domain)
{
	struct qargs a = { .n = 0 };
	char q[128];

	topology_dead_queue(q, sizeof(q), domain);
	arg_str(&a, "x-queue-type", is_quorum(cfg) ? "quorum" : "classic");
	if (declare_queue(link, q, &a) < 0 || bind_queue(link, q, EXCHANGE_DEAD, domain) < 0)
		return -1;
	return 0;
}

static int has_key(const char *const *keys, int nkeys, const char *key)
{
	for (int i = 0; i < nkeys; i++)
		if (strcmp(keys[i], key) == 0)
			return 1;
	return 0;
}

/* AMQP cannot list a queue's bindings: unbind every key a domain could have
 * bound (each event of DESIGN.md, and "#") that it does not want now, so a
 * reload that drops a key (webhook.events) stops its routing. */
static int unbind_unwanted(struct amqp_link *link, const char *queue, const char *const *keys,
			   int nkeys)
{
	const char *const *all;
	int n = cfg_routing_keys(&all);

	for (int i = 0; i < n; i++)
		if (!has_key(keys, nkeys, all[i]) &&
		    unbind_queue(link, queue, EXCHANGE_EVENTS, all[i]) < 0)
			return -1;
	if (!has_key(keys, nkeys, "#") && unbind_queue(link, queue, EXCHANGE_EVENTS, "#") < 0)
		return -1;
	return 0;
}

static int declare_work_queue(struct amqp_link *link, const struct config *cfg,
			      const char *domain, const char *const *keys, int nkeys)
{
	struct qargs a = { .n = 0 };
	char q[128];
	int i;

	topology_work_queue(q, sizeof(q), domain);
	arg_str(&a, "x-queue-type", is_quorum(cfg) ? "quorum" : "classic");
	/* With a management URL the delivery limit is a policy, which a
	 * reload can change; without, the fixed argument. */
	if (is_quorum(cfg) && !policy_manages_delivery_limit(cfg))
		arg_long(&a, "x-delivery-limit", cfg->broker.delivery_limit);
	args_dead_letter(&a, cfg, EXCHANGE_DEAD, domain);
	if (declare_queue(link, q, &a) < 0) {
		/* A work queue holds work: never deleted. One declared with the
		 * argument keeps it (the broker applies the lower of argument and
		 * policy) until an operator recreates it. */
		if (!refused_for_arg(link, "x-delivery-limit") ||
		    topology_queue_depth(link, q, NULL, NULL) < 0)
			return -1;
		log_warn("queue %s keeps the fixed x-delivery-limit it was declared with: a "
			 "broker.delivery_limit above it has no effect until the queue is recreated",
			 q);
	}
	if (policy_manages_delivery_limit(cfg)) {
		char *err = NULL;

		if (policy_set_delivery_limit(cfg, domain, &err) != 0) {
			link_set_error(link, "%s", err);
			free(err);
			return -1;
		}
	}
	for (i = 0; i < nkeys; i++)
		if (bind_queue(link, q, EXCHANGE_EVENTS, keys[i]) < 0)
			return -1;
	if (unbind_unwanted(link, q, keys, nkeys) < 0)
		return -1;
	return bind_queue(link, q, EXCHANGE_RETURN, domain);
}

static int declare_retry_tier(struct amqp_link *link, const struct config *cfg,
			      const char *domain, int tier)
{
	struct qargs a = { .n = 0 };
	char q[128], key[128];

	topology_retry_queue(q, sizeof(q), domain, tier);
	snprintf(key, sizeof(key), "%s.%d", domain, tier);
	arg_str(&a, "x-queue-type", is_quorum(cfg) ? "quorum" : "classic");
	/* No x-message-ttl: each retried copy carries its tier's delay as its
	 * expiration, so retry.delays_ms can change on a live system. */
	args_dead_letter(&a, cfg, EXCHANGE_RETURN, domain);
	if (declare_queue(link, q, &a) < 0) {
		/* A tier an older orderflow declared with x-message-ttl: replace
		 * it when it is empty (a retry published meanwhile is returned,
		 * unroutable, and its worker tries again); otherwise it keeps
		 * working, its old TTL capping the delay, until a later start
		 * finds it empty. */
		if (!refused_for_arg(link, "x-message-ttl"))
			return -1;
		/* Quorum queues refuse an if-empty delete (NOT_IMPLEMENTED, which
		 * closes the connection), and a delete without it could lose a
		 * retry published between a look and the delete: keep the tier. */
		if (!is_quorum(cfg) && delete_if_empty(link, q) == 0) {
			log_info("queue %s: replaced the tier declared with a fixed x-message-ttl", q);
			if (declare_queue(link, q, &a) < 0)
				return -1;
		} else if (topology_queue_depth(link, q, NULL, NULL) == 0) {
			log_warn("queue %s keeps the fixed x-message-ttl it was declared with until it "
				 "is %s: a longer retry.delays_ms[%d] waits at most that long", q,
				 is_quorum(cfg) ? "deleted by hand when empty (rabbitmqadmin delete "
				 "queue name=...)" : "empty", tier - 1);
		} else {
			return -1;
		}
	}
	if (bind_queue(link, q, EXCHANGE_RETRY, key) < 0)
		return -1;
	return 0;
}

static int check_domain_args(struct amqp_link *link, const struct config *cfg,
			     const char *domain)
{
	const char *qt = cfg->broker.queue_type;

	if (domain == NULL || domain[0] == '\0' || strlen(domain) > TOPO_DOMAIN_MAX) {
		link_set_error(link, "declare domain queues: domain name must have 1 to %d bytes",
			       TOPO_DOMAIN_MAX);
		return -1;
	}
	if (qt != NULL && strcmp(qt, "quorum") != 0 && strcmp(qt, "classic") != 0) {
		link_set_error(link, "declare queues of %s: unknown broker.queue_type \"%s\"",
			       domain, qt);
		return -1;
	}
	return 0;
}

int topology_declare_domain(struct amqp_link *link, const struct config *cfg,
			    const char *domain, const char *const *keys, int nkeys)
{
	int tier;

	if (check_domain_args(link, cfg, domain) < 0)
		return -1;
	/* Targets before sources: the parking lot and the work queue exist
	 * before anything can dead-letter into them. */
	if (topology_declare_exchanges(link) < 0 || declare_parking_lot(link, cfg, domain) < 0 ||
	    declare_work_queue(link, cfg, domain, keys, nkeys) < 0)
		return -1;
	for (tier = 1; tier <= cfg->retry.delay_count; tier++)
		if (declare_retry_tier(link, cfg, domain, tier) < 0)
			return -1;
	return 0;
}

int topology_queue_depth(struct amqp_link *link, const char *queue, unsigned *messages_r,
			 unsigned *consumers_r)
{
	amqp_queue_declare_ok_t *ok;
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "inspect queue %s", queue);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		/* passive: reads the counts, changes nothing, ignores arguments */
		ok = amqp_queue_declare(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(queue),
					1, 0, 0, 0, amqp_empty_table);
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		if (rc == 0) {
			if (messages_r)
				*messages_r = ok->message_count;
			if (consumers_r)
				*consumers_r = ok->consumer_count;
		}
		amqp_maybe_release_buffers(link->conn);
	}
	amqp_link_unlock(link);
	return rc;
}

int topology_queue_purge(struct amqp_link *link, const char *queue, unsigned *purged_r)
{
	amqp_queue_purge_ok_t *ok;
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "purge queue %s", queue);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		ok = amqp_queue_purge(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(queue));
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		if (rc == 0 && purged_r)
			*purged_r = ok->message_count;
		amqp_maybe_release_buffers(link->conn);
	}
	amqp_link_unlock(link);
	return rc;
}
