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
 * Also the parts of reading a request that need no server: its length
 * headers and its body, kept up to http.max_body_bytes (413 past that).
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

/* The length fields of req from the Content-Length and Transfer-Encoding
 * header values (NULL when absent): has_length, content_length, has_body. */
void http_req_set_length(struct http_req *req, const char *content_length,
			 const char *transfer_encoding);

/* A POST body as it arrives in pieces: kept (NUL-terminated) up to
 * http.max_body_bytes; past that nothing more is kept and the request is a
 * 413. Without Content-Length (chunked) the server cannot answer mid-body,
 * so the rest is read and thrown away, up to HTTP_DISCARD_MAX bytes; beyond
 * that the connection is to be closed without an answer. A body on another
 * method is ignored. Zero-initialise; free with http_body_free(). */
#define HTTP_DISCARD_MAX ((size_t)1024 * 1024)

struct http_body {
	char *buf;
	size_t len, cap;
	size_t discarded;
	int too_large;
};

enum http_body_step {
	HTTP_BODY_OK = 0,
	HTTP_BODY_TOO_FAR,   /* over max by more than HTTP_DISCARD_MAX: close */
	HTTP_BODY_NO_MEMORY,
};

enum http_body_step http_body_add(struct http_body *b, const char *method, const char *data,
				  size_t n, size_t max);
/* The body is complete: 1 with a 413 in *reply when it went over max, else
 * 0 with req->body and body_len set to the bytes kept ("" when none). */
int http_body_finish(const struct http_body *b, size_t max, struct http_req *req,
		     struct http_reply *reply);
void http_body_free(struct http_body *b);

#endif
