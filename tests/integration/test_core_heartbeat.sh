#!/usr/bin/env bash
# A handler that holds its transaction for longer than two heartbeat
# intervals does not cost the worker its broker connection.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_heartbeat

p_conf_set heartbeat_s 2 broker
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
t_wait_for 30 p_wait_declared orderflow.probe

p_event sleep '"seconds":7' | p_publish >/dev/null
t_wait_for 30 'test "$(p_effects)" = 1'
t_wait_for 30 p_queue_empty orderflow.probe
sleep 1
t_assert_eq 1 "$(p_effects)" "one effect"
if grep -E "reconnecting|ack of delivery|heartbeat timeout|socket error" "$T_DIR/worker-probe.log"; then
	t_fail "the broker connection was lost during a 7 s transaction with 2 s heartbeats"
fi
t_pass "7 s transaction with 2 s heartbeats: connection kept, acked once"
