/*
 * consumer: basic.consume with per-consumer prefetch, reading one whole
 * delivery at a time, acks, rejects and the cancel handshake (see consumer.h).
 */
#include "broker/consumer.h"
#include "broker/amqp_link.h"
#include "broker/link_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* consumer_next() holds the link's mutex for at most this long at a time, so
 * the keepalive thread (and a publisher sharing the process) can get in. */
#define CONSUMER_SLICE_MS 200

enum { NEXT_AGAIN = -1 };

int consumer_start(struct amqp_link *link, const char *queue, int prefetch, char *ctag,
		   size_t ctag_len)
{
	amqp_basic_consume_ok_t *ok;
	char what[200];
	int rc;

	snprintf(what, sizeof(what), "set prefetch %d for queue %s", prefetch, queue);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc < 0)
		goto cleanup;
	if (prefetch < 0 || prefetch > UINT16_MAX) {
		link_set_error(link, "%s: prefetch must be 0 to %d", what, UINT16_MAX);
		rc = -1;
		goto cleanup;
	}
	/* global = 0: per consumer, the only kind quorum queues accept */
	amqp_basic_qos(link->conn, AMQP_LINK_CHANNEL, 0, (uint16_t)prefetch, 0);
	rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
	if (rc < 0)
		goto cleanup;
	snprintf(what, sizeof(what), "consume from queue %s", queue);
	ok = amqp_basic_consume(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(queue),
				amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
	if (rc == 0)
		snprintf(ctag, ctag_len, "%.*s", (int)ok->consumer_tag.len,
			 (const char *)ok->consumer_tag.bytes);
	amqp_maybe_release_buffers(link->conn);
cleanup:
	amqp_link_unlock(link);
	return rc;
}

static char *dup_bytes(amqp_bytes_t b)
{
	char *s = malloc(b.len + 1);

	if (s != NULL) {
		if (b.len > 0)
			memcpy(s, b.bytes, b.len);
		s[b.len] = '\0';
	}
	return s;
}

static int dup_prop(const amqp_basic_properties_t *p, amqp_flags_t flag, amqp_bytes_t b,
		    char **out)
{
	if (!(p->_flags & flag))
		return 0;
	*out = dup_bytes(b);
	return *out ? 0 : -1;
}

/* Takes ownership of env. The body is copied with a terminating NUL so JSON
 * parsers can read it as a string. */
static enum consumer_status fill_delivery(struct amqp_link *link, amqp_envelope_t *env,
					  struct delivery *d)
{
	const amqp_basic_properties_t *p = &env->message.properties;

	d->raw = *env;
	d->tag = LINK_TAG(link->gen, env->delivery_tag);
	d->redelivered = env->redelivered;
	d->exchange = dup_bytes(env->exchange);
	d->routing_key = dup_bytes(env->routing_key);
	d->body = dup_bytes(env->message.body);
	d->body_len = env->message.body.len;
	if (d->exchange == NULL || d->routing_key == NULL || d->body == NULL ||
	    dup_prop(p, AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id, &d->message_id) < 0 ||
	    dup_prop(p, AMQP_BASIC_TYPE_FLAG, p->type, &d->type) < 0 ||
	    dup_prop(p, AMQP_BASIC_CORRELATION_ID_FLAG, p->correlation_id, &d->correlation_id) < 0) {
		/* It stays unacked and comes back when the link closes. */
		link_set_error(link, "receive a delivery: out of memory");
		delivery_free(d);
		return CONSUMER_ERROR;
	}
	return CONSUMER_DELIVERY;
}

