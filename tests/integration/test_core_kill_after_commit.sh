#!/usr/bin/env bash
# A worker killed after COMMIT and before the ack: the broker redelivers the
# event to the next worker, whose inbox turns it into a no-op: the second
# worker logs (at info, the level the test runs at) that it acked the event
# as already processed, which only a redelivery that hit the inbox writes.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_kill

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe ORDERFLOW_PROBE_KILL_AFTER_COMMIT=1
first=$T_LAST_PID
t_wait_for 30 p_wait_declared orderflow.probe

ID=$(cat /proc/sys/kernel/random/uuid)
p_event ok '"kill_after_commit":true' "$ID" | p_publish >/dev/null
t_wait_for 30 sh -c "! kill -0 $first 2>/dev/null"
grep -q "probe: killing myself after the commit of $ID" "$T_DIR/worker-probe.log" ||
	t_fail "the first worker did not kill itself after the commit of $ID"
t_assert_eq 1 "$(p_effects)" "the effect was committed before the kill"

p_worker probe
dup_line="event $ID already processed by probe: acked without effect"
t_wait_for 30 grep -qF "$dup_line" "$T_DIR/worker-probe.log"
t_assert_eq 1 "$(grep -cF "$dup_line" "$T_DIR/worker-probe.log")" \
	"the event was redelivered to the second worker, whose inbox acked it without effect"
t_wait_for 30 p_queue_empty orderflow.probe
t_assert_eq 1 "$(p_effects)" "the redelivered event had no second effect"
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked"
t_pass "kill between commit and ack: redelivered, no second effect"
