/*
 * webhook: POSTs the configured events to domains.webhook.url (see
 * webhook.h), through the transport the program wired in (webhook_transport
 * in webhook.h; orderflowd's is libcurl, workers/webhook_curl.c), with one
 * connection per process kept between deliveries, and a circuit breaker.
 *
 * Outcomes: delivered (2xx) -> OK and counted DELIVERED in webhook_stats;
 * permanent (4xx but 408/429) -> REJECT "webhook HTTP 422" (parked at once);
 * transient (5xx, 408, 429, other codes, refused, timed out) -> RETRY with
 * the status or the transport's message, and a breaker failure. A permanent
 * answer still proves the receiver is there, so it counts as a breaker
 * success. While the breaker is open, hold_ms() tells the worker to stop
 * taking deliveries; a delivery that reaches the handler anyway (one the
 * worker already had in hand) is retried without a request.
 *
 * With an empty url the domain sends nothing: every event is OK and counted
 * SKIPPED. The counters are written in the delivery's transaction, so a
 * redelivered event is counted once. The receiver may see an event more than
 * once (a commit that fails after a 2xx retries the POST): it deduplicates
 * by Orderflow-Event-Id.
 */
#include "workers/domains/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "workers/domains/breaker.h"
#include "workers/domains/domains.h"

struct webhook_state {
	void *conn;                  /* the transport's; NULL when the url is empty */
	struct breaker br;
	char errbuf[256];
};

static const struct webhook_transport *webhook_transport;

void webhook_transport_use(const struct webhook_transport *t)
{
	webhook_transport = t;
}

static int webhook_open(struct webhook_state *s, char **err_r)
{
	if (webhook_transport == NULL) {
		*err_r = strdup("no webhook transport: this program cannot send webhooks");
		return -1;
	}
	s->conn = webhook_transport->open(err_r);
	return s->conn != NULL ? 0 : -1;
}

static int webhook_init(const struct config *cfg, void **state_r, char **err_r)
{
	const struct cfg_domain *w = &cfg->domains[DOM_WEBHOOK];
	struct webhook_state *s = calloc(1, sizeof(*s));

	*state_r = NULL;
	if (s == NULL) {
		*err_r = strdup("out of memory");
		return -1;
	}
	breaker_init(&s->br, w->breaker_failures, w->breaker_cooldown_ms);
	if (w->url != NULL && w->url[0] != '\0') {
		if (webhook_open(s, err_r) != 0) {
			free(s);
			return -1;
		}
		log_info("webhook: sending %d event types to %s (timeout %d ms, breaker %d "
			 "failures / %d ms)", w->events.count, w->url, w->timeout_ms,
			 w->breaker_failures, w->breaker_cooldown_ms);
	} else {
		log_info("webhook: domains.webhook.url is empty: events are acknowledged and "
			 "counted as skipped");
	}
	*state_r = s;
	return 0;
}

static void webhook_fini(void *state)
{
	struct webhook_state *s = state;

	if (s == NULL)
		return;
	if (s->conn != NULL)
		webhook_transport->close(s->conn);
	free(s);
}

static long webhook_hold_ms(void *state)
{
	struct webhook_state *s = state;

	return s != NULL ? breaker_hold_ms(&s->br, clock_monotonic_ms()) : 0;
}

/* Counts an event in webhook_stats (the delivery's transaction). */
static enum db_status count_event(struct handler_ctx *ctx, const char *outcome)
{
	struct db_param p[2] = { DBP_STR(ctx->ev->event_type), DBP_STR(outcome) };

	return db_run(ctx->db, "INSERT INTO webhook_stats (event_type, outcome, count, updated_at) "
			       "VALUES (?, ?, 1, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
			       "count = count + 1, updated_at = VALUES(updated_at)",
		      p, 2, NULL, NULL);
}

static void breaker_failed(struct webhook_state *s, const struct cfg_domain *w)
{
	enum breaker_state was = s->br.state;

	breaker_failure(&s->br, clock_monotonic_ms());
	if (s->br.state == BREAKER_OPEN && was != BREAKER_OPEN)
		log_warn("webhook: circuit breaker open (%s): holding deliveries for %d ms",
			 was == BREAKER_HALF_OPEN ? "the trial failed"
						  : "too many transient failures in a row",
			 w->breaker_cooldown_ms);
}

static void breaker_succeeded(struct webhook_state *s)
{
	if (s->br.state != BREAKER_CLOSED)
		log_info("webhook: the receiver answers again: circuit breaker closed");
	breaker_success(&s->br);
}

static enum handler_result webhook_send(struct handler_ctx *ctx, struct webhook_state *s,
					const struct cfg_domain *w)
{
	long status = 0;

	if (!breaker_allow(&s->br, clock_monotonic_ms()))
		return handler_retry(ctx, "webhook: circuit breaker open (%ld ms left)",
				     breaker_hold_ms(&s->br, clock_monotonic_ms()));
	if (webhook_transport->post(s->conn, w, ctx->ev, &status, s->errbuf,
				    sizeof(s->errbuf)) != 0) {
		breaker_failed(s, w);
		return handler_retry(ctx, "webhook: %s", s->errbuf);
	}
	switch (webhook_classify(status)) {
	case WEBHOOK_DELIVERED:
		breaker_succeeded(s);
		if (count_event(ctx, "DELIVERED") != DB_OK)
			return handler_db_failed(ctx, "count delivered webhook");
		log_debug("webhook: %s %s delivered (HTTP %ld)", ctx->ev->event_type,
			  ctx->ev->event_id, status);
		return HANDLER_OK;
	case WEBHOOK_PERMANENT:
		breaker_succeeded(s);
		return handler_reject(ctx, "webhook HTTP %ld", status);
	case WEBHOOK_TRANSIENT:
		break;
	}
	breaker_failed(s, w);
	return handler_retry(ctx, "webhook HTTP %ld", status);
}

static enum handler_result webhook_handle(struct handler_ctx *ctx)
{
	struct webhook_state *s = ctx->state;
	const struct cfg_domain *w = &ctx->cfg->domains[DOM_WEBHOOK];

	if (s == NULL)
		return handler_retry(ctx, "webhook: not initialised");
	if (s->conn == NULL) {
		if (count_event(ctx, "SKIPPED") != DB_OK)
			return handler_db_failed(ctx, "count skipped webhook");
		log_debug("webhook: %s %s skipped (no url)", ctx->ev->event_type, ctx->ev->event_id);
		return HANDLER_OK;
	}
	return webhook_send(ctx, s, w);
}

/* The events of domains.webhook.events, each POSTed the same way; not
 * batchable: a rollback cannot take a POST back. */
static const struct domain_event webhook_events[] = {
	{ NULL, webhook_handle, DOM_EV_CONFIGURED },
};

const struct domain webhook_domain = {
	.name = "webhook",
	DOMAIN_TABLE(webhook_events),
	.init = webhook_init,
	.fini = webhook_fini,
	.hold_ms = webhook_hold_ms,
};
