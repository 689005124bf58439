/*
 * supervisor: the service table, the child table and the loop that keeps them
 * in step. Forking and the child side live in supervisor_spawn.c; what a
 * reload changes is decided in supervisor_conf.c.
 */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "proc/crashmem.h"
#include "proc/poolstats.h"
#include "relay/relay_wake.h"
#include "proc/signals.h"
#include "supervisor/supervisor_int.h"

/* A child that ran this long before dying was healthy: its backoff resets. */
#define HEALTHY_RUN_MS 10000
/* A role whose backoff reached this is reported as throttled. */
#define THROTTLE_REPORT_MS 4000
/* READY=1 is sent once every first child reported ready, or after this. */
#define READY_WAIT_MS 20000

static struct service *service_of(struct supervisor *s, const struct child *c)
{
	return &s->services[c->service];
}

static int child_count(const struct supervisor *s, int service, int live_only)
{
	int n = 0;

	for (int i = 0; i < CRASHMEM_SLOTS; i++) {
		const struct child *c = &s->children[i];

		if (c->pid > 0 && c->service == service &&
		    (!live_only || (!c->stopping && c->generation == s->services[service].generation)))
			n++;
	}
	return n;
}

static int children_alive(const struct supervisor *s)
{
	int n = 0;

	for (int i = 0; i < CRASHMEM_SLOTS; i++)
		if (s->children[i].pid > 0)
			n++;
	return n;
}

/* ---- status for systemd -------------------------------------------------- */

void supervisor_status(struct supervisor *s)
{
	char buf[1024];
	size_t off = 0;
	int throttled = 0;

	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "STATUS=%d children:",
				children_alive(s));
	for (int i = 0; i < s->nservices && off < sizeof(buf); i++) {
		struct service *sv = &s->services[i];

		off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s %d/%d", sv->name,
					child_count(s, i, 1), sv->wanted);
	}
	for (int i = 0; i < s->nservices && off < sizeof(buf); i++) {
		struct service *sv = &s->services[i];

		if (sv->backoff_ms >= THROTTLE_REPORT_MS && sv->wanted > 0) {
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s (restart in %lld s)",
						throttled++ ? ", " : "; throttled: ", sv->name,
						(sv->next_start_ms - clock_monotonic_ms() + 999) / 1000);
		}
	}
	sd_notify(0, buf);
}

/* ---- reaping ------------------------------------------------------------- */

/* A child we asked to stop. Anything but exit 0 (a non-zero status, a
 * signal, our own SIGKILL after shutdown_timeout_ms) may have dropped work in
 * hand, so it is a warning, and during shutdown it makes orderflowd's own
 * exit status 1 (DESIGN.md "Supervisor": a clean stop exits 0). */
static void child_stopped(struct supervisor *s, struct child *c, int wstatus)
{
	struct service *sv = service_of(s, c);

	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		log_info("%s %ld stopped (exit 0)", sv->title, (long)c->pid);
		return;
	}
	if (WIFEXITED(wstatus))
		log_warn("%s %ld (role %s) stopped uncleanly: exit status %d", sv->title,
			 (long)c->pid, sv->name, WEXITSTATUS(wstatus));
	else
		log_warn("%s %ld (role %s) stopped uncleanly: killed by signal %d (%s)%s",
			 sv->title, (long)c->pid, sv->name, WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)),
			 c->killed ? " after shutdown_timeout_ms" : "");
	if (s->stopping)
		s->unclean_stops++;
}

