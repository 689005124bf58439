/*
 * config_keys: the table of configuration keys and the types its rows use
 * (reading a value with its checks, printing it for a fingerprint, freeing
 * it), plus what is computed from the table alone: `--dump-keys` and the
 * per-role fingerprints a reload compares (see config_keys.h).
 */
#include "core/config_keys.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* AMQP carries heartbeat and prefetch_count in 16-bit fields. */
#define AMQP_SHORT_MAX 65535

/* ---- reading one value ---- */

/* An int or int64 setting within [min, max]; 0, or -1 after recording why. */
static int get_integer(struct cfg_ctx *c, const config_setting_t *s, const char *key,
		       long long min, long long max, long long *v_r)
{
	long long v;
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (type == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		cfg_problem(c, s, key, "expected an integer");
		return -1;
	}
	if (v >= min && v <= max) {
		*v_r = v;
		return 0;
	}
	/* A bound that is only the C type's limit is not worth quoting as a range. */
	if (max == INT_MAX || max == LONG_MAX || max == LLONG_MAX)
		cfg_problem(c, s, key, v < min ? "must be >= %lld" : "must be <= %lld",
			    v < min ? min : max);
	else
		cfg_problem(c, s, key, "must be between %lld and %lld", min, max);
	return -1;
}

/* A string setting passing `check`; its value stays libconfig's. */
static const char *get_string(struct cfg_ctx *c, const config_setting_t *s, const char *key,
			      cfg_str_check check)
{
	const char *v, *why;
	char buf[256];

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_problem(c, s, key, "expected a string");
		return NULL;
	}
	v = config_setting_get_string(s);
	why = check != NULL ? check(v, buf, sizeof(buf)) : NULL;
	if (why != NULL) {
		cfg_problem(c, s, key, "%s", why);
		return NULL;
	}
	return v;
}

static int is_url(const struct cfg_key *k)
{
	return k->check == cfg_check_amqp_url || k->check == cfg_check_http_url;
}

/* A string of a secret key: warned about when it is a placeholder. */
static const char *get_secret(struct cfg_ctx *c, const struct cfg_key *k,
			      const config_setting_t *s, const char *key)
{
	const char *v = get_string(c, s, key, k->check);

	if (v != NULL && (k->flags & CFG_SECRET))
		cfg_warn_placeholder(c, s, key, v, is_url(k));
	return v;
}

/* An array or list whose items are all of `type` (int and int64 both count
 * as CONFIG_TYPE_INT: libconfig makes a literal with an L suffix int64). */
static int list_of(const config_setting_t *s, int type)
{
	for (int i = 0; i < config_setting_length(s); i++) {
		int t = config_setting_type(config_setting_get_elem(s, i));

		if (t == CONFIG_TYPE_INT64)
			t = CONFIG_TYPE_INT;
		if (t != type)
			return 0;
	}
	return config_setting_is_array(s) || config_setting_is_list(s);
}

static void read_number(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
			const char *key, char *base)
{
	void *field = base + k->off;
	long long v;

	if (get_integer(c, s, key, k->min, k->max, &v) != 0)
		return;
	if (k->type == &cfg_int)
		*(int *)field = (int)v;
	else if (k->type == &cfg_long)
		*(long *)field = (long)v;
	else if (k->type == &cfg_llong)
		*(long long *)field = v;
	else
		*(size_t *)field = (size_t)v;
}

static void read_string(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
			const char *key, char *base)
{
	char **field = (char **)(base + k->off);
	const char *v = get_secret(c, k, s, key);
	char *copy;

	if (v == NULL)
		return;
	copy = strdup(v);
	if (copy == NULL) {
		c->oom = 1;
		return;
	}
	free(*field);
	*field = copy;
}

