/*
 * supervisor: orderflowd's main process (DESIGN.md "Supervisor").
 *
 * It holds a service table (one entry per role: each enabled domain, the
 * relay, the HTTP intake, with the wanted count, a settings generation and the
 * restart backoff) and a child table (pid, service, generation, start time,
 * crash slot). The loop waits on a signalfd with a timeout and, after every
 * event, reconciles: reap, count crashes, start what is missing (respecting the
 * backoff), stop what is extra or of an old generation. It holds no AMQP or
 * database connection: children connect after fork.
 *
 * supervisor_run() returns the process exit code (0 after a clean stop).
 */
#ifndef ORDERFLOW_SUPERVISOR_H
#define ORDERFLOW_SUPERVISOR_H

#include "core/config.h"

/* cfg is taken over (freed by the supervisor, replaced on reload). */
int supervisor_run(struct config *cfg, const char *config_path);

#endif
