#!/usr/bin/env bash
# A reload makes every queue's bindings match the config: an event removed
# from domains.webhook.events is unbound from orderflow.webhook (it no longer
# reaches the webhook), one added is bound.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
t_init reload_bindings

for d in order inventory payment shipping notification audit; do s_conf_workers "$d" 0; done
s_conf_role http 0
s_conf_role relay 0
sg_conf_domain webhook 'workers = 1; url = ""; events = ["order.created", "order.confirmed", "order.cancelled"];'
ctl db migrate >/dev/null
ctl topology declare >/dev/null

# webhook_keys: the keys binding orderflow.webhook to orderflow.events, sorted.
webhook_keys() {
	t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")/orderflow.webhook/bindings" |
		python3 -c 'import json, sys
print(" ".join(sorted(b["routing_key"] for b in json.load(sys.stdin) if b["source"] == "orderflow.events")))'
}
t_assert_eq "order.cancelled order.confirmed order.created" "$(webhook_keys)" "bound as configured at start"

s_start
t_wait_for 60 s_notified "READY=1"
t_wait_for 30 '[ "$(sg_consumers orderflow.webhook)" = 1 ]'

sg_conf_domain webhook 'workers = 1; url = ""; events = ["order.created", "shipping.scheduled"];'
kill -HUP "$SUP_PID"
t_wait_for 30 s_notified "READY=1" 2
t_wait_for 60 '[ "$(webhook_keys)" = "order.created shipping.scheduled" ]'
t_pass "after SIGHUP orderflow.webhook is bound to exactly order.created and shipping.scheduled (two removed, one added)"

# What reaches the queue now: stop the worker so nothing is consumed, publish
# a removed event and a kept one; the audit queue (bound to #) sees both.
kill -TERM "$SUP_PID"
t_wait_for 60 '! kill -0 "$SUP_PID" 2>/dev/null'
t_publish order.cancelled "$(t_envelope order.cancelled o-1 '{"order_id": "o-1"}')"
t_publish order.created "$(t_envelope order.created o-2 '{"order_id": "o-2"}')"
t_wait_for 20 '[ "$(t_queue_depth orderflow.audit)" = 2 ]'
t_wait_for 20 '[ "$(t_queue_depth orderflow.webhook)" = 1 ]'
msg=$(t_get_messages orderflow.webhook 5 | python3 -c 'import json, sys; print(" ".join(m["routing_key"] for m in json.load(sys.stdin)))')
t_assert_eq "order.created" "$msg" "the removed event (order.cancelled) no longer reaches orderflow.webhook"
