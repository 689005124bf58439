/*
 * amqp_link: one AMQP connection and its channel 1 on rabbitmq-c: opening it
 * over the URLs of broker.urls, the keepalive thread and the error buffer
 * (see amqp_link.h).
 */
#include "broker/amqp_link.h"
#include "broker/link_int.h"
#include "core/config.h"
#include "core/log.h"
#include "core/tcp_probe.h"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINK_CONNECT_TIMEOUT_S 5
#define LINK_FRAME_MAX 131072
/* No reply within this time means the broker is gone (rabbitmq-c then closes
 * the socket); the default would wait forever. */
#define LINK_RPC_TIMEOUT_S 30
#define LINK_CLOSE_TIMEOUT_S 5
/* Used when broker.ca_file is unset: Debian's bundle of the system's CAs.
 * (The library has no "system default" switch of its own.) */
#define LINK_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* ---- small helpers shared by broker/ ---------------------------------- */

void link_set_error(struct amqp_link *link, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(link->err, sizeof(link->err), fmt, ap);
	va_end(ap);
}

void link_mark_broken(struct amqp_link *link)
{
	atomic_store(&link->ok, 0);
}

int link_require_ok(struct amqp_link *link, const char *what)
{
	char prev[sizeof(link->err)];

	if (atomic_load(&link->ok))
		return 0;
	snprintf(prev, sizeof(prev), "%s", link->err);
	link_set_error(link, "%s: connection to %s is broken (%s)", what, link->node, prev);
	return -1;
}

int64_t link_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- URL redaction ------------------------------------------------------ */

void amqp_link_redact_url(const char *url, char *out, size_t len)
{
	const char *auth, *at, *colon;

	if (len == 0)
		return;
	auth = strstr(url, "://");
	auth = auth ? auth + 3 : url;
	/* The last '@' ends the user info, even when an unencoded '/' or '@' in
	 * the password would make the URL invalid: better hide too much than
	 * print a password from a typo'd URL. */
	at = strrchr(auth, '@');
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL) {
		snprintf(out, len, "%s", url);
		return;
	}
	snprintf(out, len, "%.*s:***%s", (int)(colon - url), url, at);
}

/* ---- replies ------------------------------------------------------------ */

/* Statuses after which the connection is still in a known state: the call
 * failed before anything went out, or a wait simply ran out of time. */
static int status_is_local(int status)
{
	return status == AMQP_STATUS_INVALID_PARAMETER || status == AMQP_STATUS_TABLE_TOO_BIG ||
	       status == AMQP_STATUS_TIMEOUT;
}

/* Sends channel.close-ok, drops frames still queued for the dead channel (a
 * delivery from it must never reach a caller with a tag the new channel would
 * reuse) and opens channel 1 again, with confirms if they were on. */
static void link_reopen_channel(struct amqp_link *link)
{
	amqp_channel_close_ok_t close_ok = { 0 };
	amqp_frame_t frame;
	char detail[256];
	amqp_rpc_reply_t r;
	int st;

	while (amqp_frames_enqueued(link->conn)) {
		if (amqp_simple_wait_frame(link->conn, &frame) != AMQP_STATUS_OK)
			break;
		if (frame.frame_type == AMQP_FRAME_METHOD && frame.channel == 0 &&
		    frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)
			goto broken;
	}
	st = amqp_send_method(link->conn, AMQP_LINK_CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD,
			      &close_ok);
	if (st != AMQP_STATUS_OK)
		goto broken;

	/* A publish of the old channel is never confirmed now: waiting for its
	 * tag fails on the generation, so no failure needs to linger here. */
	link->pub.failure[0] = '\0';
	link->gen = (link->gen + 1) & 0xffff;
	link->pub.next_seq = 1;
	link->pub.settled_upto = 0;
	if (link->pub.window != NULL)
		memset(link->pub.window, 0, link->pub.window_cap);

	amqp_channel_open(link->conn, AMQP_LINK_CHANNEL);
	r = amqp_get_rpc_reply(link->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		goto broken;
	if (link->pub.confirm) {
		amqp_confirm_select(link->conn, AMQP_LINK_CHANNEL);
		r = amqp_get_rpc_reply(link->conn);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			goto broken;
	}
	amqp_maybe_release_buffers(link->conn);
	return;
broken:
	snprintf(detail, sizeof(detail), "; reopening the channel failed, connection dropped");
	strncat(link->err, detail, sizeof(link->err) - strlen(link->err) - 1);
	link_mark_broken(link);
}

static int link_server_exception(struct amqp_link *link, const amqp_method_t *m, const char *what)
{
	if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
		const amqp_channel_close_t *c = m->decoded;

		link_set_error(link, "%s: %.*s (%u)", what, (int)c->reply_text.len,
			       (const char *)c->reply_text.bytes, c->reply_code);
		link_reopen_channel(link);
	} else if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
		const amqp_connection_close_t *c = m->decoded;
		amqp_connection_close_ok_t close_ok = { 0 };

		link_set_error(link, "%s: connection closed by the broker: %.*s (%u)", what,
			       (int)c->reply_text.len, (const char *)c->reply_text.bytes,
			       c->reply_code);
		/* Best effort: the broker closes the socket either way. */
		(void)amqp_send_method(link->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
		link_mark_broken(link);
	} else {
		link_set_error(link, "%s: unexpected %s from the broker", what,
			       amqp_method_name(m->id));
		link_mark_broken(link);
	}
	return -1;
}

