/*
 * eager.c: a worker's own events, published right after its commit (see
 * workers/eager.h). The relay's batch does the same for everything else
 * (relay/relay.c); here the rows are already in memory, so there is no
 * claim, the confirms are read while the worker goes on, and the mark rides
 * on the worker's next transaction.
 */
#include "workers/eager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/amqp_link.h"
#include "broker/publisher.h"
#include "core/log.h"
#include "proc/poolstats.h"
#include "relay/outbox_send.h"

#define EAGER_CONFIRM_TIMEOUT_MS 30000
#define EAGER_MARKS_MAX 4096  /* ids kept at most while marks keep failing */

static int grow(void **p, int *cap, int need, size_t size)
{
	int n = *cap > 0 ? *cap : 8;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, (size_t)n * size);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

int eager_add(struct eager *e, struct outbox_row *row)
{
	if (grow((void **)&e->rows, &e->cap_rows, e->nrows + 1, sizeof(*e->rows)) != 0) {
		outbox_row_free(row);
		return -1;
	}
	e->rows[e->nrows++] = *row;
	memset(row, 0, sizeof(*row));
	return 0;
}

void eager_discard(struct eager *e)
{
	for (int i = 0; i < e->nrows; i++)
		outbox_row_free(&e->rows[i]);
	e->nrows = 0;
}

int eager_send(struct eager *e, struct amqp_link *out)
{
	int rc = 0;

	if (e->nrows == 0)
		return 0;
	if (out == NULL ||
	    grow((void **)&e->sent, &e->cap_sent, e->nsent + e->nrows, sizeof(*e->sent)) != 0) {
		log_warn("publishing %d events after the commit: %s; the relay publishes them "
			 "after relay.grace_ms", e->nrows,
			 out == NULL ? "no publisher link" : "out of memory");
		eager_discard(e);
		return out == NULL ? -1 : 0;
	}
	for (int i = 0; i < e->nrows && rc == 0; i++) {
		const struct outbox_row *row = &e->rows[i];
		struct eager_sent *s = &e->sent[e->nsent];

		if (outbox_send(out, row, &s->tag) != 0) {
			log_warn("publishing %d events after the commit: %s; the relay publishes "
				 "them after relay.grace_ms", e->nrows - i, amqp_link_error(out));
			rc = -1;
			break;
		}
		s->id = row->id;
		s->refused = 0;
		snprintf(s->event_id, sizeof(s->event_id), "%s", row->event_id);
		e->nsent++;
	}
	eager_discard(e);
	return rc;
}

static void on_refused(void *ctx, uint64_t tag, const char *message_id, const char *reason)
{
	struct eager *e = ctx;

	for (int i = 0; i < e->nsent; i++) {
		struct eager_sent *s = &e->sent[i];

		if (s->refused || (tag != 0 ? s->tag != tag : strcmp(s->event_id, message_id) != 0))
			continue;
		s->refused = 1;
		log_info("event %s refused by the broker: %s; the relay takes it after "
			 "relay.grace_ms", s->event_id, reason);
		return;
	}
}

int eager_collect(struct eager *e, struct amqp_link *out, int wait)
{
	uint64_t upto;
	int keep = 0, n = 0;

	if (e->nsent == 0)
		return 0;
	if (out == NULL)
		goto lost;
	if (wait) {
		if (publisher_wait_each(out, e->sent[e->nsent - 1].tag, EAGER_CONFIRM_TIMEOUT_MS,
					on_refused, e) != 0)
			goto lost;
		upto = e->sent[e->nsent - 1].tag;
	} else if (publisher_poll(out, on_refused, e, &upto) != 0) {
		goto lost;
	}
	if (grow((void **)&e->marks, &e->cap_marks, e->nmarks + e->nsent, sizeof(*e->marks)) != 0)
		return 0; /* confirms kept: taken at the next call */
	for (int i = 0; i < e->nsent; i++) {
		const struct eager_sent *s = &e->sent[i];

		if (!publisher_tag_settled(s->tag, upto))
			e->sent[keep++] = *s;
		else if (!s->refused)
			e->marks[e->nmarks + n++] = s->id;
	}
	e->nsent = keep;
	e->nmarks += n;
	e->published += (unsigned long long)n;
	if (poolstats_shared != NULL && n > 0)
		poolstats_add(&poolstats_shared->relayed, (unsigned long long)n);
	return 0;
lost:
	log_warn("confirms of %d events published after the commit: %s; the relay publishes "
		 "them after relay.grace_ms", e->nsent,
		 out != NULL ? amqp_link_error(out) : "no publisher link");
	eager_lost(e);
	return -1;
}

void eager_lost(struct eager *e)
{
	e->nsent = 0;
}

enum db_status eager_mark(struct eager *e, struct db *db)
{
	enum db_status st = DB_OK;

	if (e->nmarks > 0)
		st = outbox_mark_published(db, e->marks, e->nmarks);
	e->marking = st == DB_OK ? e->nmarks : 0;
	return st;
}

void eager_marked(struct eager *e, int committed)
{
	if (committed && e->marking > 0) {
		memmove(e->marks, e->marks + e->marking,
			(size_t)(e->nmarks - e->marking) * sizeof(*e->marks));
		e->nmarks -= e->marking;
	}
	e->marking = 0;
	/* A worker that cannot commit for long must not hold ids without
	 * bound: forgetting them only means the relay publishes them again. */
	if (e->nmarks > EAGER_MARKS_MAX) {
		log_warn("%d published events could not be marked; the relay publishes them "
			 "again after relay.grace_ms", e->nmarks);
		e->nmarks = 0;
	}
}

enum db_status eager_flush(struct eager *e, struct db *db)
{
	enum db_status st;

	if (e->nmarks == 0)
		return DB_OK;
	st = eager_mark(e, db);
	eager_marked(e, st == DB_OK);
	return st;
}

void eager_free(struct eager *e)
{
	eager_discard(e);
	free(e->rows);
	free(e->sent);
	free(e->marks);
	memset(e, 0, sizeof(*e));
}
