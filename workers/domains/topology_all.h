/*
 * topology_all: every domain's exchanges, queues and bindings, as the
 * configuration says (the relay declares them before publishing; orderflowctl
 * declares and lists them).
 */
#ifndef ORDERFLOW_TOPOLOGY_ALL_H
#define ORDERFLOW_TOPOLOGY_ALL_H

#include "core/config.h"

struct amqp_link;

/* Declares the exchanges and the queues of every domain, on or off. */
int topology_declare_all(struct amqp_link *link, const struct config *cfg);

/* The routing keys a domain consumes under a configuration: domain_keys()
 * (workers/domain.h) over domain_get(). */

#endif
