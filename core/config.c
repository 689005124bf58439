/*
 * config: loading. The schema is a set of tables (one per section, plus the
 * keys common to every domain and those of each domain), walked in the order
 * of the file so each problem is found where the operator wrote it. Values
 * land straight in struct config over defaults set beforehand; the checks
 * that need several keys, and the files the config points at, are in
 * config_check.c.
 */
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_check.h"
#include "core/log.h"

static const char *const domain_names[DOM_COUNT] = {
	"order", "inventory", "payment", "shipping", "notification", "webhook", "audit",
};

const char *domain_name(enum domain_id id)
{
	if ((int)id < 0 || id >= DOM_COUNT)
		return NULL;
	return domain_names[id];
}

int domain_lookup(const char *name)
{
	for (int i = 0; name != NULL && i < DOM_COUNT; i++)
		if (strcmp(name, domain_names[i]) == 0)
			return i;
	return -1;
}

const char *config_domain_db(const struct config *cfg, enum domain_id dom)
{
	if ((int)dom >= 0 && dom < DOM_COUNT && cfg->domains[dom].database != NULL)
		return cfg->domains[dom].database;
	return cfg->database.name;
}

/* ---- the schema ---- */

enum key_kind {
	K_INT,      /* int */
	K_LONG,     /* long */
	K_LLONG,    /* long long */
	K_SIZE,     /* size_t */
	K_STR,      /* char *, checked by `check` */
	K_PATH,     /* char *, resolved against the config's folder */
	K_URL,      /* one string stored as a one-item struct str_list (broker.url) */
	K_STRLIST,  /* struct str_list, each item checked by `check` */
	K_INTLIST,  /* int * at off, its count (int) at count_off */
	K_LOGLEVEL, /* a level name stored as int enum log_level */
};

struct key_spec {
	const char *name;
	enum key_kind kind;
	size_t off;
	long long min, max;   /* integers, and each item of a K_INTLIST */
	int min_items;        /* lists */
	cfg_str_check check;  /* strings, and each item of a K_STRLIST */
	size_t count_off;     /* K_INTLIST */
};

#define INT_KEY(st, f, lo, hi) { #f, K_INT, offsetof(st, f), lo, hi, 0, NULL, 0 }
#define LONG_KEY(st, f, lo) { #f, K_LONG, offsetof(st, f), lo, LONG_MAX, 0, NULL, 0 }
#define LLONG_KEY(st, f, lo) { #f, K_LLONG, offsetof(st, f), lo, LLONG_MAX, 0, NULL, 0 }
#define SIZE_KEY(st, f) { #f, K_SIZE, offsetof(st, f), 1, LLONG_MAX, 0, NULL, 0 }
#define STR_KEY(st, f, chk) { #f, K_STR, offsetof(st, f), 0, 0, 0, chk, 0 }
#define PATH_KEY(st, f) { #f, K_PATH, offsetof(st, f), 0, 0, 0, cfg_check_nonempty, 0 }
#define LIST_KEY(st, f, n, chk) { #f, K_STRLIST, offsetof(st, f), 0, 0, n, chk, 0 }
#define END_KEYS { NULL, K_INT, 0, 0, 0, 0, NULL, 0 }

/* AMQP carries heartbeat and prefetch_count in 16-bit fields. */
#define AMQP_SHORT_MAX 65535

static const struct key_spec broker_keys[] = {
	{ "url", K_URL, offsetof(struct cfg_broker, urls), 0, 0, 0, cfg_check_amqp_url, 0 },
	LIST_KEY(struct cfg_broker, urls, 1, cfg_check_amqp_url),
	INT_KEY(struct cfg_broker, heartbeat_s, 0, AMQP_SHORT_MAX),
	STR_KEY(struct cfg_broker, queue_type, cfg_check_queue_type),
	INT_KEY(struct cfg_broker, delivery_limit, 1, INT_MAX),
	INT_KEY(struct cfg_broker, prefetch, 1, AMQP_SHORT_MAX),
	SIZE_KEY(struct cfg_broker, max_message_bytes),
	PATH_KEY(struct cfg_broker, ca_file),
	END_KEYS,
};

