/*
 * webhook: the domain that POSTs the events of domains.webhook.events to
 * domains.webhook.url (DESIGN.md "Webhook"), behind a circuit
 * breaker (breaker.h).
 *
 * The webhook binds to the configured events, not to static keys: its table
 * is one DOM_EV_CONFIGURED row (domain.h). The answer of the receiver is
 * classified by webhook_classify() (pure): 2xx delivered; 4xx other than 408
 * and 429 permanent (the event is parked); anything else transient
 * (retried), like a transport failure (refused, timed out).
 */
#ifndef ORDERFLOW_WEBHOOK_H
#define ORDERFLOW_WEBHOOK_H

#include "core/config.h"
#include "core/envelope.h"

enum webhook_outcome {
	WEBHOOK_DELIVERED = 0,
	WEBHOOK_PERMANENT,
	WEBHOOK_TRANSIENT,
};

/* The outcome of an HTTP answer with this status code. */
enum webhook_outcome webhook_classify(long http_status);

/* How the webhook reaches the receiver. The domain tables carry no HTTP
 * client: the program that runs the webhook domain wires one in (orderflowd:
 * webhook_transport_use_curl(), workers/webhook_curl.h) before the worker
 * starts; without one, a non-empty domains.webhook.url fails the domain's
 * set-up. */
struct webhook_transport {
	/* A connection kept between deliveries; NULL with *err_r (malloc'd). */
	void *(*open)(char **err_r);
	/* One POST of ev to w->url: 0 with *status_r the HTTP status, or -1 with
	 * the transport's message in err (refused, timed out...). */
	int (*post)(void *conn, const struct cfg_domain *w, const struct envelope *ev,
		    long *status_r, char *err, size_t errlen);
	void (*close)(void *conn);
};

void webhook_transport_use(const struct webhook_transport *t);

#endif