static void child_died(struct supervisor *s, struct child *c, int wstatus)
{
	struct service *sv = service_of(s, c);
	long long now = clock_monotonic_ms();
	long long ran = now - c->started_ms;
	char event_id[ENVELOPE_ID_LEN + 1] = "";
	int crashes = 0;
	int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;

	if (c->stopping) {
		child_stopped(s, c, wstatus);
		goto done;
	}
	crashes = crashmem_record(s->crash, &s->crash->slots[c - s->children], event_id);
	/* It is started again (after its backoff): orderflow_child_restarts_total. */
	if (poolstats_shared != NULL)
		poolstats_add(&poolstats_shared->restarts[c->service], 1);
	if (WIFSIGNALED(wstatus))
		log_error("%s %ld died by signal %d (%s)%s%s", sv->title, (long)c->pid,
			  WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
			  crashes ? " while handling event " : "", event_id);
	else
		log_error("%s %ld exited unexpectedly with status %d%s%s", sv->title,
			  (long)c->pid, code, crashes ? " while handling event " : "", event_id);
	if (crashes > 0)
		log_warn("event %s has crashed %s workers %d time(s); it is parked at %d",
			 event_id, sv->name, crashes, sv->crash_limit);
	/* Backoff: reset after a healthy run, else double up to the maximum. A
	 * child refusing its configuration waits the maximum at once. */
	if (code == EXIT_CONFIG)
		sv->backoff_ms = s->cfg->supervisor.restart_backoff_max_ms;
	else if (ran >= HEALTHY_RUN_MS || sv->backoff_ms == 0)
		sv->backoff_ms = s->cfg->supervisor.restart_backoff_min_ms;
	else if (sv->backoff_ms * 2 <= s->cfg->supervisor.restart_backoff_max_ms)
		sv->backoff_ms *= 2;
	else
		sv->backoff_ms = s->cfg->supervisor.restart_backoff_max_ms;
	sv->next_start_ms = now + sv->backoff_ms;
	if (sv->backoff_ms >= THROTTLE_REPORT_MS)
		log_warn("%s keeps dying: next start in %ld ms", sv->name, sv->backoff_ms);
	s->status_dirty = 1;
done:
	memset(&s->crash->slots[c - s->children], 0, sizeof(struct crash_slot));
	memset(c, 0, sizeof(*c));
}

static void supervisor_reap(struct supervisor *s)
{
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (int i = 0; i < CRASHMEM_SLOTS; i++) {
			if (s->children[i].pid == pid) {
				child_died(s, &s->children[i], wstatus);
				break;
			}
		}
	}
}

/* ---- reconciling ------------------------------------------------------- */

static void stop_child(struct supervisor *s, struct child *c, const char *why)
{
	if (c->stopping)
		return;
	log_info("stopping %s %ld: %s", service_of(s, c)->title, (long)c->pid, why);
	c->stopping = 1;
	c->stop_sent_ms = clock_monotonic_ms();
	kill(c->pid, SIGTERM);
}

static void reconcile_service(struct supervisor *s, int i)
{
	struct service *sv = &s->services[i];
	int live = child_count(s, i, 1);

	/* Old generation or extra children: stop them gracefully. */
	for (int k = 0; k < CRASHMEM_SLOTS; k++) {
		struct child *c = &s->children[k];

		if (c->pid <= 0 || c->service != i || c->stopping)
			continue;
		if (c->generation != sv->generation)
			stop_child(s, c, "its settings changed");
		else if (live > sv->wanted) {
			stop_child(s, c, "fewer workers wanted");
			live--;
		}
	}
	while (live < sv->wanted && !s->stopping) {
		if (clock_monotonic_ms() < sv->next_start_ms)
			break;
		if (supervisor_spawn(s, i) != 0)
			break;
		live++;
		s->status_dirty = 1;
	}
}

static void supervisor_reconcile(struct supervisor *s)
{
	for (int i = 0; i < s->nservices; i++)
		reconcile_service(s, i);
}

/* ---- readiness ----------------------------------------------------------- */

static void supervisor_check_ready(struct supervisor *s)
{
	int waiting = 0;

	if (s->ready_sent)
		return;
	for (int k = 0; k < CRASHMEM_SLOTS; k++)
		if (s->children[k].pid > 0 && !atomic_load(&s->crash->slots[k].ready))
			waiting++;
	if (waiting > 0 && clock_monotonic_ms() - s->started_ms < READY_WAIT_MS)
		return;
	if (waiting > 0)
		log_warn("%d children not ready after %d ms; reporting ready anyway", waiting,
			 READY_WAIT_MS);
	log_info("ready: %d children", children_alive(s));
	sd_notify(0, "READY=1");
	s->ready_sent = 1;
	s->status_dirty = 1;
}

/* ---- signals ------------------------------------------------------------- */

static void supervisor_begin_stop(struct supervisor *s, int signo)
{
	if (s->stopping)
		return;
	log_info("%s: stopping %d children (timeout %d ms)", strsignal(signo),
		 children_alive(s), s->cfg->supervisor.shutdown_timeout_ms);
	sd_notify(0, "STOPPING=1");
	s->stopping = 1;
	s->stop_started_ms = clock_monotonic_ms();
	for (int k = 0; k < CRASHMEM_SLOTS; k++)
		if (s->children[k].pid > 0)
			stop_child(s, &s->children[k], "orderflowd is stopping");
}

