/*
 * tcp_probe: why a TCP connection to host:port fails, in words. rabbitmq-c
 * reports a failed connect only as "a socket error occurred" and MariaDB's
 * Connector/C as "Can't connect to server (115)" (the errno of its
 * non-blocking connect, not the reason); on that failure path one more
 * connect of our own finds the reason the operator needs ("connection
 * refused", "no route to host", ...).
 */
#ifndef ORDERFLOW_TCP_PROBE_H
#define ORDERFLOW_TCP_PROBE_H

#include <stddef.h>

/* Connects to host:port (waiting at most timeout_ms) and closes again.
 * 0 when the connection was accepted; -1 with the reason in `why`
 * (lower case, no trailing period). */
int tcp_probe(const char *host, int port, int timeout_ms, char *why, size_t len);

#endif
