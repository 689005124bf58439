#!/usr/bin/env bash
# test_saga_webhook: the webhook domain against a receiver that answers 503
# to its first 3 requests and 422 to every order.cancelled
# (tests/system/webhook_receiver.py), with retry.delays_ms = [500, 1000],
# max_attempts = 10, breaker_failures = 2, breaker_cooldown_ms = 2000:
#   1. two orders that ship: every event of domains.webhook.events in their
#      event_log (order.created and order.confirmed of each, 4) reaches the
#      receiver with a 2xx at least once, with Content-Type
#      application/json and Orderflow-Event-Id / -Type matching the body;
#      webhook_stats counts each DELIVERED exactly once; the 503s went
#      through the retry tiers; the breaker opened and closed again (the
#      webhook worker's log says "circuit breaker open" then "circuit
#      breaker closed"), and nothing is parked;
#   2. an order that is declined: its order.created is delivered, its
#      order.cancelled gets 422, is sent once (no retry) and parked at once
#      in orderflow.webhook.dead with orderflow-parked-reason
#      "rejected: webhook HTTP 422".
# The invariants hold at the end (with that one message parked).
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_webhook

K=3
RLOG=$T_DIR/receiver.tsv
t_bg receiver python3 "$ORDERFLOW_SOURCE_DIR/tests/system/webhook_receiver.py" \
	--port-file "$T_DIR/receiver.port" --log "$RLOG" --fail-first $K --fail-status 503 \
	--reject-type order.cancelled --reject-status 422
t_wait_for 10 test -s "$T_DIR/receiver.port"
RPORT=$(cat "$T_DIR/receiver.port")
: >>"$RLOG"

sg_conf_domain webhook "workers = 1; url = \"http://127.0.0.1:$RPORT/hook\"; breaker_failures = 2; breaker_cooldown_ms = 2000;"
sg_conf_domain payment 'workers = 1; decline_customers = ["c-declined"];'
sg_conf_section retry 'delays_ms = [500, 1000];
  max_attempts = 10;'
"$BIN/orderflowd" -t -c "$T_CONF" >/dev/null 2>"$T_DIR/check.err" || t_fail "config: $(cat "$T_DIR/check.err")"
sg_start
ctl stock set SKU-W 10 --price 1000 >/dev/null

# ok_ids: distinct Orderflow-Event-Ids the receiver answered with a 2xx.
ok_ids() { awk -F'\t' '$2 ~ /^2/ { print $3 }' "$RLOG" | sort -u; }
# webhook_ids ORDER...: event_log ids of the orders' events that the webhook sends.
webhook_ids() {
	local in
	in=$(printf "'%s'," "$@")
	t_sql "SELECT event_id FROM event_log WHERE correlation_id IN (${in%,})
		AND event_type IN ('order.created', 'order.confirmed', 'order.cancelled') ORDER BY event_id"
}

# ---- 1. transient failures, retries and the breaker --------------------------
O1=$(sg_place c-hook-1 SKU-W:1)
O2=$(sg_place c-hook-2 SKU-W:2)
t_wait_for 30 'sg_order_is "$O1" SHIPPED && sg_order_is "$O2" SHIPPED'
t_wait_for 60 'test "$(ok_ids | wc -l)" -ge 4'
sg_settle
want=$(webhook_ids "$O1" "$O2")
t_assert_eq 4 "$(echo "$want" | wc -l)" "1. the two orders have 4 events to send (order.created, order.confirmed of each)"
t_assert_eq "$want" "$(ok_ids)" "1. the receiver got each of the 4 with a 2xx (distinct Orderflow-Event-Ids = event_log's)"
requests=$(wc -l <"$RLOG")
# What the webhook worker did with the receiver's 503s: each one sent the
# event to a retry tier (the worker's log names the event and the status),
# not to the parking lot and not lost.
got503=$(awk -F'\t' '$2 == 503 { print $3 }' "$RLOG" | sort)
retried503=$(sed -nE 's/.* of event ([0-9a-f-]{36}) failed: webhook HTTP 503; retrying in [0-9]+ ms .*/\1/p' \
	"$T_DIR/orderflowd.log" | sort)
[ "$(echo "$got503" | wc -w)" = "$K" ] || t_fail "1. the receiver should have answered 503 $K times: $got503"
t_assert_eq "$got503" "$retried503" \
	"1. each of the $K answers 503 (of $requests requests) made the worker retry that event through a delay tier"
