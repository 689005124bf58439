/*
 * relay: the relay process, outbox -> broker (DESIGN.md "Relay"); see
 * relay.c.
 */
#ifndef ORDERFLOW_RELAY_H
#define ORDERFLOW_RELAY_H

#include "core/config.h"

/* The relay process' entry point. Returns an exit code. */
int relay_run(const struct config *cfg);

#endif
