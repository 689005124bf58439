/*
 * http_parse: the pure text rules of the HTTP intake: which route a path
 * names, which methods a route takes, whether a Content-Type is JSON, how
 * deep a JSON text nests (checked before jansson sees it), whether a
 * customer id is acceptable, and the host:port of http.listen.
 *
 * Routes (DESIGN.md "Commands"); one trailing slash is ignored, anything
 * else that does not match exactly (an empty segment, an order id with other
 * characters than letters, digits and '-', a longer path) is not found:
 *   /api/orders                          GET (?customer=ID), POST
 *   /api/orders/{id}                     GET
 *   /api/orders/{id}/cancel              POST
 *   /api/customers/{id}/notifications    GET
 *   /healthz, /metrics                   GET
 * GET routes take HEAD as well. Paths arrive percent-decoded (libmicrohttpd
 * decodes them), so a customer id may hold any UTF-8 but '/'.
 */
#ifndef ORDERFLOW_HTTP_PARSE_H
#define ORDERFLOW_HTTP_PARSE_H

#include <stddef.h>

#include "intake/json_body.h"

#define HTTP_ID_MAX 64          /* order ids (a UUID has 36) and customer ids, in bytes */

enum http_route_id {
	HTTP_RT_NOT_FOUND = 0,
	HTTP_RT_ORDERS,          /* /api/orders */
	HTTP_RT_ORDER,           /* /api/orders/{id} */
	HTTP_RT_ORDER_CANCEL,    /* /api/orders/{id}/cancel */
	HTTP_RT_NOTIFICATIONS,   /* /api/customers/{id}/notifications */
	HTTP_RT_HEALTHZ,
	HTTP_RT_METRICS,
};

struct http_route {
	enum http_route_id id;
	char param[HTTP_ID_MAX + 1]; /* the {id}, "" when the route has none */
};

/* Fills *r for a (decoded) path without its query; never fails: an unknown
 * path is HTTP_RT_NOT_FOUND. */
void http_route_parse(const char *path, struct http_route *r);
/* 1 for "/api" and every path under "/api/": those need a token, whether or
 * not the route exists (so an unauthenticated client learns nothing). */
int http_path_is_api(const char *path);
/* 1 when the route takes the method; 0 (a 405) otherwise. */
int http_route_method_ok(enum http_route_id id, const char *method);
/* The Allow header of a route ("GET, HEAD", "POST", ...). */
const char *http_route_allow(enum http_route_id id);

/* 1 when a Content-Type value is application/json, case-insensitive, with or
 * without parameters ("application/json; charset=utf-8"). */
int http_content_type_is_json(const char *content_type);

/* 1 when s is 1..HTTP_ID_MAX bytes of valid UTF-8 without control
 * characters (U+0000..U+001F, U+007F). */
int http_customer_id_ok(const char *s);
/* 1 when the len bytes at s are valid UTF-8 (no overlongs, no surrogates). */
int http_utf8_valid(const char *s, size_t len);
/* Replaces in place every byte that is not part of a valid UTF-8 sequence
 * (e.g. a character cut by a truncating snprintf) with '?'. */
void http_utf8_sanitize(char *s);

/* Splits "host:port" or "[v6]:port" into host (brackets removed) and port.
 * Returns 0, or -1 when the value has another shape or the port is not
 * 1..65535. */
int http_listen_parse(const char *listen, char *host, size_t hostlen, char *port,
		      size_t portlen);

#endif
