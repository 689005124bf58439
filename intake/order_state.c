/* order_state: the order's transition table (see order_state.h). */
#include "intake/order_state.h"

#include <stddef.h>
#include <string.h>

static const char *const status_names[] = {
	[ORDER_PENDING] = "PENDING",
	[ORDER_CONFIRMED] = "CONFIRMED",
	[ORDER_SHIPPED] = "SHIPPED",
	[ORDER_CANCELLED] = "CANCELLED",
};

#define NSTATUS ((int)(sizeof(status_names) / sizeof(status_names[0])))

enum order_status order_status_parse(const char *s)
{
	for (int i = ORDER_PENDING; s != NULL && i < NSTATUS; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (enum order_status)i;
	return ORDER_NONE;
}

const char *order_status_name(enum order_status st)
{
	if ((int)st <= ORDER_NONE || (int)st >= NSTATUS)
		return NULL;
	return status_names[st];
}

enum order_input order_input_parse(const char *event_type)
{
	static const struct {
		const char *type;
		enum order_input in;
	} map[] = {
		{ "stock.rejected", OIN_STOCK_REJECTED },
		{ "payment.completed", OIN_PAYMENT_COMPLETED },
		{ "payment.failed", OIN_PAYMENT_FAILED },
		{ "shipping.scheduled", OIN_SHIPPING_SCHEDULED },
	};

	for (size_t i = 0; event_type != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(event_type, map[i].type) == 0)
			return map[i].in;
	return OIN_NONE;
}

/*
 * Every allowed pair; anything not listed changes nothing. Notably a
 * payment.completed for an order the customer cancelled meanwhile leaves it
 * CANCELLED: the payment domain refunds on order.cancelled.
 */
enum order_status order_transition(enum order_status from, enum order_input in)
{
	static const struct {
		enum order_status from;
		enum order_input in;
		enum order_status to;
	} table[] = {
		{ ORDER_PENDING, OIN_STOCK_REJECTED, ORDER_CANCELLED },
		{ ORDER_PENDING, OIN_PAYMENT_COMPLETED, ORDER_CONFIRMED },
		{ ORDER_PENDING, OIN_PAYMENT_FAILED, ORDER_CANCELLED },
		{ ORDER_PENDING, OIN_CANCEL, ORDER_CANCELLED },
		{ ORDER_CONFIRMED, OIN_SHIPPING_SCHEDULED, ORDER_SHIPPED },
		{ ORDER_CONFIRMED, OIN_CANCEL, ORDER_CANCELLED },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].from == from && table[i].in == in)
			return table[i].to;
	return ORDER_NONE;
}
