/*
 * broker_ceiling: what the broker alone can do on this machine right now
 * (rabbitmq-c, no database), for the bench's ratios.
 *
 *   broker_ceiling --url AMQP_URL [--messages M] [--size BYTES] [--queues Q]
 *                  [--window W] [--prefetch P] [--queue-type quorum|classic]
 *
 * Declares a fanout exchange bench.ceiling bound to Q queues
 * bench.ceiling.1..Q (of the system's queue type), then publishes M
 * persistent messages of BYTES bytes with publisher confirms (at most W
 * unconfirmed, as the relay confirms a batch), while Q consumers (one
 * connection each, prefetch P, like one domain worker each) take them and
 * acknowledge every one. So M publishes and M*Q deliveries: a saga has ~5
 * publishes and ~16 deliveries, so Q = 3 matches it.
 * Prints one JSON object: publish rate (confirmed/s), delivery rate
 * (acked/s over the whole run). Deletes what it declared. Exit 0 / 1 / 2.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define EXCHANGE "bench.ceiling"

struct opts {
	char *url;
	long messages;
	int size;
	int queues;
	int window;
	int prefetch;
	const char *queue_type;
};

struct consumer {
	pthread_t tid;
	const struct opts *o;
	int index;
	long got;
	double t_done;
	char error[512];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "WHAT: the server's or library's message" into err, or 0 when normal. */
static int check_reply(amqp_rpc_reply_t r, const char *what, char *err, size_t len)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return 0;
	case AMQP_RESPONSE_NONE:
		snprintf(err, len, "%s: no reply from the library", what);
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(err, len, "%s: %s", what, amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;
			snprintf(err, len, "%s: %.*s (%u)", what, (int)m->reply_text.len,
				 (char *)m->reply_text.bytes, m->reply_code);
		} else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;
			snprintf(err, len, "%s: %.*s (%u)", what, (int)m->reply_text.len,
				 (char *)m->reply_text.bytes, m->reply_code);
		} else {
			snprintf(err, len, "%s: server method 0x%08x", what, r.reply.id);
		}
		break;
	}
	return -1;
}

static int connect_broker(const char *url, amqp_connection_state_t *conn_r, char *err,
			  size_t len)
{
	struct amqp_connection_info ci;
	char *copy = strdup(url);
	amqp_connection_state_t conn = NULL;
	int rc = -1;
	if (!copy || amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		snprintf(err, len, "parse AMQP URL: not a valid amqp:// URL");
		goto out;
	}
	conn = amqp_new_connection();
	amqp_socket_t *s = conn ? amqp_tcp_socket_new(conn) : NULL;
	if (!s) {
		snprintf(err, len, "create AMQP connection: out of memory");
		goto out;
	}
	int st = amqp_socket_open(s, ci.host, ci.port);
	if (st != AMQP_STATUS_OK) {
		snprintf(err, len, "connect to %s:%d: %s", ci.host, ci.port, amqp_error_string2(st));
		goto out;
	}
	if (check_reply(amqp_login(conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user,
				   ci.password),
			"log in to vhost", err, len) < 0)
		goto out;
	amqp_channel_open(conn, 1);
	if (check_reply(amqp_get_rpc_reply(conn), "open channel 1", err, len) < 0)
		goto out;
	*conn_r = conn;
	conn = NULL;
	rc = 0;
out:
	if (conn)
		amqp_destroy_connection(conn);
	free(copy);
	return rc;
}

static void close_broker(amqp_connection_state_t conn)
{
	amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
}

static void queue_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, EXCHANGE ".%d", i + 1);
}

/* A fresh exchange and fresh queues (a previous run's are deleted first). */
static int declare(amqp_connection_state_t c, const struct opts *o, char *err, size_t len)
{
	char q[64], what[128];
	amqp_exchange_declare(c, 1, amqp_cstring_bytes(EXCHANGE), amqp_cstring_bytes("fanout"), 0,
			      0, 1, 0, amqp_empty_table);
	if (check_reply(amqp_get_rpc_reply(c), "declare exchange " EXCHANGE, err, len) < 0)
		return -1;
	for (int i = 0; i < o->queues; i++) {
		queue_name(q, sizeof q, i);
		amqp_queue_delete(c, 1, amqp_cstring_bytes(q), 0, 0);
		snprintf(what, sizeof what, "delete queue %s", q);
		if (check_reply(amqp_get_rpc_reply(c), what, err, len) < 0)
			return -1;
		amqp_table_entry_t e = { .key = amqp_cstring_bytes("x-queue-type"),
					 .value = { .kind = AMQP_FIELD_KIND_UTF8,
						    .value.bytes = amqp_cstring_bytes(o->queue_type) } };
		amqp_table_t args = { .num_entries = 1, .entries = &e };
		amqp_queue_declare(c, 1, amqp_cstring_bytes(q), 0, 1, 0, 0, args);
		snprintf(what, sizeof what, "declare queue %s", q);
		if (check_reply(amqp_get_rpc_reply(c), what, err, len) < 0)
			return -1;
		amqp_queue_bind(c, 1, amqp_cstring_bytes(q), amqp_cstring_bytes(EXCHANGE),
				amqp_cstring_bytes(""), amqp_empty_table);
		snprintf(what, sizeof what, "bind queue %s to " EXCHANGE, q);
		if (check_reply(amqp_get_rpc_reply(c), what, err, len) < 0)
			return -1;
	}
	return 0;
}

