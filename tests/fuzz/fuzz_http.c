/*
 * fuzz_http: the HTTP intake's request handling without a network or a
 * database, through the intake's own functions, in the order http/http_server.c
 * and http_handlers.c call them.
 *
 * An input is a request in HTTP's own shape (so seeds are readable):
 *   METHOD PATH[?QUERY]\n
 *   Header-Name: value\n ...
 *   \n
 *   body (the rest, any bytes)
 * '\r' before a '\n' is dropped. Splitting the head stands in for
 * libmicrohttpd (which hands http.c the method, the decoded path, the
 * header values and the query's customer=); everything after that is the
 * product's code: http_route_parse(), http_req_set_length() (Content-Length,
 * Transfer-Encoding), http_gate() (token, route, method, Content-Type,
 * announced length), http_body_add() with the body in pieces of varying
 * size as MHD delivers it, http_body_finish() (the 413 past max_body_bytes),
 * then, as http_handlers.c: POST /api/orders through http_parse_order(),
 * POST .../cancel through http_parse_cancel(), GET /api/orders through the
 * customer checks; a refusal becomes http_reply_error() of the parser's
 * message. Routes that need the database stop there.
 *
 * Checked beyond "no crash, no leak, no sanitizer report": every reply has a
 * status the rules allow and a JSON body; no 503 (which here could only mean
 * an error text that jansson refused to pack); a parsed order keeps the
 * limits http_request.h promises; a body that was not refused is the bytes
 * sent, whole.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "http/http_auth.h"
#include "http/http_gate.h"
#include "http/http_parse.h"
#include "intake/http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough for a fuzzer input to cross it. */
#define FUZZ_MAX_BODY 1024

static char *tokens_items[] = { "tok-a", "tok-b" };
static struct config cfg = {
	.http = { .tokens = { tokens_items, 2 }, .max_body_bytes = FUZZ_MAX_BODY },
};

static void fail(const char *what, int status)
{
	fprintf(stderr, "fuzz_http: %s (status %d)\n", what, status);
	abort();
}

/* The next line of *p (up to '\n' or end), NUL-terminated in place, without
 * its '\r'; NULL at the end of the head. */
static char *next_line(char **p, char *end)
{
	char *line = *p, *nl;
	size_t n;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (nl == NULL)
		nl = end;
	*nl = '\0';
	*p = nl + 1 < end ? nl + 1 : end;
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	return line;
}

struct headers {
	const char *content_length;
	const char *transfer_encoding;
};

static void read_header(char *line, struct http_req *req, struct headers *h)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
		{ "authorization", offsetof(struct http_req, authorization) },
		{ "content-type", offsetof(struct http_req, content_type) },
		{ "idempotency-key", offsetof(struct http_req, idempotency_key) },
	};
	char *colon = strchr(line, ':'), *v;

	if (colon == NULL)
		return;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(line, known[i].name) == 0)
			*(const char **)((char *)req + known[i].off) = v;
	if (strcasecmp(line, "content-length") == 0)
		h->content_length = v;
	else if (strcasecmp(line, "transfer-encoding") == 0)
		h->transfer_encoding = v;
}

/* ?a=b&customer=ID: the customer argument, as MHD_GET_ARGUMENT_KIND gives it. */
static const char *query_customer(char *query)
{
	const char *found = NULL;

	for (char *arg = strtok(query, "&"); arg != NULL; arg = strtok(NULL, "&"))
		if (strncmp(arg, "customer=", 9) == 0)
			found = arg + 9;
	return found;
}

/* The request line and the headers; returns where the body starts. */
static char *read_head(char *buf, char *end, struct http_req *req, struct headers *h)
{
	char *p = buf, *line = next_line(&p, end), *target, *q;

	if (line == NULL)
		line = p = end; /* an empty input: an empty method and path */
	target = strchr(line, ' ');
	if (target != NULL) {
		*target++ = '\0';
		if ((q = strchr(target, ' ')) != NULL)
			*q = '\0'; /* " HTTP/1.1" */
	}
	req->method = line;
	req->path = target != NULL ? target : "";
	if (target != NULL && (q = strchr(target, '?')) != NULL) {
		*q = '\0';
		req->customer = query_customer(q + 1);
	}
	while ((line = next_line(&p, end)) != NULL && *line != '\0')
		read_header(line, req, h);
	return p;
}

