#!/usr/bin/env bash
# A transient failure comes back through the delay tiers to the failing domain
# only, with orderflow-attempt counting up; past retry.max_attempts the message
# is parked with its reason.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_retry

p_conf_set delays_ms "[1000, 2000]" retry
p_conf_set max_attempts 3 retry
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
p_worker probe2 ORDERFLOW_PROBE_ALWAYS_OK=1
t_wait_for 30 p_wait_declared orderflow.probe
t_wait_for 30 p_wait_declared orderflow.probe2

# Fails once, succeeds at attempt 2 after the first tier's delay.
id1=$(cat /proc/sys/kernel/random/uuid)
start=$(date +%s.%N)
p_event retry_until '"attempts":2' "$id1" | p_publish >/dev/null
t_wait_for 30 'test "$(p_effects "WHERE event_id = '\''$id1'\'' AND consumer = '\''probe'\''")" = 1'
took=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
python3 -c "import sys; t=float(sys.argv[1]); sys.exit(0 if 0.9 <= t <= 8 else 1)" "$took" ||
	t_fail "retry after tier 1 (1000 ms) took ${took}s"
echo "# retried event came back after ${took}s (tier 1 = 1.0 s)"

# Always fails: attempts 1, 2, 3, then parked with max-attempts.
id2=$(cat /proc/sys/kernel/random/uuid)
p_event retry "" "$id2" | p_publish >/dev/null
t_wait_for 30 'test "$(t_queue_depth orderflow.probe.dead)" = 1'
msg=$(t_get_messages orderflow.probe.dead 1)
python3 - "$msg" "$id2" <<'PY' || t_fail "parked message headers"
import json, sys
m = json.loads(sys.argv[1])[0]
h = m["properties"]["headers"]
assert m["properties"]["message_id"] == sys.argv[2], m["properties"]
assert h["orderflow-parked-reason"].startswith("max-attempts: "), h
assert int(h["orderflow-attempt"]) == 3, h
assert h["orderflow-parked-from"] == "orderflow.probe", h
assert "orderflow-first-failed-at" in h and "orderflow-last-error" in h, h
print("# parked:", h["orderflow-parked-reason"])
PY

# probe2 saw each event exactly once: the retries went to probe only.
t_wait_for 10 'test "$(p_effects "WHERE consumer = '\''probe2'\''")" = 2'
sleep 1
t_assert_eq 2 "$(p_effects "WHERE consumer = 'probe2'")" "the other subscriber saw each event once"
t_assert_eq 0 "$(t_queue_depth orderflow.probe2.dead)" "nothing parked in probe2"
t_assert_eq 1 "$(p_effects "WHERE consumer = 'probe'")" "one effect in probe"
t_pass "retry tiers return to the failing domain only; max attempts park"