static void undeclare(amqp_connection_state_t c, const struct opts *o)
{
	char q[64], err[256];
	for (int i = 0; i < o->queues; i++) {
		queue_name(q, sizeof q, i);
		amqp_queue_delete(c, 1, amqp_cstring_bytes(q), 0, 0);
		if (check_reply(amqp_get_rpc_reply(c), "delete queue", err, sizeof err) < 0)
			fprintf(stderr, "broker_ceiling: %s %s\n", err, q);
	}
	amqp_exchange_delete(c, 1, amqp_cstring_bytes(EXCHANGE), 0);
	if (check_reply(amqp_get_rpc_reply(c), "delete exchange " EXCHANGE, err, sizeof err) < 0)
		fprintf(stderr, "broker_ceiling: %s\n", err);
}

/* One consumer: its own connection, prefetch P, one ack per delivery. */
static void *run_consumer(void *arg)
{
	struct consumer *k = arg;
	amqp_connection_state_t c;
	char q[64];
	if (connect_broker(k->o->url, &c, k->error, sizeof k->error) < 0)
		return NULL;
	queue_name(q, sizeof q, k->index);
	amqp_basic_qos(c, 1, 0, (uint16_t)k->o->prefetch, 0);
	if (check_reply(amqp_get_rpc_reply(c), "basic.qos", k->error, sizeof k->error) < 0)
		goto out;
	amqp_basic_consume(c, 1, amqp_cstring_bytes(q), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	if (check_reply(amqp_get_rpc_reply(c), "consume", k->error, sizeof k->error) < 0)
		goto out;
	while (k->got < k->o->messages) {
		amqp_envelope_t env;
		struct timeval tv = { 60, 0 };
		amqp_maybe_release_buffers(c);
		amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);
		if (check_reply(r, "consume a message", k->error, sizeof k->error) < 0)
			goto out;
		int st = amqp_basic_ack(c, 1, env.delivery_tag, 0);
		amqp_destroy_envelope(&env);
		if (st != AMQP_STATUS_OK) {
			snprintf(k->error, sizeof k->error, "ack on %s: %s", q, amqp_error_string2(st));
			goto out;
		}
		k->got++;
	}
	k->t_done = now_s();
out:
	close_broker(c);
	return NULL;
}

/* Reads frames until at most `keep` publishes are unconfirmed. */
static int wait_confirms(amqp_connection_state_t c, uint64_t published, uint64_t *confirmed,
			 unsigned char *acked, uint64_t keep, char *err, size_t len)
{
	while (published - *confirmed > keep) {
		amqp_frame_t f;
		struct timeval tv = { 30, 0 };
		int st = amqp_simple_wait_frame_noblock(c, &f, &tv);
		if (st != AMQP_STATUS_OK) {
			snprintf(err, len, "wait for publisher confirms (%llu of %llu): %s",
				 (unsigned long long)*confirmed, (unsigned long long)published,
				 amqp_error_string2(st));
			return -1;
		}
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			/* Single acks may come out of order: mark them, then move
			 * the contiguous edge. */
			amqp_basic_ack_t *a = f.payload.method.decoded;
			if (a->delivery_tag > published)
				continue;
			if (a->multiple)
				for (uint64_t t = *confirmed + 1; t <= a->delivery_tag; t++)
					acked[t] = 1;
			else
				acked[a->delivery_tag] = 1;
			while (*confirmed < published && acked[*confirmed + 1])
				(*confirmed)++;
		} else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
			snprintf(err, len, "publish: the broker nacked a message");
			return -1;
		} else if (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = f.payload.method.decoded;
			snprintf(err, len, "publish: channel closed: %.*s", (int)m->reply_text.len,
				 (char *)m->reply_text.bytes);
			return -1;
		}
	}
	return 0;
}

