/* http_deps: database pool and broker check of the intake (see http_deps.h). */
#include "http/http_deps.h"

#include <amqp.h>
#include <mysql.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "broker/amqp_link.h"
#include "core/clock.h"
#include "core/log.h"

#define POOL_IDLE_MAX 16        /* idle connections kept per database */
#define POOL_PING_AFTER_MS 1000 /* a connection idle longer is pinged first */
#define BROKER_CHECK_MS 1000   /* between checks, whether up or down */
#define FAIL_LOG_MS 10000      /* a database that stays down is logged this often */

struct pooled {
	struct db *db;
	long long idle_since_ms;
};

struct db_pool {
	const char *dbname;          /* config_domain_db(); owned by the config */
	pthread_mutex_t mu;
	struct pooled idle[POOL_IDLE_MAX];
	int nidle;
	long long fail_logged_ms;    /* under mu: when a failure was last logged */
};

struct http_deps {
	const struct config *cfg;
	struct db_pool pools[2];     /* [0] order, [1] notification (when apart) */
	int npools;

	pthread_mutex_t broker_mu;
	struct amqp_link *link;
	long long broker_checked_ms; /* last check or connection attempt */
	int broker_up;               /* 1 up, 0 down, -1 not checked yet */
};

static struct db_pool *pool_for(struct http_deps *d, enum domain_id dom)
{
	const char *name = config_domain_db(d->cfg, dom);

	for (int i = 0; i < d->npools; i++)
		if (strcmp(d->pools[i].dbname, name) == 0)
			return &d->pools[i];
	return &d->pools[0];
}

static int pool_init(struct http_deps *d, const char *dbname)
{
	struct db_pool *p;

	for (int i = 0; i < d->npools; i++)
		if (strcmp(d->pools[i].dbname, dbname) == 0)
			return 0;
	p = &d->pools[d->npools];
	p->dbname = dbname;
	p->nidle = 0;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return -1;
	d->npools++;
	return 0;
}

int http_deps_new(const struct config *cfg, struct http_deps **deps_r)
{
	struct http_deps *d;

	/* The client library's global set-up is not thread-safe, and the MHD
	 * threads may open their first connections at the same moment: do it
	 * here, before they exist (the db layer owns the rest of the API). */
	if (mysql_library_init(0, NULL, NULL) != 0) {
		log_error("cannot initialise the MySQL client library");
		return -1;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		goto fail;
	d->cfg = cfg;
	d->broker_up = -1;
	if (pthread_mutex_init(&d->broker_mu, NULL) != 0) {
		free(d);
		goto fail;
	}
	if (pool_init(d, config_domain_db(cfg, DOM_ORDER)) != 0 ||
	    pool_init(d, config_domain_db(cfg, DOM_NOTIFICATION)) != 0) {
		http_deps_free(d);
		goto fail;
	}
	*deps_r = d;
	return 0;
fail:
	log_error("cannot set up the connection pools: out of memory");
	return -1;
}

void http_deps_free(struct http_deps *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < d->npools; i++) {
		for (int j = 0; j < d->pools[i].nidle; j++)
			db_close(d->pools[i].idle[j].db);
		pthread_mutex_destroy(&d->pools[i].mu);
	}
	if (d->link != NULL)
		amqp_link_close(d->link);
	pthread_mutex_destroy(&d->broker_mu);
	free(d);
}

/* ---- databases ----------------------------------------------------------- */

/* Logs a database failure, at most once per FAIL_LOG_MS per database, so
 * that a health check polling a dead database does not flood the log. */
static void log_db_failure(struct db_pool *p, const char *detail)
{
	long long now = clock_monotonic_ms();
	int due;

	pthread_mutex_lock(&p->mu);
	due = p->fail_logged_ms == 0 || now - p->fail_logged_ms >= FAIL_LOG_MS;
	if (due)
		p->fail_logged_ms = now;
	pthread_mutex_unlock(&p->mu);
	if (due)
		log_warn("database %s: %s (requests get 503 while it lasts)", p->dbname, detail);
}

static struct db *db_fresh(struct http_deps *d, struct db_pool *p)
{
	struct db *db = NULL;
	char *err = NULL;

