#!/usr/bin/env bash
# test_saga_outcomes: the saga's other endings, each followed by the
# invariant checker:
#   a. out of stock: stock.rejected -> CANCELLED ("out of stock"), the
#      reservation REJECTED, nothing taken, stock unchanged;
#   b. declined customer (domains.payment.decline_customers): payment FAILED
#      -> CANCELLED ("payment declined"), the reservation RELEASED and the
#      stock back to its initial quantity;
#   c. declined amount (over domains.payment.decline_over_cents): the same;
#   d. cancel after SHIPPED: POST /api/orders/{id}/cancel is 409 and changes
#      no row anywhere (orders, reservations, payments, shipments,
#      notifications, outbox, event_log);
#   e. cancel after CONFIRMED: with the shipping domain off (workers = 0,
#      reloaded with SIGHUP) the order stays CONFIRMED; the cancel is 200 with
#      the order CANCELLED; the payment is REFUNDED, the reservation
#      RELEASED and the stock given back; once shipping is on again it
#      schedules the (stale) order.confirmed and then cancels that shipment
#      on order.cancelled: shipment CANCELLED.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_outcomes

# The payment simulator declines customer c-declined and totals over 100000.
sg_conf_domain payment 'workers = 1; decline_over_cents = 100000; decline_customers = ["c-declined"];'
sg_start
declare -A INIT=([SKU-OOS]=1 [SKU-DC]=5 [SKU-BIG]=5 [SKU-SHIP]=5 [SKU-CONF]=5)
STOCK_ARGS=()
for sku in "${!INIT[@]}"; do
	price=1000
	[ "$sku" = SKU-BIG ] && price=60000
	ctl stock set "$sku" "${INIT[$sku]}" --price "$price" >/dev/null
	STOCK_ARGS+=(--stock "$sku=${INIT[$sku]}")
done

# snapshot ID: every row the saga writes for order ID, and the table sizes.
snapshot() {
	t_sql "SELECT status, updated_at, cancelled_at FROM orders WHERE id = '$1';
		SELECT status, updated_at FROM reservations WHERE order_id = '$1';
		SELECT status, updated_at FROM payments WHERE order_id = '$1';
		SELECT status, updated_at FROM shipments WHERE order_id = '$1';
		SELECT GROUP_CONCAT(type ORDER BY type) FROM notifications WHERE order_id = '$1';
		SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM event_log),
		       (SELECT COUNT(*) FROM inbox), (SELECT SUM(available) FROM stock)"
}

# ---- a. out of stock --------------------------------------------------------
A=$(sg_place c-oos SKU-OOS:2)
t_wait_for 30 'sg_order_is "$A" CANCELLED'
sg_settle
t_assert_eq "out of stock REJECTED" "$(t_sql "SELECT o.cancel_reason, r.status FROM orders o
	JOIN reservations r ON r.order_id = o.id WHERE o.id = '$A'" | tr '\t' ' ')" \
	"a. 2 of 1 in stock: CANCELLED 'out of stock', reservation REJECTED"
t_assert_eq "1 0 0" "$(sg_available SKU-OOS) $(sg_count "reservation_items WHERE order_id = '$A'") $(sg_count "payments WHERE order_id = '$A'")" \
	"a. stock unchanged (1), nothing reserved, no payment"
sg_invariants "${STOCK_ARGS[@]}"

# ---- b. declined customer ---------------------------------------------------
B=$(sg_place c-declined SKU-DC:2)
t_wait_for 30 'sg_order_is "$B" CANCELLED'
t_wait_for 30 'test "$(t_sql "SELECT status FROM reservations WHERE order_id = '\''$B'\''")" = RELEASED'
sg_settle
t_assert_eq "payment declined FAILED RELEASED 5" "$(t_sql "SELECT o.cancel_reason, p.status, r.status FROM orders o
	JOIN payments p ON p.order_id = o.id JOIN reservations r ON r.order_id = o.id
	WHERE o.id = '$B'" | tr '\t' ' ') $(sg_available SKU-DC)" \
	"b. customer c-declined: CANCELLED 'payment declined', payment FAILED, reservation RELEASED, stock back to 5"
sg_invariants "${STOCK_ARGS[@]}"