int amqp_link_check_status(struct amqp_link *link, int status, const char *what)
{
	if (status >= 0)
		return 0;
	amqp_link_lock(link);
	link_set_error(link, "%s: %s", what, amqp_error_string2(status));
	if (!status_is_local(status) || amqp_get_sockfd(link->conn) < 0)
		link_mark_broken(link);
	amqp_link_unlock(link);
	return -1;
}

int amqp_link_check(struct amqp_link *link, amqp_rpc_reply_t reply, const char *what)
{
	int rc = -1;

	amqp_link_lock(link);
	switch (reply.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		rc = 0;
		break;
	case AMQP_RESPONSE_NONE:
		link_set_error(link, "%s: no reply from the library (missing RPC reply type)", what);
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		rc = amqp_link_check_status(link, reply.library_error < 0 ? reply.library_error
									 : AMQP_STATUS_UNEXPECTED_STATE,
					    what);
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		rc = link_server_exception(link, &reply.reply, what);
		break;
	}
	amqp_link_unlock(link);
	return rc;
}

/* Describes a failed reply without a link (while connecting). */
static void describe_reply(amqp_rpc_reply_t r, char *out, size_t len)
{
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
		snprintf(out, len, "%s", amqp_error_string2(r.library_error));
	} else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
		   r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
		const amqp_connection_close_t *c = r.reply.decoded;
		snprintf(out, len, "%.*s (%u)", (int)c->reply_text.len,
			 (const char *)c->reply_text.bytes, c->reply_code);
	} else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
		   r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		const amqp_channel_close_t *c = r.reply.decoded;
		snprintf(out, len, "%.*s (%u)", (int)c->reply_text.len,
			 (const char *)c->reply_text.bytes, c->reply_code);
	} else {
		snprintf(out, len, "unexpected reply type %d", (int)r.reply_type);
	}
}

/* ---- connecting --------------------------------------------------------- */

static int link_make_socket(amqp_connection_state_t conn, const struct amqp_connection_info *ci,
			    const struct cfg_broker *cfg, amqp_socket_t **sock_r, char *why,
			    size_t len)
{
	const char *ca;
	int st;

	if (!ci->ssl) {
		*sock_r = amqp_tcp_socket_new(conn);
		if (*sock_r == NULL) {
			snprintf(why, len, "cannot create a TCP socket");
			return -1;
		}
		return 0;
	}
	*sock_r = amqp_ssl_socket_new(conn);
	if (*sock_r == NULL) {
		snprintf(why, len, "cannot create a TLS socket");
		return -1;
	}
	ca = cfg->ca_file ? cfg->ca_file : LINK_SYSTEM_CA_FILE;
	st = amqp_ssl_socket_set_cacert(*sock_r, ca);
	if (st != AMQP_STATUS_OK) {
		snprintf(why, len, "load CA file %s: %s", ca, amqp_error_string2(st));
		return -1;
	}
	/* Both are on by default in 0.11; say so, so nobody turns them off. */
	amqp_ssl_socket_set_verify_peer(*sock_r, 1);
	amqp_ssl_socket_set_verify_hostname(*sock_r, 1);
	return 0;
}

