/*
 * webhook: POSTs the configured events to domains.webhook.url (see
 * webhook.h), with one libcurl handle per process (kept between deliveries,
 * so the connection to the receiver is reused) and a circuit breaker.
 *
 * Outcomes: delivered (2xx) -> OK and counted DELIVERED in webhook_stats;
 * permanent (4xx but 408/429) -> REJECT "webhook HTTP 422" (parked at once);
 * transient (5xx, 408, 429, other codes, refused, timed out) -> RETRY with
 * the status or curl's message, and a breaker failure. A permanent answer
 * still proves the receiver is there, so it counts as a breaker success.
 * While the breaker is open, hold_ms() tells the worker to stop taking
 * deliveries; a delivery that reaches the handler anyway (one the worker
 * already had in hand) is retried without a request.
 *
 * With an empty url the domain sends nothing: every event is OK and counted
 * SKIPPED. The counters are written in the delivery's transaction, so a
 * redelivered event is counted once. The receiver may see an event more than
 * once (a commit that fails after a 2xx retries the POST): it deduplicates
 * by Orderflow-Event-Id.
 */
#include "workers/domains/webhook.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "workers/domains/breaker.h"
#include "workers/domains/domains.h"

#ifndef ORDERFLOW_VERSION
#define ORDERFLOW_VERSION "dev"
#endif

struct webhook_state {
	CURL *curl;                  /* NULL when the url is empty */
	struct breaker br;
	char errbuf[CURL_ERROR_SIZE];
};

/* Default keys: what `keys` says when nothing asks config_keys (the three of
 * the default domains.webhook.events). */
static const char *const webhook_default_keys[] = {
	"order.created", "order.confirmed", "order.cancelled",
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr, (void)userdata;
	return size * nmemb;
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
		/* After fork, once per process: the worker is single-threaded. */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		    (s->curl = curl_easy_init()) == NULL) {
			free(s);
			*err_r = strdup("libcurl initialisation failed");
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
	if (s->curl != NULL) {
		curl_easy_cleanup(s->curl);
		curl_global_cleanup();
	}
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

static struct curl_slist *post_headers(const struct envelope *ev)
{
	char id[64 + ENVELOPE_ID_LEN], type[64 + ENVELOPE_TYPE_MAX];
	struct curl_slist *h = NULL, *t;

	snprintf(id, sizeof(id), "Orderflow-Event-Id: %s", ev->event_id);
	snprintf(type, sizeof(type), "Orderflow-Event-Type: %s", ev->event_type);
	/* "Expect:" turns off 100-continue, a round trip (or a 1 s wait on a
	 * receiver that ignores it) before every body over 1 KiB. */
	const char *all[] = { "Content-Type: application/json", id, type, "Expect:" };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if ((t = curl_slist_append(h, all[i])) == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = t;
	}
	return h;
}

/* One POST; CURLE_OK with *status_r = the HTTP status, or curl's error with
 * the message in s->errbuf. */
static CURLcode webhook_post(struct webhook_state *s, const struct cfg_domain *w,
			     const struct envelope *ev, long *status_r)
{
	struct curl_slist *headers = post_headers(ev);
	char *body = envelope_encode(ev);
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	*status_r = 0;
	s->errbuf[0] = '\0';
	if (headers == NULL || body == NULL)
		goto out;
	/* Reset keeps the connection cache: the receiver's connection is reused. */
	curl_easy_reset(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_URL, w->url);
	curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	/* No SIGALRM for DNS timeouts: signals belong to the worker's signalfd. */
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "orderflow/" ORDERFLOW_VERSION);
	rc = curl_easy_perform(s->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, status_r);
	else if (s->errbuf[0] == '\0')
		snprintf(s->errbuf, sizeof(s->errbuf), "%s", curl_easy_strerror(rc));
out:
	curl_slist_free_all(headers);
	free(body);
	return rc;
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
	CURLcode rc;

	if (!breaker_allow(&s->br, clock_monotonic_ms()))
		return handler_retry(ctx, "webhook: circuit breaker open (%ld ms left)",
				     breaker_hold_ms(&s->br, clock_monotonic_ms()));
	rc = webhook_post(s, w, ctx->ev, &status);
	if (rc != CURLE_OK) {
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
	if (s->curl == NULL) {
		if (count_event(ctx, "SKIPPED") != DB_OK)
			return handler_db_failed(ctx, "count skipped webhook");
		log_debug("webhook: %s %s skipped (no url)", ctx->ev->event_type, ctx->ev->event_id);
		return HANDLER_OK;
	}
	return webhook_send(ctx, s, w);
}

const struct domain webhook_domain = {
	.name = "webhook",
	.keys = webhook_default_keys,
	.nkeys = (int)(sizeof(webhook_default_keys) / sizeof(webhook_default_keys[0])),
	.init = webhook_init,
	.fini = webhook_fini,
	.handle = webhook_handle,
	.hold_ms = webhook_hold_ms,
	.config_keys = webhook_config_keys,
};
