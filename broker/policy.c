/* policy: RabbitMQ policies through the management HTTP API (see policy.h). */
#include "broker/policy.h"

#include "core/strf.h"

#include <amqp.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

#define POLICY_TIMEOUT_S 10
#define POLICY_BODY_MAX 512

struct answer {
	char text[POLICY_BODY_MAX];
	size_t len;
};


int policy_manages_delivery_limit(const struct config *cfg)
{
	const char *qt = cfg->broker.queue_type;

	return cfg->broker.management_url != NULL && cfg->broker.management_url[0] != '\0' &&
	       (qt == NULL || strcmp(qt, "quorum") == 0);
}

/* Keeps the start of the answer for the error message. */
static size_t keep_answer(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n, room = sizeof(a->text) - 1 - a->len;

	memcpy(a->text + a->len, data, len < room ? len : room);
	a->len += len < room ? len : room;
	a->text[a->len] = '\0';
	return len;
}

/* The request: PUT body to url as user:password; 0 or -1 with *err_r. */
static int put_json(const struct config *cfg, const char *url, const char *user,
		    const char *password, const char *body, const char *what, char **err_r)
{
	struct answer a = { .len = 0 };
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	CURLcode rc;
	long status = 0;

	if (c == NULL || hdr == NULL) {
		*err_r = strf("%s: cannot set up an HTTP request", what);
		curl_slist_free_all(hdr);
		if (c != NULL)
			curl_easy_cleanup(c);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERNAME, user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, password);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)POLICY_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	if (cfg->broker.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->broker.ca_file);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		*err_r = strf("%s: %s", what, curl_easy_strerror(rc));
		return -1;
	}
	if (status < 200 || status > 299) {
		*err_r = strf("%s: HTTP %ld: %s", what, status, a.text);
		return -1;
	}
	return 0;
}

int policy_set_delivery_limit(const struct config *cfg, const char *domain, char **err_r)
{
	struct amqp_connection_info ci;
	char *amqp = strdup(cfg->broker.urls.items[0]), *vhost = NULL, *url = NULL;
	char *body = NULL, *what = NULL, pattern[160], name[128];
	const char *base = cfg->broker.management_url;
	size_t blen = strlen(base);
	json_t *doc;
	int rc = -1;

	*err_r = NULL;
	snprintf(name, sizeof(name), "orderflow-%s", domain);
	snprintf(pattern, sizeof(pattern), "^orderflow\\.%s$", domain);
	if (amqp == NULL || amqp_parse_url(amqp, &ci) != AMQP_STATUS_OK) {
		*err_r = strf("policy %s: cannot read the broker URL", name);
		goto out;
	}
	vhost = curl_easy_escape(NULL, ci.vhost, 0);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (vhost == NULL || asprintf(&url, "%.*s/api/policies/%s/%s", (int)blen, base, vhost,
				      name) < 0) {
		url = NULL;
		*err_r = strf("policy %s: out of memory", name);
		goto out;
	}
	doc = json_pack("{s:s, s:s, s:i, s:{s:i}}", "pattern", pattern, "apply-to", "queues",
			"priority", 0, "definition", "delivery-limit", cfg->broker.delivery_limit);
	body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	what = strf("setting policy %s (delivery-limit %d) at %.*s/api/policies/%s", name,
		    cfg->broker.delivery_limit, (int)blen, base, vhost);
	if (body == NULL) {
		*err_r = strf("%s: out of memory", what);
		goto out;
	}
	rc = put_json(cfg, url, ci.user, ci.password, body, what, err_r);
out:
	free(what);
	free(body);
	free(url);
	curl_free(vhost);
	free(amqp);
	return rc;
}