static const struct key_spec database_keys[] = {
	STR_KEY(struct cfg_database, host, cfg_check_nonempty),
	INT_KEY(struct cfg_database, port, 1, 65535),
	STR_KEY(struct cfg_database, socket, cfg_check_nonempty),
	STR_KEY(struct cfg_database, user, cfg_check_nonempty),
	STR_KEY(struct cfg_database, password, NULL),
	PATH_KEY(struct cfg_database, password_file),
	STR_KEY(struct cfg_database, name, cfg_check_nonempty),
	LONG_KEY(struct cfg_database, inbox_retention_s, 1),
	END_KEYS,
};

static const struct key_spec retry_keys[] = {
	{ "delays_ms", K_INTLIST, offsetof(struct cfg_retry, delays_ms), 1, INT_MAX, 1, NULL,
	  offsetof(struct cfg_retry, delay_count) },
	INT_KEY(struct cfg_retry, max_attempts, 1, INT_MAX),
	/* At most ten years: the window plus the retries' delays cannot overflow. */
	{ "replay_window_s", K_LONG, offsetof(struct cfg_retry, replay_window_s), 0, 315360000L, 0,
	  NULL, 0 },
	END_KEYS,
};

static const struct key_spec supervisor_keys[] = {
	INT_KEY(struct cfg_supervisor, restart_backoff_min_ms, 1, INT_MAX),
	INT_KEY(struct cfg_supervisor, restart_backoff_max_ms, 1, INT_MAX),
	INT_KEY(struct cfg_supervisor, shutdown_timeout_ms, 1, INT_MAX),
	END_KEYS,
};

static const struct key_spec relay_keys[] = {
	INT_KEY(struct cfg_relay, workers, 0, INT_MAX),
	INT_KEY(struct cfg_relay, batch_size, 1, INT_MAX),
	INT_KEY(struct cfg_relay, poll_ms, 1, INT_MAX),
	LONG_KEY(struct cfg_relay, retention_s, 0),
	END_KEYS,
};

static const struct key_spec http_keys[] = {
	STR_KEY(struct cfg_http, listen, cfg_check_listen),
	INT_KEY(struct cfg_http, workers, 0, INT_MAX),
	LIST_KEY(struct cfg_http, tokens, 0, cfg_check_nonempty),
	PATH_KEY(struct cfg_http, tokens_file),
	SIZE_KEY(struct cfg_http, max_body_bytes),
	END_KEYS,
};

static const struct key_spec log_keys[] = {
	{ "level", K_LOGLEVEL, 0, 0, 0, 0, cfg_check_log_level, 0 },
	END_KEYS,
};

static const struct key_spec domain_common_keys[] = {
	INT_KEY(struct cfg_domain, workers, 0, INT_MAX),
	INT_KEY(struct cfg_domain, prefetch, 1, AMQP_SHORT_MAX),
	INT_KEY(struct cfg_domain, crash_limit, 1, INT_MAX),
	STR_KEY(struct cfg_domain, database, cfg_check_nonempty),
	END_KEYS,
};

static const struct key_spec order_keys[] = {
	STR_KEY(struct cfg_domain, currency, cfg_check_currency),
	END_KEYS,
};

static const struct key_spec payment_keys[] = {
	LLONG_KEY(struct cfg_domain, decline_over_cents, 0),
	LIST_KEY(struct cfg_domain, decline_customers, 0, cfg_check_nonempty),
	INT_KEY(struct cfg_domain, latency_ms, 0, INT_MAX),
	END_KEYS,
};

static const struct key_spec webhook_keys[] = {
	STR_KEY(struct cfg_domain, url, cfg_check_http_url),
	LIST_KEY(struct cfg_domain, events, 1, cfg_check_event),
	INT_KEY(struct cfg_domain, timeout_ms, 1, INT_MAX),
	INT_KEY(struct cfg_domain, breaker_failures, 1, INT_MAX),
	INT_KEY(struct cfg_domain, breaker_cooldown_ms, 1, INT_MAX),
	END_KEYS,
};

static const struct key_spec *const domain_own_keys[DOM_COUNT] = {
	[DOM_ORDER] = order_keys,
	[DOM_PAYMENT] = payment_keys,
	[DOM_WEBHOOK] = webhook_keys,
};

struct section {
	const char *name;
	const struct key_spec *keys;
	size_t off; /* of its struct inside struct config */
};

