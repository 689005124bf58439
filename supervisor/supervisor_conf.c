/*
 * supervisor_conf: the service table from a configuration, and SIGHUP.
 *
 * A role's "fingerprint" is the text of every setting its processes read,
 * computed from the key table (core/config_keys.c: the rows whose roles
 * include it); a reload restarts (gracefully) the children of a role whose
 * fingerprint changed and only adjusts the count of the others, like nginx
 * builds a new cycle and keeps the old one until the new one is known good.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "core/log.h"
#include "db/migrate.h"
#include "supervisor/supervisor_int.h"

/* What a child of service i reads, from the key table's roles: a key added
 * to the table reaches the right children with nothing to edit here. */
static char *fingerprint(const struct config *c, const struct service *sv)
{
	return config_fingerprint(c, role_get(sv->kind)->reads,
				  sv->kind == ROLE_DOMAIN ? sv->domain : DOM_ORDER);
}

static void service_names(struct service *sv, int i)
{
	if (i < DOM_COUNT) {
		sv->kind = ROLE_DOMAIN;
		sv->domain = (enum domain_id)i;
		snprintf(sv->name, sizeof(sv->name), "%s", domain_name((enum domain_id)i));
		snprintf(sv->title, sizeof(sv->title), "%s worker", sv->name);
	} else {
		sv->kind = i == SERVICE_RELAY ? ROLE_RELAY : ROLE_HTTP;
		snprintf(sv->name, sizeof(sv->name), "%s", i == SERVICE_RELAY ? "relay" : "http");
		snprintf(sv->title, sizeof(sv->title), "%s", sv->name);
	}
}

static int wanted_of(const struct config *c, int i)
{
	if (i < DOM_COUNT)
		return c->domains[i].workers;
	return i == SERVICE_RELAY ? c->relay.workers : c->http.workers;
}

void supervisor_build_services(struct supervisor *s, struct config *cfg)
{
	for (int i = 0; i < SERVICES_MAX; i++) {
		struct service *sv = &s->services[i];
		char *fp;

		service_names(sv, i);
		fp = fingerprint(cfg, sv);
		sv->wanted = wanted_of(cfg, i);
		sv->crash_limit = i < DOM_COUNT ? cfg->domains[i].crash_limit : 0;
		if (sv->fingerprint != NULL && (fp == NULL || strcmp(fp, sv->fingerprint) != 0)) {
			sv->generation++;
			sv->backoff_ms = 0;
			sv->next_start_ms = 0;
			if (sv->wanted > 0)
				log_info("reload: settings of %s changed; restarting its children",
					 sv->name);
		}
		free(sv->fingerprint);
		sv->fingerprint = fp;
	}
	s->nservices = SERVICES_MAX;
	log_set_level((enum log_level)cfg->log_level);
}

int supervisor_schema_check(const struct config *cfg)
{
	const char *names[DOM_COUNT];
	int n = config_databases(cfg, names), rc = 0;

	for (int i = 0; i < n; i++) {
		char *err = NULL;
		int unreachable = 0;

		if (migrate_check(&cfg->database, names[i], &unreachable, &err) == 0)
			continue;
		if (unreachable) {
			/* Not a reason to refuse: the children wait for it. */
			log_warn("schema check of database %s skipped: %s", names[i], err);
		} else {
			log_error("%s", err);
			rc = -1;
		}
		free(err);
	}
	return rc;
}

/* Who writes event_log cannot change under running children: a publisher
 * still on "queue" would send an unlogged event past an audit queue that a
 * child on "outbox" has just unbound. */
static int audit_log_from_changed(const struct config *cur, const struct config *next)
{
	const char *a = cur->domains[DOM_AUDIT].log_from, *b = next->domains[DOM_AUDIT].log_from;

	if (a == NULL || b == NULL || strcmp(a, b) == 0)
		return 0;
	log_error("reload refused: domains.audit.log_from cannot change on a live system "
		  "(running \"%s\", file \"%s\"): restart orderflowd to change it", a, b);
	log_error("reload refused: keeping the running configuration");
	return 1;
}

void supervisor_reload(struct supervisor *s)
{
	struct config *next = NULL;
	char *errors = NULL;

	sd_notify(0, "RELOADING=1");
	log_info("SIGHUP: reloading %s", s->config_path);
	if (config_load(s->config_path, &next, &errors) != 0) {
		char *save = NULL;

		for (char *line = strtok_r(errors, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			log_error("reload refused: %s", line);
		log_error("reload refused: keeping the running configuration");
		free(errors);
		goto ready;
	}
	if (audit_log_from_changed(s->cfg, next)) {
		config_free(next);
		goto ready;
	}
	if (supervisor_schema_check(next) != 0) {
		log_error("reload refused: keeping the running configuration");
		config_free(next);
		goto ready;
	}
	supervisor_build_services(s, next);
	config_free(s->cfg);
	s->cfg = next;
	log_info("reload: configuration applied");
ready:
	s->status_dirty = 1;
	sd_notify(0, "READY=1");
}
