#!/usr/bin/env bash
# test_ctl: orderflowctl order, parked and stats against a running
# orderflowd: `order place` prints the id alone on its first line and
# refuses what the API refuses (exit 1, same message) or a malformed command
# line (exit 2); `order show` gives the event chain with timings; `parked
# list` leaves the parking lot as it was and names the broker's delivery
# limit; `parked replay --event` brings one message back to its own domain
# only, as a first attempt; `parked purge` empties the lot; `stats` counts.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
t_init ctl

ctl() { "$BIN/orderflowctl" -c "$T_CONF" "$@"; }

# expect_exit CODE STDERR_PART CMD...: CMD exits CODE and says STDERR_PART.
expect_exit() {
	local want=$1 part=$2 rc=0
	shift 2
	"$@" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
	[ "$rc" = "$want" ] || t_fail "$*: exit $rc, expected $want: $(cat "$T_DIR/err")"
	grep -qF -- "$part" "$T_DIR/err" || t_fail "$*: stderr does not say '$part': $(cat "$T_DIR/err")"
}

orders() { t_sql "SELECT COUNT(*) FROM orders"; }

ctl db migrate >/dev/null
ctl stock set SKU-A 1000 --price 1250 >/dev/null
ctl stock set SKU-B 1000 --price 999 >/dev/null
ctl topology declare >/dev/null
t_bg orderflowd "$BIN/orderflowd" -c "$T_CONF"

# ---- order place ------------------------------------------------------------

