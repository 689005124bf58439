/*
 * supervisor_spawn: fork one child and, in the child, become its role.
 *
 * The child inherits no connection (the supervisor holds none), gets its own
 * signalfd, forgets systemd's notify socket (only the main PID notifies),
 * asks the kernel for SIGTERM when the supervisor dies (no orphan consumer
 * keeps taking messages), and sets its process title.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "proc/proctitle.h"
#include "supervisor/supervisor_int.h"

static int free_slot(const struct supervisor *s)
{
	for (int k = 0; k < CRASHMEM_SLOTS; k++)
		if (s->children[k].pid == 0)
			return k;
	return -1;
}

static void child_main(struct supervisor *s, int service, int slot, pid_t parent)
{
	struct service *sv = &s->services[service];
	char title[96];
	int code;

	close(s->sigfd);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(EXIT_DRAINED); /* the supervisor is already gone */
	log_init(sv->title);
	snprintf(title, sizeof(title), "orderflowd: %s", sv->title);
	proctitle_set(title);
	/* Only tests set this: a role whose child exits at once, every time,
	 * proves the restart backoff. */
	if (getenv("ORDERFLOW_TEST_EXIT_AT_START") != NULL &&
	    strcmp(getenv("ORDERFLOW_TEST_EXIT_AT_START"), sv->name) == 0)
		_exit(1);
	code = role_get(sv->kind)->run(s->cfg, sv->domain, &s->crash->slots[slot]);
	fflush(NULL);
	exit(code);
}

int supervisor_spawn(struct supervisor *s, int service)
{
	struct service *sv = &s->services[service];
	int slot = free_slot(s);
	pid_t parent = getpid();
	pid_t pid;

	if (slot < 0) {
		log_error("cannot start %s: all %d child slots are in use", sv->title,
			  CRASHMEM_SLOTS);
		return -1;
	}
	memset(&s->crash->slots[slot], 0, sizeof(s->crash->slots[slot]));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("fork for %s: %s", sv->title, strerror(errno));
		sv->next_start_ms = clock_monotonic_ms() + 1000;
		return -1;
	}
	if (pid == 0)
		child_main(s, service, slot, parent);
	s->children[slot] = (struct child){
		.pid = pid, .service = service, .generation = sv->generation,
		.started_ms = clock_monotonic_ms(),
	};
	log_info("started %s %ld", sv->title, (long)pid);
	return 0;
}
