/*
 * loadgen: the bench's HTTP load driver for POST /api/orders (libcurl).
 *
 *   loadgen --url URL --token TOKEN [--threads N] [--duration S | --count N]
 *           [--rate R] [--sku SKU] [--customers K]
 *
 * N threads, each with one easy handle (keep-alive: one connection per
 * thread). With --rate R (open loop) request i is due at start + i/R no
 * matter how the earlier ones went, and its latency counts from that due
 * time, so a stalled server shows up as latency instead of being hidden by
 * a client that waited (coordinated omission). Without --rate (closed loop)
 * every thread sends its next request as soon as the last one is answered:
 * that gives the maximum rate at N concurrent clients.
 *
 * It stops after --duration seconds or --count requests, whichever is given
 * (both: the first reached). Prints one JSON object on stdout: requests,
 * ok (HTTP 201), errors by class, achieved rate, latency p50/p95/p99/max in
 * ms. Exit 0 when at least one request succeeded, 1 otherwise, 2 on usage.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct opts {
	const char *url;
	const char *token;
	const char *sku;
	const char *prefix;  /* customer_id = PREFIX-n: a phase's orders are found by it */
	int threads;
	double duration_s;
	long count;
	double rate;
	int customers;
};

struct worker {
	pthread_t tid;
	const struct opts *o;
	double *lat_ms;      /* one per answered request */
	long nlat, cap;
	long ok, http_err, net_err;
	char first_error[512];
};

static atomic_long next_index;
static double t_start;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now_s();
	if (d <= 0)
		return;
	struct timespec ts = { (time_t)d, (long)((d - (double)(time_t)d) * 1e9) };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The response body is not needed: only the status. */
static size_t discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: loadgen --url URL --token TOKEN [--threads N] [--duration S] [--count N]\n"
		   "               [--rate R] [--sku SKU] [--customers K] [--customer-prefix P]\n"
		   "POSTs orders to URL (http://HOST:PORT/api/orders). --rate R paces the requests\n"
		   "(open loop, latency from each request's due time); without it each thread\n"
		   "sends as fast as it is answered (closed loop). Prints one JSON object.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "url", 1, 0, 'u' }, { "token", 1, 0, 't' }, { "threads", 1, 0, 'n' },
		{ "duration", 1, 0, 'd' }, { "count", 1, 0, 'c' }, { "rate", 1, 0, 'r' },
		{ "sku", 1, 0, 's' }, { "customers", 1, 0, 'k' }, { "customer-prefix", 1, 0, 'p' }, { "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 } };
	int c;
	*o = (struct opts){ .sku = "BENCH-A", .prefix = "bench", .threads = 4, .customers = 100 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 't': o->token = optarg; break;
		case 'n': o->threads = atoi(optarg); break;
		case 'd': o->duration_s = atof(optarg); break;
		case 'c': o->count = atol(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 's': o->sku = optarg; break;
		case 'k': o->customers = atoi(optarg); break;
		case 'p': o->prefix = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (!o->url || !o->token || o->threads < 1 || o->threads > 256 || o->customers < 1 ||
	    (o->duration_s <= 0 && o->count <= 0) || o->rate < 0) {
		fprintf(stderr, "loadgen: --url, --token and --duration or --count are required "
				"(threads 1..256, rate >= 0)\n");
		return -1;
	}
	return 0;
}

static int keep_latency(struct worker *w, double ms)
{
	if (w->nlat == w->cap) {
		long cap = w->cap ? w->cap * 2 : 4096;
		double *p = realloc(w->lat_ms, (size_t)cap * sizeof *p);
		if (!p)
			return -1;
		w->lat_ms = p;
		w->cap = cap;
	}
	w->lat_ms[w->nlat++] = ms;
	return 0;
}

/* Takes the next request index, or -1 when the run is over; *due_r is when
 * it should be sent (now, in closed loop). */
static long next_request(const struct opts *o, double *due_r)
{
	long i = atomic_fetch_add(&next_index, 1);
	if (o->count > 0 && i >= o->count)
		return -1;
	double due = o->rate > 0 ? t_start + (double)i / o->rate : now_s();
	if (o->duration_s > 0 && due - t_start >= o->duration_s)
		return -1;
	*due_r = due;
	return i;
}

static void note_error(struct worker *w, const char *msg)
{
	if (w->first_error[0])
		return;
	snprintf(w->first_error, sizeof w->first_error, "%s", msg);
	for (char *p = w->first_error; *p; p++) /* it goes into a JSON string */
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '\'';
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	char auth[512], body[256], err[CURL_ERROR_SIZE];
	struct curl_slist *hdr = NULL;
	CURL *h = curl_easy_init();
	if (!h) {
		note_error(w, "curl_easy_init failed");
		return NULL;
	}
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, o->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);

	double due;
	long i;
	while ((i = next_request(o, &due)) >= 0) {
		if (o->rate > 0)
			sleep_until(due);
		snprintf(body, sizeof body,
			 "{\"customer_id\": \"%s-%ld\", \"items\": [{\"sku\": \"%s\", \"quantity\": 1}]}",
			 o->prefix, i % o->customers, o->sku);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		err[0] = '\0';
		CURLcode rc = curl_easy_perform(h);
		double ms = (now_s() - due) * 1000.0;
		long code = 0;
		if (rc != CURLE_OK) {
			w->net_err++;
			char m[300];
			snprintf(m, sizeof m, "POST %s: %s", o->url, err[0] ? err : curl_easy_strerror(rc));
			note_error(w, m);
			continue;
		}
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (code == 201) {
			w->ok++;
			if (keep_latency(w, ms) < 0) {
				note_error(w, "out of memory for latencies");
				break;
			}
		} else {
			w->http_err++;
			char m[300];
			snprintf(m, sizeof m, "POST %s: HTTP %ld", o->url, code);
			note_error(w, m);
		}
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, long n, double p)
{
	if (n == 0)
		return NAN;
	long k = (long)ceil(p / 100.0 * (double)n) - 1;
	if (k < 0)
		k = 0;
	return v[k >= n ? n - 1 : k];
}

/* A number for JSON: null when there is none (NaN is not JSON). */
static void json_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "null");
	else
		snprintf(buf, len, "%.2f", v);
}

