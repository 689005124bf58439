/*
 * topology_all: every domain's exchanges, queues and bindings, as the
 * configuration says (the relay declares them before publishing; orderflowctl
 * declares and lists them).
 */
#ifndef ORDERFLOW_TOPOLOGY_ALL_H
#define ORDERFLOW_TOPOLOGY_ALL_H

#include "core/config.h"

struct amqp_link;

/* Declares the exchanges and the queues of every domain, on or off. With
 * TOPOLOGY_KEEP_LOG_QUEUE the audit queue is bound to "#" whatever
 * domains.audit.log_from says: orderflowctl, whose file may be ahead of the
 * running system, never unbinds it (orderflowd's relay and audit worker do). */
#define TOPOLOGY_KEEP_LOG_QUEUE 0x1u
int topology_declare_all(struct amqp_link *link, const struct config *cfg, unsigned flags);

/* The routing keys a domain consumes under a configuration: domain_keys()
 * (workers/domain.h) over domain_get(). */

#endif
