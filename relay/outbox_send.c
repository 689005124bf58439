/* outbox_send: one outbox row on the wire (see relay/outbox_send.h). */
#include "relay/outbox_send.h"

#include "broker/publisher.h"
#include "broker/topology.h"

int outbox_send(struct amqp_link *link, const struct outbox_row *row, uint64_t *tag_r)
{
	struct publish_msg msg = {
		.exchange = EXCHANGE_EVENTS,
		.routing_key = row->routing_key,
		.body = row->body,
		.body_len = row->body_len,
		.message_id = row->event_id,
		.type = row->routing_key,
		/* An event no queue takes is returned instead of vanishing: it
		 * stays unpublished in the outbox, and the relay retries it. */
		.mandatory = 1,
	};

	return publisher_send(link, &msg, tag_r);
}
