/*
 * config: the orderflow configuration (libconfig), loaded and validated in one
 * step.
 *
 * config_load() reads a file, checks every key against the key table (DESIGN.md "Configuration")
 * ("Configuration") and either returns a complete struct config with every
 * default filled in, or returns -1 and a list of problems, one per line, each
 * "FILE:LINE: KEY: reason" (LINE is that of the setting, or of its parent group
 * when the key is missing). Nothing is half-applied: a failed load leaves no
 * config behind. The same function serves `orderflowd -t`, start-up and SIGHUP.
 *
 * The struct owns all its strings; config_free() releases everything.
 * Relative password_file, tokens_file and ca_file are resolved against the
 * config file's folder (and stored absolute); password_file and tokens_file
 * are read during the load, so a config that loaded holds the secrets.
 */
#ifndef ORDERFLOW_CONFIG_H
#define ORDERFLOW_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum domain_id {
	DOM_ORDER,
	DOM_INVENTORY,
	DOM_PAYMENT,
	DOM_SHIPPING,
	DOM_NOTIFICATION,
	DOM_WEBHOOK,
	DOM_AUDIT,
	DOM_COUNT
};

/* "order", "inventory", ... ; NULL for an id out of range. */
const char *domain_name(enum domain_id id);
/* Name -> id, or -1 when the name is not a domain. */
int domain_lookup(const char *name);

struct str_list {
	char **items;
	int count;
};

struct cfg_broker {
	struct str_list urls;      /* `url` or `urls`; at least one */
	int heartbeat_s;           /* default 10 */
	char *queue_type;          /* "quorum" (default) or "classic" */
	int delivery_limit;        /* default 20 */
	int prefetch;              /* default 16; per-consumer (global = 0) */
	size_t max_message_bytes;  /* default 262144 */
	char *ca_file;             /* amqps:// CA bundle; NULL = system default */
	char *management_url;      /* http(s)://host:port of the management API; NULL or "" = none */
};

struct cfg_database {
	char *host;                /* default "127.0.0.1" unless socket is set */
	int port;                  /* default 3306 */
	char *socket;              /* NULL unless set */
	char *user;                /* required */
	char *password;            /* from `password` or the first line of `password_file` */
	char *password_file;       /* NULL unless set */
	char *name;                /* default "orderflow" */
	long inbox_retention_s;    /* default 2592000 (30 days); must exceed every redelivery path */
};

struct cfg_retry {
	int *delays_ms;            /* default [1000, 10000, 60000, 300000] */
	int delay_count;           /* >= 1 */
	int max_attempts;          /* default 10; tries in all, the first included */
	long replay_window_s;      /* default CONFIG_PARKED_REPLAY_WINDOW_S */
};

struct cfg_supervisor {
	int restart_backoff_min_ms; /* default 1000 */
	int restart_backoff_max_ms; /* default 60000 */
	int shutdown_timeout_ms;    /* default 30000 */
};

struct cfg_domain {
	int workers;               /* default 1; 0 turns the domain off */
	int prefetch;              /* default: broker.prefetch */
	int crash_limit;           /* default 3 */
	int linger_ms;             /* default 0: a batch takes only what waits */
	char *database;            /* own database name; NULL = database.name */

	/* audit */
	char *log_from;            /* "queue" (default) or "outbox": who writes event_log */

	/* order */
	char *currency;            /* default "EUR" (order only) */
	/* payment */
	long long decline_over_cents; /* default 0 = never */
	struct str_list decline_customers;
	int latency_ms;            /* default 0 */
	/* webhook */
	char *url;                 /* default "" = skip sending */
	struct str_list events;    /* default order.created, order.confirmed, order.cancelled */
	int timeout_ms;            /* default 5000 */
	int breaker_failures;      /* default 5 */
	int breaker_cooldown_ms;   /* default 30000 */
};

