#!/usr/bin/env bash
# test_relay_refused: one event the broker refuses does not block the relay
# (issue 15 item 2).
#
# A queue of the test's own (x-max-length 0, x-overflow reject-publish) takes
# the routing key test.refused, so the broker nacks every publish of an event
# with that key. One such outbox row is written first, then orders are placed:
# their events come after it in the outbox. They must all complete while the
# refused row is retried alone (attempts, last_error), and after 5 refusals
# the row must be set aside (failed_at), shown by /metrics
# (orderflow_outbox_refused_total, orderflow_outbox_set_aside) and by
# `orderflowctl stats`. Then the operator's re-send: once the queue is gone,
# clearing failed_at publishes the row. Last, a basic.return (a routing key
# no queue binds, with audit's "#" binding taken away for a moment) is
# isolated the same way and goes out once the binding is back.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init relay_refused

ORDERS=20
sg_start
ctl stock set SKU-R 1000 --price 100 >/dev/null
V=$(t_urlencode "$T_VHOST")

t_mgmt PUT "/api/queues/$V/t.refuse" \
	'{"durable":true,"arguments":{"x-max-length":0,"x-overflow":"reject-publish"}}' >/dev/null ||
	t_fail "declaring queue t.refuse"
t_mgmt POST "/api/bindings/$V/e/orderflow.events/q/t.refuse" '{"routing_key":"test.refused"}' >/dev/null ||
	t_fail "binding t.refuse to test.refused"

# outbox_row KEY: writes one outbox row with a valid envelope, prints its id.
outbox_row() {
	local body
	body=$(t_envelope "$1" "agg-$1")
	body=${body//\'/\'\'}
	t_sql "INSERT INTO outbox (event_id, routing_key, body, created_at)
		VALUES (JSON_VALUE('$body', '$.event_id'), '$1', '$body', UTC_TIMESTAMP(6));
		SELECT LAST_INSERT_ID()"
}
BAD=$(outbox_row test.refused)
[[ $BAD =~ ^[0-9]+$ ]] || t_fail "inserting the refused row printed '$BAD'"
for ((i = 0; i < ORDERS; i++)); do sg_place c-refused SKU-R:1 >/dev/null; done
t_wait_for 60 "test \"\$(sg_count \"orders WHERE status = 'SHIPPED'\")\" = $ORDERS"
row=$(t_sql "SELECT published_at IS NULL, attempts >= 1, last_error LIKE '%nacked%' FROM outbox WHERE id = $BAD" | tr '\t' ' ')
t_assert_eq "1 1 1" "$row" "the $ORDERS orders behind the refused row (id $BAD) SHIPPED while it stays unpublished, refused (nack) and retried alone"
t_assert_eq 0 "$(sg_count "outbox WHERE id > $BAD AND published_at IS NULL AND routing_key <> 'test.refused'")" \
	"every row behind it is published"

t_wait_for 60 "test \"\$(t_sql 'SELECT failed_at IS NOT NULL AND retry_at IS NULL FROM outbox WHERE id = $BAD')\" = 1"
t_assert_eq "5" "$(t_sql "SELECT attempts FROM outbox WHERE id = $BAD")" "set aside after 5 refusals"
echo "# last_error: $(t_sql "SELECT last_error FROM outbox WHERE id = $BAD")"
refused=$(sg_metric orderflow_outbox_refused_total)
aside=$(sg_metric orderflow_outbox_set_aside)
t_assert_eq "5 1" "$refused $aside" "/metrics: orderflow_outbox_refused_total 5, orderflow_outbox_set_aside 1"
ctl stats >"$T_DIR/stats.txt" || t_fail "orderflowctl stats"
grep -qF ", 1 set aside" "$T_DIR/stats.txt" || t_fail "orderflowctl stats: $(cat "$T_DIR/stats.txt")"
t_assert_eq 1 "$(ctl stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["outbox"]["set_aside"])')" \
	"orderflowctl stats (text and --json) shows the row set aside"

# The operator's re-send, once the cause is gone.
t_mgmt DELETE "/api/queues/$V/t.refuse" >/dev/null || t_fail "deleting queue t.refuse"
t_sql "UPDATE outbox SET failed_at = NULL, retry_at = NULL, attempts = 0 WHERE id = $BAD"
t_wait_for 30 "test \"\$(t_sql 'SELECT published_at IS NOT NULL FROM outbox WHERE id = $BAD')\" = 1"
t_wait_for 30 "test \"\$(sg_count \"event_log WHERE event_type = 'test.refused'\")\" = 1"
t_pass "re-sent with UPDATE outbox SET failed_at = NULL, retry_at = NULL, attempts = 0: published, audit has it"

# A basic.return: no queue binds the key (audit's "#" taken away meanwhile).
t_mgmt DELETE "/api/bindings/$V/e/orderflow.events/q/orderflow.audit/%23" >/dev/null ||
	t_fail "unbinding orderflow.audit from #"
RET=$(outbox_row test.nobody)
t_wait_for 30 "test \"\$(t_sql \"SELECT attempts >= 1 AND last_error LIKE '%returned%' FROM outbox WHERE id = $RET\")\" = 1"
t_pass "an unroutable row (id $RET) is returned, recorded and held: $(t_sql "SELECT last_error FROM outbox WHERE id = $RET")"
id=$(sg_place c-refused SKU-R:1)
t_wait_for 30 'sg_order_is "$id" SHIPPED'
t_assert_eq 1 "$(t_sql "SELECT published_at IS NULL FROM outbox WHERE id = $RET")" \
	"an order placed after it SHIPPED while it waits"
t_mgmt POST "/api/bindings/$V/e/orderflow.events/q/orderflow.audit" '{"routing_key":"#"}' >/dev/null ||
	t_fail "binding orderflow.audit to # again"
t_wait_for 30 "test \"\$(t_sql 'SELECT published_at IS NOT NULL FROM outbox WHERE id = $RET')\" = 1"
t_pass "once the binding is back, its retry alone publishes it"