/* What a TLS failure of amqp_socket_open means here, into out ("" for any
 * other status): rabbitmq-c says only which check failed (the OpenSSL detail
 * stays inside the library), so name the CA file or host name checked. */
static void tls_hint(int status, const struct amqp_connection_info *ci,
		     const struct cfg_broker *cfg, char *out, size_t len)
{
	const char *ca = cfg->ca_file ? cfg->ca_file : LINK_SYSTEM_CA_FILE;

	switch (status) {
	case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
		snprintf(out, len, " (the broker's certificate is not signed by a CA of %s)", ca);
		break;
	case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
		snprintf(out, len,
			 " (the broker's certificate does not name the host \"%s\"; connect by a "
			 "DNS name the certificate holds, not by address)",
			 ci->host);
		break;
	case AMQP_STATUS_SSL_CONNECTION_FAILED:
		snprintf(out, len, " (is the port a TLS listener?)");
		break;
	default:
		snprintf(out, len, "%s", "");
	}
}

static int link_login(amqp_connection_state_t conn, const struct amqp_connection_info *ci,
		      const char *role, int heartbeat_s, char *why, size_t len)
{
	char name[128];
	amqp_table_entry_t caps[1], props[2];
	amqp_table_t props_table;
	amqp_rpc_reply_t r;
	char detail[512];
	/* "amqp://host:5672/" parses to the empty vhost, which RabbitMQ never
	 * has: take it as the default vhost, as most clients do. */
	const char *vhost = ci->vhost[0] != '\0' ? ci->vhost : "/";

	snprintf(name, sizeof(name), "orderflow %s %ld", role, (long)getpid());
	/* Without this capability RabbitMQ does not tell us when it cancels our
	 * consumer (queue deleted, node lost). */
	caps[0].key = amqp_cstring_bytes("consumer_cancel_notify");
	caps[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
	caps[0].value.value.boolean = 1;
	props[0].key = amqp_cstring_bytes("connection_name");
	props[0].value.kind = AMQP_FIELD_KIND_UTF8;
	props[0].value.value.bytes = amqp_cstring_bytes(name);
	props[1].key = amqp_cstring_bytes("capabilities");
	props[1].value.kind = AMQP_FIELD_KIND_TABLE;
	props[1].value.value.table.num_entries = 1;
	props[1].value.value.table.entries = caps;
	props_table.num_entries = 2;
	props_table.entries = props;

	r = amqp_login_with_properties(conn, vhost, 0, LINK_FRAME_MAX, heartbeat_s, &props_table,
				       AMQP_SASL_METHOD_PLAIN, ci->user, ci->password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		describe_reply(r, detail, sizeof(detail));
		snprintf(why, len, "login as %s to vhost %s: %s", ci->user, vhost, detail);
		return -1;
	}
	amqp_channel_open(conn, AMQP_LINK_CHANNEL);
	r = amqp_get_rpc_reply(conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		describe_reply(r, detail, sizeof(detail));
		snprintf(why, len, "open channel %d: %s", AMQP_LINK_CHANNEL, detail);
		return -1;
	}
	return 0;
}

/* The words for a failed amqp_socket_open: for a plain "socket error" the
 * library keeps the reason to itself, so a connect of our own finds it
 * ("connection refused"). */
static const char *socket_failure(int status, const struct amqp_connection_info *ci, char *buf,
				  size_t len)
{
	if (status != AMQP_STATUS_SOCKET_ERROR ||
	    tcp_probe(ci->host, ci->port, LINK_CONNECT_TIMEOUT_S * 1000, buf, len) == 0)
		return amqp_error_string2(status);
	return buf;
}

/* One URL: connect, log in, open channel 1. On failure `why` says which step
 * failed and how, and *conn_r is NULL. */
static int link_connect_one(const struct cfg_broker *cfg, const char *url, const char *role,
			    amqp_connection_state_t *conn_r, char *why, size_t len)
{
	struct amqp_connection_info ci;
	struct timeval tv = { .tv_sec = LINK_CONNECT_TIMEOUT_S };
	struct timeval rpc_tv = { .tv_sec = LINK_RPC_TIMEOUT_S };
	amqp_connection_state_t conn = NULL;
	amqp_socket_t *sock;
	char *copy = NULL, hint[512], tcp_why[160];
	int rc = -1, st;

	*conn_r = NULL;
	copy = strdup(url); /* amqp_parse_url writes into its argument */
	if (copy == NULL) {
		snprintf(why, len, "out of memory");
		goto cleanup;
	}
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		snprintf(why, len, "not a valid amqp:// or amqps:// URL (percent-encode "
				   "reserved characters such as / @ : in the password)");
		goto cleanup;
	}
	conn = amqp_new_connection();
	if (conn == NULL) {
		snprintf(why, len, "out of memory");
		goto cleanup;
	}
	if (link_make_socket(conn, &ci, cfg, &sock, why, len) < 0)
		goto cleanup;
	st = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
	if (st != AMQP_STATUS_OK) {
		tls_hint(st, &ci, cfg, hint, sizeof(hint));
		snprintf(why, len, "connect to %s:%d%s: %s%s", ci.host, ci.port,
			 ci.ssl ? " over TLS" : "", socket_failure(st, &ci, tcp_why, sizeof(tcp_why)),
			 hint);
		goto cleanup;
	}
	if (link_login(conn, &ci, role, cfg->heartbeat_s, why, len) < 0)
		goto cleanup;
	st = amqp_set_rpc_timeout(conn, &rpc_tv);
	if (st != AMQP_STATUS_OK) {
		snprintf(why, len, "set RPC timeout: %s", amqp_error_string2(st));
		goto cleanup;
	}
	*conn_r = conn;
	conn = NULL;
	rc = 0;
cleanup:
	if (conn != NULL)
		amqp_destroy_connection(conn);
	free(copy);
	return rc;
}

