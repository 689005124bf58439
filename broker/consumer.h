/*
 * consumer: a consumer on an amqp_link's channel with per-consumer prefetch
 * (global = 0: quorum queues refuse a global qos) and manual acks.
 *
 * consumer_next() returns one complete delivery or a timeout, servicing
 * heartbeats while it waits; frames that are not deliveries (a broker-side
 * basic.cancel, channel.close) are handled and reported as a status.
 *
 * Stopping (RabbitMQ issue 10327): consumer_cancel() sends basic.cancel and
 * waits for cancel-ok; deliveries the broker had already pushed stay queued and
 * consumer_next() still returns them (then CONSUMER_TIMEOUT): process or
 * reject them, ack, and only then close the link.
 */
#ifndef ORDERFLOW_CONSUMER_H
#define ORDERFLOW_CONSUMER_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

struct amqp_link;

struct delivery {
	/* The broker's delivery tag with the channel's generation in the top
	 * bits: pass it back as is; a tag from a channel that has been reopened
	 * since is refused instead of acking another message. */
	uint64_t tag;
	int redelivered;
	char *exchange;
	char *routing_key;
	void *body;           /* a copy, NUL-terminated after body_len bytes */
	size_t body_len;
	char *message_id;     /* NULL when absent */
	char *type;           /* NULL when absent */
	char *correlation_id; /* NULL when absent */
	amqp_envelope_t raw;  /* the library's envelope; headers are read from it */
};

enum consumer_status {
	CONSUMER_DELIVERY,
	CONSUMER_TIMEOUT,    /* nothing within the timeout */
	CONSUMER_CANCELLED,  /* the broker cancelled the consumer (queue deleted, ...) */
	CONSUMER_ERROR,      /* the connection or channel failed: link error set */
};

/* basic.qos(prefetch, global = 0) + basic.consume(no_ack = 0); the consumer tag
 * is written to ctag (at least 64 bytes). */
int consumer_start(struct amqp_link *link, const char *queue, int prefetch, char *ctag,
		   size_t ctag_len);
/* Waits up to timeout_ms (< 0: no limit; 0: only what has arrived) in slices
 * of 200 ms, releasing the link's mutex between them. *d is filled only for
 * CONSUMER_DELIVERY; free it with delivery_free(). After CONSUMER_ERROR or
 * CONSUMER_CANCELLED the consumer is gone: start it again (the channel was
 * reopened when only the channel failed) or close the link. */
enum consumer_status consumer_next(struct amqp_link *link, int timeout_ms, struct delivery *d);
int consumer_ack(struct amqp_link *link, uint64_t tag, int multiple);
/* basic.nack with requeue (give back) or without (the queue's dead-lettering). */
int consumer_nack(struct amqp_link *link, uint64_t tag, int multiple, int requeue);
int consumer_cancel(struct amqp_link *link, const char *ctag);
void delivery_free(struct delivery *d);

/* A header of the delivery as text (strings as they are, integers in decimal),
 * copied into buf; NULL when absent or of another type. */
const char *delivery_header(const struct delivery *d, const char *key, char *buf, size_t len);
/* 1 when the broker dead-lettered this message itself (an x-death header). */
int delivery_has_x_death(const struct delivery *d);
/* The reason of the newest x-death entry ("delivery_limit", "expired",
 * "rejected", "maxlen") into buf; NULL when there is none. */
const char *delivery_x_death_reason(const struct delivery *d, char *buf, size_t len);

/*
 * Header sets for the copies we publish (retry, park, replay): start from the
 * original message's headers, drop/replace ours, add new ones.
 */
struct header_set;
/* Copies the headers of `from` (may be NULL) except those whose names are in
 * `drop` (NULL-terminated, may be NULL) and except the broker's own, which are
 * always dropped: x-death, x-delivery-count, x-first-death-*, x-last-death-*.
 * Values are deep copies (nested arrays and tables included); setting an
 * existing key replaces its value. Out of memory is fatal (exit 75). */
struct header_set *header_set_new(const struct delivery *from, const char *const *drop);
void header_set_str(struct header_set *h, const char *key, const char *value);
void header_set_int(struct header_set *h, const char *key, long long value);
const amqp_table_t *header_set_table(const struct header_set *h);
void header_set_free(struct header_set *h);

#endif
