/*
 * relay_wake: the eventfd through which writers wake the relays after a
 * commit that appended outbox rows (see relay_wake.h).
 */
#include "relay/relay_wake.h"

#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int wake_fd = -1;

int relay_wake_create(void)
{
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return wake_fd < 0 ? -1 : 0;
}

void relay_wake_notify(void)
{
	uint64_t one = 1;

	/* A full counter or no eventfd only costs the relay's poll interval. */
	if (wake_fd >= 0 && write(wake_fd, &one, sizeof(one)) < 0)
		return;
}

int relay_wake_wait(int other_fd, long timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = other_fd, .events = POLLIN },
		{ .fd = wake_fd, .events = POLLIN },
	};
	uint64_t n;

	if (poll(p, wake_fd >= 0 ? 2 : 1, (int)timeout_ms) <= 0)
		return 0;
	/* One relay takes the wake-up; the others find the rows claimed. */
	if (wake_fd >= 0 && (p[1].revents & POLLIN) && read(wake_fd, &n, sizeof(n)) > 0)
		return 1;
	return 0;
}
