/*
 * webhook_curl: the webhook's libcurl transport, one easy handle per process
 * (reset between deliveries, so the connection to the receiver is reused).
 */
#include "workers/webhook_curl.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/domains/webhook.h"

#ifndef ORDERFLOW_VERSION
#define ORDERFLOW_VERSION "dev"
#endif

struct curl_conn {
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr, (void)userdata;
	return size * nmemb;
}

static void *curl_open(char **err_r)
{
	struct curl_conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		*err_r = strdup("out of memory");
		return NULL;
	}
	/* After fork, once per process: the worker is single-threaded. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c->curl = curl_easy_init()) == NULL) {
		free(c);
		*err_r = strdup("libcurl initialisation failed");
		return NULL;
	}
	return c;
}

static void curl_close(void *conn)
{
	struct curl_conn *c = conn;

	curl_easy_cleanup(c->curl);
	curl_global_cleanup();
	free(c);
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

static CURLcode curl_post_once(struct curl_conn *c, const struct cfg_domain *w,
			       const struct envelope *ev, long *status_r)
{
	struct curl_slist *headers = post_headers(ev);
	char *body = envelope_encode(ev);
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	*status_r = 0;
	c->errbuf[0] = '\0';
	if (headers == NULL || body == NULL)
		goto out;
	/* Reset keeps the connection cache: the receiver's connection is reused. */
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, w->url);
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	/* No SIGALRM for DNS timeouts: signals belong to the worker's signalfd. */
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "orderflow/" ORDERFLOW_VERSION);
	rc = curl_easy_perform(c->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status_r);
	else if (c->errbuf[0] == '\0')
		snprintf(c->errbuf, sizeof(c->errbuf), "%s", curl_easy_strerror(rc));
out:
	curl_slist_free_all(headers);
	free(body);
	return rc;
}

static int curl_post(void *conn, const struct cfg_domain *w, const struct envelope *ev,
		     long *status_r, char *err, size_t errlen)
{
	struct curl_conn *c = conn;

	if (curl_post_once(c, w, ev, status_r) == CURLE_OK)
		return 0;
	snprintf(err, errlen, "%s", c->errbuf);
	return -1;
}

static const struct webhook_transport curl_transport = {
	.open = curl_open,
	.post = curl_post,
	.close = curl_close,
};

void webhook_transport_use_curl(void)
{
	webhook_transport_use(&curl_transport);
}
