#!/usr/bin/env bash
# Broker and database restarts while messages flow: the worker reconnects by
# itself; every event has exactly one effect; nothing is parked.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_restarts

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
t_wait_for 30 p_wait_declared orderflow.probe

for i in $(seq 1 300); do p_event ok; done > "$T_DIR/batch1"
for i in $(seq 1 300); do p_event ok; done > "$T_DIR/batch2"
for i in $(seq 1 300); do p_event ok; done > "$T_DIR/batch3"

p_publish < "$T_DIR/batch1" >/dev/null
"$ORDERFLOW_SOURCE_DIR/scripts/stack" restart-broker >/dev/null
pub2() { p_publish < "$T_DIR/batch2" >/dev/null; }
t_wait_for 60 pub2
t_wait_for 120 'test "$(p_effects)" = 600'
echo "# broker restart: 600 of 600 effects"

p_publish < "$T_DIR/batch3" >/dev/null
"$ORDERFLOW_SOURCE_DIR/scripts/stack" restart-db >/dev/null
t_wait_for 120 'test "$(p_effects)" = 900'
echo "# database restart: 900 of 900 effects"

# The database away for 30 s while messages wait: nothing parked, nothing lost.
for i in $(seq 1 100); do p_event ok; done > "$T_DIR/batch4"
"$ORDERFLOW_SOURCE_DIR/scripts/stack" stop-db >/dev/null
p_publish < "$T_DIR/batch4" >/dev/null
sleep 30
"$ORDERFLOW_SOURCE_DIR/scripts/stack" up >/dev/null
t_wait_for 120 'test "$(p_effects)" = 1000'
echo "# database down 30 s: 1000 of 1000 effects"

t_assert_eq 1000 "$(t_sql 'SELECT COUNT(DISTINCT event_id) FROM probe_effects')" "every event once"
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked"
t_wait_for 30 p_queue_empty orderflow.probe
grep -q "database: back; resuming\|database: connected" "$T_DIR"/worker-probe.log
t_pass "broker restart, database restart and a 30 s database outage lose nothing"
