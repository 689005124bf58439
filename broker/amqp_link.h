/*
 * amqp_link: one AMQP connection with one open channel (channel 1), on
 * rabbitmq-c.
 *
 * amqp_link_open() tries each URL of broker.urls in turn (amqp:// or amqps://),
 * negotiates broker.heartbeat_s, sets the client property connection_name to
 * "orderflow ROLE PID", and opens channel 1. rabbitmq-c has no automatic
 * recovery: when a call reports the connection gone (amqp_link_ok() == 0) the
 * owner closes the link and opens a new one with backoff, then declares again
 * what it needs.
 *
 * Heartbeats: rabbitmq-c only sends heartbeats inside library calls. A process
 * that may block elsewhere (a long database transaction) calls
 * amqp_link_keepalive_start(): a thread then sends heartbeat frames whenever
 * the connection has been idle for half the heartbeat interval. From then on
 * every use of the connection must happen between amqp_link_lock() and
 * amqp_link_unlock() (the helpers in this folder do so themselves).
 *
 * Errors: functions return 0 / -1 and write "what: the broker's or library's
 * message" into the link's error buffer, read with amqp_link_error().
 */
#ifndef ORDERFLOW_AMQP_LINK_H
#define ORDERFLOW_AMQP_LINK_H

#include <amqp.h>
#include <stddef.h>

struct cfg_broker;
struct amqp_link;

#define AMQP_LINK_CHANNEL 1

/* On failure returns -1 and *err_r, a malloc'd line naming every URL tried
 * (passwords redacted) and why it failed; the caller frees it. */
int amqp_link_open(const struct cfg_broker *cfg, const char *role, struct amqp_link **link_r,
		   char **err_r);
/* Closes the channel and the connection politely when still up, then frees. */
void amqp_link_close(struct amqp_link *link);

amqp_connection_state_t amqp_link_conn(struct amqp_link *link);
/* 1 while the connection is usable; 0 once a call found it closed or broken. */
int amqp_link_ok(const struct amqp_link *link);
const char *amqp_link_error(const struct amqp_link *link);
/* The URL (without password) of the node this link is connected to. */
const char *amqp_link_node(const struct amqp_link *link);

/* Interprets a reply of rabbitmq-c: 0 when normal; otherwise -1 and the
 * error buffer says "WHAT: <server or library message>", e.g. "declare queue
 * Q: PRECONDITION_FAILED - inequivalent arg ... (406)".
 * - channel.close from the broker (a declaration conflict, an unknown
 *   exchange, ...): close-ok is sent and channel 1 reopened at once (with
 *   confirms again if they were on), so the link stays usable; consumers,
 *   prefetch and unconfirmed publishes of the old channel are gone, and tags
 *   from it are refused. Only when reopening fails is the link broken.
 * - connection.close, a socket or heartbeat failure, any other library
 *   error: the link is broken (amqp_link_ok() == 0); close it and open anew.
 * - a timeout of a wait of ours (not of an RPC) leaves the link usable. */
int amqp_link_check(struct amqp_link *link, amqp_rpc_reply_t reply, const char *what);
/* Same for a library status code (amqp_basic_publish, amqp_basic_ack, ...). */
int amqp_link_check_status(struct amqp_link *link, int status, const char *what);

/* Starts the keepalive thread (nothing when the heartbeat is off; idempotent).
 * It sends a heartbeat frame every heartbeat/2 s (checking every heartbeat/4 s,
 * at least 1 s) under the link's mutex; amqp_link_close() stops it. */
void amqp_link_keepalive_start(struct amqp_link *link);
/* The mutex is recursive: the helpers take it again inside a caller's lock. */
void amqp_link_lock(struct amqp_link *link);
void amqp_link_unlock(struct amqp_link *link);

/* Writes URL with its password replaced by "***" into out (always
 * NUL-terminated), for logs and errors. Works on malformed URLs too. */
void amqp_link_redact_url(const char *url, char *out, size_t len);

#endif