static const struct section sections[] = {
	{ "broker", broker_keys, offsetof(struct config, broker) },
	{ "database", database_keys, offsetof(struct config, database) },
	{ "retry", retry_keys, offsetof(struct config, retry) },
	{ "supervisor", supervisor_keys, offsetof(struct config, supervisor) },
	{ "relay", relay_keys, offsetof(struct config, relay) },
	{ "http", http_keys, offsetof(struct config, http) },
	{ "log", log_keys, offsetof(struct config, log_level) },
};

/* ---- reading one value ---- */

/* NAME is NULL for an element of a list, which has no name of its own. */
static void key_join(char *out, size_t len, const char *prefix, const char *name)
{
	snprintf(out, len, "%s%s%s", prefix, *prefix ? "." : "", name != NULL ? name : "[]");
}

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

static int is_list(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
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
	return is_list(s);
}

static int put_string(struct cfg_ctx *c, char **field, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL) {
		c->oom = 1;
		return -1;
	}
	free(*field);
	*field = copy;
	return 0;
}

static void read_strlist(struct cfg_ctx *c, const struct key_spec *k,
			 const config_setting_t *s, const char *key, struct str_list *out)
{
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
		const config_setting_t *e = config_setting_get_elem(s, i);
		char ekey[160];
		const char *v;

		snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
		v = get_string(c, e, ekey, k->check);
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

static void read_intlist(struct cfg_ctx *c, const struct key_spec *k,
			 const config_setting_t *s, const char *key, char *base)
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

static void read_path(struct cfg_ctx *c, const config_setting_t *s, const char *key,
		      char **field)
{
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

static void read_number(struct cfg_ctx *c, const struct key_spec *k,
			const config_setting_t *s, const char *key, void *field)
{
	long long v;

	if (get_integer(c, s, key, k->min, k->max, &v) != 0)
		return;
	switch (k->kind) {
	case K_INT: *(int *)field = (int)v; break;
	case K_LONG: *(long *)field = (long)v; break;
	case K_LLONG: *(long long *)field = v; break;
	case K_SIZE: *(size_t *)field = (size_t)v; break;
	default: break;
	}
}

static void read_key(struct cfg_ctx *c, const struct key_spec *k, const config_setting_t *s,
		     const char *key, char *base)
{
	void *field = base + k->off;
	const char *v;

	switch (k->kind) {
	case K_INT:
	case K_LONG:
	case K_LLONG:
	case K_SIZE:
		read_number(c, k, s, key, field);
		break;
	case K_STR:
		if ((v = get_string(c, s, key, k->check)) != NULL)
			put_string(c, field, v);
		break;
	case K_PATH:
		read_path(c, s, key, field);
		break;
	case K_URL:
		if ((v = get_string(c, s, key, k->check)) != NULL) {
			cfg_list_clear(field);
			if (cfg_list_push(field, v) != 0)
				c->oom = 1;
		}
		break;
	case K_STRLIST:
		read_strlist(c, k, s, key, field);
		break;
	case K_INTLIST:
		read_intlist(c, k, s, key, base);
		break;
	case K_LOGLEVEL:
		if ((v = get_string(c, s, key, k->check)) != NULL)
			*(int *)field = log_level_parse(v);
		break;
	}
}

/* ---- walking the file ---- */

static const struct key_spec *find_key(const struct key_spec *keys, const char *name)
{
	for (; keys != NULL && keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

/* Reads every member of group `g` into `base`, looking each name up in `keys`
 * and then `more`; a name in neither is an unknown key. */
static void walk_group(struct cfg_ctx *c, const config_setting_t *g, const char *prefix,
		       const struct key_spec *keys, const struct key_spec *more, char *base)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const struct key_spec *k = find_key(keys, name);
		char key[128];

		if (k == NULL)
			k = find_key(more, name);
		key_join(key, sizeof(key), prefix, name);
		if (k == NULL)
			cfg_problem(c, s, key, "unknown key");
		else
			read_key(c, k, s, key, base);
	}
}

static void walk_domains(struct cfg_ctx *c, const config_setting_t *g)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		int id = domain_lookup(name);
		char key[128];

		key_join(key, sizeof(key), "domains", name);
		if (id < 0)
			cfg_problem(c, s, key, "unknown key");
		else if (!config_setting_is_group(s))
			cfg_problem(c, s, key, "expected a group");
		else
			walk_group(c, s, key, domain_common_keys, domain_own_keys[id],
				   (char *)&c->cfg->domains[id]);
	}
}