static void report(const struct opts *o, struct worker *w, double elapsed)
{
	long n = 0, ok = 0, herr = 0, nerr = 0;
	const char *first = "";
	for (int t = 0; t < o->threads; t++) {
		n += w[t].nlat;
		ok += w[t].ok;
		herr += w[t].http_err;
		nerr += w[t].net_err;
		if (!first[0] && w[t].first_error[0])
			first = w[t].first_error;
	}
	double *all = malloc((size_t)(n ? n : 1) * sizeof *all);
	long k = 0;
	for (int t = 0; all && t < o->threads; t++) {
		if (w[t].nlat) /* lat_ms is NULL when nothing was answered */
			memcpy(all + k, w[t].lat_ms, (size_t)w[t].nlat * sizeof *all);
		k += w[t].nlat;
	}
	if (!all)
		n = 0;
	qsort(all, (size_t)n, sizeof *all, cmp_double);
	char p50[32], p95[32], p99[32], max[32];
	json_num(p50, sizeof p50, pct(all, n, 50));
	json_num(p95, sizeof p95, pct(all, n, 95));
	json_num(p99, sizeof p99, pct(all, n, 99));
	json_num(max, sizeof max, n ? all[n - 1] : NAN);
	printf("{\"mode\": \"%s\", \"threads\": %d, \"offered_rate\": %.1f, \"elapsed_s\": %.3f, "
	       "\"requests\": %ld, \"ok\": %ld, \"http_errors\": %ld, \"net_errors\": %ld, "
	       "\"rate\": %.1f, \"p50_ms\": %s, \"p95_ms\": %s, \"p99_ms\": %s, "
	       "\"max_ms\": %s, \"first_error\": \"%s\"}\n",
	       o->rate > 0 ? "paced" : "max", o->threads, o->rate, elapsed, ok + herr + nerr, ok,
	       herr, nerr, elapsed > 0 ? (double)ok / elapsed : 0.0, p50, p95, p99, max, first);
	free(all);
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "loadgen: curl_global_init failed\n");
		return 1;
	}
	struct worker *w = calloc((size_t)o.threads, sizeof *w);
	if (!w) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	t_start = now_s();
	int started = 0;
	for (; started < o.threads; started++) {
		w[started].o = &o;
		int e = pthread_create(&w[started].tid, NULL, run_worker, &w[started]);
		if (e) {
			fprintf(stderr, "loadgen: starting thread %d: %s\n", started, strerror(e));
			break;
		}
	}
	for (int t = 0; t < started; t++)
		pthread_join(w[t].tid, NULL);
	double elapsed = now_s() - t_start;
	report(&o, w, elapsed);
	long ok = 0;
	for (int t = 0; t < o.threads; t++) {
		ok += w[t].ok;
		if (w[t].first_error[0] && t == 0)
			fprintf(stderr, "loadgen: first error: %s\n", w[t].first_error);
		free(w[t].lat_ms);
	}
	free(w);
	curl_global_cleanup();
	return ok > 0 && started == o.threads ? 0 : 1;
}
