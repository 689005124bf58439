#!/usr/bin/env bash
# orderflowd under a notify socket: READY, process titles and connection
# names, a killed worker replaced, reload (more workers; a broken file
# refused), and a clean stop on TERM.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
t_init supervisor

s_conf_role http 0
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
s_start WATCHDOG_USEC=1000000
t_wait_for 60 s_notified "READY=1"
t_pass "READY=1 once the children are up"
t_wait_for 10 s_notified "WATCHDOG=1" 4
t_pass "WATCHDOG=1 every half of WATCHDOG_USEC"

for d in order inventory payment shipping notification webhook audit; do
	t_assert_eq 1 "$(s_count "orderflowd: $d worker")" "one $d worker"
done
t_assert_eq 1 "$(s_count "orderflowd: relay")" "one relay"
pgrep -f "^orderflowd: supervisor" | grep -qx "$SUP_PID" || t_fail "supervisor title"
pid=$(pgrep -f -P "$SUP_PID" "^orderflowd: inventory worker")
# The management API lists a connection about a second after it opened.
conn_names() {
	t_mgmt GET /api/connections | python3 -c '
import json, sys
print("\n".join(sorted(c["client_properties"].get("connection_name", "?") for c in json.load(sys.stdin))))'
}
t_wait_for 20 'conn_names | grep -qx "orderflow inventory $pid"'
t_wait_for 20 'conn_names | grep -q "^orderflow relay [0-9]*$"'
t_pass "process titles and connection names"

kill -KILL "$pid"
t_wait_for 30 sh -c "pgrep -f -P $SUP_PID '^orderflowd: inventory worker' | grep -vqx $pid"
t_pass "a killed worker is replaced"

s_conf_workers inventory 3
kill -HUP "$SUP_PID"
t_wait_for 30 s_notified "RELOADING=1"
t_wait_for 30 s_notified "READY=1" 2
t_wait_for 30 'test "$(s_count '\''orderflowd: inventory worker'\'')" = 3'
t_pass "HUP with inventory workers = 3: three inventory workers"

cp "$T_CONF" "$T_DIR/good.conf"
echo "broker = { nonsense" >> "$T_CONF"
before=$(pgrep -P "$SUP_PID" | sort | tr '\n' ' ')
kill -HUP "$SUP_PID"
t_wait_for 30 s_notified "RELOADING=1" 2
t_wait_for 30 s_notified "READY=1" 3
sleep 2
after=$(pgrep -P "$SUP_PID" | sort | tr '\n' ' ')
t_assert_eq "$before" "$after" "a broken file changes no child"
kill -0 "$SUP_PID" || t_fail "the supervisor died on a broken file"
grep -q "reload refused" "$T_DIR/orderflowd.log" || t_fail "the refusal is logged"
t_pass "HUP with a broken file: nothing changes, the refusal is logged"
cp "$T_DIR/good.conf" "$T_CONF"

start=$(date +%s)
session=$(ps -o sid= -p "$SUP_PID" | tr -d ' ')
t_assert_eq "$SUP_PID" "$session" "orderflowd leads its own session (t_bg's setsid), so its children are in it"
[ "$(pgrep -s "$SUP_PID" -f '^orderflowd: ' | wc -l)" -ge 8 ] || t_fail "the children are not in orderflowd's session"
kill -TERM "$SUP_PID"
t_wait_for 40 sh -c "! kill -0 $SUP_PID 2>/dev/null"
code=0
wait "$SUP_PID" 2>/dev/null || code=$?
t_assert_eq 0 "$code" "TERM: orderflowd exits 0"
t_wait_for 10 s_notified "STOPPING=1"
# Orphans are reparented, so look for the session, not the parent.
left=$(pgrep -s "$SUP_PID" -a || true)
[ -z "$left" ] || t_fail "children left behind in orderflowd's session: $left"
uncleanly=$(grep -c 'stopped uncleanly' "$T_DIR/orderflowd.log" || true)
t_assert_eq 0 "$uncleanly" "every child stopped with exit 0"
tail -n 1 "$T_DIR/orderflowd.log" | grep -q 'all children stopped; exiting$' ||
	t_fail "the last log line is not the clean exit: $(tail -n 1 "$T_DIR/orderflowd.log")"
s_notified "STATUS=stopped: every child stopped cleanly" || t_fail "no final STATUS= of a clean stop"
echo "# stopped in $(( $(date +%s) - start )) s"
t_pass "TERM: STOPPING=1, every child exit 0, none left, orderflowd exit 0"
