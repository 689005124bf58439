/* orderflowctl topology: declaring and showing the broker topology.
 * Usage: topology declare|show */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/amqp_link.h"
#include "broker/topology.h"
#include "tools/ctl.h"
#include "workers/domain.h"
#include "workers/domains/topology_all.h"

static int topology_declare_cmd(struct ctl *ctl)
{
	struct amqp_link *link = NULL;
	int rc;

	if (ctl_link(ctl, &link) != CTL_OK)
		return CTL_ERROR;
	if (topology_declare_all(link, ctl->cfg, TOPOLOGY_KEEP_LOG_QUEUE) != 0) {
		rc = ctl_error("topology declare: %s", amqp_link_error(link));
		goto out;
	}
	if (ctl->json)
		ctl_print_json(json_pack("{s:b}", "declared", 1));
	else
		printf("declared the exchanges and the queues of every domain\n");
	rc = CTL_OK;
out:
	amqp_link_close(link);
	return rc;
}

/* What the configuration says the topology is: names operators look for
 * with rabbitmqadmin. */
static int topology_show_cmd(struct ctl *ctl)
{
	json_t *doms;
	char q[128];

	if (ctl_config(ctl) != CTL_OK)
		return CTL_ERROR;
	doms = json_array();
	for (int i = 0; i < DOM_COUNT; i++) {
		const char **keys;
		int n;
		json_t *d, *k, *tiers;

		k = json_array();
		tiers = json_array();
		n = domain_keys(domain_get((enum domain_id)i), ctl->cfg, &keys);
		for (int j = 0; j < n; j++)
			json_array_append_new(k, json_string(keys[j]));
		free(keys);
		for (int t = 1; t <= ctl->cfg->retry.delay_count; t++) {
			topology_retry_queue(q, sizeof(q), domain_name((enum domain_id)i), t);
			json_array_append_new(tiers, json_pack("{s:s, s:i}", "queue", q, "delay_ms",
							       ctl->cfg->retry.delays_ms[t - 1]));
		}
		topology_work_queue(q, sizeof(q), domain_name((enum domain_id)i));
		d = json_pack("{s:s, s:s, s:i, s:o, s:o}", "domain", domain_name((enum domain_id)i),
			      "queue", q, "workers", ctl->cfg->domains[i].workers, "keys", k,
			      "retry", tiers);
		topology_dead_queue(q, sizeof(q), domain_name((enum domain_id)i));
		json_object_set_new(d, "parking_lot", json_string(q));
		json_array_append_new(doms, d);
	}
	if (ctl->json) {
		ctl_print_json(json_pack("{s:[ssss], s:s, s:o}", "exchanges", EXCHANGE_EVENTS,
					 EXCHANGE_RETRY, EXCHANGE_RETURN, EXCHANGE_DEAD, "queue_type",
					 ctl->cfg->broker.queue_type, "domains", doms));
		return CTL_OK;
	}
	printf("exchanges: %s (topic), %s, %s, %s (direct)\n", EXCHANGE_EVENTS, EXCHANGE_RETRY,
	       EXCHANGE_RETURN, EXCHANGE_DEAD);
	for (size_t i = 0; i < json_array_size(doms); i++) {
		json_t *d = json_array_get(doms, i), *v;
		size_t j;

		printf("%s (%s): keys", json_string_value(json_object_get(d, "queue")),
		       ctl->cfg->broker.queue_type);
		json_array_foreach(json_object_get(d, "keys"), j, v)
			printf(" %s", json_string_value(v));
		/* Declared all the same: its events wait in its queue. */
		if (json_integer_value(json_object_get(d, "workers")) == 0)
			printf(" (off: no workers)");
		printf("\n");
		json_array_foreach(json_object_get(d, "retry"), j, v)
			printf("  %s  delay %lld ms\n",
			       json_string_value(json_object_get(v, "queue")),
			       (long long)json_integer_value(json_object_get(v, "delay_ms")));
		printf("  %s\n", json_string_value(json_object_get(d, "parking_lot")));
	}
	json_decref(doms);
	return CTL_OK;
}

static int topology_run(struct ctl *ctl)
{
	if (ctl->argc == 1 && strcmp(ctl->argv[0], "declare") == 0)
		return topology_declare_cmd(ctl);
	if (ctl->argc == 1 && strcmp(ctl->argv[0], "show") == 0)
		return topology_show_cmd(ctl);
	return ctl_usage(ctl, "topology: expected 'declare' or 'show'");
}

static const struct ctl_help topology_help[] = {
	{ "declare",
	  "usage: orderflowctl topology declare\n\n"
	  "Declares the exchanges and the queues of every domain (work queue, retry\n"
	  "tiers, parking lot) on the broker; declaring again changes nothing. Takes no\n"
	  "flags.\n\n"
	  "--json prints {\"declared\": true}.\n",
	  NULL },
	{ "show",
	  "usage: orderflowctl topology show\n\n"
	  "The topology this configuration declares, without asking the broker. Takes\n"
	  "no flags.\n\n"
	  "--json prints {\"exchanges\": [4 names], \"queue_type\": TYPE, \"domains\": [...]},\n"
	  "one object per domain:\n"
	  "  domain       the domain's name\n"
	  "  queue        its work queue\n"
	  "  workers      domains.NAME.workers (0: the queue is declared but nobody consumes)\n"
	  "  keys         the routing keys bound to the work queue\n"
	  "  retry        the retry tiers, [{\"queue\": NAME, \"delay_ms\": N}]\n"
	  "  parking_lot  the queue of parked messages\n",
	  NULL },
	{ NULL, NULL, NULL },
};

const struct ctl_command ctl_topology_cmd = {
	.group = "topology",
	.help = topology_help,
	.usage = "  orderflowctl topology declare                declare exchanges and queues\n"
		 "  orderflowctl topology show                   the topology of this configuration\n",
	.run = topology_run,
};
