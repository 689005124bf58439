/*
 * outbox_send: publishes one outbox row to orderflow.events, as the relay's
 * batch and a worker's eager dispatch both do (DESIGN.md "Relay").
 */
#ifndef ORDERFLOW_OUTBOX_SEND_H
#define ORDERFLOW_OUTBOX_SEND_H

#include <stdint.h>

#include "broker/amqp_link.h"
#include "db/outbox.h"

/* Persistent, mandatory, message_id the event id, type the routing key (the
 * event type, DESIGN.md "Topology"). Returns publisher_send()'s result; the
 * confirm's tag goes to *tag_r. */
int outbox_send(struct amqp_link *link, const struct outbox_row *row, uint64_t *tag_r);

#endif