static struct amqp_link *link_new(int heartbeat_s)
{
	struct amqp_link *link = calloc(1, sizeof(*link));
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;

	if (link == NULL)
		return NULL;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&link->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&link->ka_cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&link->ok, 1);
	link->gen = 0; /* first channel's tags are the broker's own numbers */
	link->heartbeat_s = heartbeat_s;
	link->pub.next_seq = 1;
	return link;
}

/* Appends "; " + s to a malloc'd string (NULL = empty); on allocation
 * failure the list keeps what it had. */
static char *append_failure(char *acc, const char *s)
{
	char *n = NULL;

	if (asprintf(&n, "%s%s%s", acc ? acc : "", acc ? "; " : "", s) < 0)
		return acc;
	free(acc);
	return n;
}

int amqp_link_open(const struct cfg_broker *cfg, const char *role, struct amqp_link **link_r,
		   char **err_r)
{
	amqp_connection_state_t conn = NULL;
	char why[768], redacted[256], line[1100];
	char *failures = NULL;
	int i;

	*link_r = NULL;
	*err_r = NULL;
	for (i = 0; i < cfg->urls.count && conn == NULL; i++) {
		amqp_link_redact_url(cfg->urls.items[i], redacted, sizeof(redacted));
		if (link_connect_one(cfg, cfg->urls.items[i], role, &conn, why, sizeof(why)) < 0) {
			snprintf(line, sizeof(line), "%s: %s", redacted, why);
			failures = append_failure(failures, line);
		}
	}
	if (conn == NULL) {
		snprintf(line, sizeof(line), "cannot connect to the broker: %s",
			 cfg->urls.count ? "every URL failed: " : "no broker URL configured");
		if (asprintf(err_r, "%s%s", line, failures ? failures : "") < 0)
			*err_r = NULL;
		free(failures);
		return -1;
	}
	*link_r = link_new(cfg->heartbeat_s);
	if (*link_r == NULL) {
		amqp_destroy_connection(conn);
		free(failures);
		*err_r = strdup("cannot connect to the broker: out of memory");
		return -1;
	}
	(*link_r)->conn = conn;
	snprintf((*link_r)->node, sizeof((*link_r)->node), "%s", redacted);
	if (failures != NULL)
		log_warn("connected to %s after failures: %s", redacted, failures);
	free(failures);
	return 0;
}