static void walk_root(struct cfg_ctx *c)
{
	const config_setting_t *root = config_root_setting(&c->lc);

	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, i);
		const char *name = config_setting_name(s);
		const struct section *sec = NULL;

		for (size_t j = 0; j < sizeof(sections) / sizeof(sections[0]); j++)
			if (strcmp(sections[j].name, name) == 0)
				sec = &sections[j];
		if (sec == NULL && strcmp(name, "domains") != 0)
			cfg_problem(c, s, name, "unknown key");
		else if (!config_setting_is_group(s))
			cfg_problem(c, s, name, "expected a group");
		else if (sec == NULL)
			walk_domains(c, s);
		else
			walk_group(c, s, name, sec->keys, NULL, (char *)c->cfg + sec->off);
	}
}

/* ---- defaults ---- */

static int set_defaults(struct config *cfg)
{
	static const int delays[] = { 1000, 10000, 60000, 300000 };
	static const char *const events[] = { "order.created", "order.confirmed",
					      "order.cancelled" };
	struct cfg_domain *wh = &cfg->domains[DOM_WEBHOOK];
	int rc = 0;

	cfg->broker.heartbeat_s = 10;
	cfg->broker.delivery_limit = 20;
	cfg->broker.prefetch = 16;
	cfg->broker.max_message_bytes = 262144;
	cfg->database.port = 3306;
	cfg->database.inbox_retention_s = 2592000;
	cfg->retry.max_attempts = 10;
	cfg->retry.replay_window_s = CONFIG_PARKED_REPLAY_WINDOW_S;
	cfg->supervisor.restart_backoff_min_ms = 1000;
	cfg->supervisor.restart_backoff_max_ms = 60000;
	cfg->supervisor.shutdown_timeout_ms = 30000;
	cfg->relay = (struct cfg_relay){ .workers = 1, .batch_size = 100, .poll_ms = 200,
					 .retention_s = 86400 };
	cfg->http.workers = 1;
	cfg->http.max_body_bytes = 65536;
	cfg->log_level = LOG_LVL_INFO;
	for (int i = 0; i < DOM_COUNT; i++) {
		cfg->domains[i].workers = 1;
		cfg->domains[i].crash_limit = 3;
		/* prefetch stays 0 until the file is read: it then takes broker.prefetch. */
	}
	wh->timeout_ms = 5000;
	wh->breaker_failures = 5;
	wh->breaker_cooldown_ms = 30000;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		rc |= cfg_list_push(&wh->events, events[i]);
	cfg->retry.delays_ms = malloc(sizeof(delays));
	if (cfg->retry.delays_ms != NULL) {
		memcpy(cfg->retry.delays_ms, delays, sizeof(delays));
		cfg->retry.delay_count = (int)(sizeof(delays) / sizeof(delays[0]));
	}
	cfg->broker.queue_type = strdup("quorum");
	cfg->database.name = strdup("orderflow");
	cfg->http.listen = strdup("127.0.0.1:8080");
	cfg->domains[DOM_ORDER].currency = strdup("EUR");
	wh->url = strdup("");
	if (rc != 0 || cfg->retry.delays_ms == NULL || cfg->broker.queue_type == NULL ||
	    cfg->database.name == NULL || cfg->http.listen == NULL ||
	    cfg->domains[DOM_ORDER].currency == NULL || wh->url == NULL)
		return -1;
	return 0;
}

/* Defaults that depend on other keys, once the whole file is read. */
static int set_derived(struct config *cfg)
{
	for (int i = 0; i < DOM_COUNT; i++)
		if (cfg->domains[i].prefetch == 0)
			cfg->domains[i].prefetch = cfg->broker.prefetch;
	/* A socket means a local server: no host unless one was written. */
	if (cfg->database.host == NULL && cfg->database.socket == NULL) {
		cfg->database.host = strdup("127.0.0.1");
		if (cfg->database.host == NULL)
			return -1;
	}
	return 0;
}

