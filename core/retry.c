/*
 * retry: the retry policy (see retry.h). Pure functions: no clock, no I/O,
 * so every edge of the policy is a unit test.
 */
#include "core/retry.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

#define LAST_ERROR_MAX 256

/* A limit below 1 would park every message unhandled; the config refuses it,
 * and here it means "one try" rather than "none". */
static int at_least_one(int n)
{
	return n < 1 ? 1 : n;
}

enum retry_action retry_on_arrival(int attempt, int max_attempts)
{
	return at_least_one(attempt) > at_least_one(max_attempts) ? RETRY_PARK_MAX_ATTEMPTS
								   : RETRY_PROCESS;
}

int retry_tier_after_failure(int attempt, int max_attempts, int tier_count)
{
	attempt = at_least_one(attempt);
	/* The copy would be attempt + 1; compared this way it cannot overflow. */
	if (attempt >= at_least_one(max_attempts) || tier_count < 1)
		return 0;
	return attempt < tier_count ? attempt : tier_count;
}

int retry_attempt_parse(const char *text)
{
	const char *p = text;
	int value = 0, negative = 0;

	if (p == NULL)
		return 1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return 1;
	for (; isdigit((unsigned char)*p); p++) {
		int digit = *p - '0';

		/* Clamp instead of overflowing: a huge count is still "past any limit". */
		value = value > (INT_MAX - digit) / 10 ? INT_MAX : value * 10 + digit;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0' || negative || value < 1)
		return 1;
	return value;
}

void retry_last_error(const char *error, char out[257])
{
	size_t len = error != NULL ? strlen(error) : 0;

	if (len > LAST_ERROR_MAX) {
		len = LAST_ERROR_MAX;
		/* error[len] is the first byte left out; while it continues a
		 * sequence, that sequence started inside the kept part: drop its
		 * start too. At most 3 steps: a longer run is not UTF-8 anyway. */
		for (int i = 0; i < 3 && len > 0 && ((unsigned char)error[len] & 0xC0) == 0x80; i++)
			len--;
	}
	if (len > 0)
		memcpy(out, error, len);
	out[len] = '\0';
}
