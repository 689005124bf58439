#!/usr/bin/env bash
# Broker and database restarts while messages flow: the worker reconnects by
# itself (the same process, which connected to the database once at start
# and logs "database: back; resuming" only when it reconnected); every
# event has exactly one effect; nothing is parked.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_restarts

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
WORKER=$T_LAST_PID
t_wait_for 30 p_wait_declared orderflow.probe
LOG=$T_DIR/worker-probe.log
# reconnects: the database reconnects the worker logged so far.
reconnects() { grep -c "database: back; resuming" "$LOG" || true; }

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

# The database away for 30 s while messages wait: nothing parked, nothing
# lost, and the worker, handed deliveries while the database is away, has to
# reconnect.
for i in $(seq 1 100); do p_event ok; done > "$T_DIR/batch4"
before=$(reconnects)
"$ORDERFLOW_SOURCE_DIR/scripts/stack" stop-db >/dev/null
p_publish < "$T_DIR/batch4" >/dev/null
sleep 30
"$ORDERFLOW_SOURCE_DIR/scripts/stack" up >/dev/null
t_wait_for 120 'test "$(p_effects)" = 1000'
echo "# database down 30 s: 1000 of 1000 effects"
after=$(reconnects)
[ "$after" -gt "$before" ] ||
	t_fail "no 'database: back; resuming' after the 30 s outage ($before before, $after after): the worker did not reconnect"
echo "# database reconnects logged: $after ($before before the outage)"

t_assert_eq 1000 "$(t_sql 'SELECT COUNT(DISTINCT event_id) FROM probe_effects')" "every event once"
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked"
t_wait_for 30 p_queue_empty orderflow.probe
kill -0 "$WORKER" || t_fail "the worker $WORKER is gone: it did not ride out the restarts"
t_assert_eq 1 "$(grep -c "database: connected" "$LOG" || true)" \
	"one database connection at start; every later one was a reconnect of the same worker"
t_pass "broker restart, database restart and a 30 s database outage lose nothing"