/* Stored absolute: the daemon opens ca_file long after it changed folder. */
static void read_path(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
		      const char *key, char *base)
{
	char **field = (char **)(base + k->off);
	const char *v = get_string(c, s, key, cfg_check_nonempty);
	char *abs;

	if (v == NULL)
		return;
	abs = cfg_resolve_path(c, v);
	if (abs == NULL) {
		c->oom = 1;
		return;
	}
	free(*field);
	*field = abs;
}

/* One URL stored as a one-item list (broker.url beside broker.urls). */
static void read_url(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
		     const char *key, char *base)
{
	struct str_list *field = (struct str_list *)(base + k->off);
	const char *v = get_secret(c, k, s, key);

	if (v == NULL)
		return;
	cfg_list_clear(field);
	if (cfg_list_push(field, v) != 0)
		c->oom = 1;
}

static void read_strlist(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
			 const char *key, char *base)
{
	struct str_list *out = (struct str_list *)(base + k->off);
	struct str_list l = { NULL, 0 };
	int bad = 0;

	if (!list_of(s, CONFIG_TYPE_STRING)) {
		cfg_problem(c, s, key, "expected a list of strings");
		return;
	}
	if (config_setting_length(s) < k->min_items) {
		cfg_problem(c, s, key, "must not be empty");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		char ekey[160];
		const char *v;

		snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
		v = get_secret(c, k, config_setting_get_elem(s, i), ekey);
		if (v == NULL)
			bad = 1;
		else if (cfg_list_push(&l, v) != 0)
			c->oom = 1;
	}
	if (bad) {
		cfg_list_clear(&l);
		return;
	}
	cfg_list_clear(out);
	*out = l;
}

static void read_intlist(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
			 const char *key, char *base)
{
	int n = config_setting_length(s), bad = 0;
	int *v;

	if (!list_of(s, CONFIG_TYPE_INT)) {
		cfg_problem(c, s, key, "expected a list of integers");
		return;
	}
	if (n < k->min_items) {
		cfg_problem(c, s, key, "must not be empty");
		return;
	}
	v = calloc((size_t)n, sizeof(*v));
	if (v == NULL) {
		c->oom = 1;
		return;
	}
	for (int i = 0; i < n; i++) {
		char ekey[160];
		long long x;

		snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
		if (get_integer(c, config_setting_get_elem(s, i), ekey, k->min, k->max, &x) != 0)
			bad = 1;
		else
			v[i] = (int)x;
	}
	if (bad) {
		free(v);
		return;
	}
	free(*(int **)(base + k->off));
	*(int **)(base + k->off) = v;
	*(int *)(base + k->count_off) = n;
}

static void read_loglevel(struct cfg_ctx *c, const struct cfg_key *k, const config_setting_t *s,
			  const char *key, char *base)
{
	const char *v = get_string(c, s, key, k->check);

	if (v != NULL)
		*(int *)(base + k->off) = log_level_parse(v);
}

/* ---- printing (fingerprints) and freeing ---- */

static void print_int(FILE *f, const struct cfg_key *k, const char *base)
{
	fprintf(f, "%d", *(const int *)(base + k->off));
}

static void print_long(FILE *f, const struct cfg_key *k, const char *base)
{
	fprintf(f, "%ld", *(const long *)(base + k->off));
}

static void print_llong(FILE *f, const struct cfg_key *k, const char *base)
{
	fprintf(f, "%lld", *(const long long *)(base + k->off));
}

static void print_size(FILE *f, const struct cfg_key *k, const char *base)
{
	fprintf(f, "%zu", *(const size_t *)(base + k->off));
}

/* NULL (unset) and "" differ: a socket set to "" is not no socket. */
static void print_string(FILE *f, const struct cfg_key *k, const char *base)
{
	const char *v = *(char *const *)(base + k->off);

	fprintf(f, v != NULL ? "\"%s\"" : "-", v);
}

