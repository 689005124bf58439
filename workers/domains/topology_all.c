/* topology_all: every domain's queues, as the configuration says.
 *
 * A domain that is off (workers = 0) still gets its queues: the events it
 * subscribes to wait there until it is turned on, instead of being dropped by
 * an exchange that has nowhere to route them. */
#include "workers/domains/topology_all.h"

#include <stdlib.h>

#include "broker/topology.h"
#include "core/log.h"
#include "workers/domain.h"

int topology_declare_all(struct amqp_link *link, const struct config *cfg, unsigned flags)
{
	if (topology_declare_exchanges(link) != 0)
		return -1;
	for (int i = 0; i < DOM_COUNT; i++) {
		const char **keys;
		int n, rc;

		/* With no configuration the audit row is bound, as with "queue". */
		n = domain_keys(domain_get((enum domain_id)i),
				i == DOM_AUDIT && (flags & TOPOLOGY_KEEP_LOG_QUEUE) ? NULL : cfg, &keys);
		if (n < 0) {
			log_error("routing keys of %s: out of memory",
				  domain_name((enum domain_id)i));
			return -1;
		}
		rc = topology_declare_domain(link, cfg, domain_name((enum domain_id)i), keys, n);
		free(keys);
		if (rc != 0)
			return -1;
	}
	return 0;
}
