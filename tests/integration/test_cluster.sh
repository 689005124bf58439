#!/usr/bin/env bash
# A 3-node RabbitMQ cluster (scripts/stack up --cluster 3) and failover: a
# probe worker runs against broker.urls of the three nodes while a publisher
# sends a steady flow of events; in the middle the test stops the node the
# worker is connected to (found in the management API's connections), the
# worker moves to another node, the flow goes on, the node comes back. At the
# end every event has its effect exactly once, nothing is parked, the queue
# is empty and nothing is unacknowledged.
#
# The suite runs on the single-node stack: this test adds nodes 2 and 3 and
# removes them again when it ends (scripts/stack up --cluster 1), whatever
# the outcome.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
STACK=$ORDERFLOW_SOURCE_DIR/scripts/stack
size=$(sed -n 's/^CLUSTER_SIZE=//p' "$ORDERFLOW_SOURCE_DIR/var/stack/cluster" 2>/dev/null || true)
if [ -n "$size" ] && [ "$size" != 1 ]; then
	echo "not ok - cluster: the stack is a cluster already; this test starts from one node (scripts/stack up --cluster 1)" >&2
	exit 1
fi
t_init cluster

export BATCHES=40 PER_BATCH=10
TOTAL=$((BATCHES * PER_BATCH))
v=$(t_urlencode "$T_VHOST")

# c_exit: the EXIT trap: stop the processes, shrink the stack back to one
# node, then lib.sh's own exit handling.
c_exit() {
	local rc=$?
	set +e
	t_cluster_back_to_one || rc=1
	(exit $rc)
	t__exit
}

trap c_exit EXIT

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
t0=$SECONDS
"$STACK" up --cluster 3 >>"$T_DIR/stack.log" 2>&1 || t_fail "scripts/stack up --cluster 3 failed (see $T_DIR/stack.log)"
echo "# cluster: 3 nodes up in $((SECONDS - t0)) s"
# shellcheck disable=SC1091
source "$T_TOP/var/stack/ports"
node_name() { if [ "$1" = 1 ]; then echo orderflow@localhost; else echo "orderflow-$1@localhost"; fi; }
node_amqp() { if [ "$1" = 1 ]; then echo "$AMQP_PORT"; else local k=AMQP_PORT_$1; echo "${!k}"; fi; }
node_mgmt() { if [ "$1" = 1 ]; then echo "$MGMT_PORT"; else local k=MGMT_PORT_$1; echo "${!k}"; fi; }

# The worker and the publisher try node 2, then 3, then 1.
urls=
for i in 2 3 1; do
	urls+="\"amqp://$ORDERFLOW_MGMT_USER:$ORDERFLOW_MGMT_PASSWORD@127.0.0.1:$(node_amqp $i)/$v\", "
done
(umask 077 && sed -E "s|^  url = .*|  urls = [${urls%, }];|" "$T_CONF" >"$T_DIR/cluster.conf")
grep -q '^  urls = ' "$T_DIR/cluster.conf" || t_fail "could not write broker.urls into $T_DIR/cluster.conf"
T_CONF=$T_DIR/cluster.conf

p_worker probe
worker=$T_LAST_PID
t_wait_for 60 p_wait_declared orderflow.probe

# Quorum queues declared with the three nodes up have a member on each.
members() {
	t_mgmt GET "/api/queues/$v/$1" | python3 -c 'import json, sys
print(" ".join(sorted(json.load(sys.stdin).get("members") or [])))'
}
all3="orderflow-2@localhost orderflow-3@localhost orderflow@localhost"
t_assert_eq "$all3" "$(members orderflow.probe)" "orderflow.probe has a member on each node"
t_assert_eq "$all3" "$(members orderflow.probe.dead)" "orderflow.probe.dead has a member on each node"

# worker_node: the node of the worker's consuming connection ("orderflow
# probe PID"; the worker's publisher link has the same name).
worker_node() {
	t_mgmt GET "/api/vhosts/$v/connections?columns=node,client_properties" | python3 -c 'import json, sys
nodes = {c["node"] for c in json.load(sys.stdin)
         if c.get("client_properties", {}).get("connection_name") == sys.argv[1]}
print(" ".join(sorted(nodes)))' "orderflow probe $worker"
}

# A steady flow: one batch of 10 every second or so; a batch that fails (its node
# went away mid-batch) is published again: the events it already delivered
# come twice, which the worker's inbox must absorb. The last 10 batches wait
# for $T_DIR/go (made once the worker has moved), so some of the flow comes
# after the failover however fast the machine.
for b in $(seq 1 $BATCHES); do
	for _ in $(seq 1 $PER_BATCH); do p_event ok; done >"$T_DIR/batch$b"
