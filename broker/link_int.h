/*
 * link_int: the inside of struct amqp_link, shared by the files of broker/
 * only (publisher and consumer keep their per-channel state in the link,
 * because a channel.close resets it).
 *
 * Tags: the broker numbers deliveries and publishes per channel, from 1 again
 * after a channel is reopened. A tag handed to a caller carries the channel's
 * generation in its top 16 bits (0 for the first channel, so tags look like
 * the broker's until a reopen), so a tag from a closed channel can never ack
 * (or wait for) a different message on the new one.
 */
#ifndef ORDERFLOW_LINK_INT_H
#define ORDERFLOW_LINK_INT_H

#include "broker/amqp_link.h"
#include "broker/publisher.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define LINK_TAG_BITS 48
#define LINK_TAG_MASK ((UINT64_C(1) << LINK_TAG_BITS) - 1)
#define LINK_TAG(gen, tag) (((uint64_t)(gen) << LINK_TAG_BITS) | ((tag) & LINK_TAG_MASK))
#define LINK_TAG_GEN(tag) ((unsigned)((tag) >> LINK_TAG_BITS))

/* Publisher confirms of the current channel. */
struct link_pub {
	int confirm;            /* confirm.select done on this channel */
	uint64_t next_seq;      /* broker's tag of the next publish (from 1) */
	uint64_t settled_upto;  /* every seq <= this is acked or nacked */
	unsigned char *window;  /* window[i]: seq settled_upto + 1 + i is settled */
	size_t window_cap;
	char failure[512];      /* first nack/return since the last wait; "" = none */
	/* Set during publisher_wait_each(): refusals go here instead of failure. */
	publisher_refused_fn *on_refused;
	void *refused_ctx;
};

struct amqp_link {
	amqp_connection_state_t conn;
	pthread_mutex_t mu;     /* recursive: helpers nest (check inside a call) */
	atomic_int ok;
	unsigned gen;           /* channel generation (16 bits), 0 for the first open */
	int heartbeat_s;
	char node[256];         /* redacted URL */
	char err[1024];
	struct link_pub pub;

	/* keepalive thread */
	pthread_t ka_thread;
	int ka_running;
	int ka_stop;
	pthread_cond_t ka_cond;
};

/* Formats the error buffer ("what: detail"). */
void link_set_error(struct amqp_link *link, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Marks the link unusable (connection gone); keeps the error. */
void link_mark_broken(struct amqp_link *link);
/* -1 with "what: connection is broken (...)" when the link is not ok. */
int link_require_ok(struct amqp_link *link, const char *what);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t link_now_ms(void);

#endif
