#!/usr/bin/env bash
# A message that kills its worker every time is dead-lettered to the parking
# lot by the quorum queue's delivery limit; the other messages keep flowing.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_poison

p_conf_set delivery_limit 2 broker
p_conf_set prefetch 1 broker
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
# No supervisor here: a shell loop restarts the worker each time it dies.
t_bg restarter bash -c "while :; do '$BIN/tests/of-probe' worker -c '$T_CONF' --name probe; sleep 0.2; done"
t_wait_for 30 p_wait_declared orderflow.probe

{
	p_event crash
	for i in $(seq 1 20); do p_event ok; done
} | p_publish >/dev/null
t_wait_for 90 'test "$(t_queue_depth orderflow.probe.dead)" = 1'
t_wait_for 60 'test "$(p_effects)" = 20'
msg=$(t_get_messages orderflow.probe.dead 1)
python3 - "$msg" <<'PY' || t_fail "the parked message is the poison one, dead-lettered by the broker"
import json, sys
m = json.loads(sys.argv[1])[0]
assert '"crash"' in m["payload"], m["payload"]
deaths = m["properties"]["headers"]["x-death"]
print("# x-death reason:", deaths[0]["reason"], "count:", deaths[0]["count"])
assert deaths[0]["reason"] == "delivery_limit", deaths
PY
crashes=$(grep -c "abort\|SIGABRT\|Aborted" "$T_DIR"/restarter.log || true)
echo "# worker crashes seen: $crashes"
t_pass "poison message parked after the delivery limit; 20 others processed"
