#!/usr/bin/env bash
# A worker killed 25 times, each time in the middle of a batch (prefetch 16,
# broker.delivery_limit at its default 20), parks nothing: on RabbitMQ 3.10 a
# quorum queue counts every delivery its consumer's lost channel gave back
# (x-delivery-count + 1 for each message the worker held), so without the
# worker's requeue of worn messages (workers/worker.c) the 16 messages in hand
# would be dead-lettered as delivery_limit after 20 kills (issue 15, item 6).
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init core_lost_channels

KILLS=25
N=16
p_conf_set delivery_limit 20 broker
p_conf_set prefetch 16 broker
"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
p_worker probe
t_wait_for 30 p_wait_declared orderflow.probe
# As many events as the prefetch; each holds its transaction 3 s, so a kill
# 1.5 s into a batch (or a single delivery) finds 16 deliveries in hand and
# nothing committed.
for i in $(seq 1 $N); do p_event sleep '"seconds":3'; done | p_publish >/dev/null

unacked() {
	t_mgmt GET "/api/queues/$(p_vhost)/orderflow.probe" |
		python3 -c 'import json, sys; print(json.load(sys.stdin).get("messages_unacknowledged") or 0)'
}
# What the worker should hold in a batch: every event not yet done, less the
# first delivery, which may come alone. A lone first delivery can commit
# before a kill when the broker's statistics lag (they are up to a second or
# two old); a fixed 15 would then never be reached again.
in_hand() {
	local left=$((N - $(p_effects)))
	[ "$left" -gt 1 ] && echo $((left - 1)) || echo 1
}
kills=0
for k in $(seq 1 $KILLS); do
	# In the middle of a batch: the worker holds (nearly) all that is left,
	# 1.5 s in. (Without the requeue of worn messages, after 20 kills the
	# broker dead-letters all it holds.)
	t_wait_for 90 'test "$(unacked)" -ge "$(in_hand)" || test "$(t_queue_depth orderflow.probe.dead)" != 0'
	[ "$(t_queue_depth orderflow.probe.dead)" = 0 ] || break
	sleep 1.5
	kill -KILL -- "-$T_LAST_PID"
	kills=$k
	p_worker probe
done
echo "# worker killed $kills times in the middle of a batch; $(p_effects) of $N done by then"
[ "$(p_effects)" -le 8 ] || t_fail "$(p_effects) of $N events were done during the kills: too few were in hand to wear"
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked after $kills lost channels"

t_wait_for 120 'test "$(p_effects)" = '$N
t_wait_for 30 p_queue_empty orderflow.probe
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked once all $N are done"
t_assert_eq "$N" "$(p_effects)" "all $N events had their effect once"
requeued=$(cat "$T_DIR"/worker-probe.log | grep -c "requeued as a fresh copy" || true)
echo "# fresh copies made of worn messages: $requeued"
[ "$requeued" -gt 0 ] || t_fail "no worn message was requeued: were the kills in the middle of batches?"
t_pass "core_lost_channels: $KILLS kills mid-batch, $N events done, none parked"
