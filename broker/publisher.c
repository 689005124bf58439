/*
 * publisher: persistent, mandatory publishes and the wait for their confirms
 * (basic.ack / nack / return), which rabbitmq-c 0.11 has no helper for
 * (see publisher.h).
 */
#include "broker/publisher.h"
#include "broker/amqp_link.h"
#include "broker/link_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- bookkeeping of outstanding publishes ------------------------------- */

/* Makes room in the window for the publish about to get seq next_seq. */
static int window_reserve(struct link_pub *p)
{
	size_t need = (size_t)(p->next_seq - p->settled_upto);
	size_t cap = p->window_cap ? p->window_cap : 256;
	unsigned char *w;

	if (need <= p->window_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	w = realloc(p->window, cap);
	if (w == NULL)
		return -1;
	memset(w + p->window_cap, 0, cap - p->window_cap);
	p->window = w;
	p->window_cap = cap;
	return 0;
}

/* Moves settled_upto forward by k and the window with it. */
static void window_advance(struct link_pub *p, uint64_t k)
{
	if (k >= p->window_cap) {
		memset(p->window, 0, p->window_cap);
	} else {
		memmove(p->window, p->window + k, p->window_cap - (size_t)k);
		memset(p->window + p->window_cap - k, 0, (size_t)k);
	}
	p->settled_upto += k;
}

/* basic.ack / basic.nack: one seq, or every seq up to it (multiple). RabbitMQ
 * may confirm out of order, so single confirms are kept in the window until
 * everything before them is settled too. */
static void settle(struct link_pub *p, uint64_t seq, int multiple)
{
	uint64_t k = 0;

	if (seq >= p->next_seq)
		seq = p->next_seq - 1; /* a confirm for something never sent */
	if (seq <= p->settled_upto)
		return;
	if (multiple)
		window_advance(p, seq - p->settled_upto);
	else
		p->window[seq - p->settled_upto - 1] = 1;
	while (k < p->window_cap && p->window[k])
		k++;
	if (k > 0)
		window_advance(p, k);
}

static void note_failure(struct link_pub *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_failure(struct link_pub *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failure[0] != '\0')
		return; /* the first failure is the one worth reporting */
	va_start(ap, fmt);
	vsnprintf(p->failure, sizeof(p->failure), fmt, ap);
	va_end(ap);
}

/* ---- the contract ------------------------------------------------------- */

int publisher_enable(struct amqp_link *link)
{
	const char *what = "enable publisher confirms (confirm.select)";
	int rc;

	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc == 0 && !link->pub.confirm) {
		amqp_confirm_select(link->conn, AMQP_LINK_CHANNEL);
		rc = amqp_link_check(link, amqp_get_rpc_reply(link->conn), what);
		amqp_maybe_release_buffers(link->conn);
		if (rc == 0) {
			link->pub.confirm = 1;
			link->pub.next_seq = 1;
			link->pub.settled_upto = 0;
			link->pub.failure[0] = '\0';
		}
	}
	amqp_link_unlock(link);
	return rc;
}

static void fill_props(amqp_basic_properties_t *props, const struct publish_msg *msg)
{
	memset(props, 0, sizeof(*props));
	props->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
			AMQP_BASIC_TIMESTAMP_FLAG;
	props->content_type = amqp_cstring_bytes("application/json");
	props->delivery_mode = AMQP_DELIVERY_PERSISTENT;
	props->timestamp = msg->timestamp ? msg->timestamp : (uint64_t)time(NULL);
	if (msg->message_id) {
		props->_flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		props->message_id = amqp_cstring_bytes(msg->message_id);
	}
	if (msg->type) {
		props->_flags |= AMQP_BASIC_TYPE_FLAG;
		props->type = amqp_cstring_bytes(msg->type);
	}
	if (msg->correlation_id) {
		props->_flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
		props->correlation_id = amqp_cstring_bytes(msg->correlation_id);
	}
	if (msg->headers) {
		props->_flags |= AMQP_BASIC_HEADERS_FLAG;
		props->headers = *msg->headers;
	}
	if (msg->expiration) {
		props->_flags |= AMQP_BASIC_EXPIRATION_FLAG;
		props->expiration = amqp_cstring_bytes(msg->expiration);
	}
}

int publisher_send(struct amqp_link *link, const struct publish_msg *msg, uint64_t *tag_r)
{
	amqp_basic_properties_t props;
	amqp_bytes_t body = { .len = msg->body_len, .bytes = (void *)msg->body };
	char what[400];
	int rc, st;

	snprintf(what, sizeof(what), "publish %s to exchange %s with key %s",
		 msg->message_id ? msg->message_id : "(no message id)", msg->exchange,
		 msg->routing_key);
	*tag_r = 0;
	fill_props(&props, msg);
	amqp_link_lock(link);
	rc = link_require_ok(link, what);
	if (rc < 0)
		goto cleanup;
	if (link->pub.confirm && window_reserve(&link->pub) < 0) {
		link_set_error(link, "%s: out of memory", what);
		rc = -1;
		goto cleanup;
	}
	st = amqp_basic_publish(link->conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(msg->exchange),
				amqp_cstring_bytes(msg->routing_key), msg->mandatory ? 1 : 0, 0,
				&props, body);
	rc = amqp_link_check_status(link, st, what);
	if (rc == 0 && link->pub.confirm)
		*tag_r = LINK_TAG(link->gen, link->pub.next_seq++);
cleanup:
	amqp_link_unlock(link);
	return rc;
}