bad=$(awk -F'\t' '$3 != $5 || $6 != "application/json" || $3 == "-" || $4 == "-"' "$RLOG")
[ -z "$bad" ] || t_fail "1. requests whose Orderflow-Event-Id is not the body's event_id, or not JSON: $bad"
t_pass "1. every request: Content-Type application/json, Orderflow-Event-Id = the envelope's event_id, Orderflow-Event-Type set"
t_assert_eq 4 "$(t_sql "SELECT COALESCE(SUM(count), 0) FROM webhook_stats WHERE outcome = 'DELIVERED'")" \
	"1. webhook_stats: 4 DELIVERED, each counted once"
retried=$(curl -sS "$SG_HTTP/metrics" | awk '$1 == "orderflow_events_retried_total{domain=\"webhook\"}" { print $2 }')
[ "${retried:-0}" -ge 1 ] || t_fail "1. the 503s should have gone through the retry tiers (retried = ${retried:-none})"
t_pass "1. $retried webhook retries through the delay tiers"

opened=$(grep -c 'webhook worker: webhook: circuit breaker open' "$T_DIR/orderflowd.log" || true)
closed=$(grep -c 'webhook worker: webhook: the receiver answers again: circuit breaker closed' "$T_DIR/orderflowd.log" || true)
[ "$opened" -ge 1 ] && [ "$closed" -ge 1 ] || t_fail "1. breaker: opened $opened times, closed $closed times in the log"
first_open=$(grep -n 'circuit breaker open' "$T_DIR/orderflowd.log" | head -n 1 | cut -d: -f1)
last_close=$(grep -n 'circuit breaker closed' "$T_DIR/orderflowd.log" | tail -n 1 | cut -d: -f1)
[ "$first_open" -lt "$last_close" ] || t_fail "1. the breaker closed (line $last_close) before it opened (line $first_open)"
grep -q 'circuit breaker open (too many transient failures in a row): holding deliveries for 2000 ms' "$T_DIR/orderflowd.log" ||
	t_fail "1. the breaker did not open after breaker_failures = 2 transient failures"
t_pass "1. breaker: opened $opened times (2 failures in a row, then failed trials), closed $closed time(s) once the receiver answered"
t_assert_eq 0 "$(t_queue_depth orderflow.webhook.dead)" "1. nothing parked"
sg_invariants --stock SKU-W=10

# ---- 2. a permanent answer parks the event at once ---------------------------
opened_before=$opened
O3=$(sg_place c-declined SKU-W:1)
t_wait_for 30 'sg_order_is "$O3" CANCELLED'
t_wait_for 30 'test "$(sg_count "event_log WHERE correlation_id = '\''$O3'\'' AND event_type = '\''order.cancelled'\''")" = 1'
CANCEL_ID=$(t_sql "SELECT event_id FROM event_log WHERE correlation_id = '$O3' AND event_type = 'order.cancelled'")
t_wait_for 30 'test "$(t_queue_depth orderflow.webhook.dead)" = 1'
sg_settle
t_get_messages orderflow.webhook.dead 10 >"$T_DIR/dead.json"
parked=$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
p = m[0]["properties"]; h = p.get("headers", {})
print(len(m), p.get("message_id"), p.get("type"), h.get("orderflow-parked-from"), "|" + str(h.get("orderflow-parked-reason")) + "|")' "$T_DIR/dead.json")
t_assert_eq "1 $CANCEL_ID order.cancelled orderflow.webhook |rejected: webhook HTTP 422|" "$parked" \
	"2. order.cancelled of the declined order parked in orderflow.webhook.dead: reason 'rejected: webhook HTTP 422'"
t_assert_eq "422" "$(awk -F'\t' -v id="$CANCEL_ID" '$3 == id { print $2 }' "$RLOG" | tr '\n' ' ' | sed 's/ $//')" \
	"2. it was sent once, answered 422, not retried"
created3=$(t_sql "SELECT event_id FROM event_log WHERE correlation_id = '$O3' AND event_type = 'order.created'")
ok_ids | grep -qx "$created3" || t_fail "2. the declined order's order.created was not delivered"
t_pass "2. the declined order's order.created was delivered (200)"
t_assert_eq "$opened_before" "$(grep -c 'webhook worker: webhook: circuit breaker open' "$T_DIR/orderflowd.log" || true)" \
	"2. a 422 does not open the breaker"
sg_invariants --stock SKU-W=10 --expect-dead orderflow.webhook.dead=1

t_pass "saga_webhook: $(ok_ids | wc -l) events delivered through $K 503s and the breaker, one 422 parked ($((SECONDS - SG_T0)) s)"
