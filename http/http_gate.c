/* http_gate: request/reply structs and the pre-body checks (see http_gate.h). */
#include "http/http_gate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_auth.h"

void http_reply_json(struct http_reply *reply, int status, json_t *doc)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	free(reply->body);
	reply->body = NULL;
	reply->body_len = 0;
	reply->content_type = HTTP_JSON_TYPE;
	if (text == NULL) {
		static const char oom[] = "{\"error\":\"out of memory\"}";

		/* Constant text: MHD gets a copy, never this pointer to free. */
		reply->status = 503;
		reply->body = strdup(oom);
		reply->body_len = reply->body != NULL ? strlen(oom) : 0;
		return;
	}
	reply->status = status;
	reply->body = text;
	reply->body_len = strlen(text);
}

void http_reply_error(struct http_reply *reply, int status, const char *msg)
{
	char clean[512];

	snprintf(clean, sizeof(clean), "%s", msg != NULL && msg[0] != '\0' ? msg : "error");
	http_utf8_sanitize(clean);
	http_reply_json(reply, status, json_pack("{s:s}", "error", clean));
}

void http_reply_clear(struct http_reply *reply)
{
	free(reply->body);
	memset(reply, 0, sizeof(*reply));
}

static int gate_auth(const struct config *cfg, const struct http_req *req,
		     struct http_reply *reply)
{
	if (!http_path_is_api(req->path) || http_auth_ok(&cfg->http.tokens, req->authorization))
		return 0;
	http_reply_error(reply, 401, "missing or invalid bearer token");
	reply->www_authenticate = 1;
	return 1;
}

static int gate_route(const struct http_req *req, struct http_reply *reply)
{
	char msg[160];

	if (req->route.id == HTTP_RT_NOT_FOUND) {
		http_reply_error(reply, 404, "not found");
		return 1;
	}
	if (!http_route_method_ok(req->route.id, req->method)) {
		snprintf(msg, sizeof(msg), "method %.16s is not allowed here; allowed: %s",
			 req->method, http_route_allow(req->route.id));
		http_reply_error(reply, 405, msg);
		reply->allow = http_route_allow(req->route.id);
		return 1;
	}
	return 0;
}

static int gate_body(const struct config *cfg, const struct http_req *req,
		     struct http_reply *reply)
{
	char msg[160];

	if (strcmp(req->method, "POST") != 0 || !req->has_body)
		return 0;
	if (!http_content_type_is_json(req->content_type)) {
		http_reply_error(reply, 415, "Content-Type must be application/json");
		return 1;
	}
	if (req->has_length && req->content_length > cfg->http.max_body_bytes) {
		snprintf(msg, sizeof(msg), "request body over %zu bytes", cfg->http.max_body_bytes);
		http_reply_error(reply, 413, msg);
		return 1;
	}
	return 0;
}

int http_gate(const struct config *cfg, const struct http_req *req, struct http_reply *reply)
{
	return gate_auth(cfg, req, reply) || gate_route(req, reply) ||
	       gate_body(cfg, req, reply);
}

/* ---- reading a request ---------------------------------------------------- */

void http_req_set_length(struct http_req *req, const char *content_length,
			 const char *transfer_encoding)
{
	if (content_length != NULL) {
		char *end;

		errno = 0;
		req->content_length = strtoull(content_length, &end, 10);
		/* libmicrohttpd refuses a malformed Content-Length itself (400). */
		req->has_length = errno == 0 && end != content_length;
	}
	req->has_body = (req->has_length && req->content_length > 0) ||
			transfer_encoding != NULL;
}

static int body_grow(struct http_body *b, size_t need, size_t max)
{
	size_t cap = b->cap == 0 ? 4096 : b->cap;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > max + 1)
		cap = max + 1;
	if (cap <= b->cap)
		return 0;
	p = realloc(b->buf, cap);
	if (p == NULL)
		return -1;
	b->buf = p;
	b->cap = cap;
	return 0;
}

enum http_body_step http_body_add(struct http_body *b, const char *method, const char *data,
				  size_t n, size_t max)
{
	if (strcmp(method, "POST") != 0)
		return HTTP_BODY_OK; /* a body on GET is ignored */
	if (!b->too_large && b->len + n > max) {
		b->too_large = 1;
		http_body_free(b);
		b->too_large = 1;
	}
	if (b->too_large) {
		b->discarded += n;
		return b->discarded <= HTTP_DISCARD_MAX ? HTTP_BODY_OK : HTTP_BODY_TOO_FAR;
	}
	if (body_grow(b, b->len + n + 1, max) != 0)
		return HTTP_BODY_NO_MEMORY;
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return HTTP_BODY_OK;
}

int http_body_finish(const struct http_body *b, size_t max, struct http_req *req,
		     struct http_reply *reply)
{
	char msg[96];

	if (b->too_large) {
		snprintf(msg, sizeof(msg), "request body over %zu bytes", max);
		http_reply_error(reply, 413, msg);
		return 1;
	}
	req->body = b->buf != NULL ? b->buf : "";
	req->body_len = b->len;
	return 0;
}

void http_body_free(struct http_body *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}