# ---- c. declined amount -----------------------------------------------------
C=$(sg_place c-big SKU-BIG:2)
t_wait_for 30 'sg_order_is "$C" CANCELLED'
t_wait_for 30 'test "$(t_sql "SELECT status FROM reservations WHERE order_id = '\''$C'\''")" = RELEASED'
sg_settle
t_assert_eq "120000 payment declined FAILED RELEASED 5" "$(t_sql "SELECT o.total_cents, o.cancel_reason, p.status, r.status
	FROM orders o JOIN payments p ON p.order_id = o.id JOIN reservations r ON r.order_id = o.id
	WHERE o.id = '$C'" | tr '\t' ' ') $(sg_available SKU-BIG)" \
	"c. total 120000 > decline_over_cents 100000: CANCELLED, payment FAILED, reservation RELEASED, stock back to 5"
sg_invariants "${STOCK_ARGS[@]}"

# ---- d. cancel after SHIPPED: 409, nothing changes --------------------------
D=$(sg_place c-ship SKU-SHIP:1)
t_wait_for 30 'sg_order_is "$D" SHIPPED'
sg_settle
before=$(snapshot "$D")
sg_api POST "/api/orders/$D/cancel"
t_assert_eq 409 "$SG_CODE" "d. cancel after SHIPPED: HTTP 409 ($SG_BODY)"
t_assert_eq "$before" "$(snapshot "$D")" "d. right after the 409: no row changed, nothing in the outbox"
sg_settle
t_assert_eq "$before" "$(snapshot "$D")" "d. once drained: still no row changed (order SHIPPED, reservation COMMITTED, payment COMPLETED, shipment SCHEDULED, same notifications and event_log)"
sg_invariants "${STOCK_ARGS[@]}"

# ---- e. cancel after CONFIRMED ---------------------------------------------
sg_conf_domain shipping 'workers = 0;'
sg_reload
t_pass "e. shipping off (workers = 0 after SIGHUP): its queue keeps its events"
E=$(sg_place c-conf SKU-CONF:2)
t_wait_for 30 'sg_order_is "$E" CONFIRMED'
t_wait_for 30 'test "$(t_sql "SELECT status FROM reservations WHERE order_id = '\''$E'\''")" = COMMITTED'
t_assert_eq "COMPLETED 3" "$(t_sql "SELECT status FROM payments WHERE order_id = '$E'") $(sg_available SKU-CONF)" \
	"e. CONFIRMED: reservation COMMITTED, payment COMPLETED, stock 5 - 2"
sg_api POST "/api/orders/$E/cancel" -H 'Content-Type: application/json' --data '{"reason": "changed my mind"}'
t_assert_eq 200 "$SG_CODE" "e. cancel after CONFIRMED: HTTP 200"
t_assert_eq "CANCELLED changed my mind" "$(python3 -c 'import json, sys
j = json.loads(sys.argv[1]); print(j["status"], j.get("cancel_reason"))' "$SG_BODY")" \
	"e. the answer is the order, already CANCELLED, with the reason"
t_wait_for 30 'test "$(t_sql "SELECT status FROM payments WHERE order_id = '\''$E'\''")" = REFUNDED'
t_wait_for 30 'test "$(t_sql "SELECT status FROM reservations WHERE order_id = '\''$E'\''")" = RELEASED'
t_assert_eq "5 0" "$(sg_available SKU-CONF) $(sg_count "shipments WHERE order_id = '$E'")" \
	"e. payment REFUNDED (one row), reservation RELEASED, stock back to 5; no shipment yet (shipping off)"
sg_api POST "/api/orders/$E/cancel"
t_assert_eq "200 CANCELLED" "$SG_CODE $(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["status"])' "$SG_BODY")" \
	"e. cancelling it again: 200, still CANCELLED"

sg_conf_domain shipping 'workers = 1;'
sg_reload
t_wait_for 30 'test "$(t_sql "SELECT status FROM shipments WHERE order_id = '\''$E'\''")" = CANCELLED'
sg_settle
t_assert_eq "1 1 1" "$(sg_count "event_log WHERE correlation_id = '$E' AND event_type = 'payment.refunded'") $(sg_count "event_log WHERE correlation_id = '$E' AND event_type = 'stock.released'") $(sg_count "event_log WHERE correlation_id = '$E' AND event_type = 'order.cancelled' AND causation_id = ''")" \
	"e. one payment.refunded, one stock.released, one order.cancelled from the API (no cause)"
t_assert_eq "CANCELLED 1" "$(sg_status "$E") $(sg_count "event_log WHERE correlation_id = '$E' AND event_type = 'shipping.cancelled'")" \
	"e. shipping on again: the stale order.confirmed was scheduled, then cancelled (shipment CANCELLED, shipping.cancelled); the order stays CANCELLED"
sg_invariants "${STOCK_ARGS[@]}"

t_pass "saga_outcomes: out of stock, 2 declines, 409 after SHIPPED, refund after CONFIRMED; invariants after each ($((SECONDS - SG_T0)) s)"
