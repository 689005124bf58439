/*
 * domain: what a domain supplies to the one delivery protocol (worker.c).
 *
 * A domain is a name (its queue orderflow.<name> and its inbox consumer) and
 * a table of the events it consumes from orderflow.events, each row with its
 * handler. The worker owns the channel, the transaction, the inbox row,
 * retries and parking; the handler only reads and writes its own rows through
 * ctx->db inside the open transaction and appends the events it emits with
 * handler_emit().
 *
 * The handler returns:
 *   HANDLER_OK      the effects are to be committed (an event that changes
 *                   nothing, e.g. a late duplicate transition, is OK too);
 *   HANDLER_RETRY   a transient failure: rolled back and retried later through
 *                   the delay tiers (a database error, a prerequisite event not
 *                   seen yet, a webhook timeout). Set the reason with
 *                   handler_retry();
 *   HANDLER_REJECT  a permanent failure (the payload breaks the domain's
 *                   rules): rolled back and parked with "rejected: REASON".
 *
 * Business outcomes (out of stock, card declined) are events, not failures.
 */
#ifndef ORDERFLOW_DOMAIN_H
#define ORDERFLOW_DOMAIN_H

#include <jansson.h>

#include "core/config.h"
#include "core/envelope.h"
#include "db/db.h"
#include "db/outbox.h"

struct eager;

enum handler_result {
	HANDLER_OK = 0,
	HANDLER_RETRY,
	HANDLER_REJECT,
};

struct handler_ctx {
	struct db *db;
	const struct config *cfg;
	const struct envelope *ev;   /* decoded, validated, upcast */
	const char *body;            /* the message body as received */
	size_t body_len;
	const char *consumer;        /* the domain name */
	void *state;                 /* the domain's per-process state (init) */
	int attempt;                 /* 1 for a first delivery */
	int emitted;                 /* events appended by handler_emit */
	char reason[256];            /* set by handler_retry / handler_reject */
	/* Eager dispatch (workers/eager.h), set by the worker: handler_emit
	 * holds each row back from the relay for grace_ms and gives it to
	 * keep(eager, row) to publish after the commit. NULL: the relay's. */
	struct eager *eager;
	int (*keep)(struct eager *eager, struct outbox_row *row);
	long grace_ms;
};

/* Sets ctx->reason (printf-style) and returns r. */
enum handler_result handler_fail(struct handler_ctx *ctx, enum handler_result r,
				 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* handler_retry(ctx, fmt, ...) and handler_reject(ctx, fmt, ...): the reason
 * and HANDLER_RETRY / HANDLER_REJECT. */
#define handler_retry(ctx, ...) handler_fail((ctx), HANDLER_RETRY, __VA_ARGS__)
#define handler_reject(ctx, ...) handler_fail((ctx), HANDLER_REJECT, __VA_ARGS__)
/* Maps a failed database call to HANDLER_RETRY with db_error() as reason. */
enum handler_result handler_db_failed(struct handler_ctx *ctx, const char *what);

/* Appends an event to the outbox in the handler's transaction: causation_id =
 * the event being handled, correlation_id copied from it. Takes ownership of
 * payload. Returns DB_OK or the failure (then return handler_db_failed()). */
enum db_status handler_emit(struct handler_ctx *ctx, const char *event_type,
			    const char *aggregate_type, const char *aggregate_id,
			    json_t *payload);

/* One row of a domain's table, like a row of Redis's command table: which
 * events, the function that handles them, and how. The worker derives from
 * the rows the queue's bindings (domain_keys), the dispatch and the refusal
 * of an event no row takes (domain_dispatch); an event type is written in one
 * row of one domain, nowhere else in it. */
struct domain_event {
	/* The routing key bound from orderflow.events: an event type, or a
	 * topic pattern ("#": every event). NULL with DOM_EV_CONFIGURED. */
	const char *type;
	enum handler_result (*handle)(struct handler_ctx *ctx);
	unsigned flags;              /* DOM_EV_* */
};

/* The handler touches nothing but the database, so the worker may handle the
 * deliveries already in its buffer in one transaction (one commit, one
 * multiple ack); any failure rolls that batch back and each delivery is then
 * handled alone. Not for a handler whose effects a rollback cannot undo (a
 * webhook POST, a payment gateway call). */
#define DOM_EV_BATCH 0x1u
/* The row stands for each event type of domains.<name>.events (the
 * webhook's configured events), taken from the configuration. */
#define DOM_EV_CONFIGURED 0x2u
/* The row is bound to its pattern only while the audit queue brings
 * event_log its events (domains.audit.log_from = "queue"); with "outbox" it
 * is bound only to the events no other domain takes, so that each event
 * still reaches a queue, and it handles those and what already waited. */
#define DOM_EV_LOG_QUEUE 0x4u

struct domain {
	const char *name;
	const struct domain_event *events;   /* the table */
	int nevents;
	/* Optional: per-process set-up after fork (curl handles, ...). */
	int (*init)(const struct config *cfg, void **state_r, char **err_r);
	void (*fini)(void *state);
	/* Optional: ms the worker must wait before taking the next delivery
	 * (an open circuit breaker); 0 = go on. */
	long (*hold_ms)(void *state);
	/* Optional, for DOM_EV_BATCH rows: called first in a batch's
	 * transaction with its events; takes up front, in the one order the
	 * domain's handlers use, the contended row locks that the handlers
	 * would otherwise take event by event, i.e. out of that order across
	 * the batch (two workers' batches would deadlock). DB_OK, or the
	 * failure (the batch is then rolled back and handled one delivery at a
	 * time). */
	enum db_status (*batch_lock)(struct db *db, const struct envelope *const *evs, int n);
};

#define DOMAIN_TABLE(rows) .events = (rows), .nevents = (int)(sizeof(rows) / sizeof((rows)[0]))

/* The routing keys of a domain under cfg, in table order (a configured row
 * expands to domains.<name>.events): *keys_r is malloc'd (free() it), its
 * strings point into the table or cfg. Returns the count, or -1 (out of
 * memory). */
int domain_keys(const struct domain *dom, const struct config *cfg, const char ***keys_r);

/* The row that takes event type `type`, or NULL: the domain refuses it. */
const struct domain_event *domain_route(const struct domain *dom, const struct config *cfg,
					const char *type);

/* Runs the row's handler for ctx->ev; an event with no row is rejected
 * ("<name>: <type> is not an event of the <name> domain"). */
enum handler_result domain_dispatch(const struct domain *dom, struct handler_ctx *ctx);

/* 1 when routing key `key` matches AMQP topic pattern `pattern` (words
 * between dots; "*" one word, "#" zero or more). */
int topic_match(const char *pattern, const char *key);

/* The seven real domains, by id. */
const struct domain *domain_get(enum domain_id id);

#endif
