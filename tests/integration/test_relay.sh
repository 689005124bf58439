#!/usr/bin/env bash
# Outbox rows committed while the broker is down reach the broker once it is
# back, and two relays side by side publish each row; any duplicate delivery
# is counted and absorbed by the consumer's inbox (exactly one effect each).
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
t_init relay

sed -i -E 's/^(  (order|inventory|payment|shipping|notification|webhook|audit) = \{ workers = )1;/\10;/' "$T_CONF"
s_conf_role relay 2
s_conf_role http 0
p_conf_set batch_size 50 relay
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
t_wait_for 30 p_wait_declared orderflow.probe

n=600
for i in $(seq 1 $n); do t_envelope probe.relay "agg-$i" '{"action":"ok"}'; done |
	python3 -c '
import json, sys
rows = []
for line in sys.stdin:
    e = json.loads(line)
    body = line.strip().replace("\\", "\\\\").replace("'"'"'", "\\'"'"'")
    rows.append("(\x27%s\x27, \x27probe.relay\x27, \x27%s\x27, UTC_TIMESTAMP(6))" % (e["event_id"], body))
for i in range(0, len(rows), 100):
    print("INSERT INTO outbox (event_id, routing_key, body, created_at) VALUES %s;" % ",".join(rows[i:i+100]))
' > "$T_DIR/outbox.sql"

"$ORDERFLOW_SOURCE_DIR/scripts/stack" stop-broker >/dev/null
t__mysql "$T_DB" < "$T_DIR/outbox.sql"
t_assert_eq $n "$(t_sql 'SELECT COUNT(*) FROM outbox WHERE published_at IS NULL')" "$n rows committed while the broker is down"
s_start
# Not a pause: READY=1 (both relays started), then each of the two relays
# has tried the broker and failed (it connects to the database first, so by
# then it could have claimed rows).
t_wait_for 60 s_notified "READY=1"
relays_failed() {
	sed -nE 's/^<[0-9]>orderflowd\[([0-9]+)\] relay: broker: .*/\1/p' "$T_DIR/orderflowd.log" | sort -u | wc -l
}
t_wait_for 30 'test "$(relays_failed)" -ge 2'
t_assert_eq $n "$(t_sql 'SELECT COUNT(*) FROM outbox WHERE published_at IS NULL')" "nothing marked published without a broker (both relays tried it)"
"$ORDERFLOW_SOURCE_DIR/scripts/stack" up >/dev/null
t_wait_for 120 'test "$(t_sql "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")" = 0'
t_wait_for 120 'test "$(p_effects)" = '$n
t_wait_for 30 p_queue_empty orderflow.probe
sleep 2
t_assert_eq $n "$(t_sql 'SELECT COUNT(DISTINCT event_id) FROM probe_effects')" "every row had its effect"
t_assert_eq $n "$(p_effects)" "and only one"
published=$(t_mgmt GET "/api/queues/$(p_vhost)/orderflow.probe" | python3 -c '
import json, sys; print(json.load(sys.stdin).get("message_stats", {}).get("publish", 0))')
echo "# two relays: $published deliveries for $n rows ($((published - n)) duplicates, absorbed by the inbox)"
by=$(grep -c "relaying" "$T_DIR/orderflowd.log" || true)
[ "$by" -ge 2 ] || t_fail "two relays connected ($by)"
t_pass "rows committed while the broker was down were published once it was back"
kill -TERM "$SUP_PID"
t_wait_for 40 "! kill -0 $SUP_PID 2>/dev/null"
