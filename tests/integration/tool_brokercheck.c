/*
 * of-brokercheck: proves broker/ against a real RabbitMQ.
 *
 *   of-brokercheck [--queue-type quorum|classic] [--only a,b,...] [AMQP_URL]
 *
 * AMQP_URL (default $ORDERFLOW_AMQP_URL) should name a vhost of its own: the
 * program deletes and redeclares the queues of its test domains there
 * ("probe", "probedl", "probealo" for quorum, "probec" for classic). The
 * management API is reached at 127.0.0.1:$ORDERFLOW_MGMT_PORT with
 * $ORDERFLOW_MGMT_USER / $ORDERFLOW_MGMT_PASSWORD (default guest/guest).
 *
 * One line per check ("ok   NAME: figures" or "FAIL NAME: why"); the exit
 * status is 1 when any check failed.
 */
#include "broker/amqp_link.h"
#include "broker/consumer.h"
#include "broker/publisher.h"
#include "broker/topology.h"
#include "core/config.h"
#include "core/log.h"

#include <curl/curl.h>
#include <jansson.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONFIRM_TIMEOUT_MS 10000
#define ROLE "brokercheck"

struct ctx {
	const char *url;
	const char *qtype;
	const char *domain;     /* probe or probec */
	char vhost_enc[256];    /* for management API paths */
	const char *only;
	/* the test configuration: delays [500, 1000], delivery limit 20 */
	struct config cfg;
	char *urls[1];
	int delays[2];
};

static int failures;