static void print_strlist(FILE *f, const struct cfg_key *k, const char *base)
{
	const struct str_list *l = (const struct str_list *)(base + k->off);

	fputc('[', f);
	for (int i = 0; i < l->count; i++)
		fprintf(f, "\"%s\",", l->items[i]);
	fputc(']', f);
}

static void print_intlist(FILE *f, const struct cfg_key *k, const char *base)
{
	const int *v = *(int *const *)(base + k->off);
	int n = *(const int *)(base + k->count_off);

	fputc('[', f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%d,", v[i]);
	fputc(']', f);
}

static void release_nothing(const struct cfg_key *k, char *base)
{
	(void)k, (void)base;
}

static void release_string(const struct cfg_key *k, char *base)
{
	free(*(char **)(base + k->off));
	*(char **)(base + k->off) = NULL;
}

static void release_strlist(const struct cfg_key *k, char *base)
{
	cfg_list_clear((struct str_list *)(base + k->off));
}

static void release_intlist(const struct cfg_key *k, char *base)
{
	free(*(int **)(base + k->off));
	*(int **)(base + k->off) = NULL;
	*(int *)(base + k->count_off) = 0;
}

const struct cfg_type cfg_int = { "integer", read_number, print_int, release_nothing };
const struct cfg_type cfg_long = { "integer", read_number, print_long, release_nothing };
const struct cfg_type cfg_llong = { "integer", read_number, print_llong, release_nothing };
const struct cfg_type cfg_size = { "integer", read_number, print_size, release_nothing };
const struct cfg_type cfg_string = { "string", read_string, print_string, release_string };
const struct cfg_type cfg_path = { "path", read_path, print_string, release_string };
/* broker.url lands in broker.urls, which prints and frees the list. */
const struct cfg_type cfg_url = { "string", read_url, NULL, release_nothing };
const struct cfg_type cfg_strlist = { "list of strings", read_strlist, print_strlist,
				      release_strlist };
const struct cfg_type cfg_intlist = { "list of integers", read_intlist, print_intlist,
				      release_intlist };
const struct cfg_type cfg_loglevel = { "string", read_loglevel, print_int, release_nothing };

/* ---- the table ---- */

#define CF(f) offsetof(struct config, f)
#define DF(f) offsetof(struct cfg_domain, f)

#define INT(k, f, d, lo, hi, r) { .key = k, .type = &cfg_int, .def = d, .min = lo, .max = hi, \
				  .off = f, .roles = r }
#define LONG(k, f, d, lo, r) { .key = k, .type = &cfg_long, .def = d, .min = lo, \
			       .max = LONG_MAX, .off = f, .roles = r }
#define SIZE(k, f, d, r) { .key = k, .type = &cfg_size, .def = d, .min = 1, .max = LLONG_MAX, \
			   .off = f, .roles = r }
#define STR(k, f, d, chk, what, r) { .key = k, .type = &cfg_string, .def = d, .check = chk, \
				     .allowed = what, .off = f, .roles = r }

