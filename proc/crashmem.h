/*
 * crashmem: what the supervisor remembers about events that killed workers.
 *
 * A shared anonymous mapping, made by the supervisor before it forks, holds one
 * slot per child (the event it is handling right now) and a small table of
 * event ids with the number of crashes they caused, per domain. A child writes
 * its slot before handling an event and clears it after the ack; when a child
 * dies by a signal or an unexpected exit, the supervisor reads its slot and
 * counts a crash for that event. A worker that receives an event whose count
 * reached domains.<name>.crash_limit parks it with reason `crashed` instead of
 * handling it, so a poison message stops killing workers on any queue type.
 *
 * Only the supervisor adds to the crash table and only the owning child writes
 * its slot; the worker that parks an event as `crashed` sets its count back to
 * 0 (crashmem_forget), so a replayed copy starts afresh instead of being parked
 * again at once. Readers tolerate a torn read (an event id is compared whole,
 * the count is an atomic int).
 */
#ifndef ORDERFLOW_CRASHMEM_H
#define ORDERFLOW_CRASHMEM_H

#include <stdatomic.h>

#include "core/envelope.h"

#define CRASHMEM_SLOTS 256
#define CRASHMEM_EVENTS 512

struct crash_slot {
	atomic_int ready;                     /* set by the child once it serves */
	atomic_int busy;                      /* 1 while event_id is being handled */
	char event_id[ENVELOPE_ID_LEN + 1];
	char domain[32];
};

struct crash_event {
	atomic_int count;                     /* 0 = free entry */
	char event_id[ENVELOPE_ID_LEN + 1];
	char domain[32];
};

struct crashmem {
	struct crash_slot slots[CRASHMEM_SLOTS];
	struct crash_event events[CRASHMEM_EVENTS];
	atomic_uint next_event;               /* round-robin replacement */
};

/* Maps the shared region (before any fork). NULL on failure (errno set). */
struct crashmem *crashmem_create(void);
void crashmem_destroy(struct crashmem *cm);

/* Child side. crash_slot_ready() says the child is connected and serving
 * (the supervisor's READY=1 waits for it). */
void crash_slot_ready(struct crash_slot *slot);
void crash_slot_enter(struct crash_slot *slot, const char *domain, const char *event_id);
void crash_slot_leave(struct crash_slot *slot);
/* Crashes counted so far for this event in this domain. */
int crashmem_count(const struct crashmem *cm, const char *domain, const char *event_id);
/* The event was parked as `crashed`: its count has served its purpose. */
void crashmem_forget(struct crashmem *cm, const char *domain, const char *event_id);

/* Supervisor side: a child using `slot` died unexpectedly. If it was handling
 * an event, counts a crash for it and returns the new count (and copies the
 * event id into event_id_out[37]); returns 0 when the slot was idle. Clears
 * the slot. */
int crashmem_record(struct crashmem *cm, struct crash_slot *slot, char *event_id_out);

/* The process-wide pointer children use (set by the supervisor before fork). */
extern struct crashmem *crashmem_shared;

#endif
