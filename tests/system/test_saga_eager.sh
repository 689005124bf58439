#!/usr/bin/env bash
# test_saga_eager: eager dispatch (relay.grace_ms, DESIGN.md "Eager
# dispatch"). With a grace of 8 s, a worker publishes the events it commits
# itself and marks them published before the relay may take them
# (published_at < relay_after), while the intake's order.created is the
# relay's at once (relay_after NULL). A worker killed between its commit and
# its publish leaves its event to the relay, which publishes it once the
# grace has passed: the saga completes, the event reaches each consumer once.
# grace_ms = 0, set on the live system by a SIGHUP, gives every event to the
# relay again.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_eager
GRACE=8000
sg_conf_section relay "workers = 1; grace_ms = $GRACE;"

# rows ID: the order's outbox rows as "type held published-before-grace".
rows() {
	t_sql "SELECT o.routing_key, o.relay_after IS NOT NULL,
		o.published_at IS NOT NULL AND o.relay_after IS NOT NULL AND o.published_at < o.relay_after
		FROM outbox o JOIN event_log e ON e.event_id = o.event_id
		WHERE e.correlation_id = '$1' ORDER BY o.id" | tr '\t' ' '
}

sg_start
ctl stock set SKU-E 10 --price 500 >/dev/null

# 1. Workers publish their own events, inside the grace.
ID=$(sg_place c-eager-1 SKU-E:1)
t_wait_for 30 'sg_order_is "$ID" SHIPPED'
sg_settle
t_assert_eq "order.created 0 0
stock.reserved 1 1
payment.completed 1 1
order.confirmed 1 1
shipping.scheduled 1 1" "$(rows "$ID")" \
	"order.created is the relay's; the four worker events were published and marked by their workers within the grace"

# 2. Inventory dies after committing its reservation, before publishing
# stock.reserved: the relay publishes it after the grace.
kill -TERM "$SUP_PID"
t_wait_for 40 "! kill -0 $SUP_PID 2>/dev/null"
ORDERFLOW_TEST_ABORT_AFTER_COMMIT=inventory:order.created \
	t_bg orderflowd "$BIN/orderflowd" -c "$T_CONF"
SUP_PID=$T_LAST_PID
t_wait_for 60 sg_all_consuming
ID2=$(sg_place c-eager-2 SKU-E:2)
t_wait_for 30 "grep -q 'test fault: aborting after the commit of event' '$T_DIR/orderflowd.log'"
held=$(t_sql "SELECT o.published_at IS NULL, o.relay_after > UTC_TIMESTAMP(6) FROM outbox o
	WHERE o.routing_key = 'stock.reserved' AND o.body LIKE '%$ID2%'" | tr '\t' ' ')
t_assert_eq "1 1" "$held" "after the crash, stock.reserved of $ID2 is committed, unpublished and still in its grace"
t_wait_for $((GRACE / 1000 + 40)) 'sg_order_is "$ID2" SHIPPED'
sg_settle
t_assert_eq "1" "$(t_sql "SELECT o.published_at >= o.relay_after FROM outbox o
	WHERE o.routing_key = 'stock.reserved' AND o.body LIKE '%$ID2%'")" \
	"the relay published stock.reserved after the grace"
t_assert_eq "1 1" "$(t_sql "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM event_log
	WHERE correlation_id = '$ID2' AND event_type = 'stock.reserved'" | tr '\t' ' ')" \
	"stock.reserved is in event_log once"
t_assert_eq "1" "$(t_sql "SELECT COUNT(*) FROM inbox i JOIN event_log e ON e.event_id = i.event_id
	WHERE i.consumer = 'payment' AND e.correlation_id = '$ID2'")" "payment processed it once"
grep -q "already processed by inventory" "$T_DIR/orderflowd.log" ||
	t_fail "the redelivered order.created was not absorbed by inventory's inbox"
t_pass "the restarted inventory worker found order.created already processed"

# 3. grace_ms = 0 on the live system: every event is the relay's.
kill -TERM "$SUP_PID"
t_wait_for 40 "! kill -0 $SUP_PID 2>/dev/null"
t_bg orderflowd "$BIN/orderflowd" -c "$T_CONF"
SUP_PID=$T_LAST_PID
t_wait_for 60 sg_all_consuming
sg_conf_section relay "workers = 1; grace_ms = 0;"
: >"$T_DIR/orderflowd.log"
kill -HUP "$SUP_PID"
t_wait_for 60 "grep -q 'reload: configuration applied' '$T_DIR/orderflowd.log'"
# The domain workers read relay.grace_ms: each is replaced, and the new ones
# consume before the order is placed.
t_wait_for 60 "[ \$(grep -o ': consuming orderflow\.[a-z]* (prefetch' '$T_DIR/orderflowd.log' | sort -u | wc -l) -ge 7 ]"
t_wait_for 60 sg_all_consuming
ID3=$(sg_place c-eager-3 SKU-E:1)
t_wait_for 30 'sg_order_is "$ID3" SHIPPED'
sg_settle
t_assert_eq "order.created 0 0
stock.reserved 0 0
payment.completed 0 0
order.confirmed 0 0
shipping.scheduled 0 0" "$(rows "$ID3")" "with grace_ms = 0 no row is held: the relay publishes them all"

sg_invariants --stock SKU-E=10
