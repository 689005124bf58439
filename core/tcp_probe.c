/* tcp_probe: one TCP connect to learn why connecting fails (see tcp_probe.h). */
#include "core/tcp_probe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* strerror in the middle of a sentence: "Connection refused" -> "connection refused". */
static void say_errno(int err, char *why, size_t len)
{
	snprintf(why, len, "%s", strerror(err));
	if (len > 0 && why[0] != '\0' && !isupper((unsigned char)why[1]))
		why[0] = (char)tolower((unsigned char)why[0]);
}

/* 0 on a connection; else the errno of the attempt (ETIMEDOUT for none in time). */
static int try_address(const struct addrinfo *a, int timeout_ms)
{
	struct pollfd p = { .events = POLLOUT };
	socklen_t elen = sizeof(int);
	int err = 0;

	p.fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
	if (p.fd < 0)
		return errno;
	if (connect(p.fd, a->ai_addr, a->ai_addrlen) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			int n = poll(&p, 1, timeout_ms);

			if (n == 0)
				err = ETIMEDOUT;
			else if (n < 0)
				err = errno;
			else if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
				err = errno;
		}
	}
	close(p.fd);
	return err;
}

int tcp_probe(const char *host, int port, int timeout_ms, char *why, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *list = NULL;
	char service[16];
	int rc, err = 0;

	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &list);
	if (rc != 0) {
		snprintf(why, len, "cannot resolve the host name %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (const struct addrinfo *a = list; a != NULL; a = a->ai_next) {
		err = try_address(a, timeout_ms);
		if (err == 0)
			break;
	}
	freeaddrinfo(list);
	if (err == 0) {
		snprintf(why, len, "the TCP connection succeeded");
		return 0;
	}
	if (err == ETIMEDOUT)
		snprintf(why, len, "no answer within %d ms (a firewall, or the host is down)",
			 timeout_ms);
	else
		say_errno(err, why, len);
	return -1;
}
