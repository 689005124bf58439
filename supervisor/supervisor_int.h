/*
 * supervisor_int: the supervisor's tables, shared by supervisor.c (the loop),
 * supervisor_spawn.c (fork and the child side) and supervisor_conf.c (building
 * the service table and reloading). Not for use outside the supervisor.
 */
#ifndef ORDERFLOW_SUPERVISOR_INT_H
#define ORDERFLOW_SUPERVISOR_INT_H

#include <sys/types.h>

#include "core/config.h"
#include "proc/crashmem.h"
#include "proc/poolstats.h"
#include "supervisor/roles.h"

/* Fixed indexes, so a child's service index survives a reload: the domains
 * by id, then the relay, then the HTTP intake. A role that is off has
 * wanted = 0. */
#define SERVICE_RELAY DOM_COUNT
#define SERVICE_HTTP (DOM_COUNT + 1)
#define SERVICES_MAX (DOM_COUNT + 2)
_Static_assert(SERVICE_RELAY == POOLSTATS_ROLE_RELAY && SERVICE_HTTP == POOLSTATS_ROLE_HTTP &&
		       SERVICES_MAX == POOLSTATS_ROLES,
	       "poolstats counts restarts by service index");

struct service {
	char name[32];          /* "inventory", "relay", "http" */
	char title[48];         /* "inventory worker", "relay", "http" */
	enum role_kind kind;
	enum domain_id domain;  /* ROLE_DOMAIN only */
	int wanted;
	int crash_limit;
	unsigned generation;    /* bumped when a reload changes its settings */
	char *fingerprint;      /* the settings that matter to it, as text */
	long backoff_ms;        /* 0 until it first died */
	long long next_start_ms;
};

struct child {
	pid_t pid;              /* 0 = free entry; index = crash slot */
	int service;
	unsigned generation;
	long long started_ms;
	int stopping;
	int killed;
	long long stop_sent_ms;
};

struct supervisor {
	struct config *cfg;
	const char *config_path;
	struct service services[SERVICES_MAX];
	int nservices;
	struct child children[CRASHMEM_SLOTS];
	struct crashmem *crash;
	int sigfd;
	int stopping;
	int unclean_stops;      /* children that stopped uncleanly during shutdown */
	int ready_sent;
	int status_dirty;
	long long started_ms;
	long long stop_started_ms;
	long long watchdog_ms;
	long long next_watchdog_ms;
};

/* supervisor_conf.c: (re)builds the service table from cfg. On a reload
 * (s->services already filled) a role keeps its generation and backoff when
 * its settings are unchanged, and gets a new generation otherwise. */
void supervisor_build_services(struct supervisor *s, struct config *cfg);
void supervisor_reload(struct supervisor *s);
/* Every database of cfg has the schema this build expects (migrate_check);
 * what is wrong is logged. A database that cannot be reached is only
 * warned about. Holds a connection only while it checks. */
int supervisor_schema_check(const struct config *cfg);
/* supervisor_spawn.c: forks one child of service i. 0, or -1 (logged). */
int supervisor_spawn(struct supervisor *s, int service);
void supervisor_status(struct supervisor *s);

#endif
