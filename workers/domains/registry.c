/* registry: domain_get() over the seven domain tables (see domains.h). */
#include "workers/domains/domains.h"

#include <stddef.h>

const struct domain *domain_get(enum domain_id id)
{
	static const struct domain *const table[DOM_COUNT] = {
		[DOM_ORDER] = &order_domain,
		[DOM_INVENTORY] = &inventory_domain,
		[DOM_PAYMENT] = &payment_domain,
		[DOM_SHIPPING] = &shipping_domain,
		[DOM_NOTIFICATION] = &notification_domain,
		[DOM_WEBHOOK] = &webhook_domain,
		[DOM_AUDIT] = &audit_domain,
	};

	if ((int)id < 0 || id >= DOM_COUNT)
		return NULL;
	return table[id];
}