	if (db_connect(&d->cfg->database, p->dbname, &db, &err) != 0) {
		log_db_failure(p, err != NULL ? err : "connect failed");
		free(err);
		return NULL;
	}
	return db;
}

/* Pings a connection that sat idle; reconnects once when it is gone. */
static struct db *db_revive(struct db_pool *p, struct pooled *e)
{
	if (clock_monotonic_ms() - e->idle_since_ms < POOL_PING_AFTER_MS ||
	    db_ping(e->db) == DB_OK)
		return e->db;
	if (db_reconnect(e->db) == DB_OK) {
		log_info("reconnected to database %s", p->dbname);
		return e->db;
	}
	log_db_failure(p, db_error(e->db));
	db_close(e->db);
	return NULL;
}

struct db *http_db_acquire(struct http_deps *d, enum domain_id dom)
{
	struct db_pool *p = pool_for(d, dom);
	struct pooled e = { 0 };
	int have = 0;

	pthread_mutex_lock(&p->mu);
	if (p->nidle > 0) {
		e = p->idle[--p->nidle];
		have = 1;
	}
	pthread_mutex_unlock(&p->mu);
	if (have)
		return db_revive(p, &e);
	return db_fresh(d, p);
}

void http_db_release(struct http_deps *d, enum domain_id dom, struct db *db)
{
	struct db_pool *p = pool_for(d, dom);
	int kept = 0;

	if (db == NULL)
		return;
	if (!db_connection_lost(db)) {
		pthread_mutex_lock(&p->mu);
		if (p->nidle < POOL_IDLE_MAX) {
			p->idle[p->nidle].db = db;
			p->idle[p->nidle].idle_since_ms = clock_monotonic_ms();
			p->nidle++;
			kept = 1;
		}
		pthread_mutex_unlock(&p->mu);
	}
	if (!kept)
		db_close(db);
}

/* ---- broker -------------------------------------------------------------- */

/* One round trip that changes nothing: amq.direct always exists. */
static int broker_ping(struct amqp_link *link)
{
	amqp_connection_state_t conn = amqp_link_conn(link);
	int rc;

	amqp_link_lock(link);
	amqp_exchange_declare(conn, AMQP_LINK_CHANNEL, amqp_cstring_bytes("amq.direct"),
			      amqp_cstring_bytes("direct"), 1, 0, 0, 0, amqp_empty_table);
	rc = amqp_link_check(link, amqp_get_rpc_reply(conn), "check broker");
	amqp_maybe_release_buffers(conn);
	amqp_link_unlock(link);
	return rc;
}

static void broker_open(struct http_deps *d)
{
	char *err = NULL;

	if (amqp_link_open(&d->cfg->broker, "http", &d->link, &err) != 0) {
		if (d->broker_up != 0)
			log_warn("broker: %s", err != NULL ? err : "connect failed");
		free(err);
		d->link = NULL;
		return;
	}
	amqp_link_keepalive_start(d->link);
}

/* Called with broker_mu held. */
static int broker_check(struct http_deps *d)
{
	int up;

	if (d->link != NULL && !amqp_link_ok(d->link)) {
		amqp_link_close(d->link);
		d->link = NULL;
	}
	if (d->link == NULL)
		broker_open(d);
	up = d->link != NULL && broker_ping(d->link) == 0;
	if (!up && d->link != NULL && d->broker_up != 0)
		log_warn("broker: %s", amqp_link_error(d->link));
	if (up && d->broker_up != 1)
		log_info("broker %s answers", amqp_link_node(d->link));
	return up;
}

int http_broker_ok(struct http_deps *d)
{
	long long now = clock_monotonic_ms();
	int up;

	pthread_mutex_lock(&d->broker_mu);
	if (d->broker_checked_ms == 0 ||
	    now - d->broker_checked_ms >= BROKER_CHECK_MS) {
		d->broker_up = broker_check(d);
		d->broker_checked_ms = clock_monotonic_ms();
	}
	up = d->broker_up == 1;
	pthread_mutex_unlock(&d->broker_mu);
	return up;
}
