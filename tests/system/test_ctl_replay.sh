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
# A marker instead of a pause: one more order, placed after the replay. The
# webhook and inventory workers (one each) take their queues in order, so
# once the marker's order.created reached the receiver and its order was
# confirmed (inventory reserved it), every copy the replay may have put in
# either queue has been handled before it.
MARK=$(ctl order place --customer r4 --item SKU-R:1 | head -n 1)
t_wait_for 30 'test "$(t_sql "SELECT status FROM orders WHERE id = '\''$MARK'\''")" = CONFIRMED'
t_wait_for 30 'test "$(created_ok | sort -u | wc -l)" = 4'
t_assert_eq 4 "$(created_ok | wc -l)" "each replayed event delivered exactly once (and the marker's once)"
# Had the replay gone anywhere but the webhook domain, inventory (which took
# every order.created already) would have acked the copy as a duplicate and
# said so; its inbox holds the ids of exactly the events the spec routes to
# it (tests/spec/subscriptions.txt).
t_assert_eq 0 "$(grep -c 'already processed by' "$T_DIR/orderflowd.log" || true)" \
	"the replay went to the webhook domain only: no domain saw a copy of an event it had handled"
keys=$(python3 "$ORDERFLOW_SOURCE_DIR/tests/spec/subscriptions.py" keys inventory | sed "s/.*/'&'/" | paste -sd, -)
routed_ids() { t_sql "SELECT event_id FROM outbox WHERE routing_key IN ($keys) ORDER BY event_id"; }
inbox_ids() { t_sql "SELECT event_id FROM inbox WHERE consumer = 'inventory' ORDER BY event_id"; }
t_wait_for 30 'test "$(inbox_ids | wc -l)" -ge "$(routed_ids | wc -l)"'
t_assert_eq "$(routed_ids)" "$(inbox_ids)" "inventory's inbox: the ids of the $(routed_ids | wc -l) events routed to it, no other"
t_pass "after the fix, parked replay --all: each event delivered once, the lot empty"
kill -TERM "$SUP_PID"
t_wait_for 40 "! kill -0 $SUP_PID 2>/dev/null"
