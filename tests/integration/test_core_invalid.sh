#!/usr/bin/env bash
# Invalid messages are parked at once with a reason; the worker keeps serving.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_invalid

p_conf_set max_message_bytes 4096 broker
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
t_wait_for 30 p_wait_declared orderflow.probe

good=$(p_event ok)
big=$(p_event ok "\"pad\":\"$(head -c 5000 /dev/zero | tr '\0' x)\"")
{
	echo 'this is not json'
	echo '{"event_id": "not-a-uuid"}'
	echo "$good" | sed 's/"schema_version":1/"schema_version":"1"/'
	echo "$good" | sed 's/"event_id":"[^"]*",//'
	echo "$big"
	p_event ok | sed 's/"schema_version":1/"schema_version":99/'
} | p_publish --rk probe.bad >/dev/null
t_wait_for 30 'test "$(t_queue_depth orderflow.probe.dead)" = 6'

msgs=$(t_get_messages orderflow.probe.dead 6)
python3 - "$msgs" <<'PY' || t_fail "parked reasons"
import json, sys
reasons = sorted(m["properties"]["headers"]["orderflow-parked-reason"] for m in json.loads(sys.argv[1]))
for r in reasons:
    print("# parked:", r[:100])
inv = [r for r in reasons if r.startswith("invalid-envelope: ")]
unk = [r for r in reasons if r.startswith("unknown-schema-version: ")]
assert len(inv) == 5 and len(unk) == 1, reasons
assert any("exceeds" in r for r in inv), inv
PY

echo "$good" | p_publish >/dev/null
t_wait_for 30 'test "$(p_effects)" = 1'
t_pass "invalid envelopes parked at once; the worker keeps serving"
