/*
 * topology: declares the exchanges and queues of DESIGN.md ("Topology").
 *
 * Declaring is idempotent. A declaration that conflicts with an existing queue
 * (the broker answers 406 PRECONDITION_FAILED) fails with an error naming the
 * queue and the differing argument as the broker reported it.
 *
 * For a domain: its work queue orderflow.<domain> (bound to orderflow.events
 * with each of its keys and to orderflow.return with key <domain>, dead-letters
 * to orderflow.dead with key <domain>; on quorum queues the delivery limit is
 * x-delivery-limit, or a policy when broker.management_url is set), its
 * delay tiers orderflow.<domain>.retry.<n> (bound to orderflow.retry with key
 * <domain>.<n>, no TTL of their own: a retried copy's expiration is
 * delays_ms[n-1]; dead-letter to orderflow.return
 * with key <domain>), and its parking lot orderflow.<domain>.dead (bound to
 * orderflow.dead with key <domain>). Keys of DESIGN.md "Events" (and "#")
 * that the domain does not want are unbound, so bindings follow the config.
 * Quorum queues that dead-letter use
 * x-dead-letter-strategy = at-least-once and x-overflow = reject-publish.
 */
#ifndef ORDERFLOW_TOPOLOGY_H
#define ORDERFLOW_TOPOLOGY_H

#include <stddef.h>

struct amqp_link;
struct config;

#define EXCHANGE_EVENTS "orderflow.events"
#define EXCHANGE_RETRY "orderflow.retry"
#define EXCHANGE_RETURN "orderflow.return"
#define EXCHANGE_DEAD "orderflow.dead"

/* The four exchanges. */
int topology_declare_exchanges(struct amqp_link *link);
/* One domain's queues and bindings (exchanges included). `domain` is any
 * queue-safe name (the seven domains, or a test domain); `keys` are the routing
 * keys it consumes from orderflow.events ("#" for all). */
int topology_declare_domain(struct amqp_link *link, const struct config *cfg,
			    const char *domain, const char *const *keys, int nkeys);

/* Ready messages and consumers of an existing queue (passive declare; a
 * missing queue is an error "inspect queue Q: NOT_FOUND - ... (404)", which
 * closes and reopens the channel: a consumer on this link is then gone).
 * Either pointer may be NULL. */
int topology_queue_depth(struct amqp_link *link, const char *queue, unsigned *messages_r,
			 unsigned *consumers_r);
/* Removes the ready messages of a queue (unacked ones stay); *purged_r may be
 * NULL. */
int topology_queue_purge(struct amqp_link *link, const char *queue, unsigned *purged_r);

/* Queue names into a buffer of at least 128 bytes. */
void topology_work_queue(char *out, size_t len, const char *domain);
void topology_retry_queue(char *out, size_t len, const char *domain, int tier);
void topology_dead_queue(char *out, size_t len, const char *domain);

#endif
