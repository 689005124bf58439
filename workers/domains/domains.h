/*
 * domains: the seven domains' tables (struct domain), one per file in this
 * folder, gathered by registry.c for domain_get(). Which event types each
 * consumes is DESIGN.md's "Events" table (the "consumed by" column); the
 * payloads are documented in order_intake.h.
 */
#ifndef ORDERFLOW_DOMAINS_H
#define ORDERFLOW_DOMAINS_H

#include "workers/domain.h"

extern const struct domain order_domain;
extern const struct domain inventory_domain;
extern const struct domain payment_domain;
extern const struct domain shipping_domain;
extern const struct domain notification_domain;
extern const struct domain webhook_domain;
extern const struct domain audit_domain;

#endif
