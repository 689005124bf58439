#!/usr/bin/env bash
# The same event delivered twice has one effect, and both copies are acked.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_duplicate

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
t_wait_for 30 p_wait_declared orderflow.probe

ev=$(p_event ok)
printf '%s\n%s\n' "$ev" "$ev" | p_publish >/dev/null
t_wait_for 30 'test "$(p_effects)" -ge 1'
t_wait_for 30 p_queue_empty orderflow.probe
sleep 1
t_assert_eq 1 "$(p_effects)" "one effect for two deliveries of one event"
t_assert_eq 1 "$(t_sql "SELECT COUNT(*) FROM inbox WHERE consumer = 'probe'")" "one inbox row"
t_assert_eq 0 "$(t_queue_depth orderflow.probe)" "both deliveries acked"
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked"
t_pass "duplicate event is acked without a second effect"
