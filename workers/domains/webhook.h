/*
 * webhook: the domain that POSTs the events of domains.webhook.events to
 * domains.webhook.url (DESIGN.md, the webhook paragraph), behind a circuit
 * breaker (breaker.h).
 *
 * The webhook binds to the configured events, not to static keys:
 * webhook_config_keys() is its struct domain's config_keys. The answer of the
 * receiver is classified by webhook_classify() (pure): 2xx delivered; 4xx
 * other than 408 and 429 permanent (the event is parked); anything else
 * transient (retried), like a transport failure (refused, timed out).
 */
#ifndef ORDERFLOW_WEBHOOK_H
#define ORDERFLOW_WEBHOOK_H

#include "core/config.h"

enum webhook_outcome {
	WEBHOOK_DELIVERED = 0,
	WEBHOOK_PERMANENT,
	WEBHOOK_TRANSIENT,
};

/* The outcome of an HTTP answer with this status code. */
enum webhook_outcome webhook_classify(long http_status);

/* The routing keys the webhook consumes: domains.webhook.events. Returns the
 * count; *keys_r points into cfg. */
int webhook_config_keys(const struct config *cfg, const char *const **keys_r);

#endif
