/*
 * http_dbconns: the database connections the HTTP intake's request threads
 * borrow and give back (see http_dbconns.h).
 */
#include "http/http_dbconns.h"

#include <mysql.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

#define IDLE_MAX 16             /* idle connections kept per database */
#define PING_AFTER_MS 1000      /* a connection idle longer is pinged first */
#define FAIL_LOG_MS 10000       /* a database that stays down is logged this often */

struct idle_conn {
	struct db *db;
	long long idle_since_ms;
};

struct db_conns {
	const char *dbname;          /* config_domain_db(); owned by the config */
	pthread_mutex_t mu;
	struct idle_conn idle[IDLE_MAX];
	int nidle;
	long long fail_logged_ms;    /* under mu: when a failure was last logged */
};

struct http_dbconns {
	const struct config *cfg;
	struct db_conns dbs[2];      /* [0] order, [1] notification (when apart) */
	int ndbs;
};

static struct db_conns *conns_for(struct http_dbconns *d, enum domain_id dom)
{
	const char *name = config_domain_db(d->cfg, dom);

	for (int i = 0; i < d->ndbs; i++)
		if (strcmp(d->dbs[i].dbname, name) == 0)
			return &d->dbs[i];
	return &d->dbs[0];
}

static int conns_init(struct http_dbconns *d, const char *dbname)
{
	struct db_conns *p;

	for (int i = 0; i < d->ndbs; i++)
		if (strcmp(d->dbs[i].dbname, dbname) == 0)
			return 0;
	p = &d->dbs[d->ndbs];
	p->dbname = dbname;
	p->nidle = 0;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return -1;
	d->ndbs++;
	return 0;
}

int http_dbconns_new(const struct config *cfg, struct http_dbconns **conns_r)
{
	struct http_dbconns *d;

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
	if (conns_init(d, config_domain_db(cfg, DOM_ORDER)) != 0 ||
	    conns_init(d, config_domain_db(cfg, DOM_NOTIFICATION)) != 0) {
		http_dbconns_free(d);
		goto fail;
	}
	*conns_r = d;
	return 0;
fail:
	log_error("cannot set up the database connections: out of memory");
	return -1;
}

void http_dbconns_free(struct http_dbconns *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < d->ndbs; i++) {
		for (int j = 0; j < d->dbs[i].nidle; j++)
			db_close(d->dbs[i].idle[j].db);
		pthread_mutex_destroy(&d->dbs[i].mu);
	}
	free(d);
}

/* Logs a database failure, at most once per FAIL_LOG_MS per database, so
 * that a health check polling a dead database does not flood the log. */
static void log_db_failure(struct db_conns *p, const char *detail)
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

static struct db *db_fresh(struct http_dbconns *d, struct db_conns *p)
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
static struct db *db_revive(struct db_conns *p, struct idle_conn *e)
{
	if (clock_monotonic_ms() - e->idle_since_ms < PING_AFTER_MS ||
	    db_ping(e->db) == DB_OK)
		return e->db;
	if (db_reconnect(e->db) == DB_OK) {
		log_info("reconnected to %s", db_where(e->db));
		return e->db;
	}
	log_db_failure(p, db_error(e->db));
	db_close(e->db);
	return NULL;
}

struct db *http_db_acquire(struct http_dbconns *d, enum domain_id dom)
{
	struct db_conns *p = conns_for(d, dom);
	struct idle_conn e = { 0 };
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

void http_db_release(struct http_dbconns *d, enum domain_id dom, struct db *db)
{
	struct db_conns *p = conns_for(d, dom);
	int kept = 0;

	if (db == NULL)
		return;
	if (!db_connection_lost(db)) {
		pthread_mutex_lock(&p->mu);
		if (p->nidle < IDLE_MAX) {
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
