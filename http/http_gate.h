/*
 * http_gate: a request and its reply as plain structs (so the rules can be
 * tested without a server), and the checks a request passes before its body
 * is read, in this order:
 *   1. under /api: a bearer token of http.tokens, else 401 with
 *      WWW-Authenticate: Bearer (before routing: no route is revealed);
 *   2. a known route, else 404;
 *   3. a method the route takes, else 405 with Allow;
 *   4. a POST with a body: Content-Type application/json, else 415;
 *   5. an announced Content-Length over http.max_body_bytes: 413 at once,
 *      before any byte of the body is read.
 * Every refusal has a JSON body {"error": "..."}.
 */
#ifndef ORDERFLOW_HTTP_GATE_H
#define ORDERFLOW_HTTP_GATE_H

#include <jansson.h>
#include <stddef.h>

#include "core/config.h"
#include "http/http_parse.h"

#define HTTP_JSON_TYPE "application/json"

struct http_req {
	const char *method;
	const char *path;            /* decoded, without the query */
	struct http_route route;
	const char *authorization;   /* header values; NULL when absent */
	const char *content_type;
	const char *idempotency_key;
	const char *customer;        /* ?customer= */
	int has_body;                /* Content-Length > 0 or a chunked body */
	int has_length;              /* Content-Length was sent */
	unsigned long long content_length;
	const char *body;            /* the body as read (POST only) */
	size_t body_len;
};

struct http_reply {
	int status;                  /* 0 = not decided yet */
	char *body;                  /* malloc'd */
	size_t body_len;
	const char *content_type;
	char location[128];          /* "" = no Location header */
	const char *allow;           /* NULL = no Allow header */
	int www_authenticate;
};

/* Sets a JSON reply; takes doc (NULL = out of memory: a 503). */
void http_reply_json(struct http_reply *reply, int status, json_t *doc);
/* {"error": msg}; msg is made valid UTF-8 if a truncation cut a character. */
void http_reply_error(struct http_reply *reply, int status, const char *msg);
/* Frees the body and resets the reply to undecided. */
void http_reply_clear(struct http_reply *reply);

/* Runs checks 1-5 on req (route already parsed). Returns 1 when *reply is
 * decided (a refusal), 0 when the request may go on. */
int http_gate(const struct config *cfg, const struct http_req *req, struct http_reply *reply);

#endif
