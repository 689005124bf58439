/*
 * relay_wake: wakes the relays of this pool as soon as an outbox row is
 * committed, so an event leaves within a millisecond instead of waiting for
 * the relay's next poll.
 *
 * The supervisor makes one eventfd before it forks; every child inherits it.
 * A writer (a domain worker, the HTTP intake) calls relay_wake_notify() after
 * a commit that appended outbox rows; a relay waits in relay_wake_wait(). A
 * writer outside the pool (orderflowctl, another host) wakes nobody: the
 * relay's poll interval (relay.poll_ms) is the fallback that finds its rows.
 */
#ifndef ORDERFLOW_RELAY_WAKE_H
#define ORDERFLOW_RELAY_WAKE_H

/* Supervisor, before forking: 0, or -1 with errno (the pool then polls). */
int relay_wake_create(void);
/* After a commit that added outbox rows; never blocks, never fails loudly. */
void relay_wake_notify(void);
/* Waits up to timeout_ms for a wake-up or for `other_fd` (a signalfd) to
 * become readable. Returns 1 when woken, 0 otherwise. */
int relay_wake_wait(int other_fd, long timeout_ms);

#endif
