#!/usr/bin/env bash
# test_saga_happy: one order placed with orderflowctl goes PENDING ->
# CONFIRMED -> SHIPPED through the real domains; event_log holds exactly the
# saga's five events under the order's correlation_id (order.created,
# stock.reserved, payment.completed, order.confirmed, shipping.scheduled),
# each caused by the one before it, starting from order.created (no cause);
# the customer got the created, confirmed and shipped notifications (in the
# table and through GET /api/customers/{id}/notifications); the stock went
# down by the quantity ordered; and the invariants hold. Then the invariant
# checker itself is shown not to be vacuous: each of several invariants is
# broken by hand (and restored), and the checker fails naming the order.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_happy

sg_start
ctl stock set SKU-H 5 --price 1250 >/dev/null
ctl stock set SKU-I 3 --price 999 >/dev/null

CUST=c-happy-$RANDOM
ID=$(sg_place "$CUST" SKU-H:2 SKU-I:1)
t_wait_for 30 'sg_order_is "$ID" SHIPPED'
t_pass "order $ID: SHIPPED ($((SECONDS - SG_T0)) s after start)"
t_wait_for 30 'test "$(sg_count "notifications WHERE order_id = '\''$ID'\''")" = 3'
sg_settle

row=$(t_sql "SELECT total_cents, confirmed_at IS NOT NULL, shipped_at IS NOT NULL, cancelled_at IS NULL
	FROM orders WHERE id = '$ID'" | tr '\t' ' ')
t_assert_eq "3499 1 1 1" "$row" "the order: total 2 x 1250 + 999, confirmed_at and shipped_at set, not cancelled"
t_assert_eq "COMMITTED" "$(t_sql "SELECT status FROM reservations WHERE order_id = '$ID'")" "reservation COMMITTED"
t_assert_eq "COMPLETED 3499" "$(t_sql "SELECT status, amount_cents FROM payments WHERE order_id = '$ID'" | tr '\t' ' ')" \
	"payment COMPLETED for the total"
t_assert_eq "SCHEDULED" "$(t_sql "SELECT status FROM shipments WHERE order_id = '$ID' AND carrier IS NOT NULL
	AND tracking_number IS NOT NULL")" "shipment SCHEDULED with a carrier and a tracking number"
t_assert_eq "3 2" "$(sg_available SKU-H) $(sg_available SKU-I)" "stock: SKU-H 5 - 2, SKU-I 3 - 1"

# The chain: every event of the order, by correlation_id, as the audit
# domain recorded it; body is the envelope as received.
t_sql "SELECT event_id, event_type, aggregate_id, causation_id, body FROM event_log
	WHERE correlation_id = '$ID'" >"$T_DIR/chain.tsv"
python3 - "$ID" "$T_DIR/chain.tsv" <<'PY' || t_fail "the event chain of $ID (see above)"
import json, sys
oid, path = sys.argv[1:]
want = ["order.created", "stock.reserved", "payment.completed", "order.confirmed",
        "shipping.scheduled"]
rows = [l.rstrip("\n").split("\t", 4) for l in open(path) if l.strip()]
by_type = {}
for eid, etype, agg, cause, body in rows:
    if etype in by_type:
        sys.exit("two %s events: %s and %s" % (etype, by_type[etype][0], eid))
    by_type[etype] = (eid, agg, cause, body)
if sorted(by_type) != sorted(want):
    sys.exit("events %s, expected exactly %s" % (sorted(by_type), want))
prev = ""
for etype in want:
    eid, agg, cause, body = by_type[etype]
    if agg != oid:
        sys.exit("%s: aggregate_id %s, expected the order id" % (etype, agg))
    if cause != prev:
        sys.exit("%s %s: causation_id %r, expected %r (the event before it)" % (etype, eid, cause, prev))
    env = json.loads(body.replace("\\\\", "\\"))
    if env.get("event_id") != eid or env.get("correlation_id") != oid or env.get("causation_id") != prev:
        sys.exit("%s: body is not its envelope: %s" % (etype, body[:300]))
    prev = eid
# Ids orderflow makes are version 7: the time (ms) in the first 48 bits, so
# an event made after another never has a smaller id prefix.
def ms(u):
    return int(u[:8] + u[9:13], 16)
ids = [oid] + [by_type[t][0] for t in want]
for u in ids:
    if u[14] != "7" or u[19] not in "89ab":
        sys.exit("id %s is not a version 7 UUID" % u)
if [ms(u) for u in ids] != sorted(ms(u) for u in ids):
    sys.exit("ids not in time order: %s" % ids)
print("ok - event chain: " + " -> ".join(want) + " (5 events, one correlation_id, each caused by the previous, version 7 ids in time order)")
PY

notes=$(t_sql "SELECT GROUP_CONCAT(type ORDER BY type) FROM notifications WHERE order_id = '$ID' AND customer_id = '$CUST'")
t_assert_eq "confirmed,created,shipped" "$notes" "notifications: created, confirmed, shipped (one each)"
sg_api GET "/api/customers/$CUST/notifications"
t_assert_eq 200 "$SG_CODE" "GET /api/customers/$CUST/notifications"
t_assert_eq 3 "$(python3 -c 'import json, sys; print(len(json.loads(sys.argv[1])["notifications"]))' "$SG_BODY")" \
	"the API lists the 3 notifications"
ctl order show "$ID" >"$T_DIR/show.txt"
for e in order.created stock.reserved payment.completed order.confirmed shipping.scheduled; do
	grep -qF "$e" "$T_DIR/show.txt" || t_fail "orderflowctl order show does not list $e: $(cat "$T_DIR/show.txt")"
done
t_pass "orderflowctl order show lists the 5 events"

sg_invariants --stock SKU-H=5 --stock SKU-I=3

# The checker is not vacuous: each broken invariant, made by hand and undone
# after, is caught and names the order (or the SKU).
# violated TAMPER_SQL RESTORE_SQL TEXT: the checker fails saying TEXT.
violated() {
	local rc=0
	t_sql "$1"
	python3 "$ORDERFLOW_SOURCE_DIR/tests/system/check_invariants.py" --db "$T_DB" --vhost "$T_VHOST" \
		--stock SKU-H=5 --stock SKU-I=3 >/dev/null 2>"$T_DIR/violation.err" || rc=$?
	t_sql "$2"
	[ "$rc" = 1 ] && grep -qF -- "$3" "$T_DIR/violation.err" ||
		t_fail "checker after '$1': exit $rc, expected 1 saying '$3': $(cat "$T_DIR/violation.err")"
	echo "# caught: $(cat "$T_DIR/violation.err")"
}
violated "UPDATE stock SET available = available + 1 WHERE sku = 'SKU-H'" \
	"UPDATE stock SET available = available - 1 WHERE sku = 'SKU-H'" "SKU-H not conserved"
violated "UPDATE payments SET status = 'REFUNDED' WHERE order_id = '$ID'" \
	"UPDATE payments SET status = 'COMPLETED' WHERE order_id = '$ID'" "order $ID is SHIPPED but its payment is REFUNDED"
violated "UPDATE orders SET status = 'CONFIRMED' WHERE id = '$ID'" \
	"UPDATE orders SET status = 'SHIPPED' WHERE id = '$ID'" "order $ID is CONFIRMED, not terminal"
violated "UPDATE orders SET status = 'CANCELLED' WHERE id = '$ID'" \
	"UPDATE orders SET status = 'SHIPPED' WHERE id = '$ID'" "order $ID is CANCELLED but its reservation is COMMITTED"
violated "UPDATE notifications SET type = 'refunded' WHERE order_id = '$ID' AND type = 'shipped'" \
	"UPDATE notifications SET type = 'shipped' WHERE order_id = '$ID' AND type = 'refunded'" "order $ID: notifications"
cause=$(t_sql "SELECT causation_id FROM event_log WHERE correlation_id = '$ID' AND event_type = 'order.confirmed'")
violated "UPDATE event_log SET causation_id = 'no-such-event' WHERE correlation_id = '$ID' AND event_type = 'order.confirmed'" \
	"UPDATE event_log SET causation_id = '$cause' WHERE correlation_id = '$ID' AND event_type = 'order.confirmed'" \
	"order $ID: order.confirmed"
# A message in a parking lot (published there by hand, then purged).
t_publish audit '{"not":"an envelope"}' orderflow.dead || t_fail "publish to orderflow.dead"
t_wait_for 15 'test "$(t_queue_depth orderflow.audit.dead)" = 1'
violated "DO 0" "DO 0" "parking lot orderflow.audit.dead holds 1 messages, expected 0"
t_mgmt DELETE "/api/queues/$(t_urlencode "$T_VHOST")/orderflow.audit.dead/contents" >/dev/null
t_wait_for 15 'test "$(t_queue_depth orderflow.audit.dead)" = 0'
t_pass "the checker catches a broken stock count, a refunded shipped order, a non-terminal order, a cancelled order holding stock, a wrong notification, a dangling causation_id and a parked message"
sg_invariants --stock SKU-H=5 --stock SKU-I=3
t_pass "saga_happy: one order shipped, chain and invariants hold ($((SECONDS - SG_T0)) s)"