/* ---- loading ---- */

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	cfg_list_clear(&cfg->broker.urls);
	free(cfg->broker.queue_type);
	free(cfg->broker.ca_file);
	free(cfg->database.host);
	free(cfg->database.socket);
	free(cfg->database.user);
	free(cfg->database.password);
	free(cfg->database.password_file);
	free(cfg->database.name);
	free(cfg->retry.delays_ms);
	for (int i = 0; i < DOM_COUNT; i++) {
		struct cfg_domain *d = &cfg->domains[i];

		free(d->database);
		free(d->currency);
		cfg_list_clear(&d->decline_customers);
		free(d->url);
		cfg_list_clear(&d->events);
	}
	free(cfg->http.listen);
	cfg_list_clear(&cfg->http.tokens);
	free(cfg->http.tokens_file);
	free(cfg);
}

static char *error_line(const char *fmt, const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, fmt, a, b) < 0)
		return NULL;
	return s;
}

/* The absolute folder of path, so relative file keys keep working after the
 * daemon changes directory (ca_file is opened long after loading). */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? strdup(".") :
		    slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	char *abs;

	if (dir == NULL)
		return NULL;
	abs = realpath(dir, NULL);
	if (abs == NULL)
		return dir;
	free(dir);
	return abs;
}

/* libconfig reports a missing file as "file I/O error" without errno; open it
 * first to tell the operator what the system said. */
static char *check_openable(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_line("%s: cannot open: %s\n", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return error_line("%s: cannot open: %s\n", path, strerror(EISDIR));
	}
	close(fd);
	return NULL;
}

static char *parse_error(struct cfg_ctx *c)
{
	const char *file = config_error_file(&c->lc);
	char *s = NULL;

	if (config_error_type(&c->lc) != CONFIG_ERR_PARSE)
		return error_line("%s: cannot read: %s\n", c->path, config_error_text(&c->lc));
	if (asprintf(&s, "%s:%d: syntax error: %s\n", file != NULL ? file : c->path,
		     config_error_line(&c->lc), config_error_text(&c->lc)) < 0)
		return NULL;
	return s;
}

static int parse_and_check(struct cfg_ctx *c, char **errors_r)
{
	if ((*errors_r = check_openable(c->path)) != NULL)
		return -1;
	config_set_include_dir(&c->lc, c->dir);
	/* libconfig 1.5 (Debian 12) leaks the string token it was reading when a
	 * syntax error discards it (`url "amqp://..."`): a few bytes per refused
	 * file, fixed upstream in hyperrealm/libconfig#155. Nothing here can free it. */
	if (!config_read_file(&c->lc, c->path)) {
		*errors_r = parse_error(c);
		return -1;
	}
	walk_root(c);
	if (!c->oom)
		cfg_check_cross(c);
	if (!c->oom && set_derived(c->cfg) != 0)
		c->oom = 1;
	if (c->oom) {
		*errors_r = error_line("%s: %s\n", c->path, "out of memory");
		return -1;
	}
	cfg_warn_mode(c);
	if (c->nproblems > 0) {
		*errors_r = cfg_problems_take(c);
		return -1;
	}
	return 0;
}

int config_load(const char *path, struct config **cfg_r, char **errors_r)
{
	struct cfg_ctx c = { .path = path };
	char *errors = NULL;
	int rc = -1;

	config_init(&c.lc);
	c.cfg = calloc(1, sizeof(*c.cfg));
	c.dir = folder_of(path);
	if (c.cfg == NULL || c.dir == NULL || set_defaults(c.cfg) != 0 ||
	    (c.cfg->path = strdup(path)) == NULL) {
		errors = error_line("%s: %s\n", path, "out of memory");
		goto cleanup;
	}
	if (parse_and_check(&c, &errors) != 0)
		goto cleanup;
	*cfg_r = c.cfg;
	c.cfg = NULL;
	rc = 0;
cleanup:
	if (rc != 0 && errors_r != NULL)
		*errors_r = errors;
	else
		free(errors);
	cfg_problems_free(&c);
	config_free(c.cfg);
	free(c.dir);
	/* Every string the struct keeps was copied: libconfig's die here. */
	config_destroy(&c.lc);
	return rc;
}
