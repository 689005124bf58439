/* http_metrics: Prometheus text rendering (see http_metrics.h). */
#include "http/http_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long load(const atomic_ullong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void metrics_snapshot_take(const struct pool_stats *ps, struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (int d = 0; d < DOM_COUNT; d++) {
		struct metrics_domain *m = &s->domains[d];
		const struct domain_stats *ds = ps != NULL ? &ps->domains[d] : NULL;

		m->name = domain_name((enum domain_id)d);
		s->parked_depth[d] = -1;
		if (ds == NULL)
			continue;
		m->processed = load(&ds->processed);
		m->duplicates = load(&ds->duplicates);
		m->retried = load(&ds->retried);
		m->parked = load(&ds->parked);
		for (int b = 0; b <= POOLSTATS_BUCKETS; b++)
			m->bucket[b] = load(&ds->latency_bucket[b]);
		m->latency_sum_us = load(&ds->latency_sum_us);
	}
	s->version = ORDERFLOW_VERSION;
	if (ps != NULL) {
		s->relayed = load(&ps->relayed);
		s->orders_placed = load(&ps->orders_placed);
		for (int r = 0; r < POOLSTATS_ROLES; r++)
			s->restarts[r] = load(&ps->restarts[r]);
		s->outbox_refused = load(&ps->outbox_refused);
		s->pruned_inbox = load(&ps->pruned_inbox);
		s->pruned_outbox = load(&ps->pruned_outbox);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The counter families with a sample per domain; `field` is an offset into
 * struct metrics_domain. */
static const struct {
	const char *name, *help;
	size_t field;
} per_domain_counters[] = {
	{ "orderflow_events_processed_total",
	  "Events handled, committed and acknowledged, by domain.",
	  offsetof(struct metrics_domain, processed) },
	{ "orderflow_events_duplicate_total", "Deliveries the inbox had already seen, by domain.",
	  offsetof(struct metrics_domain, duplicates) },
	{ "orderflow_events_retried_total", "Copies sent to a retry delay tier, by domain.",
	  offsetof(struct metrics_domain, retried) },
	{ "orderflow_events_parked_total", "Copies sent to the parking lot, by domain.",
	  offsetof(struct metrics_domain, parked) },
};

static void per_domain(FILE *f, const struct metrics_snapshot *s)
{
	for (size_t i = 0; i < sizeof(per_domain_counters) / sizeof(per_domain_counters[0]); i++) {
		const char *name = per_domain_counters[i].name;

		family(f, name, "counter", per_domain_counters[i].help);
		for (int d = 0; d < DOM_COUNT; d++) {
			const unsigned long long *v =
				(const unsigned long long *)((const char *)&s->domains[d] +
							     per_domain_counters[i].field);

			fprintf(f, "%s{domain=\"%s\"} %llu\n", name, s->domains[d].name, *v);
		}
	}
}

/* A counter family with one sample and no label. */
static void counter(FILE *f, const char *name, const char *help, unsigned long long v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %llu\n", name, v);
}

/* The histogram: buckets are made cumulative here, and _count is the +Inf
 * bucket, so the two always agree even while workers add to the counters. */
static void histogram(FILE *f, const struct metrics_snapshot *s)
{
	static const char name[] = "orderflow_handler_duration_seconds";

	family(f, name, "histogram", "Time a handler took for one event, by domain.");
	for (int d = 0; d < DOM_COUNT; d++) {
		const struct metrics_domain *m = &s->domains[d];
		unsigned long long cum = 0;

		for (int b = 0; b < POOLSTATS_BUCKETS; b++) {
			cum += m->bucket[b];
			fprintf(f, "%s_bucket{domain=\"%s\",le=\"%g\"} %llu\n", name, m->name,
				poolstats_bucket_ms[b] / 1000.0, cum);
		}
		cum += m->bucket[POOLSTATS_BUCKETS];
		fprintf(f, "%s_bucket{domain=\"%s\",le=\"+Inf\"} %llu\n", name, m->name, cum);
		fprintf(f, "%s_sum{domain=\"%s\"} %.6f\n", name, m->name,
			(double)m->latency_sum_us / 1e6);
		fprintf(f, "%s_count{domain=\"%s\"} %llu\n", name, m->name, cum);
	}
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void label_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void build_info(FILE *f, const struct metrics_snapshot *s)
{
	family(f, "orderflow_build_info", "gauge",
	       "The version of orderflowd serving this endpoint; the value is always 1.");
	fputs("orderflow_build_info{version=\"", f);
	label_value(f, s->version != NULL ? s->version : "unknown");
	fputs("\"} 1\n", f);
}

static void restarts(FILE *f, const struct metrics_snapshot *s)
{
	static const char name[] = "orderflow_child_restarts_total";

	family(f, name, "counter",
	       "Children that died unexpectedly and the supervisor starts again, by role.");
	for (int r = 0; r < POOLSTATS_ROLES; r++)
		fprintf(f, "%s{role=\"%s\"} %llu\n", name, poolstats_role_name(r), s->restarts[r]);
}

/* Only the domains whose parking lot the broker answered for. */
static void parked_depth(FILE *f, const struct metrics_snapshot *s)
{
	static const char name[] = "orderflow_parked_messages";
	int header = 0;

	for (int d = 0; d < DOM_COUNT; d++) {
		if (s->parked_depth[d] < 0)
			continue;
		if (!header++)
			family(f, name, "gauge",
			       "Messages in the parking lot orderflow.<domain>.dead, by domain.");
		fprintf(f, "%s{domain=\"%s\"} %lld\n", name, s->domains[d].name,
			s->parked_depth[d]);
	}
}

static void render(FILE *f, const struct metrics_snapshot *s)
{
	build_info(f, s);
	per_domain(f, s);
	histogram(f, s);
	counter(f, "orderflow_relayed_total",
		"Outbox rows published (by the relays, or by their workers with eager dispatch).",
		s->relayed);
	counter(f, "orderflow_orders_placed_total", "Orders created by the intake (HTTP 201).",
		s->orders_placed);
	restarts(f, s);
	parked_depth(f, s);
	family(f, "orderflow_outbox_refused_total", "counter",
	       "Outbox rows the broker refused (nack or return); each is retried alone, "
	       "then set aside.");
	fprintf(f, "orderflow_outbox_refused_total %llu\n", s->outbox_refused);
	family(f, "orderflow_pruned_rows_total", "counter",
	       "Expired rows deleted by the pruner, by table.");
	fprintf(f, "orderflow_pruned_rows_total{table=\"inbox\"} %llu\n", s->pruned_inbox);
	fprintf(f, "orderflow_pruned_rows_total{table=\"outbox\"} %llu\n", s->pruned_outbox);
	if (!s->have_outbox)
		return;
	family(f, "orderflow_outbox_pending", "gauge", "Outbox rows not yet published.");
	fprintf(f, "orderflow_outbox_pending %lld\n", s->outbox_pending);
	family(f, "orderflow_outbox_lag_seconds", "gauge",
	       "Age of the oldest unpublished outbox row, 0 when none.");
	fprintf(f, "orderflow_outbox_lag_seconds %.3f\n", s->outbox_lag_s);
	family(f, "orderflow_outbox_set_aside", "gauge",
	       "Outbox rows set aside after too many refusals (failed_at is set).");
	fprintf(f, "orderflow_outbox_set_aside %lld\n", s->outbox_set_aside);
}

int metrics_render(const struct metrics_snapshot *s, char **text_r, size_t *len_r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return -1;
	render(f, s);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return -1;
	}
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	*text_r = text;
	*len_r = len;
	return 0;
}
