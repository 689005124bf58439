#!/usr/bin/env bash
# A worker killed after COMMIT and before the ack: the broker redelivers the
# event to the next worker, whose inbox turns it into a no-op.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_kill

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe ORDERFLOW_PROBE_KILL_AFTER_COMMIT=1
first=$T_LAST_PID
t_wait_for 30 p_wait_declared orderflow.probe

p_event ok '"kill_after_commit":true' | p_publish >/dev/null
t_wait_for 30 sh -c "! kill -0 $first 2>/dev/null"
t_assert_eq 1 "$(p_effects)" "the effect was committed before the kill"

p_worker probe
t_wait_for 30 p_queue_empty orderflow.probe
sleep 1
t_assert_eq 1 "$(p_effects)" "the redelivered event had no second effect"
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked"
grep -q "already processed" "$T_DIR"/*.log || grep -q "SIGKILL\|killing myself" "$T_DIR"/*.log
t_pass "kill between commit and ack: redelivered, no second effect"
