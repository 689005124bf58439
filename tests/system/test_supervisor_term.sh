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
# 15 s is the shutdown timeout; past it the supervisor kills what is left
# and exits 1, so wait a little longer than that for the exit itself.
t_wait_for 18 sh -c "! kill -0 $SUP_PID 2>/dev/null"
took=$(python3 -c "import sys;print(round(float(sys.argv[2])-float(sys.argv[1]),2))" "$start" "$(date +%s.%N)")
code=0
wait "$SUP_PID" || code=$?
t_assert_eq 0 "$code" "TERM mid-stream: orderflowd exits 0"
done_at_stop=$(t_sql 'SELECT COUNT(*) FROM event_log')
t_assert_eq 0 "$(grep -c 'did not stop within\|stopped uncleanly' "$T_DIR/orderflowd.log" || true)" \
	"no child needed the kill after shutdown_timeout_ms, every child exit 0"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 15 else 1)" "$took" ||
	t_fail "stopping took ${took} s, not within shutdown_timeout_ms (15 s)"
tail -n 1 "$T_DIR/orderflowd.log" | grep -q "all children stopped; exiting$" ||
	t_fail "the last log line is not the clean exit: $(tail -n 1 "$T_DIR/orderflowd.log")"
echo "# stopped in ${took}s with $done_at_stop of $n events recorded"
t_pass "TERM mid-stream: exit 0 within the 15 s timeout"

s_start
t_wait_for 120 'test "$(t_sql '\''SELECT COUNT(*) FROM event_log'\'')" = $n'
t_wait_for 30 'test "$(t_queue_depth orderflow.audit)" = 0'
t_assert_eq $n "$(t_sql "SELECT COUNT(*) FROM inbox WHERE consumer = 'audit'")" "one inbox row per event"
t_assert_eq 0 "$(t_queue_depth orderflow.audit.dead)" "nothing parked"
t_pass "after a restart all $n events recorded exactly once"
kill -TERM "$SUP_PID"
t_wait_for 18 sh -c "! kill -0 $SUP_PID 2>/dev/null"
code=0
wait "$SUP_PID" || code=$?
t_assert_eq 0 "$code" "the second orderflowd exits 0 on TERM too"
