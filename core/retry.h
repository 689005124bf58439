/*
 * retry: the retry policy, pure logic (DESIGN.md "Processing a delivery").
 *
 * Attempts are counted in our own header `orderflow-attempt`: a first delivery
 * is attempt 1, its first retried copy attempt 2, and so on. A message whose
 * attempt is past max_attempts is parked with `max-attempts`. A failed attempt
 * n goes to delay tier n (1-based), and to the last tier again once the tiers
 * run out.
 */
#ifndef ORDERFLOW_RETRY_H
#define ORDERFLOW_RETRY_H

enum retry_action {
	RETRY_PROCESS,           /* attempt within the limit: handle it */
	RETRY_PARK_MAX_ATTEMPTS, /* past max_attempts: park without handling */
};

/* What to do with a delivery carrying this attempt number (< 1 means 1). */
enum retry_action retry_on_arrival(int attempt, int max_attempts);

/* After a transient failure of attempt `attempt`: the 1-based tier for the
 * copy (attempt n -> tier n, capped at tier_count), or 0 when the copy would
 * exceed max_attempts and the message must be parked instead. */
int retry_tier_after_failure(int attempt, int max_attempts, int tier_count);

/* Parses an `orderflow-attempt` header value written as text or number;
 * returns 1 when absent or unparsable, else the value clamped to >= 1. */
int retry_attempt_parse(const char *text);

/* Truncates an error text for `orderflow-last-error` to at most 256 bytes
 * without cutting a UTF-8 sequence; out must hold 257 bytes. */
void retry_last_error(const char *error, char out[257]);

#endif