struct cfg_relay {
	int workers;               /* default 1 */
	int batch_size;            /* default 100 */
	int poll_ms;               /* default 200: idle poll when nothing woke it */
	long retention_s;          /* default 86400: published rows kept this long */
	int grace_ms;              /* default 0 (off): a worker's own rows, before the relay's (eager dispatch) */
};

struct cfg_http {
	char *listen;              /* default "127.0.0.1:8080" */
	int workers;               /* default 1 */
	struct str_list tokens;    /* from `tokens` and/or `tokens_file` */
	char *tokens_file;         /* NULL unless set */
	size_t max_body_bytes;     /* default 65536 */
};

struct config {
	char *path;                /* the file it was loaded from */
	struct cfg_broker broker;
	struct cfg_database database;
	struct cfg_retry retry;
	struct cfg_supervisor supervisor;
	struct cfg_domain domains[DOM_COUNT];
	struct cfg_relay relay;
	struct cfg_http http;
	int log_level;             /* enum log_level; default info */
};

/* How long an operator has to replay a parked message, by default
 * (retry.replay_window_s). The inbox keeps an event_id at least this long
 * after its last retry could have come back (config_load refuses a
 * database.inbox_retention_s below that). */
#define CONFIG_PARKED_REPLAY_WINDOW_S 86400

/* Loads and validates PATH. On success returns 0 and *cfg_r. On failure returns
 * -1 and *errors_r, a malloc'd string of one or more newline-terminated lines
 * "FILE:LINE: KEY: reason", sorted by line (or "FILE: reason" when the file
 * cannot be opened or parsed as a whole: "FILE:LINE: syntax error: ..." for
 * the latter; a whole section that is missing is reported at the file's last
 * line as "FILE:LINE: SECTION: missing section (KEY is required)"); the
 * caller frees it. A warning that is not an error (a file holding a password
 * readable by anyone, a placeholder secret such as "change-me") goes to
 * log_warn as "FILE:LINE: KEY: reason". */
int config_load(const char *path, struct config **cfg_r, char **errors_r);
void config_free(struct config *cfg);

/* The database name a domain uses (its own, or database.name). */
const char *config_domain_db(const struct config *cfg, enum domain_id dom);
/* Whether the emitting transaction writes event_log (domains.audit.log_from
 * = "outbox") rather than the audit domain from its queue. */
int config_log_from_outbox(const struct config *cfg);
/* Whether the domain's handlers emit events (order, inventory, payment,
 * shipping): what "outbox" needs in audit's database, and what publishes. */
int config_domain_emits(enum domain_id dom);
/* The distinct databases of all domains (on or off: the intake writes the
 * order domain's even when its workers are off), in domain order; returns
 * how many (1..DOM_COUNT). The names are owned by cfg. */
int config_databases(const struct config *cfg, const char *names_r[DOM_COUNT]);

/* The processes that read a configuration (see core/config_keys.c). */
enum config_role {
	CONFIG_ROLE_SUPERVISOR,
	CONFIG_ROLE_DOMAIN,
	CONFIG_ROLE_RELAY,
	CONFIG_ROLE_HTTP,
	CONFIG_ROLE_CTL,
};

/* The text of every setting a child of `role` reads (of domain `dom` for
 * CONFIG_ROLE_DOMAIN), computed from the key table: two configurations give
 * the same text exactly when such a child would behave the same under both.
 * malloc'd; NULL when memory ran out. */
char *config_fingerprint(const struct config *cfg, enum config_role role, enum domain_id dom);

/* Prints the key table, one key a line, tab-separated:
 *   key  type  default  range  roles
 * after a header line starting with '#'. A key under "domains.*." exists in
 * every domain; roles is a comma-separated list of supervisor, domain:*
 * (every domain worker), domain:NAME, domain:self (the worker of the domain
 * the key is under), relay, http, ctl. 0, or -1 when writing failed. */
int config_dump_keys(FILE *out);

#endif
