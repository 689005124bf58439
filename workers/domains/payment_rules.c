/* payment_rules: the simulated gateway's decision (see payment_rules.h). */
#include "workers/domains/payment_rules.h"

#include <stddef.h>
#include <string.h>

static int customer_listed(const struct str_list *list, const char *customer_id)
{
	for (int i = 0; i < list->count; i++)
		if (list->items[i] != NULL && strcmp(list->items[i], customer_id) == 0)
			return 1;
	return 0;
}

enum payment_decision payment_decide(const struct cfg_domain *pcfg, const char *customer_id,
				     long long amount_cents, const char **reason_r)
{
	const char *reason = NULL;

	if (customer_id != NULL && customer_listed(&pcfg->decline_customers, customer_id))
		reason = PAYMENT_REASON_CUSTOMER;
	else if (pcfg->decline_over_cents > 0 && amount_cents > pcfg->decline_over_cents)
		reason = PAYMENT_REASON_LIMIT;
	if (reason_r != NULL)
		*reason_r = reason;
	return reason != NULL ? PAYMENT_DECLINED : PAYMENT_APPROVED;
}
