/*
 * payment_rules: the simulated gateway's decision, pure.
 *
 * A charge is declined when the customer is listed in
 * domains.payment.decline_customers, or when the amount is over
 * domains.payment.decline_over_cents (a limit of 0 means no limit);
 * otherwise it completes. The customer list is checked first, so its reason
 * wins when both apply.
 */
#ifndef ORDERFLOW_PAYMENT_RULES_H
#define ORDERFLOW_PAYMENT_RULES_H

#include "core/config.h"

enum payment_decision {
	PAYMENT_APPROVED = 0,
	PAYMENT_DECLINED,
};

#define PAYMENT_REASON_CUSTOMER "card declined"
#define PAYMENT_REASON_LIMIT "amount over the limit"

/* Decides a charge of amount_cents for customer_id under the payment domain's
 * configuration. *reason_r (may be NULL) gets a static text for a decline,
 * NULL for an approval. */
enum payment_decision payment_decide(const struct cfg_domain *pcfg, const char *customer_id,
				     long long amount_cents, const char **reason_r);

#endif
