/*
 * role_server: the one process skeleton every child role runs (a domain
 * worker, the relay, the HTTP intake), as Postfix's daemons share
 * single_server.c: open the signalfd, start, turn the role's loop until
 * SIGTERM/SIGINT, drain, stop. The role supplies only what differs.
 */
#ifndef ORDERFLOW_ROLE_SERVER_H
#define ORDERFLOW_ROLE_SERVER_H

struct role_server {
	const char *name;   /* for the log: "relay", "http", a domain */
	int sigfd;          /* SIGTERM, SIGINT, SIGHUP, read by role_server_signals */
	int stop;           /* 1 once SIGTERM or SIGINT arrived */
};

struct role_ops {
	/* Set-up after fork: 0, or the exit code (EXIT_CONFIG, EXIT_RESTART). */
	int (*start)(void *role, struct role_server *rs);
	/* One turn of the role's work; should return within a few hundred ms
	 * (or wait on rs->sigfd) so a stop is seen. 0 to go on, or the exit
	 * code to end with at once, without draining. */
	int (*turn)(void *role, struct role_server *rs);
	/* Optional: after a stop request, finish what is in hand. */
	void (*drain)(void *role, struct role_server *rs);
	/* Releases everything start acquired, also after a failed start. */
	void (*stop)(void *role);
};

/* Runs the role to its end and returns the process's exit status: EXIT_DRAINED
 * after a stop request, or what start or turn returned. */
int role_server_run(const char *name, const struct role_ops *ops, void *role);

/* Reads the pending signals; returns rs->stop. SIGHUP is only logged: the
 * supervisor re-reads the file and restarts the children whose keys changed. */
int role_server_signals(struct role_server *rs);
/* Sleeps up to ms in short slices, returning early on a stop request. */
void role_server_nap(struct role_server *rs, long ms);
/* Waits up to ms (-1: for ever) for a signal; returns rs->stop. */
int role_server_wait(struct role_server *rs, long ms);

#endif
