/*
 * roles: the table of child roles and the adapters from the supervisor's
 * one call shape to each role's entry point.
 */
#include "supervisor/roles.h"

#include "http/http_server.h"
#include "relay/relay.h"
#include "workers/domains/domains.h"
#include "workers/webhook_curl.h"
#include "workers/worker.h"

static int run_domain(const struct config *cfg, enum domain_id dom, struct crash_slot *slot)
{
	/* Only here: orderflowctl and the tests link the domains without curl. */
	webhook_transport_use_curl();
	return worker_run(domain_get(dom), cfg, slot);
}

/* The relay and the HTTP intake have no delivery to be blamed for a crash:
 * their slot says "ready" at once. */
static int run_relay(const struct config *cfg, enum domain_id dom, struct crash_slot *slot)
{
	(void)dom;
	crash_slot_ready(slot);
	return relay_run(cfg);
}

static int run_http(const struct config *cfg, enum domain_id dom, struct crash_slot *slot)
{
	(void)dom;
	crash_slot_ready(slot);
	return http_run(cfg);
}

static const struct role roles[] = {
	[ROLE_DOMAIN] = { ROLE_DOMAIN, "domain", CONFIG_ROLE_DOMAIN, run_domain },
	[ROLE_RELAY] = { ROLE_RELAY, "relay", CONFIG_ROLE_RELAY, run_relay },
	[ROLE_HTTP] = { ROLE_HTTP, "http", CONFIG_ROLE_HTTP, run_http },
};

const struct role *role_get(enum role_kind kind)
{
	return &roles[kind];
}
