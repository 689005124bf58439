/*
 * shipping_rules: carrier and tracking number of a shipment, derived from the
 * order id alone (pure), so a redelivered order.confirmed, or a second
 * shipping worker, always arrives at the same shipment.
 *
 * The carrier is one of SHIPPING_CARRIERS picked by a 32-bit FNV-1a hash of
 * the order id; the tracking number is the carrier's name followed by 12
 * decimal digits of a 64-bit FNV-1a hash of the id ("DHL004812345678").
 */
#ifndef ORDERFLOW_SHIPPING_RULES_H
#define ORDERFLOW_SHIPPING_RULES_H

#include <stddef.h>

#define SHIPPING_NCARRIERS 3
extern const char *const shipping_carriers[SHIPPING_NCARRIERS]; /* "DHL", "UPS", "DPD" */

/* Longest tracking number, with its NUL. */
#define SHIPPING_TRACKING_MAX 32

/* The carrier for an order (a static string). */
const char *shipping_carrier(const char *order_id);
/* Writes the tracking number into out (at least SHIPPING_TRACKING_MAX bytes).
 * Returns 0, or -1 when out is too small. */
int shipping_tracking_number(const char *order_id, char *out, size_t outlen);

#endif