static void check_order(const struct order_request *o)
{
	size_t n = strlen(o->customer_id);

	if (n == 0 || n > HTTP_ID_MAX || o->nitems < 0 || (o->nitems > 0) != (o->items != NULL))
		fail("parsed order out of its limits", 0);
	for (int i = 0; i < o->nitems; i++)
		if (strlen(o->items[i].sku) >= sizeof(o->items[i].sku))
			fail("SKU over its buffer", 0);
}

/* The parts of http_handle() that need no database. */
static void handle(const struct http_req *req, struct http_reply *reply)
{
	char err[512], *reason = NULL;
	struct order_request o;
	int status;

	if (req->route.id == HTTP_RT_ORDERS && strcmp(req->method, "POST") == 0) {
		status = http_parse_order(req->body, req->body_len, &o, err, sizeof(err));
		if (status == 0)
			check_order(&o);
		else if (status != 400 && status != 422)
			fail("http_parse_order", status);
		else
			http_reply_error(reply, status, err);
		order_request_free(&o);
	} else if (req->route.id == HTTP_RT_ORDERS) {
		if (req->customer == NULL)
			http_reply_error(reply, 400, "query parameter customer is required");
		else if (!http_customer_id_ok(req->customer))
			http_reply_error(reply, 400, "customer must have 1 to 64 bytes of UTF-8");
	} else if (req->route.id == HTTP_RT_ORDER_CANCEL) {
		status = http_parse_cancel(req->body, req->body_len, &reason, err, sizeof(err));
		if (status != 0 && status != 400)
			fail("http_parse_cancel", status);
		if (status != 0)
			http_reply_error(reply, status, err);
		free(reason);
	}
}

static void check_reply(const struct http_reply *reply)
{
	static const int allowed[] = { 0, 400, 401, 404, 405, 413, 415, 422 };
	int ok = 0;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ok |= reply->status == allowed[i];
	if (!ok)
		fail("unexpected reply", reply->status);
	if (reply->status != 0 && (reply->body == NULL || reply->body_len == 0 ||
				   reply->body[0] != '{' || reply->body[reply->body_len - 1] != '}'))
		fail("reply without a JSON body", reply->status);
	if (reply->status == 401 && !reply->www_authenticate)
		fail("401 without WWW-Authenticate", reply->status);
	if (reply->status == 405 && reply->allow == NULL)
		fail("405 without Allow", reply->status);
}

/* After the gate, as http.c: the body arrives in pieces (sizes from a
 * fixed cycle, so every input is split the same way), then is finished (a
 * 413 past max_body_bytes), then the handlers. */
static void after_gate(struct http_req *req, const char *body, size_t len,
		       struct http_reply *reply)
{
	static const size_t pieces[] = { 1, 13, 256, 4096 };
	struct http_body b = { 0 };
	size_t off = 0;

	for (int i = 0; off < len; i++) {
		size_t n = pieces[i % 4] < len - off ? pieces[i % 4] : len - off;

		if (http_body_add(&b, req->method, body + off, n, FUZZ_MAX_BODY) != HTTP_BODY_OK)
			fail("http_body_add refused a body under HTTP_DISCARD_MAX", 0);
		off += n;
	}
	if (!http_body_finish(&b, FUZZ_MAX_BODY, req, reply)) {
		size_t want = strcmp(req->method, "POST") == 0 ? len : 0;

		if (req->body_len != want || memcmp(req->body, body, want) != 0 ||
		    req->body[req->body_len] != '\0')
			fail("the body kept is not the body sent", 0);
		handle(req, reply);
	} else if (reply->status != 413 || len <= FUZZ_MAX_BODY) {
		fail("http_body_finish refused a body within max_body_bytes", reply->status);
	}
	http_body_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req req = { 0 };
	struct http_reply reply = { 0 };
	struct headers h = { NULL, NULL };
	char *buf = malloc(size + 1), *body;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	body = read_head(buf, buf + size, &req, &h);
	http_req_set_length(&req, h.content_length, h.transfer_encoding);
	http_route_parse(req.path, &req.route);
	if (!http_gate(&cfg, &req, &reply))
		after_gate(&req, body, (size_t)(buf + size - body), &reply);
	check_reply(&reply);
	http_reply_clear(&reply);
	free(buf);
	return 0;
}
