/* money: amounts in cents as the API and orderflowctl show them. */
#include "intake/money.h"

#include <stdio.h>

void money_format_cents(long long cents, char *out, size_t outlen)
{
	unsigned long long a = cents < 0 ? 0ull - (unsigned long long)cents
					 : (unsigned long long)cents;

	snprintf(out, outlen, "%s%llu.%02llu", cents < 0 ? "-" : "", a / 100, a % 100);
}
