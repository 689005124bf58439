/*
 * clock: monotonic time for every timeout and backoff (wall-clock time is only
 * for what people read), and a sleep that resumes after signals.
 */
#ifndef ORDERFLOW_CLOCK_H
#define ORDERFLOW_CLOCK_H

double clock_monotonic_s(void);
long long clock_monotonic_ms(void);
/* Milliseconds since the Unix epoch, wall clock: for what leaves the
 * process (ids, timestamps), never for timeouts. */
long long clock_realtime_ms(void);
/* Sleeps ms milliseconds (returns early only if ms <= 0). */
void sleep_ms(long ms);

#endif