/* A frame that is not a delivery, put back by amqp_consume_message. */
static int other_frame(struct amqp_link *link)
{
	const char *what = "receive a delivery";
	amqp_rpc_reply_t r = { .reply_type = AMQP_RESPONSE_SERVER_EXCEPTION };
	amqp_frame_t f;
	int st;

	st = amqp_simple_wait_frame(link->conn, &f); /* queued: returns at once */
	if (st != AMQP_STATUS_OK) {
		amqp_link_check_status(link, st, what);
		return CONSUMER_ERROR;
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return NEXT_AGAIN; /* content of a basic.return: not ours to read */
	if (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
	    f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
		r.reply = f.payload.method;
		amqp_link_check(link, r, what);
		return CONSUMER_ERROR;
	}
	if (f.channel == AMQP_LINK_CHANNEL && f.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
		const amqp_basic_cancel_t *c = f.payload.method.decoded;
		link_set_error(link, "%s: the broker cancelled consumer %.*s (queue deleted or "
				     "its leader gone)",
			       what, (int)c->consumer_tag.len, (const char *)c->consumer_tag.bytes);
		return CONSUMER_CANCELLED;
	}
	return NEXT_AGAIN; /* confirms, returns, connection.blocked: not a consumer's */
}

static int next_slice(struct amqp_link *link, int64_t deadline, struct delivery *d)
{
	int64_t left = deadline - link_now_ms();
	struct timeval tv;
	amqp_envelope_t env;
	amqp_rpc_reply_t r;

	if (link_require_ok(link, "receive a delivery") < 0)
		return CONSUMER_ERROR;
	if (left < 0)
		left = 0;
	if (left > CONSUMER_SLICE_MS)
		left = CONSUMER_SLICE_MS;
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)left * 1000;
	/* The last delivery lives in its own envelope: the frame pools can go. */
	amqp_maybe_release_buffers(link->conn);
	r = amqp_consume_message(link->conn, &env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return fill_delivery(link, &env, d);
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
		if (r.library_error == AMQP_STATUS_TIMEOUT)
			return link_now_ms() >= deadline ? CONSUMER_TIMEOUT : NEXT_AGAIN;
		if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE)
			return other_frame(link);
	}
	amqp_link_check(link, r, "receive a delivery");
	return CONSUMER_ERROR;
}

enum consumer_status consumer_next(struct amqp_link *link, int timeout_ms, struct delivery *d)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : link_now_ms() + timeout_ms;
	int st;

	memset(d, 0, sizeof(*d));
	do {
		amqp_link_lock(link);
		st = next_slice(link, deadline, d);
		amqp_link_unlock(link);
	} while (st == NEXT_AGAIN);
	return (enum consumer_status)st;
}

/* Rejects a tag of an earlier channel: the broker has requeued that message,
 * and the number now belongs to another one. */
static int check_tag(struct amqp_link *link, uint64_t tag, const char *what)
{
	if (link_require_ok(link, what) < 0)
		return -1;
	if (LINK_TAG_GEN(tag) != link->gen) {
		link_set_error(link, "%s: it came on a channel that has closed since (the broker "
				     "requeued it)",
			       what);
		return -1;
	}
	return 0;
}

int consumer_ack(struct amqp_link *link, uint64_t tag, int multiple)
{
	char what[96];
	int rc;

	snprintf(what, sizeof(what), "ack delivery #%llu%s",
		 (unsigned long long)(tag & LINK_TAG_MASK), multiple ? " and before" : "");
	amqp_link_lock(link);
	rc = check_tag(link, tag, what);
	if (rc == 0)
		rc = amqp_link_check_status(link,
					    amqp_basic_ack(link->conn, AMQP_LINK_CHANNEL,
							   tag & LINK_TAG_MASK, multiple ? 1 : 0),
					    what);
	amqp_link_unlock(link);
	return rc;
}

int consumer_nack(struct amqp_link *link, uint64_t tag, int multiple, int requeue)
{
	char what[96];
	int rc;

	snprintf(what, sizeof(what), "nack delivery #%llu%s", (unsigned long long)(tag & LINK_TAG_MASK),
		 multiple ? " and before" : "");
	amqp_link_lock(link);
	rc = check_tag(link, tag, what);
	if (rc == 0)
		rc = amqp_link_check_status(link,
					    amqp_basic_nack(link->conn, AMQP_LINK_CHANNEL,
							    tag & LINK_TAG_MASK, multiple ? 1 : 0,
							    requeue ? 1 : 0),
					    what);
	amqp_link_unlock(link);
	return rc;
}

int consumer_cancel(struct amqp_link *link, const char *ctag)
{
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "cancel consumer %s", ctag);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0) {
		/* Waits for cancel-ok; deliveries that arrive meanwhile are
		 * queued by the library and returned by consumer_next(). */
		amqp_basic_cancel(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(ctag));
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
	}
	amqp_link_unlock(link);
	return rc;
}

void delivery_free(struct delivery *d)
{
	free(d->exchange);
	free(d->routing_key);
	free(d->body);
	free(d->message_id);
	free(d->type);
	free(d->correlation_id);
	/* A zeroed envelope is fine here: its pool has no blocks. */
	amqp_destroy_envelope(&d->raw);
	memset(d, 0, sizeof(*d));
}
