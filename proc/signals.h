/*
 * signals: every process of orderflow blocks the signals it cares about and
 * reads them from a signalfd in its main loop, so no work ever happens in a
 * signal handler.
 */
#ifndef ORDERFLOW_SIGNALS_H
#define ORDERFLOW_SIGNALS_H

/* Blocks SIGTERM, SIGINT, SIGHUP, SIGCHLD (and ignores SIGPIPE) and returns a
 * non-blocking, close-on-exec signalfd for them; -1 with errno on failure. */
int signals_open_fd(void);
/* In a freshly forked child: a new signalfd for SIGTERM, SIGINT and SIGHUP (the
 * mask is inherited, the supervisor's fd is not ours to read). */
int signals_child_fd(void);
/* Restores the default mask (before exec or in a process that wants
 * ordinary signal behaviour). */
void signals_unblock(void);

#endif
