/*
 * money: amounts in cents as the API and orderflowctl show them ("12.50"),
 * with integer arithmetic only.
 */
#ifndef ORDERFLOW_MONEY_H
#define ORDERFLOW_MONEY_H

#include <stddef.h>

/* Formats cents as "12.50" into out. */
void money_format_cents(long long cents, char *out, size_t outlen);

#endif
