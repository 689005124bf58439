/*
 * supervisor_conf: the service table from a configuration, and SIGHUP.
 *
 * A role's "fingerprint" is the text of every setting that matters to its
 * processes; a reload restarts (gracefully) the children of a role whose
 * fingerprint changed and only adjusts the count of the others, like nginx
 * builds a new cycle and keeps the old one until the new one is known good.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "core/log.h"
#include "db/migrate.h"
#include "workers/supervisor_int.h"

static void put_list(FILE *f, const char *name, const struct str_list *l)
{
	fprintf(f, "%s=[", name);
	for (int i = 0; i < l->count; i++)
		fprintf(f, "%s,", l->items[i]);
	fprintf(f, "]\n");
}

#define S(x) ((x) ? (x) : "")

/* Settings every child uses: how to reach the broker and the database, the
 * retry policy, the log level. */
static void put_common(FILE *f, const struct config *c)
{
	put_list(f, "urls", &c->broker.urls);
	fprintf(f, "broker=%d,%s,%d,%d,%zu,%s,%s\n", c->broker.heartbeat_s,
		S(c->broker.queue_type), c->broker.delivery_limit, c->broker.prefetch,
		c->broker.max_message_bytes, S(c->broker.ca_file), S(c->broker.management_url));
	fprintf(f, "db=%s,%d,%s,%s,%s,%s,%ld\n", S(c->database.host), c->database.port,
		S(c->database.socket), S(c->database.user), S(c->database.password),
		S(c->database.name), c->database.inbox_retention_s);
	fprintf(f, "retry=%d:", c->retry.max_attempts);
	for (int i = 0; i < c->retry.delay_count; i++)
		fprintf(f, "%d,", c->retry.delays_ms[i]);
	fprintf(f, "\nlog=%d\n", c->log_level);
}

static void put_domain(FILE *f, const struct cfg_domain *d)
{
	fprintf(f, "dom=%d,%d,%s,%s,%lld,%d,%s,%d,%d,%d\n", d->prefetch, d->crash_limit,
		S(d->database), S(d->currency), d->decline_over_cents, d->latency_ms, S(d->url),
		d->timeout_ms, d->breaker_failures, d->breaker_cooldown_ms);
	put_list(f, "decline", &d->decline_customers);
	put_list(f, "events", &d->events);
}

static char *fingerprint(const struct config *c, int service)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	put_common(f, c);
	if (service < DOM_COUNT) {
		put_domain(f, &c->domains[service]);
	} else if (service == SERVICE_RELAY) {
		fprintf(f, "relay=%d,%d,%ld\n", c->relay.batch_size, c->relay.poll_ms,
			c->relay.retention_s);
		/* The relay declares every domain's topology and reads every
		 * domain's outbox. */
		for (int i = 0; i < DOM_COUNT; i++) {
			fprintf(f, "db%d=%s\n", i, S(c->domains[i].database));
			fprintf(f, "on%d=%d\n", i, c->domains[i].workers > 0);
			put_list(f, "events", &c->domains[i].events);
		}
	} else {
		fprintf(f, "http=%s,%s,%zu,%s\n", S(c->http.listen), S(c->http.tokens_file),
			c->http.max_body_bytes, S(c->domains[DOM_ORDER].currency));
		put_list(f, "tokens", &c->http.tokens);
	}
	fclose(f);
	return text;
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
		char *fp = fingerprint(cfg, i);

		service_names(sv, i);
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