ctl order place --customer c1 --item SKU-A:2 --item SKU-B:1 >"$T_DIR/out"
ID=$(head -n 1 "$T_DIR/out")
envelope_is_uuid() { [[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; }
envelope_is_uuid "$ID" || t_fail "first line is not the order id alone: '$ID'"
# orderflowd runs: the saga may have moved the order on already.
t_assert_eq "3499 c1" "$(t_sql "SELECT total_cents, customer_id FROM orders WHERE id = '$ID' AND status IN ('PENDING', 'CONFIRMED', 'SHIPPED')" | tr '\t' ' ')" \
	"order place: the order is in the database"

json=$(ctl --json order place --customer c2 --item SKU-A:1 --currency EUR --idempotency-key k-$RANDOM)
python3 -c 'import json, sys
j = json.loads(sys.argv[1])
assert j["customer_id"] == "c2" and j["status"] == "PENDING" and j["total_cents"] == 1250
assert j["items"] == [{"sku": "SKU-A", "quantity": 1, "unit_price_cents": 1250}]
assert set(j) >= {"id", "created_at", "currency"}' "$json" || t_fail "--json is the order as the API returns it: $json"
KEY=same-$RANDOM
first=$(ctl order place --customer c3 --item SKU-A:1 --idempotency-key "$KEY" | head -n 1)
again=$(ctl order place --customer c3 --item SKU-A:1 --idempotency-key "$KEY" | head -n 1)
t_assert_eq "$first" "$again" "the same Idempotency-Key gives the first order again"
t_pass "order place: id on the first line, --json, Idempotency-Key"

n=$(orders)
expect_exit 1 "unknown SKU \"NOPE\"" ctl order place --customer c1 --item NOPE:1
expect_exit 1 "quantity of SKU-A must be from 1 to 10000 (got 0)" ctl order place --customer c1 --item SKU-A:0
expect_exit 1 "quantity of SKU-A must be from 1 to 10000 (got -2)" ctl order place --customer c1 --item SKU-A:-2
expect_exit 1 "quantity of SKU-A must be from 1 to 10000 (got 10001)" ctl order place --customer c1 --item SKU-A:10001
expect_exit 1 "currency USD is not accepted" ctl order place --customer c1 --item SKU-A:1 --currency USD
expect_exit 1 "an order needs at least one item" ctl order place --customer c1
expect_exit 1 "customer_id must be a string of 1 to 64 bytes" ctl order place --customer "$(printf 'x%.0s' {1..65})" --item SKU-A:1
expect_exit 1 "already used with another request" ctl order place --customer c3 --item SKU-A:2 --idempotency-key "$KEY"
expect_exit 1 "unknown SKU" ctl order place --customer c1 --item "'; DROP TABLE stock; --:1"
t_assert_eq "$n" "$(orders)" "refused orders wrote nothing"
t_pass "order place refuses what the API refuses, exit 1 with the API's message"

expect_exit 2 "--customer is required" ctl order place --item SKU-A:1
expect_exit 2 "SKU:QTY" ctl order place --customer c1 --item SKU-A
expect_exit 2 "must be an integer" ctl order place --customer c1 --item SKU-A:two
expect_exit 2 "must be an integer" ctl order place --customer c1 --item SKU-A:1.5
expect_exit 2 "must be an integer" ctl order place --customer c1 --item SKU-A:99999999999999999999
expect_exit 2 "unexpected argument" ctl order place --customer c1 --item SKU-A:1 --colour red
expect_exit 2 "expected 'place' or 'show'" ctl order
t_assert_eq "$n" "$(orders)" "usage errors wrote nothing"
t_pass "malformed command lines are usage errors (exit 2)"

# ---- order show ---------------------------------------------------------------

t_wait_for 90 'test "$(t_sql "SELECT status FROM orders WHERE id = '"'$ID'"'")" = SHIPPED'
t_wait_for 30 'test "$(t_sql "SELECT COUNT(*) FROM event_log WHERE correlation_id = '"'$ID'"' AND event_type = '"'shipping.scheduled'"'")" = 1'
ctl order show "$ID" >"$T_DIR/show"
head -n 1 "$T_DIR/show" | grep -q "order $ID  SHIPPED" || t_fail "order show: status line: $(head -n 1 "$T_DIR/show")"
for e in order.created stock.reserved payment.completed order.confirmed shipping.scheduled; do
	grep -q " $e " "$T_DIR/show" || t_fail "order show: no $e in: $(cat "$T_DIR/show")"
done
ctl --json order show "$ID" >"$T_DIR/show.json"
python3 - "$T_DIR/show.json" "$ID" <<'PY' || t_fail "order show --json: $(cat "$T_DIR/show.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["order"]["id"] == sys.argv[2] and j["order"]["status"] == "SHIPPED"
ev = j["events"]
keys = {"event_id", "event_type", "causation_id", "occurred_at", "recorded_at",
        "since_previous_ms", "since_start_ms"}
assert all(keys <= set(e) for e in ev), ev
assert [e["occurred_at"] for e in ev] == sorted(e["occurred_at"] for e in ev)
by_type = {e["event_type"]: e for e in ev}
for t in ("order.created", "stock.reserved", "payment.completed", "order.confirmed", "shipping.scheduled"):
    assert t in by_type, t
assert ev[0]["event_type"] == "order.created" and by_type["order.created"]["causation_id"] == ""
assert by_type["stock.reserved"]["causation_id"] == by_type["order.created"]["event_id"]
assert by_type["payment.completed"]["causation_id"] == by_type["stock.reserved"]["event_id"]
prev = None
for e in ev:
    if prev is not None:
        assert e["since_start_ms"] - prev["since_start_ms"] == e["since_previous_ms"] or \
            abs(e["since_start_ms"] - prev["since_start_ms"] - e["since_previous_ms"]) <= 1, (prev, e)
    prev = e
assert ev[-1]["since_start_ms"] >= 0
PY
t_pass "order show: status and the causal event chain with timings (text and --json)"
expect_exit 1 "order 0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11 not found" ctl order show 0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11
expect_exit 2 "exactly one order id" ctl order show
t_pass "order show of an unknown id: exit 1"

# ---- parked -------------------------------------------------------------------

# Two parked copies as the audit worker would park them, and one the broker
# dead-lettered itself on its delivery limit (x-death). The audit domain is
# the one to replay to: it writes every event it gets to event_log.
AGG=$(cat /proc/sys/kernel/random/uuid)
E1=$(cat /proc/sys/kernel/random/uuid)
E2=$(cat /proc/sys/kernel/random/uuid)
E3=$(cat /proc/sys/kernel/random/uuid)
parked_headers='{"orderflow-parked-reason": "rejected: test", "orderflow-parked-from": "orderflow.audit", "orderflow-attempt": 4, "orderflow-first-failed-at": "2026-11-22T10:15:30.123Z", "orderflow-last-error": "boom"}'
t_publish audit "$(t_envelope order.confirmed "$AGG" '{"order_id": "'"$AGG"'", "customer_id": "c9"}' "$E1")" orderflow.dead "$parked_headers"
t_publish audit "$(t_envelope order.confirmed "$AGG" '{"order_id": "'"$AGG"'", "customer_id": "c9"}' "$E2")" orderflow.dead "$parked_headers"
t_publish audit "$(t_envelope order.confirmed "$AGG" '{"order_id": "'"$AGG"'", "customer_id": "c9"}' "$E3")" orderflow.dead \
	'{"x-death": [{"reason": "delivery_limit", "queue": "orderflow.audit", "count": 1, "exchange": "orderflow.events"}]}'
t_wait_for 20 'test "$(t_queue_depth orderflow.audit.dead)" = 3'

ctl parked list audit >"$T_DIR/list"
grep -q "^orderflow.audit.dead: 3 parked messages" "$T_DIR/list" || t_fail "parked list: $(cat "$T_DIR/list")"
grep "$E1" "$T_DIR/list" | grep -q "rejected: test" || t_fail "parked list: reason of $E1: $(cat "$T_DIR/list")"
grep "$E3" "$T_DIR/list" | grep -q "delivery-limit" || t_fail "parked list: x-death shown as delivery-limit: $(cat "$T_DIR/list")"
ctl --json parked list audit >"$T_DIR/list.json"
python3 - "$T_DIR/list.json" "$E1" "$E3" <<'PY' || t_fail "parked list --json: $(cat "$T_DIR/list.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["domain"] == "audit" and j["queue"] == "orderflow.audit.dead" and j["count"] == 3
m = {x["event_id"]: x for x in j["messages"]}
a, c = m[sys.argv[2]], m[sys.argv[3]]
assert a["event_type"] == "order.confirmed" and a["reason"] == "rejected: test"
assert a["attempts"] == 4 and a["first_failed_at"] == "2026-11-22T10:15:30.123Z"
assert a["parked_from"] == "orderflow.audit"
assert c["reason"] == "delivery-limit" and c["parked_from"] == "orderflow.audit"
PY
# What is in the lot now, read from the queue itself (the management API's
# depth lags by a second and was 3 already before the list).
parked_ids() { ctl --json parked list audit | python3 -c 'import json, sys
print(" ".join(sorted(m["event_id"] for m in json.load(sys.stdin)["messages"])))'; }
ALL3=$(printf '%s\n' "$E1" "$E2" "$E3" | sort | tr '\n' ' ' | sed 's/ $//')
t_assert_eq "$ALL3" "$(parked_ids)" "parked list left the three messages in the lot"
t_pass "parked list shows reasons, attempts, first failure, origin, and leaves the messages parked"

expect_exit 2 "unknown domain \"nope\"; domains: order, inventory, payment" ctl parked list nope
expect_exit 2 "either --all or --event ID" ctl parked replay audit
expect_exit 2 "either --all or --event ID" ctl parked replay audit --all --event "$E1"
expect_exit 1 "not found in orderflow.audit.dead" ctl parked replay audit --event 00000000-0000-0000-0000-000000000000
t_assert_eq "$ALL3" "$(parked_ids)" "the refused commands moved nothing: the same three messages in the lot"
t_pass "parked: unknown domain and missing choice are usage errors; an unknown event is exit 1 and moves nothing"

ctl parked replay audit --event "$E1" >"$T_DIR/replay"
grep -q "^replayed 1 message from orderflow.audit.dead to orderflow.audit" "$T_DIR/replay" || t_fail "replay: $(cat "$T_DIR/replay")"
t_wait_for 30 'test "$(t_sql "SELECT COUNT(*) FROM event_log WHERE event_id = '"'$E1'"'")" = 1'
t_wait_for 20 'test "$(t_queue_depth orderflow.audit.dead)" = 2'
# Only audit got it: no other domain's inbox has seen the event.
t_assert_eq 0 "$(t_sql "SELECT COUNT(*) FROM inbox WHERE event_id = '$E1' AND consumer <> 'audit'")" \
	"the replayed event went to its own domain only"
t_assert_eq 0 "$(t_sql "SELECT COUNT(*) FROM event_log WHERE event_id IN ('$E2', '$E3')")" "the others stay parked"
t_pass "parked replay --event: back to its domain, processed, gone from the lot"

ctl --json stats >"$T_DIR/stats.json"
python3 - "$T_DIR/stats.json" <<'PY' || t_fail "stats --json: $(cat "$T_DIR/stats.json")"
import json, sys
j = json.load(open(sys.argv[1]))
doms = {d["domain"]: d for d in j["domains"]}
assert set(doms) == {"order", "inventory", "payment", "shipping", "notification", "webhook", "audit"}, doms
assert doms["audit"]["parked"] == 2, doms["audit"]
assert doms["audit"]["consumers"] >= 1 and doms["audit"]["queue"] == "orderflow.audit"
assert all(isinstance(d["ready"], int) and isinstance(d["retrying"], int) for d in doms.values())
assert isinstance(j["outbox"]["pending"], int) and j["outbox"]["lag_seconds"] >= 0
assert j["outbox"]["set_aside"] == 0, j["outbox"]
assert all(isinstance(j["outbox"]["pruned"][t]["rows"], int) for t in ("inbox", "outbox")), j["outbox"]
PY
ctl stats | grep -Eq '^audit +[0-9]+ +[1-9][0-9]* +[0-9]+ +2$' || t_fail "stats table: $(ctl stats)"
ctl stats | grep -q '^outbox: [0-9]* pending, oldest [0-9.]* s, 0 set aside' || t_fail "stats: no outbox line: $(ctl stats)"
ctl stats | grep -q '^pruned inbox: [0-9]* rows (last ' || t_fail "stats: no pruned inbox line: $(ctl stats)"
t_pass "stats: depth, consumers, retrying, parked per domain and the outbox"

ctl --json parked purge audit >"$T_DIR/purge.json"
t_assert_eq '{"domain":"audit","queue":"orderflow.audit.dead","purged":2}' "$(cat "$T_DIR/purge.json")" "parked purge --json"
t_wait_for 20 'test "$(t_queue_depth orderflow.audit.dead)" = 0'
ctl parked list audit | grep -q "^orderflow.audit.dead: 0 parked messages" || t_fail "the lot is empty after purge"
t_pass "parked purge empties the lot"
