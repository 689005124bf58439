#!/usr/bin/env bash
# A parked message replayed after its cause is fixed is processed once: the
# webhook receiver refuses order.created with 422 (a permanent failure: the
# events are parked at once), the receiver is fixed, `parked replay webhook
# --all` sends them back to the webhook domain only, and each is delivered
# exactly once. Also the catalogue and topology subcommands, text and --json.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
t_init ctl_replay

ctl() { "$BIN/orderflowctl" -c "$T_CONF" "$@"; }
sed -i -E 's/^(  (shipping|notification|audit) = \{ workers = )1;/\10;/' "$T_CONF"
s_conf_role http 0

# ---- stock and topology ----------------------------------------------------
ctl db migrate >/dev/null
ctl stock set SKU-R 50 --price 700 >/dev/null
ctl stock set SKU-R 40 >/dev/null
ctl stock show | grep -Eq '^SKU-R +40 +700$' || t_fail "stock show: $(ctl stock show)"
t_assert_eq '{"stock":[{"sku":"SKU-R","available":40,"price_cents":700}]}' "$(ctl --json stock show)" "stock show --json"
rc=0; ctl stock set SKU-NEW 5 2>"$T_DIR/err" || rc=$?
t_assert_eq 1 "$rc" "a new SKU without --price is refused"
grep -q 'a new SKU needs --price' "$T_DIR/err" || t_fail "message: $(cat "$T_DIR/err")"
rc=0; ctl stock set SKU-R -3 2>/dev/null || rc=$?
t_assert_eq 2 "$rc" "a negative quantity is a usage error"
ctl topology show | grep -q '^orderflow.webhook (quorum): keys order.created order.confirmed order.cancelled$' ||
	t_fail "topology show: $(ctl topology show)"
ctl --json topology show | python3 -c '
import json, sys
j = json.load(sys.stdin)
d = {x["domain"]: x for x in j["domains"]}
assert j["exchanges"] == ["orderflow.events", "orderflow.retry", "orderflow.return", "orderflow.dead"], j
assert [t["queue"] for t in d["payment"]["retry"]] == ["orderflow.payment.retry.%d" % i for i in (1, 2, 3, 4)], d
assert d["payment"]["parking_lot"] == "orderflow.payment.dead"
' || t_fail "topology show --json"
for g in db topology stock order parked stats; do
	ctl "$g" --help | grep -q "orderflowctl $g" || t_fail "$g --help"
done
t_pass "stock set/show, topology show, --json and --help"

# ---- replay after the cause is fixed ------------------------------------------
receiver() {
	t_bg "receiver$1" python3 "$ORDERFLOW_SOURCE_DIR/tests/system/webhook_receiver.py" \
		--port-file "$T_DIR/port" --log "$T_DIR/hooks" "${@:2}"
	t_wait_for 10 test -s "$T_DIR/port"
}
receiver 1 --reject-type order.created --reject-status 422
RECEIVER1=$T_LAST_PID
port=$(cat "$T_DIR/port")
sed -i -E "s|^  webhook = \{ workers = 1; url = \"\"; \};|  webhook = { workers = 1; url = \"http://127.0.0.1:$port/hook\"; };|" "$T_CONF"
grep -q "127.0.0.1:$port/hook" "$T_CONF" || t_fail "webhook url not set in $T_CONF"
s_start
t_wait_for 60 s_notified "READY=1"

for c in r1 r2 r3; do ctl order place --customer "$c" --item SKU-R:1 >/dev/null; done
t_wait_for 60 'test "$(t_queue_depth orderflow.webhook.dead)" = 3'
ctl parked list webhook | grep -c "rejected: webhook HTTP 422" | grep -qx 3 || t_fail "parked list: $(ctl parked list webhook)"
t_pass "order.created refused with 422: three events parked at once"

# The receiver is fixed (it accepts everything now), then the replay.
kill -TERM -- "-$RECEIVER1" 2>/dev/null || kill -TERM "$RECEIVER1"
t_wait_for 10 "! kill -0 $RECEIVER1 2>/dev/null"
rm -f "$T_DIR/port"
receiver 2 --port "$port"
out=$(ctl parked replay webhook --all)
echo "# $out"
echo "$out" | grep -q "^replayed 3 messages from orderflow.webhook.dead to orderflow.webhook" || t_fail "replay: $out"
t_wait_for 30 'test "$(t_queue_depth orderflow.webhook.dead)" = 0'
created_ok() { awk -F'\t' '$2 == 200 && $4 == "order.created" {print $3}' "$T_DIR/hooks"; }
t_wait_for 30 'test "$(created_ok | sort -u | wc -l)" = 3'
sleep 2
t_assert_eq 3 "$(created_ok | wc -l)" "each replayed event delivered exactly once"
# The broker's own count of messages routed into inventory's queue: each
# order's order.created and order.confirmed, none of the replayed copies.
routed() {
	t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")/orderflow.inventory" |
		python3 -c 'import json,sys; print(json.load(sys.stdin).get("message_stats", {}).get("publish", 0))'
}
t_wait_for 20 'test "$(t_sql "SELECT COUNT(*) FROM orders WHERE status = '\''CONFIRMED'\''")" = 3'
sleep 2
t_assert_eq 6 "$(routed)" "the replay went to the webhook domain only (inventory got 2 events per order, no copy)"
t_pass "after the fix, parked replay --all: each event delivered once, the lot empty"
kill -TERM "$SUP_PID"
t_wait_for 40 "! kill -0 $SUP_PID 2>/dev/null"
