/*
 * roles: what a child process of the supervisor runs. One row per kind of
 * child: its name, the configuration role whose keys it reads (so a reload
 * knows which children a changed key concerns) and its entry point, which
 * runs the role on the common skeleton (proc/role_server.h).
 */
#ifndef ORDERFLOW_ROLES_H
#define ORDERFLOW_ROLES_H

#include "core/config.h"
#include "proc/crashmem.h"

enum role_kind { ROLE_DOMAIN, ROLE_RELAY, ROLE_HTTP };

struct role {
	enum role_kind kind;
	const char *name;             /* "domain", "relay", "http" */
	enum config_role reads;       /* the key table's role */
	/* Runs the child to its end; returns its exit status. dom matters to
	 * ROLE_DOMAIN only; slot is the child's crash-memory slot. */
	int (*run)(const struct config *cfg, enum domain_id dom, struct crash_slot *slot);
};

const struct role *role_get(enum role_kind kind);

#endif
