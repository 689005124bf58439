/* signals: blocked signals read from a signalfd, never a handler (see signals.h). */
#include "proc/signals.h"

#include <signal.h>
#include <stddef.h>
#include <sys/signalfd.h>

static void signals_mask(sigset_t *set, int with_chld)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	if (with_chld)
		sigaddset(set, SIGCHLD);
}

/* Blocks the signals of signals_mask() and reads them from a new signalfd. */
static int signals_fd(int with_chld)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	signals_mask(&set, with_chld);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int signals_open_fd(void)
{
	return signals_fd(1);
}

int signals_child_fd(void)
{
	return signals_fd(0);
}

void signals_unblock(void)
{
	sigset_t set;

	signals_mask(&set, 1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}