/* ---- keepalive ---------------------------------------------------------- */

static void *keepalive_main(void *arg)
{
	struct amqp_link *link = arg;
	int64_t check_ms = link->heartbeat_s * 1000 / 4, beat_ms = link->heartbeat_s * 1000 / 2;
	int64_t last = link_now_ms();
	amqp_frame_t hb = { .frame_type = AMQP_FRAME_HEARTBEAT, .channel = 0 };
	struct timespec until;

	if (check_ms < 1000)
		check_ms = 1000;
	pthread_mutex_lock(&link->mu);
	while (!link->ka_stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += check_ms / 1000;
		until.tv_nsec += (check_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&link->ka_cond, &link->mu, &until);
		if (link->ka_stop || !atomic_load(&link->ok) || link_now_ms() - last < beat_ms)
			continue;
		/* Unconditional: one 8-byte frame per half interval is cheaper
		 * than tracking every send of the library. */
		(void)amqp_link_check_status(link, amqp_send_frame(link->conn, &hb),
					     "send heartbeat");
		last = link_now_ms();
	}
	pthread_mutex_unlock(&link->mu);
	return NULL;
}

void amqp_link_keepalive_start(struct amqp_link *link)
{
	int err;

	pthread_mutex_lock(&link->mu);
	if (link->ka_running || link->heartbeat_s <= 0)
		goto cleanup;
	link->ka_stop = 0;
	err = pthread_create(&link->ka_thread, NULL, keepalive_main, link);
	if (err != 0) {
		log_warn("start AMQP keepalive thread for %s: %s", link->node, strerror(err));
		goto cleanup;
	}
	link->ka_running = 1;
cleanup:
	pthread_mutex_unlock(&link->mu);
}

static void keepalive_stop(struct amqp_link *link)
{
	pthread_mutex_lock(&link->mu);
	if (!link->ka_running) {
		pthread_mutex_unlock(&link->mu);
		return;
	}
	link->ka_stop = 1;
	pthread_cond_signal(&link->ka_cond);
	pthread_mutex_unlock(&link->mu);
	pthread_join(link->ka_thread, NULL);
	link->ka_running = 0;
}

/* ---- the rest of the contract ------------------------------------------- */

void amqp_link_close(struct amqp_link *link)
{
	struct timeval tv = { .tv_sec = LINK_CLOSE_TIMEOUT_S };
	amqp_rpc_reply_t r;
	char detail[512];

	if (link == NULL)
		return;
	keepalive_stop(link);
	if (atomic_load(&link->ok)) {
		(void)amqp_set_rpc_timeout(link->conn, &tv);
		/* Channel first: its close-ok proves the broker has processed
		 * every ack we sent on it (RabbitMQ issue 10327). */
		r = amqp_channel_close(link->conn, AMQP_LINK_CHANNEL, AMQP_REPLY_SUCCESS);
		if (r.reply_type != AMQP_RESPONSE_NORMAL) {
			describe_reply(r, detail, sizeof(detail));
			log_warn("close channel to %s: %s", link->node, detail);
		}
		if (amqp_get_sockfd(link->conn) >= 0) {
			r = amqp_connection_close(link->conn, AMQP_REPLY_SUCCESS);
			if (r.reply_type != AMQP_RESPONSE_NORMAL) {
				describe_reply(r, detail, sizeof(detail));
				log_warn("close connection to %s: %s", link->node, detail);
			}
		}
	}
	amqp_destroy_connection(link->conn);
	free(link->pub.window);
	pthread_cond_destroy(&link->ka_cond);
	pthread_mutex_destroy(&link->mu);
	free(link);
}

amqp_connection_state_t amqp_link_conn(struct amqp_link *link)
{
	return link->conn;
}

int amqp_link_ok(const struct amqp_link *link)
{
	return atomic_load(&link->ok);
}

const char *amqp_link_error(const struct amqp_link *link)
{
	return link->err;
}

const char *amqp_link_node(const struct amqp_link *link)
{
	return link->node;
}

void amqp_link_lock(struct amqp_link *link)
{
	pthread_mutex_lock(&link->mu);
}

void amqp_link_unlock(struct amqp_link *link)
{
	pthread_mutex_unlock(&link->mu);
}
