/* shipping_rules: deterministic carrier and tracking number (see shipping_rules.h). */
#include "workers/domains/shipping_rules.h"

#include <stdint.h>
#include <stdio.h>

const char *const shipping_carriers[SHIPPING_NCARRIERS] = { "DHL", "UPS", "DPD" };

static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

const char *shipping_carrier(const char *order_id)
{
	return shipping_carriers[fnv1a32(order_id) % SHIPPING_NCARRIERS];
}

int shipping_tracking_number(const char *order_id, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%012llu", shipping_carrier(order_id),
			 (unsigned long long)(fnv1a64(order_id) % 1000000000000ull));

	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}
