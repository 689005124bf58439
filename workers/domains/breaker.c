/* breaker: the circuit breaker's state machine (see breaker.h). */
#include "workers/domains/breaker.h"

void breaker_init(struct breaker *b, int threshold, long cooldown_ms)
{
	b->state = BREAKER_CLOSED;
	b->threshold = threshold < 1 ? 1 : threshold;
	b->cooldown_ms = cooldown_ms < 0 ? 0 : cooldown_ms;
	b->failures = 0;
	b->opened_at_ms = 0;
	b->trial_taken = 0;
}

static void breaker_open(struct breaker *b, long long now_ms)
{
	b->state = BREAKER_OPEN;
	b->opened_at_ms = now_ms;
	b->failures = 0;
	b->trial_taken = 0;
}

int breaker_allow(struct breaker *b, long long now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return 1;
	case BREAKER_OPEN:
		if (now_ms - b->opened_at_ms < b->cooldown_ms)
			return 0;
		b->state = BREAKER_HALF_OPEN;
		b->trial_taken = 1;
		return 1;
	case BREAKER_HALF_OPEN:
		if (b->trial_taken)
			return 0;
		b->trial_taken = 1;
		return 1;
	}
	return 0;
}

void breaker_success(struct breaker *b)
{
	b->state = BREAKER_CLOSED;
	b->failures = 0;
	b->trial_taken = 0;
}

void breaker_failure(struct breaker *b, long long now_ms)
{
	if (b->state == BREAKER_HALF_OPEN) {
		breaker_open(b, now_ms);
		return;
	}
	if (b->state == BREAKER_OPEN)
		return; /* an attempt that started before it opened */
	if (++b->failures >= b->threshold)
		breaker_open(b, now_ms);
}

long breaker_hold_ms(const struct breaker *b, long long now_ms)
{
	long long left;

	if (b->state != BREAKER_OPEN)
		return 0;
	left = b->opened_at_ms + b->cooldown_ms - now_ms;
	return left > 0 ? (long)left : 0;
}

const char *breaker_state_name(enum breaker_state st)
{
	switch (st) {
	case BREAKER_CLOSED:
		return "CLOSED";
	case BREAKER_OPEN:
		return "OPEN";
	case BREAKER_HALF_OPEN:
		return "HALF_OPEN";
	}
	return "?";
}
