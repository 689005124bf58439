/*
 * order_state: the order's state machine of DESIGN.md ("Events": PENDING ->
 * CONFIRMED -> SHIPPED, PENDING or CONFIRMED -> CANCELLED), as a pure table.
 *
 * The order domain's handler and the intake's cancel both ask
 * order_transition() where an order goes; ORDER_NONE means "no transition":
 * the event changes nothing (a late or duplicate event, or a cancel after
 * SHIPPED, which the caller refuses). The database update that applies a
 * transition is guarded by the old status (UPDATE ... WHERE status = from).
 */
#ifndef ORDERFLOW_ORDER_STATE_H
#define ORDERFLOW_ORDER_STATE_H

enum order_status {
	ORDER_NONE = 0,       /* no such state / no transition */
	ORDER_PENDING,
	ORDER_CONFIRMED,
	ORDER_SHIPPED,
	ORDER_CANCELLED,
};

/* What moves an order: the events the order domain consumes, and the cancel
 * command of the intake. */
enum order_input {
	OIN_NONE = 0,
	OIN_STOCK_REJECTED,       /* stock.rejected */
	OIN_PAYMENT_COMPLETED,    /* payment.completed */
	OIN_PAYMENT_FAILED,       /* payment.failed */
	OIN_SHIPPING_SCHEDULED,   /* shipping.scheduled */
	OIN_CANCEL,               /* POST /api/orders/{id}/cancel */
};

/* "PENDING" -> ORDER_PENDING ...; ORDER_NONE for anything else (NULL too). */
enum order_status order_status_parse(const char *s);
/* ORDER_PENDING -> "PENDING" ...; NULL for ORDER_NONE. */
const char *order_status_name(enum order_status st);
/* "stock.rejected" -> OIN_STOCK_REJECTED ...; OIN_NONE for other types. */
enum order_input order_input_parse(const char *event_type);

/* The state an order in `from` goes to on `in`, or ORDER_NONE. */
enum order_status order_transition(enum order_status from, enum order_input in);

#endif