static void supervisor_signals(struct supervisor *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			supervisor_begin_stop(s, (int)si.ssi_signo);
			break;
		case SIGHUP:
			if (!s->stopping)
				supervisor_reload(s);
			break;
		case SIGCHLD:
			break; /* reaped below */
		}
	}
}

/* Kills what did not stop in time (a child stuck in a handler). */
static void supervisor_enforce_timeouts(struct supervisor *s)
{
	long long now = clock_monotonic_ms();
	long long limit = s->cfg->supervisor.shutdown_timeout_ms;

	for (int k = 0; k < CRASHMEM_SLOTS; k++) {
		struct child *c = &s->children[k];

		if (c->pid > 0 && c->stopping && !c->killed && now - c->stop_sent_ms > limit) {
			log_warn("%s %ld did not stop within %lld ms: killing it",
				 service_of(s, c)->title, (long)c->pid, limit);
			kill(c->pid, SIGKILL);
			c->killed = 1;
		}
	}
}

static void supervisor_watchdog(struct supervisor *s)
{
	long long now = clock_monotonic_ms();

	if (s->watchdog_ms <= 0 || now < s->next_watchdog_ms)
		return;
	sd_notify(0, "WATCHDOG=1");
	s->next_watchdog_ms = now + s->watchdog_ms / 2;
}

static int supervisor_loop(struct supervisor *s)
{
	struct pollfd pfd = { .fd = s->sigfd, .events = POLLIN };

	for (;;) {
		supervisor_reap(s);
		if (s->stopping && children_alive(s) == 0)
			break;
		supervisor_reconcile(s);
		supervisor_enforce_timeouts(s);
		supervisor_check_ready(s);
		supervisor_watchdog(s);
		if (s->status_dirty) {
			supervisor_status(s);
			s->status_dirty = 0;
		}
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			log_fatal(EXIT_RESTART, "poll on signalfd: %s", strerror(errno));
		supervisor_signals(s);
	}
	if (s->unclean_stops > 0) {
		char status[96];

		snprintf(status, sizeof(status), "STATUS=stopped: %d children stopped uncleanly",
			 s->unclean_stops);
		sd_notify(0, status);
		log_warn("all children stopped, %d of them uncleanly; exiting with status 1",
			 s->unclean_stops);
		return 1;
	}
	sd_notify(0, "STATUS=stopped: every child stopped cleanly");
	log_info("all children stopped; exiting");
	return 0;
}

int supervisor_run(struct config *cfg, const char *config_path)
{
	struct supervisor s;
	uint64_t wd_usec = 0;
	int code;

	memset(&s, 0, sizeof(s));
	/* Before any child: a schema they cannot use would only make them fail
	 * one by one. */
	if (supervisor_schema_check(cfg) != 0) {
		log_error("not starting: the database schema does not match this orderflowd");
		config_free(cfg);
		return EXIT_CONFIG;
	}
	s.cfg = cfg;
	s.config_path = config_path;
	s.started_ms = clock_monotonic_ms();
	s.crash = crashmem_create();
	if (s.crash == NULL)
		log_fatal(EXIT_RESTART, "cannot map the crash memory: %s", strerror(errno));
	crashmem_shared = s.crash;
	poolstats_shared = poolstats_create();
	if (poolstats_shared == NULL)
		log_fatal(EXIT_RESTART, "cannot map the pool statistics: %s", strerror(errno));
	if (relay_wake_create() != 0)
		log_warn("eventfd for waking the relays: %s; they poll every %d ms", strerror(errno),
			 cfg->relay.poll_ms);
	s.sigfd = signals_open_fd();
	if (s.sigfd < 0)
		log_fatal(EXIT_RESTART, "signalfd: %s", strerror(errno));
	if (sd_watchdog_enabled(0, &wd_usec) > 0)
		s.watchdog_ms = (long long)(wd_usec / 1000);
	supervisor_build_services(&s, cfg);
	log_info("orderflowd %s starting with %s", ORDERFLOW_VERSION, config_path);
	code = supervisor_loop(&s);
	close(s.sigfd);
	crashmem_destroy(s.crash);
	poolstats_destroy(poolstats_shared);
	for (int i = 0; i < SERVICES_MAX; i++)
		free(s.services[i].fingerprint);
	config_free(s.cfg);
	return code;
}