const struct cfg_key cfg_keys[] = {
	{ .key = "broker.url", .type = &cfg_url, .check = cfg_check_amqp_url,
	  .allowed = "amqp:// or amqps:// URL", .def_doc = "none (required, or broker.urls)",
	  .off = CF(broker.urls), .flags = CFG_REQUIRED | CFG_SECRET, .other = "urls",
	  .roles = CFG_R_CLIENTS },
	{ .key = "broker.urls", .type = &cfg_strlist, .check = cfg_check_amqp_url,
	  .allowed = "amqp:// or amqps:// URLs; at least 1", .def_doc = "none (or broker.url)",
	  .min_items = 1, .off = CF(broker.urls), .flags = CFG_SECRET, .other = "url",
	  .roles = CFG_R_CLIENTS },
	INT("broker.heartbeat_s", CF(broker.heartbeat_s), "10", 0, AMQP_SHORT_MAX, CFG_R_CLIENTS),
	STR("broker.queue_type", CF(broker.queue_type), "\"quorum\"", cfg_check_queue_type,
	    "quorum, classic", CFG_R_DOMAINS | CFG_R_RELAY | CFG_R_CTL),
	INT("broker.delivery_limit", CF(broker.delivery_limit), "20", 1, INT_MAX,
	    CFG_R_DOMAINS | CFG_R_RELAY | CFG_R_CTL),
	INT("broker.prefetch", CF(broker.prefetch), "16", 1, AMQP_SHORT_MAX, CFG_R_DOMAINS),
	SIZE("broker.max_message_bytes", CF(broker.max_message_bytes), "262144", CFG_R_DOMAINS),
	{ .key = "broker.ca_file", .type = &cfg_path, .def_doc = "the system's CA bundle",
	  .after = cfg_after_ca_file, .off = CF(broker.ca_file), .roles = CFG_R_CLIENTS },
	/* Whoever declares a work queue sets its delivery-limit policy. */
	{ .key = "broker.management_url", .type = &cfg_string, .check = cfg_check_http_url,
	  .allowed = "empty, or an http:// or https:// URL",
	  .def_doc = "none (the delivery limit is the queue argument x-delivery-limit)",
	  .off = CF(broker.management_url), .roles = CFG_R_DOMAINS | CFG_R_RELAY | CFG_R_CTL },

	{ .key = "database.host", .type = &cfg_string, .check = cfg_check_nonempty,
	  .def_doc = "\"127.0.0.1\" unless socket is set", .after = cfg_after_db_host,
	  .off = CF(database.host), .roles = CFG_R_CLIENTS },
	INT("database.port", CF(database.port), "3306", 1, 65535, CFG_R_CLIENTS),
	STR("database.socket", CF(database.socket), NULL, cfg_check_nonempty, NULL, CFG_R_CLIENTS),
	{ .key = "database.user", .type = &cfg_string, .check = cfg_check_nonempty,
	  .def_doc = "none (required)", .off = CF(database.user), .flags = CFG_REQUIRED,
	  .roles = CFG_R_CLIENTS },
	{ .key = "database.password", .type = &cfg_string, .def_doc = "none (no password)",
	  .off = CF(database.password), .flags = CFG_SECRET, .roles = CFG_R_CLIENTS },
	{ .key = "database.password_file", .type = &cfg_path, .other = "password",
	  .after = cfg_after_password_file, .off = CF(database.password_file),
	  .flags = CFG_SECRET, .roles = CFG_R_CLIENTS },
	/* Written into SQL as an identifier (CREATE DATABASE, `db`.stock). */
	STR("database.name", CF(database.name), "\"orderflow\"", cfg_check_dbname,
	    "1 to 64 letters, digits or _", CFG_R_CLIENTS),
	{ .key = "database.inbox_retention_s", .type = &cfg_long, .def = "2592000", .min = 1,
	  .max = LONG_MAX, .after = cfg_after_inbox_retention, .off = CF(database.inbox_retention_s),
	  .roles = CFG_R_RELAY }, /* its pruner (relay/pruner.h) */

	{ .key = "retry.delays_ms", .type = &cfg_intlist, .def = "[1000, 10000, 60000, 300000]",
	  .min = 1, .max = INT_MAX, .min_items = 1, .off = CF(retry.delays_ms),
	  .count_off = CF(retry.delay_count), .roles = CFG_R_DOMAINS | CFG_R_RELAY | CFG_R_CTL },
	INT("retry.max_attempts", CF(retry.max_attempts), "10", 1, INT_MAX, CFG_R_DOMAINS),
	/* Only the check of database.inbox_retention_s reads it (at most ten
	 * years: the window plus the retries' delays cannot overflow); the relay,
	 * which reads the retention, restarts when that changes. */
	{ .key = "retry.replay_window_s", .type = &cfg_long, .def = "86400", .min = 0,
	  .max = 315360000L, .off = CF(retry.replay_window_s), .roles = 0 },

	{ .key = "supervisor.restart_backoff_min_ms", .type = &cfg_int, .def = "1000", .min = 1,
	  .max = INT_MAX, .after = cfg_after_backoff, .off = CF(supervisor.restart_backoff_min_ms),
	  .roles = CFG_R_SUPERVISOR },
	INT("supervisor.restart_backoff_max_ms", CF(supervisor.restart_backoff_max_ms), "60000", 1,
	    INT_MAX, CFG_R_SUPERVISOR),
	/* The HTTP process drains its requests in half of it. */
	INT("supervisor.shutdown_timeout_ms", CF(supervisor.shutdown_timeout_ms), "30000", 1,
	    INT_MAX, CFG_R_SUPERVISOR | CFG_R_HTTP),

	INT("domains.*.workers", DF(workers), "1", 0, INT_MAX, CFG_R_SUPERVISOR | CFG_R_CTL),
	{ .key = "domains.*.prefetch", .type = &cfg_int, .def_doc = "broker.prefetch", .min = 1,
	  .max = AMQP_SHORT_MAX, .after = cfg_after_domain_prefetch, .off = DF(prefetch),
	  .roles = CFG_R_SELF },
	INT("domains.*.crash_limit", DF(crash_limit), "3", 1, INT_MAX,
	    CFG_R_SUPERVISOR | CFG_R_SELF),
	/* Bounded well below the broker's heartbeat and the stop timeout. */
	INT("domains.*.linger_ms", DF(linger_ms), "0", 0, 1000, CFG_R_SELF),
	/* The HTTP intake writes to the order and notification databases and
	 * prices from inventory's; the relay publishes every database's outbox. */
	{ .key = "domains.*.database", .type = &cfg_string, .check = cfg_check_dbname,
	  .allowed = "1 to 64 letters, digits or _", .def_doc = "database.name",
	  .off = DF(database), .roles = CFG_R_SELF | CFG_R_RELAY | CFG_R_HTTP | CFG_R_CTL },
	STR("domains.order.currency", DF(currency), "\"EUR\"", cfg_check_currency,
	    "ISO 4217 code (3 upper-case letters)",
	    CFG_R_SELF | CFG_R_DOM(DOM_PAYMENT) | CFG_R_HTTP | CFG_R_CTL),
	{ .key = "domains.payment.decline_over_cents", .type = &cfg_llong, .def = "0", .min = 0,
	  .max = LLONG_MAX, .off = DF(decline_over_cents), .roles = CFG_R_SELF },
	{ .key = "domains.payment.decline_customers", .type = &cfg_strlist, .def = "[]",
	  .check = cfg_check_nonempty, .allowed = "non-empty strings", .off = DF(decline_customers),
	  .roles = CFG_R_SELF },
	INT("domains.payment.latency_ms", DF(latency_ms), "0", 0, INT_MAX, CFG_R_SELF),
	{ .key = "domains.webhook.url", .type = &cfg_string, .def = "\"\"",
	  .check = cfg_check_http_url, .allowed = "empty, or an http:// or https:// URL",
	  .off = DF(url), .flags = CFG_SECRET, .roles = CFG_R_SELF },
	/* The relay declares every domain's queues, the webhook's by these. */
	{ .key = "domains.webhook.events", .type = &cfg_strlist,
	  .def = "[\"order.created\", \"order.confirmed\", \"order.cancelled\"]",
	  .check = cfg_check_event, .allowed = "event routing keys; at least 1", .min_items = 1,
	  .off = DF(events), .roles = CFG_R_SELF | CFG_R_RELAY | CFG_R_CTL },
	/* Every process that emits or publishes, or declares audit's queue. It
	 * cannot change on a reload (supervisor_conf.c): processes of both
	 * values side by side could publish an event no one logs. */
	{ .key = "domains.audit.log_from", .type = &cfg_string, .def = "\"queue\"",
	  .check = cfg_check_log_from, .allowed = "queue, outbox", .after = cfg_after_log_from,
	  .off = DF(log_from), .roles = CFG_R_DOMAINS | CFG_R_RELAY | CFG_R_HTTP | CFG_R_CTL },
	INT("domains.webhook.timeout_ms", DF(timeout_ms), "5000", 1, INT_MAX, CFG_R_SELF),
	INT("domains.webhook.breaker_failures", DF(breaker_failures), "5", 1, INT_MAX, CFG_R_SELF),
	INT("domains.webhook.breaker_cooldown_ms", DF(breaker_cooldown_ms), "30000", 1, INT_MAX,
	    CFG_R_SELF),

	INT("relay.workers", CF(relay.workers), "1", 0, INT_MAX, CFG_R_SUPERVISOR),
	INT("relay.batch_size", CF(relay.batch_size), "100", 1, INT_MAX, CFG_R_RELAY),
	INT("relay.poll_ms", CF(relay.poll_ms), "200", 1, INT_MAX,
	    CFG_R_RELAY | CFG_R_SUPERVISOR),
	LONG("relay.retention_s", CF(relay.retention_s), "86400", 0, CFG_R_RELAY),
	/* Read by the workers: they publish their own events within it. */
	INT("relay.grace_ms", CF(relay.grace_ms), "0", 0, 3600000, CFG_R_DOMAINS),

	STR("http.listen", CF(http.listen), "\"127.0.0.1:8080\"", cfg_check_listen,
	    "host:port or [v6]:port", CFG_R_HTTP),
	INT("http.workers", CF(http.workers), "1", 0, INT_MAX, CFG_R_SUPERVISOR),
	{ .key = "http.tokens", .type = &cfg_strlist, .def = "[]", .check = cfg_check_nonempty,
	  .allowed = "non-empty strings", .off = CF(http.tokens), .flags = CFG_SECRET,
	  .roles = CFG_R_HTTP },
	{ .key = "http.tokens_file", .type = &cfg_path, .after = cfg_after_tokens_file,
	  .off = CF(http.tokens_file), .flags = CFG_SECRET, .roles = CFG_R_HTTP },
	SIZE("http.max_body_bytes", CF(http.max_body_bytes), "65536", CFG_R_HTTP),

	{ .key = "log.level", .type = &cfg_loglevel, .def = "\"info\"",
	  .check = cfg_check_log_level, .allowed = "error, warn, info, debug", .off = CF(log_level),
	  .roles = CFG_R_CLIENTS | CFG_R_SUPERVISOR },
};

