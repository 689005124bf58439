#!/usr/bin/env bash
# test_saga_order_independence: handlers are correct under any arrival order
# and under duplicates (DESIGN.md "Events").
#   a. order.cancelled (cause "customer") reaches the domains before the
#      order's order.created (as when order.created waits in a retry tier):
#      the inventory writes a RELEASED tombstone, payment a FAILED one,
#      shipping a CANCELLED one; the late order.created then reserves
#      nothing: no HELD reservation, no reservation lines, no stock.reserved,
#      stock unchanged. (The order's own row is written as the intake would
#      have left it, CANCELLED, since only the events are crafted.)
#   b. after a normal order has shipped, every event of its event_log (body =
#      the envelope as received) is published again to orderflow.events:
#      every subscriber sees each copy as a duplicate (the duplicate counter
#      of /metrics grows by exactly the number of (event, subscriber) pairs,
#      the processed counter not at all) and nothing changes: the same rows
#      in orders, reservations, payments, shipments, notifications,
#      event_log, inbox and outbox, the same stock.
# The invariants hold after each.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_order_independence

sg_start
ctl stock set SKU-IND 5 --price 700 >/dev/null
ctl stock set SKU-DUP 5 --price 300 >/dev/null
STOCK_ARGS=(--stock SKU-IND=5 --stock SKU-DUP=5)

# ---- a. order.cancelled before order.created -------------------------------
X=$(cat /proc/sys/kernel/random/uuid)
CUST=c-indep-$RANDOM
# The order as the intake leaves it after a customer's cancel.
t_sql "INSERT INTO orders (id, customer_id, status, total_cents, currency, created_at, updated_at,
		cancelled_at, cancel_reason)
	VALUES ('$X', '$CUST', 'CANCELLED', 1400, 'EUR', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6),
		UTC_TIMESTAMP(6), 'cancelled by the customer');
	INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES ('$X', 'SKU-IND', 2, 700)"
CREATED=$(t_envelope order.created "$X" \
	'{"order_id":"'"$X"'","customer_id":"'"$CUST"'","currency":"EUR","total_cents":1400,"items":[{"sku":"SKU-IND","quantity":2,"unit_price_cents":700}]}')
CREATED_ID=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["event_id"])' "$CREATED")
CANCELLED=$(t_envelope order.cancelled "$X" \
	'{"order_id":"'"$X"'","customer_id":"'"$CUST"'","reason":"cancelled by the customer","cause":"customer"}')

t_publish order.cancelled "$CANCELLED" || t_fail "publish order.cancelled"
t_wait_for 30 'test "$(t_sql "SELECT status, reason FROM reservations WHERE order_id = '\''$X'\''" | tr "\t" " ")" = "RELEASED cancelled before reservation"'
t_wait_for 30 'test "$(t_sql "SELECT status, amount_cents FROM payments WHERE order_id = '\''$X'\''" | tr "\t" " ")" = "FAILED 0"'
t_wait_for 30 'test "$(t_sql "SELECT status FROM shipments WHERE order_id = '\''$X'\'' AND carrier IS NULL")" = CANCELLED'
t_pass "a. order.cancelled first: tombstones in reservations (RELEASED), payments (FAILED, 0), shipments (CANCELLED)"

t_publish order.created "$CREATED" || t_fail "publish order.created"
t_wait_for 30 'test "$(sg_count "inbox WHERE consumer = '\''inventory'\'' AND event_id = '\''$CREATED_ID'\''")" = 1'
t_wait_for 30 'test "$(sg_count "notifications WHERE order_id = '\''$X'\''")" = 2'
sg_settle
t_assert_eq "RELEASED 0 5" "$(t_sql "SELECT status FROM reservations WHERE order_id = '$X'") $(sg_count "reservation_items WHERE order_id = '$X'") $(sg_available SKU-IND)" \
	"a. the late order.created (processed by the inventory) reserved nothing: reservation still RELEASED, no lines, stock 5"
