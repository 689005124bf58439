/*
 * http_brokerprobe: the broker check of /healthz (see http_brokerprobe.h).
 */
#include "http/http_brokerprobe.h"

#include <amqp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "broker/amqp_link.h"
#include "broker/topology.h"
#include "core/clock.h"
#include "core/log.h"

#define BROKER_CHECK_MS 1000   /* between checks, whether up or down */
#define PARKED_CACHE_MS 5000   /* between two readings of the parking lots */

struct http_brokerprobe {
	const struct config *cfg;
	pthread_mutex_t broker_mu;
	struct amqp_link *link;
	long long broker_checked_ms; /* last check or connection attempt */
	int broker_up;               /* 1 up, 0 down, -1 not checked yet */
	long long parked_ms;         /* when parked[] was read; 0 = never */
	long long parked[DOM_COUNT];
};

int http_brokerprobe_new(const struct config *cfg, struct http_brokerprobe **probe_r)
{
	struct http_brokerprobe *d = calloc(1, sizeof(*d));

	if (d == NULL || pthread_mutex_init(&d->broker_mu, NULL) != 0) {
		free(d);
		log_error("cannot set up the broker check: out of memory");
		return -1;
	}
	d->cfg = cfg;
	d->broker_up = -1;
	*probe_r = d;
	return 0;
}

void http_brokerprobe_free(struct http_brokerprobe *d)
{
	if (d == NULL)
		return;
	if (d->link != NULL)
		amqp_link_close(d->link);
	pthread_mutex_destroy(&d->broker_mu);
	free(d);
}

/* One round trip that changes nothing: amq.direct always exists. */
static int broker_ping(struct amqp_link *link)
{
	amqp_connection_state_t conn = amqp_link_conn(link);
	int rc;

	amqp_link_lock(link);
	amqp_exchange_declare(conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes("amq.direct"),
			      amqp_cstring_bytes("direct"), 1, 0, 0, 0, amqp_empty_table);
	rc = amqp_link_check(link, amqp_get_rpc_reply(conn), "check broker");
	amqp_maybe_release_buffers(conn);
	amqp_link_unlock(link);
	return rc;
}

static void broker_open(struct http_brokerprobe *d)
{
	char *err = NULL;

	if (amqp_link_open(&d->cfg->broker, "http", &d->link, &err) != 0) {
		if (d->broker_up != 0)
			log_warn("broker: %s", err != NULL ? err : "connect failed");
		free(err);
		d->link = NULL;
		return;
	}
	amqp_link_keepalive_start(d->link);
}

/* Called with broker_mu held. */
static int broker_check(struct http_brokerprobe *d)
{
	int up;

	if (d->link != NULL && !amqp_link_ok(d->link)) {
		amqp_link_close(d->link);
		d->link = NULL;
	}
	if (d->link == NULL)
		broker_open(d);
	up = d->link != NULL && broker_ping(d->link) == 0;
	if (!up && d->link != NULL && d->broker_up != 0)
		log_warn("broker: %s", amqp_link_error(d->link));
	if (up && d->broker_up != 1)
		log_info("broker %s answers", amqp_link_node(d->link));
	return up;
}

int http_broker_ok(struct http_brokerprobe *d)
{
	long long now = clock_monotonic_ms();
	int up;

	pthread_mutex_lock(&d->broker_mu);
	if (d->broker_checked_ms == 0 ||
	    now - d->broker_checked_ms >= BROKER_CHECK_MS) {
		d->broker_up = broker_check(d);
		d->broker_checked_ms = clock_monotonic_ms();
	}
	up = d->broker_up == 1;
	pthread_mutex_unlock(&d->broker_mu);
	return up;
}

/* Called with broker_mu held. A lot that cannot be inspected costs its
 * channel (the 404 closes it; amqp_link opens it again) and reads -1. */
static void parked_read(struct http_brokerprobe *d)
{
	char queue[128];
	unsigned n;

	if (d->link != NULL && !amqp_link_ok(d->link)) {
		amqp_link_close(d->link);
		d->link = NULL;
	}
	if (d->link == NULL)
		broker_open(d);
	for (int i = 0; i < DOM_COUNT; i++) {
		d->parked[i] = -1;
		if (d->link == NULL || !amqp_link_ok(d->link))
			continue;
		topology_dead_queue(queue, sizeof(queue), domain_name((enum domain_id)i));
		if (topology_queue_depth(d->link, queue, &n, NULL) == 0)
			d->parked[i] = n;
		else
			log_debug("metrics: %s", amqp_link_error(d->link));
	}
}

void http_broker_parked(struct http_brokerprobe *d, long long depth[DOM_COUNT])
{
	long long now = clock_monotonic_ms();

	pthread_mutex_lock(&d->broker_mu);
	if (d->parked_ms == 0 || now - d->parked_ms >= PARKED_CACHE_MS) {
		parked_read(d);
		d->parked_ms = clock_monotonic_ms();
	}
	memcpy(depth, d->parked, sizeof(d->parked));
	pthread_mutex_unlock(&d->broker_mu);
}