static void report(int ok, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(int ok, const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s: ", ok ? "ok  " : "FAIL", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int wanted(const struct ctx *c, const char *check)
{
	const char *p = c->only;
	size_t n = strlen(check);

	if (p == NULL)
		return 1;
	while ((p = strstr(p, check)) != NULL) {
		if ((p == c->only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void config_for(struct ctx *c, int heartbeat_s)
{
	memset(&c->cfg, 0, sizeof(c->cfg));
	c->urls[0] = (char *)c->url;
	c->cfg.broker.urls.items = c->urls;
	c->cfg.broker.urls.count = 1;
	c->cfg.broker.heartbeat_s = heartbeat_s;
	c->cfg.broker.queue_type = (char *)c->qtype;
	c->cfg.broker.delivery_limit = 20;
	c->cfg.broker.prefetch = 50;
	c->cfg.broker.max_message_bytes = 262144;
	c->delays[0] = 500;
	c->delays[1] = 1000;
	c->cfg.retry.delays_ms = c->delays;
	c->cfg.retry.delay_count = 2;
	c->cfg.retry.max_attempts = 10;
}

static struct amqp_link *open_link_as(struct ctx *c, int heartbeat_s, const char *check,
				      const char *role)
{
	struct amqp_link *link = NULL;
	char *err = NULL;

	config_for(c, heartbeat_s);
	if (amqp_link_open(&c->cfg.broker, role, &link, &err) < 0) {
		report(0, check, "%s", err);
		free(err);
		return NULL;
	}
	return link;
}

static struct amqp_link *open_link(struct ctx *c, int heartbeat_s, const char *check)
{
	return open_link_as(c, heartbeat_s, check, ROLE);
}

/* ---- management API ------------------------------------------------------ */

struct membuf {
	char *p;
	size_t n;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct membuf *b = arg;
	char *p = realloc(b->p, b->n + size * nmemb + 1);

	if (p == NULL)
		return 0;
	memcpy(p + b->n, data, size * nmemb);
	b->n += size * nmemb;
	p[b->n] = '\0';
	b->p = p;
	return size * nmemb;
}

/* METHOD /api/PATH; the answer as JSON, or NULL when the API is not
 * configured or answers no JSON (DELETE answers nothing). */
static json_t *mgmt_call(const char *method, const char *path)
{
	const char *port = getenv("ORDERFLOW_MGMT_PORT");
	const char *user = getenv("ORDERFLOW_MGMT_USER");
	const char *pass = getenv("ORDERFLOW_MGMT_PASSWORD");
	struct membuf b = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	char url[512];
	json_t *j = NULL;
	CURL *h;

	if (port == NULL || (h = curl_easy_init()) == NULL)
		return NULL;
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/api/%s", port, path);
	hdrs = curl_slist_append(hdrs, "X-Reason: of-brokercheck");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERNAME, user ? user : "guest");
	curl_easy_setopt(h, CURLOPT_PASSWORD, pass ? pass : "guest");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(h) == CURLE_OK && b.p != NULL)
		j = json_loads(b.p, 0, NULL);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(b.p);
	return j;
}

static json_t *mgmt_get(const char *path)
{
	return mgmt_call("GET", path);
}

/* The management API's name of our connection with this connection_name
 * ("127.0.0.1:40000 -> 127.0.0.1:5672"), URL-encoded; waits up to 20 s for
 * the API to list it. */
static int mgmt_connection(const char *connection_name, char *out, size_t len)
{
	int64_t until = now_ms() + 20000;
	int found = 0;

	while (!found && now_ms() < until) {
		json_t *conns = mgmt_get("connections");
		size_t i;
		json_t *cn;

		json_array_foreach(conns, i, cn) {
			const char *name = json_string_value(json_object_get(
				json_object_get(cn, "client_properties"), "connection_name"));
			const char *id = json_string_value(json_object_get(cn, "name"));
			if (!found && name && id && strcmp(name, connection_name) == 0) {
				char *enc = curl_easy_escape(NULL, id, 0);
				snprintf(out, len, "%s", enc ? enc : "");
				curl_free(enc);
				found = 1;
			}
		}
		json_decref(conns);
		if (!found)
			sleep_ms(500);
	}
	return found ? 0 : -1;
}

static void vhost_of(struct ctx *c)
{
	struct amqp_connection_info ci;
	char *copy = strdup(c->url);
	const char *vh = "/";
	char *enc;

	if (copy && amqp_parse_url(copy, &ci) == AMQP_STATUS_OK && ci.vhost[0])
		vh = ci.vhost;
	enc = curl_easy_escape(NULL, vh, 0);
	snprintf(c->vhost_enc, sizeof(c->vhost_enc), "%s", enc ? enc : "%2F");
	curl_free(enc);
	free(copy);
}

/* ---- small AMQP helpers --------------------------------------------------- */

static void delete_queue(struct amqp_link *link, const char *q)
{
	amqp_link_lock(link);
	amqp_queue_delete(amqp_link_conn(link), AMQP_LINK_CHANNEL, amqp_cstring_bytes(q), 0, 0);
	amqp_link_check(link, amqp_get_rpc_reply(amqp_link_conn(link)), "delete queue");
	amqp_maybe_release_buffers(amqp_link_conn(link));
	amqp_link_unlock(link);
}

static void delete_domain(struct amqp_link *link, const char *domain)
{
	char q[128];

	topology_work_queue(q, sizeof(q), domain);
	delete_queue(link, q);
	topology_dead_queue(q, sizeof(q), domain);
	delete_queue(link, q);
	for (int t = 1; t <= 3; t++) {
		topology_retry_queue(q, sizeof(q), domain, t);
		delete_queue(link, q);
	}
}

static int send_msg_ttl(struct amqp_link *link, const char *exchange, const char *key,
			const char *id, const amqp_table_t *headers, int mandatory,
			const char *expiration, uint64_t *tag);

static int send_msg(struct amqp_link *link, const char *exchange, const char *key,
		    const char *id, const amqp_table_t *headers, int mandatory, uint64_t *tag)
{
	return send_msg_ttl(link, exchange, key, id, headers, mandatory, NULL, tag);
}

static int send_msg_ttl(struct amqp_link *link, const char *exchange, const char *key,
			const char *id, const amqp_table_t *headers, int mandatory,
			const char *expiration, uint64_t *tag)
{
	char body[128];
	struct publish_msg m = {
		.exchange = exchange,
		.routing_key = key,
		.body = body,
		.message_id = id,
		.type = key,
		.correlation_id = "brokercheck",
		.headers = headers,
		.mandatory = mandatory,
		.expiration = expiration,
	};

	m.body_len = (size_t)snprintf(body, sizeof(body), "{\"event_id\":\"%s\"}", id);
	return publisher_send(link, &m, tag);
}

/* "bulk-17" -> 17 when the prefix matches, else -1. */
static int id_index(const struct delivery *d, const char *prefix)
{
	size_t n = strlen(prefix);

	if (d->message_id == NULL || strncmp(d->message_id, prefix, n) != 0 ||
	    d->message_id[n] != '-')
		return -1;
	return atoi(d->message_id + n + 1);
}

/* Appends a readable form of a header value (nested ones included). */
static void dump_value(const amqp_field_value_t *v, char *out, size_t len)
{
	size_t used = strlen(out);
	char *p = out + used;
	size_t left = len - used;

	if (left < 2)
		return;
	switch (v->kind) {
	case AMQP_FIELD_KIND_UTF8:
	case AMQP_FIELD_KIND_BYTES:
		snprintf(p, left, "%.*s", (int)v->value.bytes.len, (const char *)v->value.bytes.bytes);
		break;
	case AMQP_FIELD_KIND_I64: snprintf(p, left, "%lld(long)", (long long)v->value.i64); break;
	case AMQP_FIELD_KIND_I32: snprintf(p, left, "%d(int)", v->value.i32); break;
	case AMQP_FIELD_KIND_TIMESTAMP:
		snprintf(p, left, "%llu(timestamp)", (unsigned long long)v->value.u64);
		break;
	case AMQP_FIELD_KIND_ARRAY:
		strncat(out, "[", len - used - 1);
		for (int i = 0; i < v->value.array.num_entries; i++) {
			if (i)
				strncat(out, ", ", len - strlen(out) - 1);
			dump_value(&v->value.array.entries[i], out, len);
		}
		strncat(out, "]", len - strlen(out) - 1);
		break;
	case AMQP_FIELD_KIND_TABLE:
		strncat(out, "{", len - used - 1);
		for (int i = 0; i < v->value.table.num_entries; i++) {
			const amqp_table_entry_t *e = &v->value.table.entries[i];
			size_t u = strlen(out);
			snprintf(out + u, len - u, "%s%.*s=", i ? ", " : "", (int)e->key.len,
				 (const char *)e->key.bytes);
			dump_value(&e->value, out, len);
		}
		strncat(out, "}", len - strlen(out) - 1);
		break;
	default:
		snprintf(p, left, "(kind %c)", v->kind);
	}
}

static void dump_headers(const struct delivery *d, char *out, size_t len)
{
	amqp_field_value_t all = { .kind = AMQP_FIELD_KIND_TABLE };

	out[0] = '\0';
	if (d->raw.message.properties._flags & AMQP_BASIC_HEADERS_FLAG)
		all.value.table = d->raw.message.properties.headers;
	dump_value(&all, out, len);
}

/* ---- checks --------------------------------------------------------------- */

static void check_connection_name(struct ctx *c)
{
	const char *check = "connection-name";
	struct amqp_link *link = open_link(c, 10, check);
	char want[64], id[256];
	int found;

	if (link == NULL)
		return;
	snprintf(want, sizeof(want), "orderflow %s %ld", ROLE, (long)getpid());
	if (getenv("ORDERFLOW_MGMT_PORT") == NULL) {
		report(0, check, "ORDERFLOW_MGMT_PORT is not set");
		goto cleanup;
	}
	found = mgmt_connection(want, id, sizeof(id)) == 0;
	report(found, check, "client_properties.connection_name \"%s\" %s (node %s)", want,
	       found ? "listed by /api/connections" : "not found in /api/connections",
	       amqp_link_node(link));
cleanup:
	amqp_link_close(link);
}

static void check_failover(struct ctx *c)
{
	const char *check = "failover";
	char *bad1 = "amqp://guest:hunter2@127.0.0.1:1/x";
	char *bad2 = "amqp://guest:hunter2@127.0.0.1:2/x";
	char *urls[2] = { bad1, (char *)c->url };
	struct amqp_link *link = NULL;
	char *err = NULL;
	int ok;

	config_for(c, 10);
	c->cfg.broker.urls.items = urls;
	c->cfg.broker.urls.count = 2;
	ok = amqp_link_open(&c->cfg.broker, ROLE, &link, &err) == 0;
	free(err);
	err = NULL;
	amqp_link_close(link);
	link = NULL;
	urls[1] = bad2;
	if (!ok) {
		report(0, check, "the second URL was not tried");
		return;
	}
	if (amqp_link_open(&c->cfg.broker, ROLE, &link, &err) == 0) {
		report(0, check, "opened a link with two dead URLs");
		amqp_link_close(link);
		return;
	}
	report(strstr(err, "127.0.0.1:1") && strstr(err, "127.0.0.1:2") &&
		       !strstr(err, "hunter2"),
	       check, "next URL taken after a dead one; all dead: %s", err);
	free(err);
}

static void check_declare(struct ctx *c)
{
	const char *check = "declare-idempotent";
	struct amqp_link *link = open_link(c, 10, check);
	char key[64];
	const char *keys[1] = { key };

	if (link == NULL)
		return;
	snprintf(key, sizeof(key), "%s.#", c->domain);
	delete_domain(link, c->domain);
	if (topology_declare_domain(link, &c->cfg, c->domain, keys, 1) < 0)
		report(0, check, "first declaration: %s", amqp_link_error(link));
	else if (topology_declare_domain(link, &c->cfg, c->domain, keys, 1) < 0)
		report(0, check, "second declaration: %s", amqp_link_error(link));
	else
		report(1, check, "%s queues of %s declared twice (delays 500, 1000)", c->qtype,
		       c->domain);
	amqp_link_close(link);
}

static int arg_is(json_t *args, const char *key, const char *str, long long num)
{
	json_t *v = json_object_get(args, key);

	if (str)
		return json_is_string(v) && strcmp(json_string_value(v), str) == 0;
	return json_is_integer(v) && json_integer_value(v) == num;
}

static void check_queue_args(struct ctx *c)
{
	const char *check = "queue-arguments";
	int quorum = strcmp(c->qtype, "quorum") == 0;
	char path[512], q[128], *text = NULL;
	json_t *work, *tier, *wa, *ta;
	int ok;

	topology_work_queue(q, sizeof(q), c->domain);
	snprintf(path, sizeof(path), "queues/%s/%s", c->vhost_enc, q);
	work = mgmt_get(path);
	topology_retry_queue(q, sizeof(q), c->domain, 1);
	snprintf(path, sizeof(path), "queues/%s/%s", c->vhost_enc, q);
	tier = mgmt_get(path);
	wa = json_object_get(work, "arguments");
	ta = json_object_get(tier, "arguments");
	ok = wa && ta && arg_is(wa, "x-queue-type", c->qtype, 0) &&
	     arg_is(wa, "x-dead-letter-exchange", EXCHANGE_DEAD, 0) &&
	     arg_is(wa, "x-dead-letter-routing-key", c->domain, 0) &&
	     /* the delay travels with each copy (its expiration), so
	      * retry.delays_ms can change on a live system */
	     json_object_get(ta, "x-message-ttl") == NULL &&
	     arg_is(ta, "x-dead-letter-exchange", EXCHANGE_RETURN, 0) &&
	     arg_is(ta, "x-dead-letter-routing-key", c->domain, 0);
	if (quorum)
		ok = ok && arg_is(wa, "x-delivery-limit", NULL, 20) &&
		     arg_is(wa, "x-dead-letter-strategy", "at-least-once", 0) &&
		     arg_is(wa, "x-overflow", "reject-publish", 0) &&
		     arg_is(ta, "x-dead-letter-strategy", "at-least-once", 0) &&
		     arg_is(ta, "x-overflow", "reject-publish", 0) &&
		     arg_is(work, "type", "quorum", 0);
	text = json_dumps(ta, JSON_COMPACT | JSON_SORT_KEYS);
	report(ok, check, "retry.1 %s; work %s", text ? text : "(none)",
	       ok ? "as designed" : "differs (or the management API is unreachable)");
	free(text);
	json_decref(work);
	json_decref(tier);
}

static void check_conflict(struct ctx *c)
{
	const char *check = "declare-conflict";
	struct amqp_link *link = open_link(c, 10, check);
	const char *other = strcmp(c->qtype, "quorum") == 0 ? "classic" : "quorum";
	char key[64], q[128], *was = c->cfg.broker.queue_type;
	const char *keys[1] = { key };
	int rc;

	if (link == NULL)
		return;
	snprintf(key, sizeof(key), "%s.#", c->domain);
	/* Another queue type cannot apply to existing queues: a clear error. */
	c->cfg.broker.queue_type = (char *)other;
	rc = topology_declare_domain(link, &c->cfg, c->domain, keys, 1);
	c->cfg.broker.queue_type = was;
	topology_dead_queue(q, sizeof(q), c->domain);
	if (rc == 0) {
		report(0, check, "a declaration as %s over %s queues succeeded", other, c->qtype);
	} else {
		char err[1024];

		snprintf(err, sizeof(err), "%s", amqp_link_error(link));
		/* Other delays are no conflict: the tiers have no TTL argument. */
		c->delays[0] = 700;
		rc = topology_declare_domain(link, &c->cfg, c->domain, keys, 1);
		config_for(c, 10); /* the right delays again */
		report(strstr(err, q) && strstr(err, "x-queue-type") && rc == 0, check,
		       "%s%s", err,
		       rc == 0 ? "; the link stays usable, and other retry delays declare fine"
			       : "; the link is unusable afterwards, or other delays conflict");
	}
	amqp_link_close(link);
}

/* Consumes from queue, acking, until `want` messages whose id starts with
 * prefix were seen or nothing came for idle_ms. seen[i] counts id i. */
static int consume_ids(struct amqp_link *link, const char *queue, int prefetch,
		       const char *prefix, int *seen, int n, int want, int idle_ms)
{
	char ctag[128];
	struct delivery d;
	int got = 0, st = CONSUMER_DELIVERY;

	if (consumer_start(link, queue, prefetch, ctag, sizeof(ctag)) < 0)
		return -1;
	while (got < want && (st = consumer_next(link, idle_ms, &d)) == CONSUMER_DELIVERY) {
		int i = id_index(&d, prefix);

		if (i >= 0 && i < n) {
			seen[i]++;
			got++;
		}
		if (consumer_ack(link, d.tag, 0) < 0)
			st = CONSUMER_ERROR;
		delivery_free(&d);
		if (st == CONSUMER_ERROR)
			break;
	}
	if (st != CONSUMER_ERROR && consumer_cancel(link, ctag) < 0)
		return -1;
	/* anything pushed before cancel-ok goes back with the close */
	return st == CONSUMER_ERROR ? -1 : got;
}

static int publish_batch(struct amqp_link *link, const char *key, const char *prefix, int from,
			 int count, int wait_each)
{
	char id[64];
	uint64_t tag = 0;

	for (int i = from; i < from + count; i++) {
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		if (send_msg(link, EXCHANGE_EVENTS, key, id, NULL, 1, &tag) < 0)
			return -1;
		if (wait_each && publisher_wait(link, tag, CONFIRM_TIMEOUT_MS) < 0)
			return -1;
	}
	return wait_each ? 0 : publisher_wait(link, tag, CONFIRM_TIMEOUT_MS);
}

static void check_throughput(struct ctx *c)
{
	const char *check = "throughput";
	/* heartbeat 2 s with the keepalive thread on: its heartbeats go out
	 * between our publishes, acks and deliveries, under the link's mutex */
	struct amqp_link *pub = open_link(c, 2, check), *con = NULL;
	static int seen[2000];
	char key[64], q[128];
	int64_t t0, t1, t2, t3;
	int got, dup = 0, missing = 0;

	if (pub == NULL)
		return;
	memset(seen, 0, sizeof(seen));
	snprintf(key, sizeof(key), "%s.bulk", c->domain);
	topology_work_queue(q, sizeof(q), c->domain);
	amqp_link_keepalive_start(pub);
	if (publisher_enable(pub) < 0)
		goto fail_pub;
	t0 = now_ms();
	if (publish_batch(pub, key, "bulk", 0, 1000, 0) < 0)
		goto fail_pub;
	t1 = now_ms();
	if (publish_batch(pub, key, "bulk", 1000, 1000, 1) < 0)
		goto fail_pub;
	t2 = now_ms();
	if ((con = open_link(c, 2, check)) == NULL)
		goto cleanup;
	amqp_link_keepalive_start(con);
	got = consume_ids(con, q, 50, "bulk", seen, 2000, 2000, 5000);
	t3 = now_ms();
	if (got < 0) {
		report(0, check, "consume: %s", amqp_link_error(con));
		goto cleanup;
	}
	for (int i = 0; i < 2000; i++) {
		missing += seen[i] == 0;
		dup += seen[i] > 1;
	}
	report(got == 2000 && missing == 0, check,
	       "publish 1000 + one confirm wait: %.0f msg/s; 1000 waiting per message: %.0f msg/s; "
	       "consume+ack 2000 (prefetch 50): %.0f msg/s; missing %d, duplicates %d",
	       1000.0 * 1000 / (double)(t1 - t0 ? t1 - t0 : 1),
	       1000.0 * 1000 / (double)(t2 - t1 ? t2 - t1 : 1),
	       2000.0 * 1000 / (double)(t3 - t2 ? t3 - t2 : 1), missing, dup);
	goto cleanup;
fail_pub:
	report(0, check, "publish: %s", amqp_link_error(pub));
cleanup:
	amqp_link_close(con);
	amqp_link_close(pub);
}

static void check_unroutable(struct ctx *c)
{
	const char *check = "unroutable";
	struct amqp_link *link = open_link(c, 10, check);
	char e1[1024] = "", e2[1024] = "", q[128];
	uint64_t tag;
	int r1, r2, r3;

	if (link == NULL)
		return;
	topology_dead_queue(q, sizeof(q), c->domain);
	if (publisher_enable(link) < 0) {
		report(0, check, "%s", amqp_link_error(link));
		goto cleanup;
	}
	/* mandatory, no binding: basic.return, then the ack */
	r1 = send_msg(link, EXCHANGE_EVENTS, "nobody.listens.here", "unroutable-1", NULL, 1, &tag);
	r1 = r1 == 0 ? publisher_wait(link, tag, CONFIRM_TIMEOUT_MS) : -2;
	snprintf(e1, sizeof(e1), "%s", amqp_link_error(link));
	/* no such exchange: the broker closes the channel; we reopen it */
	r2 = send_msg(link, "orderflow.no-such-exchange", "x", "unroutable-2", NULL, 1, &tag);
	r2 = r2 == 0 ? publisher_wait(link, tag, CONFIRM_TIMEOUT_MS) : -2;
	snprintf(e2, sizeof(e2), "%s", amqp_link_error(link));
	/* and the link still publishes (into the parking lot, purged below) */
	r3 = send_msg(link, EXCHANGE_DEAD, c->domain, "unroutable-3", NULL, 1, &tag);
	r3 = r3 == 0 ? publisher_wait(link, tag, CONFIRM_TIMEOUT_MS) : -2;
	report(r1 == -1 && strstr(e1, "NO_ROUTE") && r2 == -1 && strstr(e2, "NOT_FOUND") && r3 == 0,
	       check, "mandatory without a route: [%s]; unknown exchange: [%s]; next publish %s", e1,
	       e2, r3 == 0 ? "confirmed" : amqp_link_error(link));
	topology_queue_purge(link, q, NULL);
cleanup:
	amqp_link_close(link);
}

/* Publishes one message into retry tier `tier` and measures its way back to
 * the work queue. */
static void check_retry_tier(struct ctx *c, int tier)
{
	char check[32], key[64], q[128], id[64], buf[128], reason[64], hdrs[1024], ttl[16];
	struct amqp_link *pub = NULL, *con = NULL;
	struct header_set *h = header_set_new(NULL, NULL);
	struct delivery d = { 0 };
	char ctag[128];
	uint64_t tag;
	int64_t t0 = 0, t1;
	int st = CONSUMER_TIMEOUT;

	snprintf(check, sizeof(check), "retry-tier-%d", tier);
	snprintf(key, sizeof(key), "%s.%d", c->domain, tier);
	snprintf(id, sizeof(id), "retry-%d-%ld", tier, (long)getpid());
	topology_work_queue(q, sizeof(q), c->domain);
	header_set_int(h, "orderflow-attempt", 2);
	header_set_str(h, "orderflow-last-error", "brokercheck: simulated deadlock (1213)");
	if ((pub = open_link(c, 10, check)) == NULL || (con = open_link(c, 10, check)) == NULL)
		goto cleanup;
	if (publisher_enable(pub) < 0 || consumer_start(con, q, 10, ctag, sizeof(ctag)) < 0) {
		report(0, check, "%s%s", amqp_link_error(pub), amqp_link_error(con));
		goto cleanup;
	}
	t0 = now_ms();
	/* As a worker sends it: the tier's delay as the copy's expiration. */
	snprintf(ttl, sizeof(ttl), "%d", c->delays[tier - 1]);
	if (send_msg_ttl(pub, EXCHANGE_RETRY, key, id, header_set_table(h), 1, ttl, &tag) < 0 ||
	    publisher_wait(pub, tag, CONFIRM_TIMEOUT_MS) < 0) {
		report(0, check, "publish: %s", amqp_link_error(pub));
		goto cleanup;
	}
	while ((st = consumer_next(con, 10000, &d)) == CONSUMER_DELIVERY) {
		consumer_ack(con, d.tag, 0);
		if (d.message_id && strcmp(d.message_id, id) == 0)
			break;
		delivery_free(&d);
	}
	t1 = now_ms();
	if (st != CONSUMER_DELIVERY) {
		report(0, check, "no message back in %s within 10 s (%s)", q,
		       st == CONSUMER_TIMEOUT ? "timeout" : amqp_link_error(con));
		goto cleanup;
	}
	delivery_header(&d, "orderflow-attempt", buf, sizeof(buf));
	dump_headers(&d, hdrs, sizeof(hdrs));
	report(strcmp(buf, "2") == 0 && strcmp(d.exchange, EXCHANGE_RETURN) == 0 &&
		       strcmp(d.routing_key, c->domain) == 0 &&
		       delivery_x_death_reason(&d, reason, sizeof(reason)) &&
		       strcmp(reason, "expired") == 0,
	       check, "back in %s after %lld ms (TTL %d ms) via %s/%s, orderflow-attempt=%s; "
		      "headers %s",
	       q, (long long)(t1 - t0), c->delays[tier - 1], d.exchange, d.routing_key, buf, hdrs);
	delivery_free(&d);
cleanup:
	header_set_free(h);
	amqp_link_close(con);
	amqp_link_close(pub);
}

/* Cancel with deliveries in flight: every message is either handed out by
 * consumer_next (before or after the cancel) or still in the queue. */
static void check_cancel(struct ctx *c)
{
	const char *check = "cancel-in-flight";
	struct amqp_link *pub = open_link(c, 10, check), *con = NULL, *chk = NULL;
	static int seen[200], rest[200];
	struct delivery d;
	char key[64], q[128], ctag[128];
	uint64_t last = 0;
	int before = 0, after = 0, st, i, again, overlap = 0, lost = 0;
	unsigned depth = 0;

	memset(seen, 0, sizeof(seen));
	memset(rest, 0, sizeof(rest));
	snprintf(key, sizeof(key), "%s.cancel", c->domain);
	topology_work_queue(q, sizeof(q), c->domain);
	if (pub == NULL || publisher_enable(pub) < 0 || publish_batch(pub, key, "cancel", 0, 200, 0) < 0) {
		if (pub)
			report(0, check, "publish: %s", amqp_link_error(pub));
		goto cleanup;
	}
	if ((con = open_link(c, 10, check)) == NULL ||
	    consumer_start(con, q, 50, ctag, sizeof(ctag)) < 0)
		goto fail_con;
	while (before < 10 && consumer_next(con, 5000, &d) == CONSUMER_DELIVERY) {
		if ((i = id_index(&d, "cancel")) >= 0 && i < 200)
			seen[i]++;
		last = d.tag;
		before++;
		delivery_free(&d);
	}
	if (consumer_cancel(con, ctag) < 0)
		goto fail_con;
	while ((st = consumer_next(con, 1000, &d)) == CONSUMER_DELIVERY) {
		if ((i = id_index(&d, "cancel")) >= 0 && i < 200)
			seen[i]++;
		last = d.tag;
		after++;
		delivery_free(&d);
	}
	if (st != CONSUMER_TIMEOUT || consumer_ack(con, last, 1) < 0)
		goto fail_con;
	amqp_link_close(con); /* channel.close-ok comes after the broker took the ack */
	con = NULL;

	if ((chk = open_link(c, 10, check)) == NULL)
		goto cleanup;
	/* the queue's count follows the channel's end asynchronously */
	for (int64_t until = now_ms() + 5000; now_ms() < until; sleep_ms(100))
		if (topology_queue_depth(chk, q, &depth, NULL) < 0 || depth + before + after >= 200)
			break;
	again = consume_ids(chk, q, 50, "cancel", rest, 200, (int)depth, 2000);
	for (i = 0; i < 200; i++) {
		overlap += seen[i] && rest[i];
		lost += !seen[i] && !rest[i];
	}
	report(before + after + (int)depth == 200 && again == (int)depth && overlap == 0 && lost == 0,
	       check, "200 published; %d taken before cancel, %d more after cancel-ok (all acked), "
		      "%u left in the queue: sum %d; lost %d, acked yet redelivered %d",
	       before, after, depth, before + after + (int)depth, lost, overlap);
	goto cleanup;
fail_con:
	report(0, check, "consume: %s", con ? amqp_link_error(con) : "no link");
cleanup:
	amqp_link_close(chk);
	amqp_link_close(con);
	amqp_link_close(pub);
}

/* A channel error on a consuming link: the channel is reopened, a tag of
 * the old channel is refused (it would name another message on the new
 * one), and the message comes back redelivered. */
static void check_stale_tag(struct ctx *c)
{
	const char *check = "stale-tag";
	struct amqp_link *pub = open_link(c, 10, check), *con = NULL;
	struct delivery d = { 0 }, again = { 0 };
	char key[64], q[128], ctag[128], err[1024] = "", err2[1024] = "";
	uint64_t tag;
	int ack_rc, ok;

	snprintf(key, sizeof(key), "%s.stale", c->domain);
	topology_work_queue(q, sizeof(q), c->domain);
	if (pub == NULL || publisher_enable(pub) < 0 ||
	    send_msg(pub, EXCHANGE_EVENTS, key, "stale-1", NULL, 1, &tag) < 0 ||
	    publisher_wait(pub, tag, CONFIRM_TIMEOUT_MS) < 0)
		goto fail_pub;
	if ((con = open_link(c, 10, check)) == NULL ||
	    consumer_start(con, q, 10, ctag, sizeof(ctag)) < 0 ||
	    consumer_next(con, 5000, &d) != CONSUMER_DELIVERY)
		goto fail_con;
	/* any channel error will do: a passive declare of a missing queue */
	if (topology_queue_depth(con, "orderflow.no-such-queue", NULL, NULL) == 0)
		goto fail_con;
	snprintf(err, sizeof(err), "%s", amqp_link_error(con));
	ack_rc = consumer_ack(con, d.tag, 0);
	snprintf(err2, sizeof(err2), "%s", amqp_link_error(con));
	if (!amqp_link_ok(con) || consumer_start(con, q, 10, ctag, sizeof(ctag)) < 0 ||
	    consumer_next(con, 5000, &again) != CONSUMER_DELIVERY)
		goto fail_con;
	ok = ack_rc < 0 && strstr(err, "NOT_FOUND") && again.message_id &&
	     strcmp(again.message_id, "stale-1") == 0 && again.redelivered &&
	     consumer_ack(con, again.tag, 0) == 0;
	report(ok, check, "after [%s] the old tag is refused: [%s]; the message came back "
			  "(redelivered=%d) and was acked",
	       err, err2, again.redelivered);
	goto cleanup;
fail_pub:
	report(0, check, "publish: %s", pub ? amqp_link_error(pub) : "no link");
	goto cleanup;
fail_con:
	report(0, check, "consume: %s", con ? amqp_link_error(con) : "no link");
cleanup:
	delivery_free(&d);
	delivery_free(&again);
	amqp_link_close(con);
	amqp_link_close(pub);
}

/* An operator closes our connection (management API): consumer_next
 * reports it with the broker's words and the link is broken. */
static void check_forced_close(struct ctx *c)
{
	const char *check = "forced-close";
	/* a role of its own: the API may still list earlier, closed links */
	struct amqp_link *link = open_link_as(c, 10, check, ROLE "-forced");
	struct delivery d;
	char name[64], id[256], path[300], q[128], ctag[128];
	int st;

	if (link == NULL)
		return;
	snprintf(name, sizeof(name), "orderflow %s-forced %ld", ROLE, (long)getpid());
	topology_work_queue(q, sizeof(q), c->domain);
	if (consumer_start(link, q, 10, ctag, sizeof(ctag)) < 0) {
		report(0, check, "%s", amqp_link_error(link));
		goto cleanup;
	}
	if (mgmt_connection(name, id, sizeof(id)) < 0) {
		report(0, check, "connection not listed by the management API");
		goto cleanup;
	}
	snprintf(path, sizeof(path), "connections/%s", id);
	json_decref(mgmt_call("DELETE", path));
	st = consumer_next(link, 10000, &d);
	if (st == CONSUMER_DELIVERY)
		delivery_free(&d);
	report(st == CONSUMER_ERROR && !amqp_link_ok(link) &&
		       strstr(amqp_link_error(link), "CONNECTION_FORCED"),
	       check, "consumer_next -> %s: %s", st == CONSUMER_ERROR ? "CONSUMER_ERROR" : "other",
	       amqp_link_error(link));
cleanup:
	amqp_link_close(link);
}

static void check_keepalive(struct ctx *c)
{
	const char *check = "keepalive";
	struct amqp_link *with = open_link(c, 2, check), *without = open_link(c, 2, check);
	struct publish_msg m = { .exchange = EXCHANGE_DEAD, .routing_key = c->domain, .body = "{}",
				 .body_len = 2, .message_id = "keepalive", .mandatory = 1 };
	char e_without[1024], q[128];
	int r_with, r_without;

	if (with == NULL || without == NULL)
		goto cleanup;
	if (publisher_enable(with) < 0 || publisher_enable(without) < 0) {
		report(0, check, "confirm.select failed");
		goto cleanup;
	}
	amqp_link_keepalive_start(with);
	sleep_ms(7000); /* outside rabbitmq-c: 3.5 heartbeat intervals */
	r_with = publisher_publish_confirmed(with, &m, CONFIRM_TIMEOUT_MS);
	r_without = publisher_publish_confirmed(without, &m, CONFIRM_TIMEOUT_MS);
	snprintf(e_without, sizeof(e_without), "%s", amqp_link_error(without));
	report(r_with == 0 && r_without < 0 && !amqp_link_ok(without), check,
	       "heartbeat 2 s, 7 s asleep: with keepalive the publish is %s; without: %s",
	       r_with == 0 ? "confirmed" : amqp_link_error(with),
	       r_without < 0 ? e_without : "confirmed too (the broker did not close it?)");
	topology_dead_queue(q, sizeof(q), c->domain);
	topology_queue_purge(with, q, NULL);
cleanup:
	amqp_link_close(without);
	amqp_link_close(with);
}

/* Quorum only: a message given back again and again goes to the parking
 * lot by the broker's delivery limit; show what it carries. */
static void check_delivery_limit(struct ctx *c)
{
	const char *check = "delivery-limit";
	const char *dom = "probedl", *keys[1] = { "probedl.#" };
	struct amqp_link *link = open_link(c, 10, check);
	struct delivery d;
	char q[128], dq[128], ctag[128], reason[64], hdrs[1536], counts[128] = "";
	uint64_t tag;
	int deliveries = 0, st;

	if (link == NULL)
		return;
	c->cfg.broker.delivery_limit = 2;
	topology_work_queue(q, sizeof(q), dom);
	topology_dead_queue(dq, sizeof(dq), dom);
	delete_domain(link, dom);
	if (topology_declare_domain(link, &c->cfg, dom, keys, 1) < 0 || publisher_enable(link) < 0 ||
	    send_msg(link, EXCHANGE_EVENTS, "probedl.poison", "poison-1", NULL, 1, &tag) < 0 ||
	    publisher_wait(link, tag, CONFIRM_TIMEOUT_MS) < 0) {
		report(0, check, "%s", amqp_link_error(link));
		goto cleanup;
	}
	amqp_link_close(link); /* a consuming link of its own */
	if ((link = open_link(c, 10, check)) == NULL || consumer_start(link, q, 1, ctag, sizeof(ctag)) < 0)
		goto fail;
	while ((st = consumer_next(link, 2000, &d)) == CONSUMER_DELIVERY) {
		char dc[32];
		size_t u = strlen(counts);

		snprintf(counts + u, sizeof(counts) - u, "%s%s", deliveries ? "," : "",
			 delivery_header(&d, "x-delivery-count", dc, sizeof(dc)) ? dc : "-");
		deliveries++;
		consumer_nack(link, d.tag, 0, 1); /* give it back, as a crashing worker would */
		delivery_free(&d);
	}
	if (consumer_cancel(link, ctag) < 0 || consumer_start(link, dq, 1, ctag, sizeof(ctag)) < 0)
		goto fail;
	if ((st = consumer_next(link, 5000, &d)) != CONSUMER_DELIVERY) {
		report(0, check, "nothing in %s after %d deliveries", dq, deliveries);
		goto cleanup;
	}
	dump_headers(&d, hdrs, sizeof(hdrs));
	report(delivery_x_death_reason(&d, reason, sizeof(reason)) &&
		       strcmp(reason, "delivery_limit") == 0,
	       check, "x-delivery-limit 2: delivered %d times (x-delivery-count %s), then in %s "
		      "via %s/%s; headers %s",
	       deliveries, counts, dq, d.exchange, d.routing_key, hdrs);
	consumer_ack(link, d.tag, 0);
	delivery_free(&d);
	goto cleanup;
fail:
	report(0, check, "%s", link ? amqp_link_error(link) : "no link");
cleanup:
	amqp_link_close(link);
}

/* Same limit when the consumer dies holding the message (its connection
 * goes, no nack): the broker counts that return too. Runs after
 * check_delivery_limit, which declared probedl. */
static void check_delivery_limit_crash(struct ctx *c)
{
	const char *check = "delivery-limit-crash";
	struct amqp_link *link = open_link(c, 10, check);
	struct delivery d;
	char q[128], dq[128], ctag[128], reason[64] = "";
	uint64_t tag;
	int deliveries = 0, st = CONSUMER_DELIVERY;

	if (link == NULL)
		return;
	topology_work_queue(q, sizeof(q), "probedl");
	topology_dead_queue(dq, sizeof(dq), "probedl");
	if (publisher_enable(link) < 0 ||
	    send_msg(link, EXCHANGE_EVENTS, "probedl.poison", "poison-2", NULL, 1, &tag) < 0 ||
	    publisher_wait(link, tag, CONFIRM_TIMEOUT_MS) < 0)
		goto fail;
	amqp_link_close(link);
	link = NULL;
	while (st == CONSUMER_DELIVERY && deliveries < 10) {
		if ((link = open_link(c, 10, check)) == NULL ||
		    consumer_start(link, q, 1, ctag, sizeof(ctag)) < 0)
			goto fail;
		if ((st = consumer_next(link, 2000, &d)) == CONSUMER_DELIVERY) {
			deliveries++;
			delivery_free(&d);
		}
		amqp_link_close(link); /* "crash": the delivery is never settled */
		link = NULL;
	}
	if ((link = open_link(c, 10, check)) == NULL || consumer_start(link, dq, 1, ctag, sizeof(ctag)) < 0)
		goto fail;
	st = consumer_next(link, 5000, &d);
	if (st == CONSUMER_DELIVERY) {
		delivery_x_death_reason(&d, reason, sizeof(reason));
		consumer_ack(link, d.tag, 0);
	}
	report(st == CONSUMER_DELIVERY && strcmp(reason, "delivery_limit") == 0 && deliveries == 3,
	       check, "x-delivery-limit 2, consumer gone without settling: delivered %d times, "
		      "then %s (x-death reason %s)",
	       deliveries, st == CONSUMER_DELIVERY ? "parked" : "not parked", reason[0] ? reason : "-");
	if (st == CONSUMER_DELIVERY)
		delivery_free(&d);
	goto cleanup;
fail:
	report(0, check, "%s", link ? amqp_link_error(link) : "no link");
cleanup:
	amqp_link_close(link);
}

/* Declares queue q by hand as a quorum queue that refuses messages once it
 * holds one (x-max-length 0, reject-publish) and binds it to orderflow.dead. */
static int declare_full_queue(struct amqp_link *link, const char *q, const char *key)
{
	amqp_table_entry_t e[3] = {
		{ .key = amqp_cstring_bytes("x-queue-type"),
		  .value = { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum") } },
		{ .key = amqp_cstring_bytes("x-max-length"),
		  .value = { .kind = AMQP_FIELD_KIND_I64, .value.i64 = 0 } },
		{ .key = amqp_cstring_bytes("x-overflow"),
		  .value = { .kind = AMQP_FIELD_KIND_UTF8,
			     .value.bytes = amqp_cstring_bytes("reject-publish") } },
	};
	amqp_table_t args = { 3, e };
	amqp_connection_state_t conn = amqp_link_conn(link);
	int rc;

	amqp_link_lock(link);
	amqp_queue_declare(conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(q), 0, 1, 0, 0, args);
	rc = amqp_link_check(link, amqp_get_rpc_reply(conn), "declare a full parking lot");
	if (rc == 0) {
		amqp_queue_bind(conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes(q),
				amqp_cstring_bytes(EXCHANGE_DEAD), amqp_cstring_bytes(key),
				amqp_empty_table);
		rc = amqp_link_check(link, amqp_get_rpc_reply(conn), "bind the full parking lot");
	}
	amqp_maybe_release_buffers(conn);
	amqp_link_unlock(link);
	return rc;
}

/* Quorum only: at-least-once dead-lettering is really in effect. A message
 * dead-lettered while its target refuses it stays in the source queue
 * (messages_dlx) where at-most-once would have dropped it. */
static void check_at_least_once(struct ctx *c)
{
	const char *check = "at-least-once";
	const char *dom = "probealo", *keys[1] = { "probealo.#" };
	struct amqp_link *link = open_link(c, 10, check);
	struct delivery d;
	char q[128], dq[128], ctag[128], path[512];
	uint64_t tag;
	long long dlx = -1;
	int64_t until;

	if (link == NULL)
		return;
	topology_work_queue(q, sizeof(q), dom);
	topology_dead_queue(dq, sizeof(dq), dom);
	delete_domain(link, dom);
	if (topology_declare_domain(link, &c->cfg, dom, keys, 1) < 0)
		goto fail;
	delete_queue(link, dq);
	/* A quorum queue applies its length limit to the publishes after the
	 * one that went over it: one message first makes it full. */
	if (declare_full_queue(link, dq, dom) < 0 || publisher_enable(link) < 0 ||
	    send_msg(link, EXCHANGE_DEAD, dom, "alo-0", NULL, 1, &tag) < 0 ||
	    send_msg(link, EXCHANGE_EVENTS, "probealo.x", "alo-1", NULL, 1, &tag) < 0 ||
	    publisher_wait(link, tag, CONFIRM_TIMEOUT_MS) < 0)
		goto fail;
	amqp_link_close(link);
	if ((link = open_link(c, 10, check)) == NULL || consumer_start(link, q, 1, ctag, sizeof(ctag)) < 0)
		goto fail;
	if (consumer_next(link, 5000, &d) != CONSUMER_DELIVERY)
		goto fail;
	consumer_nack(link, d.tag, 0, 0); /* reject: dead-letter now */
	delivery_free(&d);
	snprintf(path, sizeof(path), "queues/%s/%s", c->vhost_enc, q);
	/* the management API's counts lag by its 5 s statistics interval */
	for (until = now_ms() + 15000; now_ms() < until && dlx != 1; sleep_ms(500)) {
		json_t *j = mgmt_get(path);
		json_t *v = json_object_get(j, "messages_dlx");
		dlx = json_is_integer(v) ? json_integer_value(v) : -1;
		json_decref(j);
	}
	report(dlx == 1, check, "rejected into a parking lot that refuses it, the message %s "
				"(messages_dlx of %s = %lld)",
	       dlx == 1 ? "stays in the source queue" : "was not kept", q, dlx);
	if (getenv("KEEP") == NULL)
		delete_domain(link, dom);
	goto cleanup;
fail:
	report(0, check, "%s", link ? amqp_link_error(link) : "no link");
cleanup:
	amqp_link_close(link);
}

int main(int argc, char **argv)
{
	struct ctx c = { .qtype = "quorum" };
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--queue-type") == 0 && i + 1 < argc)
			c.qtype = argv[++i];
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			c.only = argv[++i];
		else if (argv[i][0] != '-' && c.url == NULL)
			c.url = argv[i];
		else {
			fprintf(stderr, "usage: of-brokercheck [--queue-type quorum|classic] "
					"[--only check,...] [AMQP_URL]\n");
			return 2;
		}
	}
	if (c.url == NULL)
		c.url = getenv("ORDERFLOW_AMQP_URL");
	if (c.url == NULL) {
		fprintf(stderr, "of-brokercheck: no AMQP URL (argument or ORDERFLOW_AMQP_URL)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init(ROLE);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c.domain = strcmp(c.qtype, "classic") == 0 ? "probec" : "probe";
	vhost_of(&c);

	if (wanted(&c, "connection-name"))
		check_connection_name(&c);
	if (wanted(&c, "failover"))
		check_failover(&c);
	if (wanted(&c, "declare"))
		check_declare(&c);
	if (wanted(&c, "args"))
		check_queue_args(&c);
	if (wanted(&c, "conflict"))
		check_conflict(&c);
	if (wanted(&c, "throughput"))
		check_throughput(&c);
	if (wanted(&c, "unroutable"))
		check_unroutable(&c);
	if (wanted(&c, "retry")) {
		check_retry_tier(&c, 1);
		check_retry_tier(&c, 2);
	}
	if (wanted(&c, "cancel"))
		check_cancel(&c);
	if (wanted(&c, "stale-tag"))
		check_stale_tag(&c);
	if (wanted(&c, "forced-close"))
		check_forced_close(&c);
	if (wanted(&c, "keepalive"))
		check_keepalive(&c);
	if (strcmp(c.qtype, "quorum") == 0 && wanted(&c, "delivery-limit")) {
		check_delivery_limit(&c);
		check_delivery_limit_crash(&c);
	}
	if (strcmp(c.qtype, "quorum") == 0 && wanted(&c, "at-least-once"))
		check_at_least_once(&c);

	curl_global_cleanup();
	printf("%s: %d check(s) failed\n", failures ? "FAIL" : "ok", failures);
	return failures ? 1 : 0;
}
