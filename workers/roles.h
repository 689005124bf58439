/*
 * roles: what a child process runs, by role. The supervisor forks and calls
 * role_main(); orderflowctl and the tests can call the same entry points.
 */
#ifndef ORDERFLOW_ROLES_H
#define ORDERFLOW_ROLES_H

#include "core/config.h"

struct crash_slot;

enum role_kind { ROLE_DOMAIN, ROLE_RELAY, ROLE_HTTP };

/* The relay process: outbox -> broker. Returns an exit code. */
int relay_run(const struct config *cfg);
/* The HTTP intake process. Returns an exit code. */
int http_run(const struct config *cfg);

struct amqp_link;
/* Declares the exchanges and the queues of every domain, on or off. */
int topology_declare_all(struct amqp_link *link, const struct config *cfg);

/* The routing keys a domain consumes under this configuration. */
int domain_keys(enum domain_id id, const struct config *cfg, const char *const **keys_r);

#endif
