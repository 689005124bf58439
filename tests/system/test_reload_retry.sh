#!/usr/bin/env bash
# retry.delays_ms and broker.delivery_limit change on a running system: after
# SIGHUP (while orders flow) no child fails on a refused redeclaration, no
# queue is deleted, every order completes, a failing event's next retry waits
# the new delay, and the delivery-limit policy holds the new limit.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init reload_retry

mgmt_url=http://127.0.0.1:$ORDERFLOW_MGMT_PORT
sed -i -E "s|^(  url = .*)$|\1\n  management_url = \"$mgmt_url\";|" "$T_CONF"
grep -q "management_url" "$T_CONF" || t_fail "could not set broker.management_url"
sg_conf_section retry 'delays_ms = [2000, 2000]; max_attempts = 30;'
sg_start
ctl stock set SKU-A 1000 --price 100 >/dev/null

policy_limit() {
	t_mgmt GET "/api/policies/$(t_urlencode "$T_VHOST")/orderflow-$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["definition"]["delivery-limit"])'
}
t_assert_eq 20 "$(policy_limit order)" "policy orderflow-order holds delivery-limit 20"
queues_before=$(t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")?columns=name" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')

# A failing event: order.confirmed of an order inventory never reserved
# retries ("reservation not seen yet") through the tiers.
late=$(cat /proc/sys/kernel/random/uuid)
t_publish order.confirmed "$(t_envelope order.confirmed "$late" "{\"order_id\": \"$late\", \"customer_id\": \"c9\"}")"
fails() { grep -c "reservation of order $late not seen yet; retrying in $1 ms" "$T_DIR/orderflowd.log" || true; }
t_wait_for 30 '[ "$(fails 2000)" -ge 1 ]'

# Load while the reload happens.
ids=()
for i in $(seq 1 10); do ids+=("$(sg_place "c$i" SKU-A:1)"); done
sg_conf_section retry 'delays_ms = [6000, 6000, 6000]; max_attempts = 30;'
sed -i -E "s/^(  delivery_limit = )[0-9]+;/\17;/" "$T_CONF"
grep -q "delivery_limit = 7;" "$T_CONF" || t_fail "could not set broker.delivery_limit"
kill -HUP "$SUP_PID"
for i in $(seq 11 20); do ids+=("$(sg_place "c$i" SKU-A:1)"); done
t_wait_for 60 sg_all_consuming
for id in "${ids[@]}"; do t_wait_for 60 "sg_order_is $id SHIPPED"; done
t_pass "20 orders placed around the SIGHUP all SHIPPED"

! grep -q "PRECONDITION_FAILED" "$T_DIR/orderflowd.log" ||
	t_fail "a redeclaration was refused: $(grep -m1 PRECONDITION_FAILED "$T_DIR/orderflowd.log")"
t_assert_eq 7 "$(policy_limit order)" "after SIGHUP policy orderflow-order holds delivery-limit 7"
t_wait_for 30 '[ "$(t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")/orderflow.order" | python3 -c "import json, sys; print(json.load(sys.stdin).get(\"effective_policy_definition\", {}).get(\"delivery-limit\"))")" = 7 ]'
t_pass "the work queue's effective delivery-limit is 7, with no queue deleted"
queues_after=$(t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")?columns=name" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$queues_after" -ge "$queues_before" ] || t_fail "queues went from $queues_before to $queues_after"

# The failing event's retries now wait the new delay: time two consecutive
# failures logged with the new delay.
t_wait_for 60 '[ "$(fails 6000)" -ge 1 ]'
n=$(fails 6000)
t_wait_for 30 "[ \"\$(fails 6000)\" -gt $n ]"
t1=$EPOCHREALTIME
n=$(fails 6000)
t_wait_for 30 "[ \"\$(fails 6000)\" -gt $n ]"
t2=$EPOCHREALTIME
gap=$(python3 -c "print(round($t2 - $t1, 1))")
python3 -c "import sys; sys.exit(0 if 5.5 <= $gap <= 12 else 1)" ||
	t_fail "retries $gap s apart, not the new 6 s"
t_pass "a failing event's retries wait the new delay after SIGHUP: $gap s apart (delays_ms 2000 -> 6000)"
