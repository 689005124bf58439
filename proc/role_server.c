/*
 * role_server: the start / turn / drain / stop skeleton shared by the child
 * roles, and the signal reading they all did by hand before.
 */
#include "proc/role_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "proc/signals.h"

#define NAP_SLICE_MS 100

int role_server_signals(struct role_server *rs)
{
	struct signalfd_siginfo si;

	while (read(rs->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			if (!rs->stop)
				log_info("stop requested: finishing what is in hand");
			rs->stop = 1;
		} else {
			log_debug("signal %u: nothing to do (the supervisor restarts "
				  "the children whose settings changed)", si.ssi_signo);
		}
	}
	return rs->stop;
}

void role_server_nap(struct role_server *rs, long ms)
{
	while (ms > 0 && !rs->stop) {
		long slice = ms < NAP_SLICE_MS ? ms : NAP_SLICE_MS;

		sleep_ms(slice);
		ms -= slice;
		role_server_signals(rs);
	}
}

int role_server_wait(struct role_server *rs, long ms)
{
	struct pollfd pfd = { .fd = rs->sigfd, .events = POLLIN };

	if (poll(&pfd, 1, ms < 0 ? -1 : (int)ms) < 0 && errno != EINTR)
		log_warn("%s: poll on the signalfd: %s", rs->name, strerror(errno));
	return role_server_signals(rs);
}

int role_server_run(const char *name, const struct role_ops *ops, void *role)
{
	struct role_server rs = { .name = name };
	int code;

	/* First, before any thread: threads inherit the blocked mask. */
	rs.sigfd = signals_child_fd();
	if (rs.sigfd < 0) {
		log_error("%s: signalfd: %s", name, strerror(errno));
		return EXIT_RESTART;
	}
	code = ops->start(role, &rs);
	while (code == 0 && !rs.stop) {
		code = ops->turn(role, &rs);
		role_server_signals(&rs);
	}
	if (code == 0) {
		if (ops->drain != NULL)
			ops->drain(role, &rs);
		code = EXIT_DRAINED;
	}
	ops->stop(role);
	close(rs.sigfd);
	log_info("%s exits (%d)", name, code);
	return code;
}
