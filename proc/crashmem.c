/*
 * crashmem: the shared memory of events that killed workers: one slot per
 * child and a crash count per event and domain (see crashmem.h).
 */
#include "proc/crashmem.h"
#include "proc/shm.h"

#include <stdio.h>
#include <string.h>

struct crashmem *crashmem_shared;

struct crashmem *crashmem_create(void)
{
	return shm_create(sizeof(struct crashmem));
}

void crashmem_destroy(struct crashmem *cm)
{
	shm_destroy(cm, sizeof(*cm));
}

void crash_slot_enter(struct crash_slot *slot, const char *domain, const char *event_id)
{
	if (slot == NULL)
		return;
	snprintf(slot->event_id, sizeof(slot->event_id), "%s", event_id);
	snprintf(slot->domain, sizeof(slot->domain), "%s", domain);
	atomic_store_explicit(&slot->busy, 1, memory_order_release);
}

void crash_slot_ready(struct crash_slot *slot)
{
	if (slot != NULL)
		atomic_store_explicit(&slot->ready, 1, memory_order_release);
}

void crash_slot_leave(struct crash_slot *slot)
{
	if (slot != NULL)
		atomic_store_explicit(&slot->busy, 0, memory_order_release);
}

static struct crash_event *crashmem_find(const struct crashmem *cm, const char *domain,
					 const char *event_id)
{
	for (int i = 0; i < CRASHMEM_EVENTS; i++) {
		const struct crash_event *e = &cm->events[i];

		if (atomic_load_explicit(&e->count, memory_order_acquire) > 0 &&
		    strcmp(e->event_id, event_id) == 0 && strcmp(e->domain, domain) == 0)
			return (struct crash_event *)e;
	}
	return NULL;
}

int crashmem_count(const struct crashmem *cm, const char *domain, const char *event_id)
{
	const struct crash_event *e;

	if (cm == NULL)
		return 0;
	e = crashmem_find(cm, domain, event_id);
	return e == NULL ? 0 : atomic_load_explicit(&e->count, memory_order_acquire);
}

void crashmem_forget(struct crashmem *cm, const char *domain, const char *event_id)
{
	struct crash_event *e;

	if (cm == NULL)
		return;
	e = crashmem_find(cm, domain, event_id);
	/* A count of 0 frees the entry too: crashmem_find skips it. */
	if (e != NULL)
		atomic_store_explicit(&e->count, 0, memory_order_release);
}

int crashmem_record(struct crashmem *cm, struct crash_slot *slot, char *event_id_out)
{
	struct crash_event *e;

	if (cm == NULL || slot == NULL ||
	    atomic_load_explicit(&slot->busy, memory_order_acquire) == 0)
		return 0;
	atomic_store_explicit(&slot->busy, 0, memory_order_release);
	snprintf(event_id_out, ENVELOPE_ID_LEN + 1, "%s", slot->event_id);
	e = crashmem_find(cm, slot->domain, slot->event_id);
	if (e == NULL) {
		/* The oldest entry makes room: the table only has to remember
		 * events that crash repeatedly within a short time. */
		unsigned i = atomic_fetch_add(&cm->next_event, 1) % CRASHMEM_EVENTS;

		e = &cm->events[i];
		atomic_store_explicit(&e->count, 0, memory_order_release);
		snprintf(e->event_id, sizeof(e->event_id), "%s", slot->event_id);
		snprintf(e->domain, sizeof(e->domain), "%s", slot->domain);
	}
	return atomic_fetch_add(&e->count, 1) + 1;
}
