/*
 * publisher: persistent publishes with publisher confirms on an amqp_link.
 *
 * publisher_enable() puts the link's channel in confirm mode (confirm.select).
 * publisher_send() publishes one message (mandatory, delivery_mode 2) and
 * returns its delivery tag; publisher_wait() reads the broker's basic.ack /
 * basic.nack frames (and basic.return for unroutable messages) until every
 * message up to `tag` is settled or the timeout passes. rabbitmq-c 0.11 has no
 * helper for this. A nack, a return, a timeout or a lost connection makes the
 * wait fail: the caller must treat every message since its last successful
 * wait as not published.
 *
 * Use a link of its own for publishing: a consuming channel receives
 * deliveries that this reader would have to skip.
 */
#ifndef ORDERFLOW_PUBLISHER_H
#define ORDERFLOW_PUBLISHER_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

struct amqp_link;

/* Message properties and our headers; NULL / 0 fields are left out. */
struct publish_msg {
	const char *exchange;
	const char *routing_key;
	const void *body;
	size_t body_len;
	const char *message_id;     /* event_id */
	const char *type;           /* event_type */
	const char *correlation_id;
	uint64_t timestamp;         /* seconds since the epoch; 0 = now */
	const amqp_table_t *headers; /* optional; copied as given */
	int mandatory;              /* 1: an unroutable message fails the wait */
	const char *expiration;     /* per-message TTL in ms as text; NULL = none */
};

int publisher_enable(struct amqp_link *link);
/* Returns 0 and *tag_r (opaque: pass it to publisher_wait; 0 when confirms
 * are off), or -1 (link error set). */
int publisher_send(struct amqp_link *link, const struct publish_msg *msg, uint64_t *tag_r);
/* Waits until every tag <= `tag` is confirmed. 0 = all acked; -1 = a nack, a
 * return, a timeout or a connection problem (link error set). */
int publisher_wait(struct amqp_link *link, uint64_t tag, int timeout_ms);
/* A message the broker refused: a basic.nack (tag as publisher_send gave
 * it, message_id NULL) or a basic.return (tag 0: a return names no tag, so
 * the message is known by its message_id). reason says what the broker said. */
typedef void publisher_refused_fn(void *ctx, uint64_t tag, const char *message_id,
				  const char *reason);
/* Like publisher_wait(), but a nack or a return does not fail the wait: each
 * refused message is reported to refused(ctx, ...) as its frame arrives, and
 * the wait returns 0 once every tag <= `tag` is settled. -1 only for a
 * timeout or a connection problem: then nothing since the last successful
 * wait counts as published. */
int publisher_wait_each(struct amqp_link *link, uint64_t tag, int timeout_ms,
			publisher_refused_fn *refused, void *ctx);
/* Reads the confirms that have already arrived, without waiting: refusals
 * go to refused(ctx, ...) as in publisher_wait_each(), and *upto_r gets the
 * tag up to which every publish is settled (compare tags of this link only).
 * -1 for a connection problem (link error set). */
int publisher_poll(struct amqp_link *link, publisher_refused_fn *refused, void *ctx,
		   uint64_t *upto_r);
/* 1 when the publish `tag` is settled by publisher_poll()'s `upto`: same
 * channel, and not after it. A tag of a channel since reopened never is. */
int publisher_tag_settled(uint64_t tag, uint64_t upto);
/* send + wait for one message. */
int publisher_publish_confirmed(struct amqp_link *link, const struct publish_msg *msg,
				int timeout_ms);

#endif