const int cfg_nkeys = (int)(sizeof(cfg_keys) / sizeof(cfg_keys[0]));

/* ---- what the rows say about themselves ---- */

int cfg_key_domain(const struct cfg_key *k)
{
	char name[32];
	const char *dot;

	if (strncmp(k->key, "domains.", 8) != 0)
		return -2;
	dot = strchr(k->key + 8, '.');
	if (dot == NULL || (size_t)(dot - k->key - 8) >= sizeof(name))
		return -2;
	snprintf(name, sizeof(name), "%.*s", (int)(dot - k->key - 8), k->key + 8);
	return strcmp(name, "*") == 0 ? -1 : domain_lookup(name);
}

char *cfg_key_base(const struct cfg_key *k, struct config *cfg, int dom)
{
	if (cfg_key_domain(k) == -2)
		return (char *)cfg;
	return (char *)&cfg->domains[dom];
}

const char *cfg_key_leaf(const struct cfg_key *k)
{
	return strrchr(k->key, '.') + 1;
}

/* ---- --dump-keys ---- */

static void put_range(FILE *f, const struct cfg_key *k)
{
	int is_int = k->type->read == read_number || k->type == &cfg_intlist;

	if (k->allowed != NULL)
		fputs(k->allowed, f);
	else if (is_int && (k->max == INT_MAX || k->max == LONG_MAX || k->max == LLONG_MAX))
		fprintf(f, ">= %lld", k->min);
	else if (is_int)
		fprintf(f, "%lld..%lld", k->min, k->max);
	else if (k->type == &cfg_path)
		fputs("a readable file; relative to the config's folder", f);
	else if (k->check == cfg_check_nonempty)
		fputs("non-empty", f);
	else
		fputs("any", f);
	if (k->type == &cfg_intlist)
		fprintf(f, " each; at least %d", k->min_items);
}