t_assert_eq "0 0 0" "$(sg_count "reservations WHERE status = 'HELD'") $(sg_count "event_log WHERE correlation_id = '$X' AND event_type IN ('stock.reserved', 'stock.rejected', 'stock.released')") $(sg_count "payments WHERE order_id = '$X' AND status <> 'FAILED'")" \
	"a. no HELD reservation, no stock event, no charge"
t_assert_eq "cancelled,created" "$(t_sql "SELECT GROUP_CONCAT(type ORDER BY type) FROM notifications WHERE order_id = '$X'")" \
	"a. the customer is told once of each (created, cancelled)"
sg_invariants "${STOCK_ARGS[@]}"

# ---- b. every event of a shipped order, published again ---------------------
Y=$(sg_place c-dup SKU-DUP:3)
t_wait_for 30 'sg_order_is "$Y" SHIPPED'
t_wait_for 30 'test "$(sg_count "notifications WHERE order_id = '\''$Y'\''")" = 3'
sg_settle

state() {
	t_sql "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM reservations),
		(SELECT COUNT(*) FROM reservation_items), (SELECT COUNT(*) FROM payments),
		(SELECT COUNT(*) FROM shipments), (SELECT COUNT(*) FROM notifications),
		(SELECT COUNT(*) FROM event_log), (SELECT COUNT(*) FROM inbox), (SELECT COUNT(*) FROM outbox);
	SELECT sku, available FROM stock ORDER BY sku;
	SELECT id, status, updated_at FROM orders ORDER BY id;
	SELECT order_id, status, updated_at FROM reservations ORDER BY order_id;
	SELECT order_id, status, amount_cents, updated_at FROM payments ORDER BY order_id;
	SELECT order_id, status, updated_at FROM shipments ORDER BY order_id;
	SELECT order_id, type, created_at FROM notifications ORDER BY id"
}
before=$(state)
dup0=$(sg_metric orderflow_events_duplicate_total)
proc0=$(sg_metric orderflow_events_processed_total)

# Subscribers of each event: DESIGN.md "Events" as tests/spec/subscriptions.txt
# writes it down (webhook: its default events).
declare -A SUBS=()
while IFS=$'\t' read -r key consumers; do
	read -ra list <<<"$consumers"
	SUBS[$key]=${#list[@]}
done < <(python3 "$ORDERFLOW_SOURCE_DIR/tests/spec/subscriptions.py" table)
t_sql "SELECT event_type, HEX(body) FROM event_log WHERE correlation_id = '$Y'
	ORDER BY occurred_at DESC, recorded_at DESC" >"$T_DIR/events.tsv"
n=0
expect=0
while IFS=$'\t' read -r type hex; do
	[ -n "${SUBS[$type]:-}" ] || t_fail "b. unexpected event $type in the chain of $Y"
	body=$(python3 -c 'import sys; sys.stdout.write(bytes.fromhex(sys.argv[1]).decode())' "$hex")
	t_publish "$type" "$body" || t_fail "b. publish $type again"
	n=$((n + 1))
	expect=$((expect + SUBS[$type]))
done <"$T_DIR/events.tsv"
t_assert_eq 5 "$n" "b. the 5 events of order $Y published again (newest first)"
t_wait_for 30 'test "$(sg_metric orderflow_events_duplicate_total)" -ge '$((dup0 + expect))
sg_settle
t_assert_eq "$((dup0 + expect)) $proc0" "$(sg_metric orderflow_events_duplicate_total) $(sg_metric orderflow_events_processed_total)" \
	"b. $expect deliveries (event x subscriber) were all acked as duplicates; none processed again"
t_assert_eq "$before" "$(state)" \
	"b. no second effect: same rows in orders, reservations, payments, shipments, notifications, event_log, inbox, outbox; same stock"
t_assert_eq 2 "$(sg_available SKU-DUP)" "b. stock 5 - 3, taken once"
sg_invariants "${STOCK_ARGS[@]}"

t_pass "saga_order_independence: a late order.created after its cancel reserves nothing; $expect duplicate deliveries change nothing ($((SECONDS - SG_T0)) s)"
