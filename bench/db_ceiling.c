/*
 * db_ceiling: what the database alone can do on this machine right now
 * (mysqlclient, no broker), for the bench's ratios.
 *
 *   ORDERFLOW_DB_PASSWORD=... db_ceiling --host H --port P --user U --db NAME
 *        [--tx N] [--threads T] [--size BYTES]
 *
 * Each of T threads (one connection each, like one domain worker each) runs
 * its share of N transactions of the shape of one delivery of the system
 * (DESIGN.md "Processing a delivery"): BEGIN; INSERT into inbox; an effect
 * (INSERT into notifications); INSERT into outbox (BYTES of body, published
 * already, so that no relay would pick it up); COMMIT. Session as the
 * workers set it: UTC, READ COMMITTED, autocommit on outside the
 * transaction. NAME must hold the orderflow schema (orderflowctl db migrate)
 * and be a scratch database: the rows stay.
 * Prints one JSON object: transactions, seconds, rate (tx/s). Exit 0/1/2.
 */
#include <getopt.h>
#include <mysql.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct opts {
	const char *host, *user, *password, *db;
	int port;
	long tx;
	int threads;
	int size;
};

struct worker {
	pthread_t tid;
	const struct opts *o;
	int index;
	long todo, done;
	char error[512];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A UUID-shaped id that starts with the time in milliseconds, as
 * orderflow's version 7 ids do, so that the keys grow at the right edge of
 * the indexes as orderflow's own do. */
static void make_id(char out[37], unsigned int *seed)
{
	static const char hex[] = "0123456789abcdef";
	struct timespec ts;
	unsigned long long ms;
	char t[13];

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
	snprintf(t, sizeof t, "%012llx", ms & 0xffffffffffffULL);
	for (int i = 0, k = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			out[i] = '-';
		else
			out[i] = k < 12 ? t[k++] : hex[rand_r(seed) & 15];
	}
	out[36] = '\0';
}

static int run(struct worker *w, MYSQL *m, const char *sql, const char *what)
{
	if (mysql_real_query(m, sql, strlen(sql)) != 0) {
		snprintf(w->error, sizeof w->error, "%s on %s: %s (%u)", what, w->o->db,
			 mysql_error(m), mysql_errno(m));
		return -1;
	}
	MYSQL_RES *r = mysql_store_result(m);
	if (r)
		mysql_free_result(r);
	return 0;
}

/* One delivery's transaction; sql has room for the body. */
static int one_tx(struct worker *w, MYSQL *m, char *sql, size_t len, const char *body,
		  unsigned int *seed)
{
	char ev[37], order[37], out_ev[37];
	make_id(ev, seed);
	make_id(order, seed);
	make_id(out_ev, seed);
	if (run(w, m, "BEGIN", "BEGIN") < 0)
		return -1;
	snprintf(sql, len, "INSERT INTO inbox (consumer, event_id, processed_at) "
			   "VALUES ('bench-ceiling', '%s', UTC_TIMESTAMP(6))", ev);
	if (run(w, m, sql, "insert into inbox") < 0)
		goto fail;
	snprintf(sql, len, "INSERT INTO notifications (order_id, customer_id, type, message, created_at) "
			   "VALUES ('%s', 'bench-%d', 'created', 'Your order %s was received', "
			   "UTC_TIMESTAMP(6))", order, w->index, order);
	if (run(w, m, sql, "insert into notifications") < 0)
		goto fail;
	snprintf(sql, len, "INSERT INTO outbox (event_id, routing_key, body, created_at, published_at) "
			   "VALUES ('%s', 'bench.ceiling', '%s', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
		 out_ev, body);
	if (run(w, m, sql, "insert into outbox") < 0)
		goto fail;
	return run(w, m, "COMMIT", "COMMIT");
fail:
	mysql_real_query(m, "ROLLBACK", 8);
	return -1;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)(w->index * 2654435761u);
	size_t len = (size_t)o->size + 1024;
	char *sql = malloc(len), *body = malloc((size_t)o->size + 1);
	MYSQL *m = mysql_init(NULL);
	if (!sql || !body || !m) {
		snprintf(w->error, sizeof w->error, "out of memory");
		goto out;
	}
	memset(body, 'x', (size_t)o->size);
	body[o->size] = '\0';
	if (!mysql_real_connect(m, o->host, o->user, o->password, o->db, (unsigned)o->port, NULL, 0)) {
		snprintf(w->error, sizeof w->error, "connect to %s:%d database %s: %s (%u)", o->host,
			 o->port, o->db, mysql_error(m), mysql_errno(m));
		goto out;
	}
	if (run(w, m, "SET time_zone = '+00:00'", "set time_zone") < 0 ||
	    run(w, m, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "set isolation") < 0)
		goto out;
	while (w->done < w->todo && one_tx(w, m, sql, len, body, &seed) == 0)
		w->done++;
out:
	if (m)
		mysql_close(m);
	mysql_thread_end();
	free(sql);
	free(body);
	return NULL;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "host", 1, 0, 'H' }, { "port", 1, 0, 'P' }, { "user", 1, 0, 'u' },
		{ "db", 1, 0, 'd' }, { "tx", 1, 0, 'n' }, { "threads", 1, 0, 't' },
		{ "size", 1, 0, 's' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;
	*o = (struct opts){ .host = "127.0.0.1", .port = 3306, .tx = 10000, .threads = 7,
			    .size = 600, .password = getenv("ORDERFLOW_DB_PASSWORD") };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'H': o->host = optarg; break;
		case 'P': o->port = atoi(optarg); break;
		case 'u': o->user = optarg; break;
		case 'd': o->db = optarg; break;
		case 'n': o->tx = atol(optarg); break;
		case 't': o->threads = atoi(optarg); break;
		case 's': o->size = atoi(optarg); break;
		case 'h':
			printf("usage: ORDERFLOW_DB_PASSWORD=... db_ceiling --host H --port P --user U "
			       "--db NAME [--tx N] [--threads T] [--size BYTES]\n");
			exit(0);
		default: return -1;
		}
	}
	if (!o->user || !o->db || o->tx < 1 || o->threads < 1 || o->threads > 256 || o->size < 1 ||
	    o->size > 1000000) {
		fprintf(stderr, "usage: db_ceiling --user U --db NAME [--tx N>0] [--threads 1..256] "
				"[--size 1..1000000]\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) < 0)
		return 2;
	if (mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "db_ceiling: mysql_library_init failed\n");
		return 1;
	}
	struct worker *w = calloc((size_t)o.threads, sizeof *w);
	int started = 0, rc = 1;
	if (!w) {
		fprintf(stderr, "db_ceiling: out of memory\n");
		goto out;
	}
	double t0 = now_s();
	for (; started < o.threads; started++) {
		w[started] = (struct worker){ .o = &o, .index = started,
					      .todo = o.tx / o.threads + (started < o.tx % o.threads) };
		if (pthread_create(&w[started].tid, NULL, run_worker, &w[started]) != 0) {
			fprintf(stderr, "db_ceiling: cannot start thread %d\n", started);
			break;
		}
	}
	long done = 0;
	for (int i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		done += w[i].done;
		if (w[i].error[0])
			fprintf(stderr, "db_ceiling: thread %d: %s\n", i, w[i].error);
	}
	double el = now_s() - t0;
	if (done == o.tx) {
		printf("{\"transactions\": %ld, \"threads\": %d, \"size\": %d, \"seconds\": %.3f, "
		       "\"rate\": %.1f}\n", done, o.threads, o.size, el, (double)done / el);
		rc = 0;
	}
out:
	free(w);
	mysql_library_end();
	return rc;
}
