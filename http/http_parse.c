/* http_parse: routes, content types, JSON depth, ids (see http_parse.h). */
#include "http/http_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_SEGMENTS 4
#define PATH_MAX_BYTES 512

/* ---- routes -------------------------------------------------------------- */

static int order_id_ok(const char *s, size_t len)
{
	if (len == 0 || len > HTTP_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '-'))
			return 0;
	}
	return 1;
}

/* Splits the path into at most MAX_SEGMENTS non-empty segments; -1 for an
 * empty segment ("//"), too many segments or a path not starting with '/'. */
static int split_path(const char *path, char *buf, size_t buflen, char **seg, int *nseg)
{
	size_t len = strlen(path);
	char *p;

	*nseg = 0;
	if (path[0] != '/' || len >= buflen)
		return -1;
	memcpy(buf, path, len + 1);
	if (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0'; /* one trailing slash is ignored */
	if (len == 1)
		return 0;
	p = buf + 1;
	for (;;) {
		char *slash = strchr(p, '/');

		if (*p == '/' || *p == '\0' || *nseg == MAX_SEGMENTS)
			return -1;
		seg[(*nseg)++] = p;
		if (slash == NULL)
			return 0;
		*slash = '\0';
		p = slash + 1;
	}
}

static void route_set(struct http_route *r, enum http_route_id id, const char *param)
{
	r->id = id;
	snprintf(r->param, sizeof(r->param), "%s", param != NULL ? param : "");
}

static void route_orders(struct http_route *r, char **seg, int n)
{
	if (n == 2) {
		route_set(r, HTTP_RT_ORDERS, NULL);
		return;
	}
	if (!order_id_ok(seg[2], strlen(seg[2])))
		return;
	if (n == 3)
		route_set(r, HTTP_RT_ORDER, seg[2]);
	else if (n == 4 && strcmp(seg[3], "cancel") == 0)
		route_set(r, HTTP_RT_ORDER_CANCEL, seg[2]);
}

void http_route_parse(const char *path, struct http_route *r)
{
	char buf[PATH_MAX_BYTES], *seg[MAX_SEGMENTS];
	int n;

	route_set(r, HTTP_RT_NOT_FOUND, NULL);
	if (path == NULL || split_path(path, buf, sizeof(buf), seg, &n) != 0 || n == 0)
		return;
	if (n == 1 && strcmp(seg[0], "healthz") == 0)
		route_set(r, HTTP_RT_HEALTHZ, NULL);
	else if (n == 1 && strcmp(seg[0], "metrics") == 0)
		route_set(r, HTTP_RT_METRICS, NULL);
	else if (n >= 2 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "orders") == 0)
		route_orders(r, seg, n);
	else if (n == 4 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "customers") == 0 &&
		 strcmp(seg[3], "notifications") == 0 && http_customer_id_ok(seg[2]))
		route_set(r, HTTP_RT_NOTIFICATIONS, seg[2]);
}

int http_path_is_api(const char *path)
{
	return path != NULL && strncmp(path, "/api", 4) == 0 &&
	       (path[4] == '\0' || path[4] == '/');
}

static int is_get(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

int http_route_method_ok(enum http_route_id id, const char *method)
{
	if (method == NULL)
		return 0;
	switch (id) {
	case HTTP_RT_ORDERS:
		return is_get(method) || strcmp(method, "POST") == 0;
	case HTTP_RT_ORDER_CANCEL:
		return strcmp(method, "POST") == 0;
	case HTTP_RT_ORDER:
	case HTTP_RT_NOTIFICATIONS:
	case HTTP_RT_HEALTHZ:
	case HTTP_RT_METRICS:
		return is_get(method);
	default:
		return 0;
	}
}

const char *http_route_allow(enum http_route_id id)
{
	switch (id) {
	case HTTP_RT_ORDERS:
		return "GET, HEAD, POST";
	case HTTP_RT_ORDER_CANCEL:
		return "POST";
	case HTTP_RT_NOT_FOUND:
		return "";
	default:
		return "GET, HEAD";
	}
}

/* ---- request bodies ------------------------------------------------------ */

int http_content_type_is_json(const char *ct)
{
	static const char json[] = "application/json";
	const size_t n = sizeof(json) - 1;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, json, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* ---- ids ----------------------------------------------------------------- */

/* Length of the UTF-8 sequence starting at s[0] (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int http_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	while (len > 0) {
		size_t n = utf8_seq(p, len);

		if (n == 0)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

void http_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s);

	while (len > 0) {
		size_t n = utf8_seq(p, len);

		if (n == 0) {
			*p = '?';
			n = 1;
		}
		p += n;
		len -= n;
	}
}

int http_customer_id_ok(const char *s)
{
	size_t len;

	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len == 0 || len > HTTP_ID_MAX || !http_utf8_valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* ---- http.listen --------------------------------------------------------- */

static int copy_part(const char *s, size_t n, char *out, size_t outlen)
{
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int http_listen_parse(const char *listen, char *host, size_t hostlen, char *port,
		      size_t portlen)
{
	const char *colon, *h = listen;
	size_t hlen;
	long value = 0;

	if (listen == NULL || (colon = strrchr(listen, ':')) == NULL)
		return -1;
	hlen = (size_t)(colon - listen);
	if (listen[0] == '[') {
		if (hlen < 3 || colon[-1] != ']')
			return -1;
		h++;
		hlen -= 2;
	} else if (memchr(listen, ':', hlen) != NULL) {
		return -1;
	}
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || value > 65535)
			return -1;
		value = value * 10 + (*p - '0');
	}
	if (value < 1 || value > 65535)
		return -1;
	if (copy_part(h, hlen, host, hostlen) != 0 ||
	    copy_part(colon + 1, strlen(colon + 1), port, portlen) != 0)
		return -1;
	return 0;
}