static void put_roles(FILE *f, const struct cfg_key *k)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ CFG_R_SUPERVISOR, "supervisor" }, { CFG_R_SELF, "domain:self" },
		{ CFG_R_RELAY, "relay" }, { CFG_R_HTTP, "http" }, { CFG_R_CTL, "ctl" },
	};
	const char *sep = "";

	if ((k->roles & CFG_R_DOMAINS) == CFG_R_DOMAINS) {
		fputs("domain:*", f);
		sep = ",";
	} else {
		for (int i = 0; i < DOM_COUNT; i++)
			if (k->roles & CFG_R_DOM(i)) {
				fprintf(f, "%sdomain:%s", sep, domain_name((enum domain_id)i));
				sep = ",";
			}
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (k->roles & names[i].bit) {
			fprintf(f, "%s%s", sep, names[i].name);
			sep = ",";
		}
}

int config_dump_keys(FILE *f)
{
	fputs("#key\ttype\tdefault\trange\troles\n", f);
	for (int i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		fprintf(f, "%s\t%s\t%s\t", k->key, k->type->name,
			k->def != NULL ? k->def : k->def_doc != NULL ? k->def_doc : "none");
		put_range(f, k);
		fputc('\t', f);
		put_roles(f, k);
		fputc('\n', f);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* ---- fingerprints ---- */

/* Does a child of `role` (of domain `dom` for CONFIG_ROLE_DOMAIN) read k,
 * and for which domain's value: -1 every domain, else that domain. */
static int reads(const struct cfg_key *k, enum config_role role, int dom, int *which_r)
{
	int kd = cfg_key_domain(k);

	*which_r = kd;
	if (role == CONFIG_ROLE_DOMAIN) {
		if (kd != -2 && (k->roles & CFG_R_SELF) && (kd == -1 || kd == dom)) {
			*which_r = dom;
			return 1;
		}
		return (k->roles & CFG_R_DOM(dom)) != 0;
	}
	return (role == CONFIG_ROLE_RELAY && (k->roles & CFG_R_RELAY)) ||
	       (role == CONFIG_ROLE_HTTP && (k->roles & CFG_R_HTTP)) ||
	       (role == CONFIG_ROLE_SUPERVISOR && (k->roles & CFG_R_SUPERVISOR)) ||
	       (role == CONFIG_ROLE_CTL && (k->roles & CFG_R_CTL));
}

static void put_value(FILE *f, const struct cfg_key *k, const struct config *cfg, int dom)
{
	const char *leaf = cfg_key_leaf(k);

	if (dom < 0) {
		fprintf(f, "%s=", k->key);
		k->type->print(f, k, (const char *)cfg);
	} else {
		fprintf(f, "domains.%s.%s=", domain_name((enum domain_id)dom), leaf);
		k->type->print(f, k, (const char *)&cfg->domains[dom]);
	}
	fputc('\n', f);
}

char *config_fingerprint(const struct config *cfg, enum config_role role, enum domain_id dom)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	for (int i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int which;

		if (k->type->print == NULL || !reads(k, role, (int)dom, &which))
			continue;
		if (which == -2)
			put_value(f, k, cfg, -1);
		else if (which >= 0)
			put_value(f, k, cfg, which);
		else
			for (int d = 0; d < DOM_COUNT; d++)
				put_value(f, k, cfg, d);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
