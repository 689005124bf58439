/*
 * roles: what a child process of the supervisor runs, by role, and the entry
 * point of each. The supervisor forks and calls the role's entry point;
 * orderflowctl and the tests can call the same entry points.
 */
#ifndef ORDERFLOW_ROLES_H
#define ORDERFLOW_ROLES_H

#include "http/http_server.h"
#include "relay/relay.h"
#include "workers/worker.h"

enum role_kind { ROLE_DOMAIN, ROLE_RELAY, ROLE_HTTP };

#endif
