/*
 * policy: what an operator may change on a live system and RabbitMQ keeps
 * per queue, set as a policy through the management HTTP API
 * (broker.management_url) instead of a queue argument, which is fixed when
 * the queue is declared (a redeclaration with another value is refused, 406).
 *
 * Today that is the work queue's delivery limit: policy "orderflow-<domain>"
 * on ^orderflow\.<domain>$, {"delivery-limit": broker.delivery_limit}, for
 * quorum queues. PUT is idempotent, so every start (and every reload, which
 * restarts the workers) sets the current value. Retry delays need no policy:
 * each retried copy carries its tier's delay as its expiration.
 */
#ifndef ORDERFLOW_POLICY_H
#define ORDERFLOW_POLICY_H

struct config;

/* 1 when the delivery limit is a policy (a quorum queue and a management
 * URL), 0 when it is the queue argument x-delivery-limit. */
int policy_manages_delivery_limit(const struct config *cfg);

/* Sets the delivery-limit policy of `domain`'s work queue on the vhost of the
 * first broker URL, with that URL's user. 0, or -1 and *err_r (malloc'd)
 * naming the policy, the URL and what the API answered. */
int policy_set_delivery_limit(const struct config *cfg, const char *domain, char **err_r);

#endif