static int publish_all(amqp_connection_state_t c, const struct opts *o, char *err, size_t len)
{
	char *body = malloc((size_t)o->size);
	unsigned char *acked = calloc((size_t)o->messages + 2, 1); /* by delivery tag */
	uint64_t published = 0, confirmed = 0;
	int rc = -1;
	if (!body || !acked) {
		snprintf(err, len, "out of memory for the body");
		return -1;
	}
	memset(body, 'x', (size_t)o->size);
	amqp_confirm_select(c, 1);
	if (check_reply(amqp_get_rpc_reply(c), "confirm.select", err, len) < 0)
		goto out;
	amqp_basic_properties_t p = { ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG |
						AMQP_BASIC_CONTENT_TYPE_FLAG,
				      .delivery_mode = 2,
				      .content_type = amqp_cstring_bytes("application/json") };
	amqp_bytes_t b = { .len = (size_t)o->size, .bytes = body };
	for (long i = 0; i < o->messages; i++) {
		int st = amqp_basic_publish(c, 1, amqp_cstring_bytes(EXCHANGE), amqp_empty_bytes,
					    0, 0, &p, b);
		if (st != AMQP_STATUS_OK) {
			snprintf(err, len, "publish to " EXCHANGE ": %s", amqp_error_string2(st));
			goto out;
		}
		published++;
		if (wait_confirms(c, published, &confirmed, acked, (uint64_t)o->window - 1, err, len) < 0)
			goto out;
	}
	rc = wait_confirms(c, published, &confirmed, acked, 0, err, len);
out:
	free(body);
	free(acked);
	return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "url", 1, 0, 'u' }, { "messages", 1, 0, 'm' }, { "size", 1, 0, 's' },
		{ "queues", 1, 0, 'q' }, { "window", 1, 0, 'w' }, { "prefetch", 1, 0, 'p' },
		{ "queue-type", 1, 0, 't' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;
	*o = (struct opts){ .messages = 10000, .size = 600, .queues = 3, .window = 100,
			    .prefetch = 16, .queue_type = "quorum" };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'm': o->messages = atol(optarg); break;
		case 's': o->size = atoi(optarg); break;
		case 'q': o->queues = atoi(optarg); break;
		case 'w': o->window = atoi(optarg); break;
		case 'p': o->prefetch = atoi(optarg); break;
		case 't': o->queue_type = optarg; break;
		case 'h':
			printf("usage: broker_ceiling --url AMQP_URL [--messages M] [--size BYTES] "
			       "[--queues Q] [--window W] [--prefetch P] [--queue-type T]\n");
			exit(0);
		default: return -1;
		}
	}
	if (!o->url || o->messages < 1 || o->size < 1 || o->queues < 1 || o->queues > 64 ||
	    o->window < 1 || o->prefetch < 1 || o->prefetch > 65535) {
		fprintf(stderr, "usage: broker_ceiling --url AMQP_URL [--messages M>0] [--size B>0] "
				"[--queues 1..64] [--window W>0] [--prefetch 1..65535]\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	char err[512];
	amqp_connection_state_t c;
	int rc = 1, started = 0;
	if (parse(argc, argv, &o) < 0)
		return 2;
	if (connect_broker(o.url, &c, err, sizeof err) < 0) {
		fprintf(stderr, "broker_ceiling: %s\n", err);
		return 1;
	}
	struct consumer *k = calloc((size_t)o.queues, sizeof *k);
	if (!k || declare(c, &o, err, sizeof err) < 0) {
		fprintf(stderr, "broker_ceiling: %s\n", k ? err : "out of memory");
		goto out;
	}
	double t0 = now_s();
	for (; started < o.queues; started++) {
		k[started] = (struct consumer){ .o = &o, .index = started };
		if (pthread_create(&k[started].tid, NULL, run_consumer, &k[started]) != 0) {
			fprintf(stderr, "broker_ceiling: cannot start consumer %d\n", started + 1);
			break;
		}
	}
	int pub = publish_all(c, &o, err, sizeof err);
	double t_pub = now_s();
	if (pub < 0)
		fprintf(stderr, "broker_ceiling: %s\n", err);
	for (int i = 0; i < started; i++)
		pthread_join(k[i].tid, NULL);
	double t_end = t0;
	long got = 0;
	for (int i = 0; i < started; i++) {
		got += k[i].got;
		if (k[i].error[0])
			fprintf(stderr, "broker_ceiling: consumer %d: %s\n", i + 1, k[i].error);
		if (k[i].t_done > t_end)
			t_end = k[i].t_done;
	}
	if (pub == 0 && started == o.queues && got == o.messages * o.queues) {
		printf("{\"messages\": %ld, \"size\": %d, \"queues\": %d, \"queue_type\": \"%s\", "
		       "\"window\": %d, \"prefetch\": %d, \"deliveries\": %ld, "
		       "\"publish_s\": %.3f, \"total_s\": %.3f, \"publish_rate\": %.1f, "
		       "\"delivery_rate\": %.1f}\n",
		       o.messages, o.size, o.queues, o.queue_type, o.window, o.prefetch, got,
		       t_pub - t0, t_end - t0, (double)o.messages / (t_pub - t0),
		       (double)got / (t_end - t0));
		rc = 0;
	}
	undeclare(c, &o);
out:
	close_broker(c);
	free(k);
	return rc;
}
