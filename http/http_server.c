/*
 * http: the HTTP intake process (DESIGN.md "Commands"), on libmicrohttpd.
 *
 * http_run() binds http.listen (that address only, with SO_REUSEPORT so
 * that http.workers processes share it), serves with
 * HTTP_THREADS threads, and runs the role skeleton (proc/role_server.c) in
 * the main thread, which only waits for a signal. SIGTERM
 * or SIGINT drains: the listening socket is closed (MHD_quiesce_daemon), the
 * requests in flight finish (up to half of supervisor.shutdown_timeout_ms,
 * at most HTTP_DRAIN_MAX_MS), then the daemon stops and the process exits
 * EXIT_DRAINED. SIGHUP is ignored: the supervisor restarts us on a change.
 *
 * A request's life (all in one MHD thread):
 *   1. headers: http_gate() (token, route, method, Content-Type, announced
 *      Content-Length); a refusal is sent at once, before any body byte is
 *      read (MHD then closes the connection instead of reading the body);
 *   2. body: POST bodies are kept up to http.max_body_bytes; past that the
 *      request is a 413 and nothing more is kept. Without Content-Length
 *      (chunked) MHD cannot answer mid-body, so the rest is read and thrown
 *      away, up to HTTP_DISCARD_MAX bytes, for the client to get its 413;
 *      beyond that the connection is closed without an answer;
 *   3. complete: http_handle() answers; the access log line (method, path,
 *      status, duration in ms) is written when MHD reports the request done.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/http_gate.h"
#include "http/http_handlers.h"
#include "http/http_server.h"
#include "proc/role_server.h"

#define HTTP_THREADS 4
#define HTTP_CONN_MEMORY (64 * 1024)  /* per connection: headers and read buffer */
#define HTTP_CONN_LIMIT 256
#define HTTP_CONN_TIMEOUT_S 30
#define HTTP_DRAIN_MAX_MS 10000

struct http_server {
	const struct config *cfg;
	struct http_ctx ctx;
	struct MHD_Daemon *daemon;
	atomic_int inflight;
	atomic_int draining;
};

struct request {
	long long start_ms;
	char method[16];
	char path[256];              /* for the log: control bytes replaced */
	struct http_req req;
	struct http_reply reply;
	struct http_body body;
};

/* ---- sending ------------------------------------------------------------- */

static int add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	return MHD_add_response_header(resp, name, value) == MHD_YES ? 0 : -1;
}

static int reply_headers(struct http_server *s, struct MHD_Response *resp,
			 const struct http_reply *reply)
{
	int rc = add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			    reply->content_type != NULL ? reply->content_type : HTTP_JSON_TYPE);

	if (rc == 0 && reply->location[0] != '\0')
		rc = add_header(resp, MHD_HTTP_HEADER_LOCATION, reply->location);
	if (rc == 0 && reply->allow != NULL)
		rc = add_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
	if (rc == 0 && reply->www_authenticate)
		rc = add_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (rc == 0)
		rc = add_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rc == 0 && atomic_load(&s->draining))
		rc = add_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return rc;
}

static enum MHD_Result send_reply(struct http_server *s, struct MHD_Connection *conn,
				  struct request *r)
{
	struct http_reply *reply = &r->reply;
	struct MHD_Response *resp;
	enum MHD_Result ret = MHD_NO;

	if (reply->body == NULL)
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(reply->body_len, reply->body,
						       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		log_warn("%s %s: cannot create a response", r->method, r->path);
		return MHD_NO;
	}
	reply->body = NULL; /* the response owns it now */
	if (reply_headers(s, resp, reply) == 0)
		ret = MHD_queue_response(conn, (unsigned)reply->status, resp);
	else
		log_warn("%s %s: cannot add response headers", r->method, r->path);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- a request ----------------------------------------------------------- */

static void copy_printable(char *out, size_t len, const char *in)
{
	size_t i = 0;

	for (; in != NULL && in[i] != '\0' && i + 1 < len; i++)
		out[i] = ((unsigned char)in[i] < 0x20 || in[i] == 0x7f) ? '?' : in[i];
	out[i] = '\0';
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static void read_headers(struct MHD_Connection *conn, struct request *r, const char *url,
			 const char *method)
{
	struct http_req *q = &r->req;
	q->method = method;
	q->path = url;
	http_route_parse(url, &q->route);
	q->authorization = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
	q->content_type = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
	q->idempotency_key = header(conn, "Idempotency-Key");
	q->customer = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "customer");
	http_req_set_length(q, header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH),
			    header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING));
}

static enum MHD_Result request_begin(struct http_server *s, struct MHD_Connection *conn,
				     const char *url, const char *method, void **con_cls)
{
	struct request *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		log_warn("%.16s request: out of memory", method);
		return MHD_NO;
	}
	r->start_ms = clock_monotonic_ms();
	copy_printable(r->method, sizeof(r->method), method);
	copy_printable(r->path, sizeof(r->path), url);
	read_headers(conn, r, url, method);
	atomic_fetch_add(&s->inflight, 1);
	*con_cls = r;
	if (http_gate(s->cfg, &r->req, &r->reply))
		return send_reply(s, conn, r);
	return MHD_YES;
}