done
publisher() {
	local b tries
	for b in $(seq 1 $BATCHES); do
		if [ "$b" -eq $((BATCHES - 9)) ]; then
			echo "batch $b: waiting for the failover"
			for _ in $(seq 1 600); do [ -e "$T_DIR/go" ] && break; sleep 0.2; done
		fi
		tries=0
		until "$BIN/tests/of-probe" publish -c "$T_CONF" <"$T_DIR/batch$b" >/dev/null; do
			tries=$((tries + 1))
			[ $tries -ge 60 ] && { echo "batch $b: giving up after $tries tries"; exit 1; }
			echo "batch $b: publishing again (try $((tries + 1)))"
			sleep 0.5
		done
		echo "batch $b: published"
		sleep 1
	done
	echo "publisher: done"
}
export -f publisher
t_bg publisher bash -c publisher

t_wait_for 60 'test "$(p_effects)" -ge 60'
node=$(worker_node)
case $node in
orderflow@localhost) victim=1 ;;
orderflow-2@localhost) victim=2 ;;
orderflow-3@localhost) victim=3 ;;
*) t_fail "the worker (pid $worker) should have one node in the connections list, got '$node'" ;;
esac
before=$(p_effects)
# While node 1 is down, ask another node's management API.
[ "$victim" = 1 ] && ORDERFLOW_MGMT_PORT=$(node_mgmt 2)
echo "# cluster: the worker is on $node; stopping it with $before of $TOTAL effects done"
t0=$SECONDS
"$STACK" stop-broker --node "$victim" >>"$T_DIR/stack.log" 2>&1 || t_fail "scripts/stack stop-broker --node $victim failed"
t_wait_for 60 'n=$(worker_node) && test -n "$n" && test "$n" != "'"$node"'"'
moved=$(worker_node)
echo "# cluster: node $node stopped; the worker reconnected to $moved $((SECONDS - t0)) s after the stop"
after=$(p_effects)
touch "$T_DIR/go"
t_wait_for 60 'test "$(p_effects)" -ge '"$((after + 50))"
t_pass "the flow goes on without $node: $after effects at the reconnect, $(p_effects) now"

t0=$SECONDS
"$STACK" up >>"$T_DIR/stack.log" 2>&1 || t_fail "scripts/stack up (node $victim back) failed (see $T_DIR/stack.log)"
ORDERFLOW_MGMT_PORT=$MGMT_PORT
online() {
	t_mgmt GET "/api/queues/$v/orderflow.probe" | python3 -c 'import json, sys
print(" ".join(sorted(json.load(sys.stdin).get("online") or [])))'
}
t_wait_for 60 'test "$(online)" = "$all3"'
t_pass "$node is back after $((SECONDS - t0)) s; orderflow.probe has its three members online"

t_wait_for 120 'grep -qE "^(publisher: done|batch .*: giving up)" "$T_DIR/publisher.log"'
grep -q '^publisher: done$' "$T_DIR/publisher.log" || t_fail "the publisher did not finish: $(tail -n 3 "$T_DIR/publisher.log")"
t_wait_for 120 'test "$(p_effects)" -ge '"$TOTAL"
t_wait_for 60 p_queue_empty orderflow.probe
effects=$(p_effects)
distinct=$(t_sql 'SELECT COUNT(DISTINCT event_id) FROM probe_effects')
republished=$(grep -c 'publishing again' "$T_DIR/publisher.log" || true)
echo "# cluster: $TOTAL events published ($republished batches published again), $effects effects, $distinct distinct events"
t_assert_eq "$TOTAL" "$distinct" "every event has its effect"
t_assert_eq "$TOTAL" "$effects" "no effect twice"
t_assert_eq 0 "$(t_queue_depth orderflow.probe)" "orderflow.probe empty, nothing unacknowledged"
t_assert_eq 0 "$(t_queue_depth orderflow.probe.dead)" "nothing parked"
case $moved in
orderflow@localhost) port=$(node_amqp 1) ;;
orderflow-*@localhost) port=${moved#orderflow-} && port=$(node_amqp "${port%@localhost}") ;;
esac
grep -q "probe worker: broker: connected to amqp://.*@127.0.0.1:$port/" "$T_DIR/worker-probe.log" ||
	t_fail "the worker log does not show its connection to $moved (port $port)"
t_pass "3-node cluster: the worker's node stopped mid-flow and back: $TOTAL of $TOTAL events, each once"
