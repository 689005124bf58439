/*
 * breaker: a circuit breaker as a pure state machine (no clock of its own:
 * every call that needs the time takes now_ms, a CLOCK_MONOTONIC reading, so
 * tests drive it with made-up times).
 *
 *   CLOSED    --threshold failures in a row-->         OPEN
 *   OPEN      --cooldown_ms passed, breaker_allow()--> HALF_OPEN (one trial)
 *   HALF_OPEN --trial succeeds-->                      CLOSED
 *   HALF_OPEN --trial fails-->                         OPEN (a new cool-down)
 *
 * A success while CLOSED resets the count of failures in a row. The caller
 * asks breaker_allow() before each attempt and reports its outcome with
 * breaker_success() or breaker_failure(); while HALF_OPEN only the one trial
 * is allowed until its outcome is reported. breaker_hold_ms() says how long
 * to wait before the next attempt can be allowed (0 = now).
 *
 * A threshold below 1 is taken as 1.
 */
#ifndef ORDERFLOW_BREAKER_H
#define ORDERFLOW_BREAKER_H

enum breaker_state {
	BREAKER_CLOSED = 0,
	BREAKER_OPEN,
	BREAKER_HALF_OPEN,
};

struct breaker {
	enum breaker_state state;
	int threshold;          /* failures in a row that open it */
	long cooldown_ms;       /* how long it stays open */
	int failures;           /* in a row, while CLOSED */
	long long opened_at_ms; /* when it last opened */
	int trial_taken;        /* HALF_OPEN: the one trial is under way */
};

void breaker_init(struct breaker *b, int threshold, long cooldown_ms);
/* 1 if an attempt may go ahead now (moving OPEN to HALF_OPEN once the
 * cool-down has passed), 0 if not. */
int breaker_allow(struct breaker *b, long long now_ms);
void breaker_success(struct breaker *b);
void breaker_failure(struct breaker *b, long long now_ms);
/* Remaining cool-down while OPEN, at least 1; 0 when an attempt is allowed. */
long breaker_hold_ms(const struct breaker *b, long long now_ms);
/* "CLOSED", "OPEN", "HALF_OPEN". */
const char *breaker_state_name(enum breaker_state st);

#endif