static enum MHD_Result request_body(struct http_server *s, struct request *r,
				    const char *data, size_t *size)
{
	size_t n = *size, max = s->cfg->http.max_body_bytes;

	*size = 0;
	switch (http_body_add(&r->body, r->req.method, data, n, max)) {
	case HTTP_BODY_OK:
		return MHD_YES;
	case HTTP_BODY_TOO_FAR:
		log_warn("%s %s: body far over %zu bytes; closing the connection",
			 r->method, r->path, max);
		return MHD_NO;
	default:
		log_warn("%s %s: out of memory", r->method, r->path);
		return MHD_NO;
	}
}

static enum MHD_Result request_finish(struct http_server *s, struct MHD_Connection *conn,
				      struct request *r)
{
	if (!http_body_finish(&r->body, s->cfg->http.max_body_bytes, &r->req, &r->reply))
		http_handle(&s->ctx, &r->req, &r->reply);
	return send_reply(s, conn, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct http_server *s = cls;
	struct request *r = *con_cls;

	(void)version;
	if (r == NULL)
		return request_begin(s, conn, url, method, con_cls);
	if (r->reply.status != 0) {
		*size = 0; /* refused already; MHD discards the rest */
		return MHD_YES;
	}
	if (*size > 0)
		return request_body(s, r, data, size);
	return request_finish(s, conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct request *r = *con_cls;

	(void)conn;
	if (r == NULL)
		return;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_info("%s %s %d %lldms", r->method, r->path, r->reply.status,
			 clock_monotonic_ms() - r->start_ms);
	else
		log_info("%s %s %d %lldms (connection ended early: %d)", r->method, r->path,
			 r->reply.status, clock_monotonic_ms() - r->start_ms, (int)toe);
	http_reply_clear(&r->reply);
	http_body_free(&r->body);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warn("libmicrohttpd: %s", line);
}

/* ---- the daemon ---------------------------------------------------------- */

/* http.listen -> a socket address; -1 (logged) when it does not resolve. */
static int resolve_listen(const char *listen, struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256], port[8];
	int rc;

	if (http_listen_parse(listen, host, sizeof(host), port, sizeof(port)) != 0) {
		log_error("http.listen \"%s\": expected host:port", listen);
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		log_error("http.listen \"%s\": cannot resolve %s: %s", listen, host,
			  rc != 0 ? gai_strerror(rc) : "no address");
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static struct MHD_Daemon *start_daemon(struct http_server *s, struct sockaddr_storage *ss)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		/* first, so that MHD's messages about the others come here too */
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_END);
}

static void drain(struct http_server *s)
{
	long long limit = s->cfg->supervisor.shutdown_timeout_ms / 2;
	long long deadline;
	MHD_socket fd;

	if (limit > HTTP_DRAIN_MAX_MS)
		limit = HTTP_DRAIN_MAX_MS;
	deadline = clock_monotonic_ms() + limit;
	atomic_store(&s->draining, 1);
	fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	while (atomic_load(&s->inflight) > 0 && clock_monotonic_ms() < deadline)
		sleep_ms(20);
	if (atomic_load(&s->inflight) > 0)
		log_warn("%d requests still in flight after %lld ms; stopping anyway",
			 atomic_load(&s->inflight), limit);
	MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
}

/* ---- the role skeleton (proc/role_server.h) ------------------------------ */

static int http_start(void *role, struct role_server *rs)
{
	struct http_server *s = role;
	struct sockaddr_storage ss;

	(void)rs;
	if (resolve_listen(s->cfg->http.listen, &ss) != 0)
		return EXIT_CONFIG;
	if (http_dbconns_new(s->cfg, &s->ctx.dbconns) != 0 ||
	    http_brokerprobe_new(s->cfg, &s->ctx.broker) != 0)
		return EXIT_RESTART;
	s->ctx.cfg = s->cfg;
	atomic_init(&s->inflight, 0);
	atomic_init(&s->draining, 0);
	s->daemon = start_daemon(s, &ss);
	if (s->daemon == NULL) {
		log_error("cannot listen on %s (see the lines above)", s->cfg->http.listen);
		return EXIT_RESTART;
	}
	log_info("listening on %s with %d threads", s->cfg->http.listen, HTTP_THREADS);
	return 0;
}

/* The MHD threads serve; the main thread only waits for a stop. */
static int http_turn(void *role, struct role_server *rs)
{
	(void)role;
	role_server_wait(rs, -1);
	return 0;
}

static void http_drain(void *role, struct role_server *rs)
{
	(void)rs;
	log_info("stopping: no new connections, finishing requests in flight");
	drain(role);
}

static void http_stop(void *role)
{
	struct http_server *s = role;

	if (s->daemon != NULL)
		MHD_stop_daemon(s->daemon);
	http_brokerprobe_free(s->ctx.broker);
	http_dbconns_free(s->ctx.dbconns);
}

int http_run(const struct config *cfg)
{
	static const struct role_ops ops = {
		.start = http_start,
		.turn = http_turn,
		.drain = http_drain,
		.stop = http_stop,
	};
	struct http_server s = { .cfg = cfg };

	return role_server_run("http", &ops, &s);
}
