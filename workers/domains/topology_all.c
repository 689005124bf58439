/* topology_all: every domain's queues, as the configuration says.
 *
 * A domain that is off (workers = 0) still gets its queues: the events it
 * subscribes to wait there until it is turned on, instead of being dropped by
 * an exchange that has nowhere to route them. */
#include "workers/domains/topology_all.h"

#include "broker/topology.h"
#include "workers/domain.h"

int domain_keys(enum domain_id id, const struct config *cfg, const char *const **keys_r)
{
	const struct domain *dom = domain_get(id);

	if (dom->config_keys != NULL)
		return dom->config_keys(cfg, keys_r);
	*keys_r = dom->keys;
	return dom->nkeys;
}

int topology_declare_all(struct amqp_link *link, const struct config *cfg)
{
	if (topology_declare_exchanges(link) != 0)
		return -1;
	for (int i = 0; i < DOM_COUNT; i++) {
		const char *const *keys;
		int n;

		n = domain_keys((enum domain_id)i, cfg, &keys);
		if (topology_declare_domain(link, cfg, domain_name((enum domain_id)i), keys, n) != 0)
			return -1;
	}
	return 0;
}
