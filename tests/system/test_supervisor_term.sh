#!/usr/bin/env bash
# TERM while a stream of events is being processed: orderflowd exits 0 within
# its shutdown timeout; after a restart every event has had its effect
# exactly once (the audit domain records each event once in event_log, and
# its inbox holds one row per event).
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
t_init supervisor_term

sed -i -E 's/^(  (order|inventory|payment|shipping|notification|webhook) = \{ workers = )1;/\10;/' "$T_CONF"
s_conf_workers audit 2
s_conf_role http 0
sed -i 's/shutdown_timeout_ms = [0-9]*/shutdown_timeout_ms = 15000/' "$T_CONF"
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
s_start
t_wait_for 60 s_notified "READY=1"

n=3000
for i in $(seq 1 $n); do t_envelope stock.released "o-$i" "{\"order_id\":\"o-$i\"}"; done > "$T_DIR/events"
"$BIN/tests/of-probe" publish -c "$T_CONF" < "$T_DIR/events" >/dev/null
t_wait_for 30 'test "$(t_sql '\''SELECT COUNT(*) FROM event_log'\'')" -gt 100'

start=$(date +%s.%N)
kill -TERM "$SUP_PID"
t_wait_for 30 sh -c "! kill -0 $SUP_PID 2>/dev/null"
took=$(python3 -c "import sys;print(round(float(sys.argv[2])-float(sys.argv[1]),2))" "$start" "$(date +%s.%N)")
done_at_stop=$(t_sql 'SELECT COUNT(*) FROM event_log')
grep -q "all children stopped; exiting" "$T_DIR/orderflowd.log" || t_fail "clean exit logged"
echo "# stopped in ${took}s with $done_at_stop of $n events recorded"
t_pass "TERM mid-stream: stopped within the timeout"

s_start
t_wait_for 120 'test "$(t_sql '\''SELECT COUNT(*) FROM event_log'\'')" = $n'
t_wait_for 30 'test "$(t_queue_depth orderflow.audit)" = 0'
t_assert_eq $n "$(t_sql "SELECT COUNT(*) FROM inbox WHERE consumer = 'audit'")" "one inbox row per event"
t_assert_eq 0 "$(t_queue_depth orderflow.audit.dead)" "nothing parked"
t_pass "after a restart all $n events recorded exactly once"
kill -TERM "$SUP_PID"
t_wait_for 40 sh -c "! kill -0 $SUP_PID 2>/dev/null"