static int frame_deadline_wait(struct amqp_link *link, amqp_frame_t *f, int64_t deadline,
			       const char *what)
{
	int64_t left = deadline - link_now_ms();
	struct timeval tv;
	int st;

	if (left < 0)
		left = 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	st = amqp_simple_wait_frame_noblock(link->conn, f, &tv);
	if (st == AMQP_STATUS_TIMEOUT)
		return 1;
	return amqp_link_check_status(link, st, what);
}

/* A connection.close or channel.close frame: report and recover. */
static int close_frame(struct amqp_link *link, const amqp_frame_t *f, const char *what)
{
	amqp_rpc_reply_t r = { .reply_type = AMQP_RESPONSE_SERVER_EXCEPTION };

	r.reply = f->payload.method;
	return amqp_link_check(link, r, what);
}

static int is_close(const amqp_frame_t *f)
{
	return f->frame_type == AMQP_FRAME_METHOD &&
	       (f->payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
		f->payload.method.id == AMQP_CONNECTION_CLOSE_METHOD);
}

/* Reads and drops the header and body frames that follow a basic.return (or
 * a stray basic.deliver); msgid (may be NULL) gets the message_id property. */
static int skip_content(struct amqp_link *link, int64_t deadline, const char *what,
			char *msgid, size_t msgid_len)
{
	amqp_frame_t f;
	uint64_t left = 0;
	int have_header = 0, rc;

	while (!have_header || left > 0) {
		/* The content is already on its way: give it a few seconds even
		 * when the caller's deadline has passed. */
		rc = frame_deadline_wait(link, &f, deadline > link_now_ms() + 5000
							   ? deadline : link_now_ms() + 5000, what);
		if (rc != 0) {
			if (rc > 0) {
				link_set_error(link, "%s: message content did not follow", what);
				link_mark_broken(link);
			}
			return -1;
		}
		if (is_close(&f))
			return close_frame(link, &f, what);
		if (f.channel != AMQP_LINK_CHANNEL)
			continue;
		if (f.frame_type == AMQP_FRAME_HEADER && !have_header) {
			const amqp_basic_properties_t *pr = f.payload.properties.decoded;

			have_header = 1;
			left = f.payload.properties.body_size;
			if (msgid != NULL && pr != NULL && (pr->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
				snprintf(msgid, msgid_len, "%.*s", (int)pr->message_id.len,
					 (const char *)pr->message_id.bytes);
		} else if (f.frame_type == AMQP_FRAME_BODY && have_header &&
			   f.payload.body_fragment.len <= left) {
			left -= f.payload.body_fragment.len;
		} else {
			link_set_error(link, "%s: malformed message content from the broker", what);
			link_mark_broken(link);
			return -1;
		}
	}
	return 0;
}

/* A nack: each seq it settles that was not acked yet goes to the refusal
 * callback, or the first becomes the wait's failure. */
static void nacked(struct link_pub *p, unsigned gen, const amqp_basic_nack_t *n)
{
	uint64_t from = n->multiple ? p->settled_upto + 1 : n->delivery_tag;

	if (p->on_refused == NULL) {
		note_failure(p, "the broker nacked publish #%llu%s",
			     (unsigned long long)n->delivery_tag, n->multiple ? " and before" : "");
		return;
	}
	for (uint64_t seq = from; seq <= n->delivery_tag && seq < p->next_seq; seq++) {
		if (seq <= p->settled_upto || p->window[seq - p->settled_upto - 1])
			continue;
		p->on_refused(p->refused_ctx, LINK_TAG(gen, seq), NULL,
			      "the broker nacked it (a queue refused it: full, or unavailable)");
	}
}

/* A basic.return (comes before the ack of the same message, which follows). */
static int returned(struct amqp_link *link, const amqp_basic_return_t *r, int64_t deadline,
		    const char *what)
{
	char reason[400], msgid[256] = "";
	int rc;

	snprintf(reason, sizeof(reason), "message to exchange %.*s with key %.*s returned: %.*s (%u)",
		 (int)r->exchange.len, (const char *)r->exchange.bytes, (int)r->routing_key.len,
		 (const char *)r->routing_key.bytes, (int)r->reply_text.len,
		 (const char *)r->reply_text.bytes, r->reply_code);
	rc = skip_content(link, deadline, what, msgid, sizeof(msgid));
	if (rc != 0)
		return rc;
	if (link->pub.on_refused != NULL && msgid[0] != '\0')
		link->pub.on_refused(link->pub.refused_ctx, 0, msgid, reason);
	else
		note_failure(&link->pub, "%s", reason);
	return 0;
}

/* One frame read while waiting for confirms. */
static int handle_frame(struct amqp_link *link, const amqp_frame_t *f, int64_t deadline,
			const char *what)
{
	const amqp_method_t *m = &f->payload.method;

	if (f->frame_type != AMQP_FRAME_METHOD)
		return 0;
	if (is_close(f))
		return close_frame(link, f, what);
	if (f->channel != AMQP_LINK_CHANNEL)
		return 0; /* connection.blocked and the like */
	if (m->id == AMQP_BASIC_ACK_METHOD) {
		const amqp_basic_ack_t *a = m->decoded;
		settle(&link->pub, a->delivery_tag, a->multiple);
	} else if (m->id == AMQP_BASIC_NACK_METHOD) {
		const amqp_basic_nack_t *n = m->decoded;
		nacked(&link->pub, link->gen, n);
		settle(&link->pub, n->delivery_tag, n->multiple);
	} else if (m->id == AMQP_BASIC_RETURN_METHOD) {
		return returned(link, m->decoded, deadline, what);
	} else if (m->id == AMQP_BASIC_DELIVER_METHOD) {
		note_failure(&link->pub, "a delivery arrived on this publishing channel; "
					 "publish on a link of its own");
		return skip_content(link, deadline, what, NULL, 0);
	}
	return 0;
}

int publisher_wait(struct amqp_link *link, uint64_t tag, int timeout_ms)
{
	return publisher_wait_each(link, tag, timeout_ms, NULL, NULL);
}

/* Takes the link for reading confirms, with the refusal callback; -1 (the
 * link still taken) when it cannot serve. */
static int confirms_begin(struct amqp_link *link, publisher_refused_fn *refused, void *ctx,
			  const char *what)
{
	amqp_link_lock(link);
	link->pub.on_refused = refused;
	link->pub.refused_ctx = ctx;
	if (link_require_ok(link, what) < 0)
		return -1;
	if (!link->pub.confirm) {
		link_set_error(link, "%s: confirms are not enabled on this link", what);
		return -1;
	}
	return 0;
}

/* Reads and handles one frame before the deadline: 0, 1 when none came, or
 * -1 on a link error. */
static int confirms_read(struct amqp_link *link, int64_t deadline, const char *what)
{
	amqp_frame_t f;
	int st = frame_deadline_wait(link, &f, deadline, what);

	if (st != 0)
		return st;
	if (handle_frame(link, &f, deadline, what) < 0)
		return -1;
	amqp_maybe_release_buffers(link->conn);
	return 0;
}

/* Gives the link back; a nack or return noted while reading fails rc 0. */
static int confirms_end(struct amqp_link *link, int rc, const char *what)
{
	if (rc == 0 && link->pub.failure[0] != '\0') {
		link_set_error(link, "%s: %s", what, link->pub.failure);
		rc = -1;
	}
	link->pub.failure[0] = '\0';
	link->pub.on_refused = NULL;
	link->pub.refused_ctx = NULL;
	amqp_link_unlock(link);
	return rc;
}

int publisher_wait_each(struct amqp_link *link, uint64_t tag, int timeout_ms,
			publisher_refused_fn *refused, void *ctx)
{
	uint64_t want = tag & LINK_TAG_MASK;
	int64_t deadline = link_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	char what[128];
	int st = -1;

	snprintf(what, sizeof(what), "wait for publisher confirms up to #%llu",
		 (unsigned long long)want);
	if (confirms_begin(link, refused, ctx, what) != 0)
		return confirms_end(link, -1, what);
	if (LINK_TAG_GEN(tag) != link->gen || want >= link->pub.next_seq) {
		link_set_error(link, "%s: not a publish of the current channel (it was closed "
				     "and reopened since: publish again)",
			       what);
		return confirms_end(link, -1, what);
	}
	st = 0;
	while (st == 0 && link->pub.settled_upto < want)
		st = confirms_read(link, deadline, what);
	if (st > 0)
		link_set_error(link, "%s: no confirm within %d ms (%llu of %llu settled)", what,
			       timeout_ms, (unsigned long long)link->pub.settled_upto,
			       (unsigned long long)want);
	return confirms_end(link, st == 0 ? 0 : -1, what);
}

int publisher_poll(struct amqp_link *link, publisher_refused_fn *refused, void *ctx,
		   uint64_t *upto_r)
{
	const char *what = "read the publisher confirms that arrived";
	int st;

	if (confirms_begin(link, refused, ctx, what) != 0)
		return confirms_end(link, -1, what);
	/* Deadline now: only what is buffered or already on the socket. */
	while ((st = confirms_read(link, link_now_ms(), what)) == 0)
		;
	*upto_r = LINK_TAG(link->gen, link->pub.settled_upto);
	return confirms_end(link, st > 0 ? 0 : -1, what);
}

int publisher_tag_settled(uint64_t tag, uint64_t upto)
{
	return LINK_TAG_GEN(tag) == LINK_TAG_GEN(upto) &&
	       (tag & LINK_TAG_MASK) <= (upto & LINK_TAG_MASK);
}

int publisher_publish_confirmed(struct amqp_link *link, const struct publish_msg *msg,
				int timeout_ms)
{
	uint64_t tag;

	if (publisher_send(link, msg, &tag) < 0)
		return -1;
	return publisher_wait(link, tag, timeout_ms);
}
