#!/usr/bin/env bash
# test_two_hosts_cluster: test_two_hosts against a three-node RabbitMQ cluster
# (scripts/stack up --cluster 3) with one node stopped: both orderflowd list
# the three nodes in broker.urls; once both consume, node 2 (the first in
# their lists) is stopped, so the workers on it move; then 300 orders through
# both intakes, the second orderflowd killed midway (SIGKILL, whole process
# group); every saga completes exactly once (issue 15, item 4).
#
# Like integration/test_cluster.sh it re-forms the stack's servers (RUN_SERIAL,
# label cluster) and shrinks back to one node when it ends, whatever the
# outcome.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/two_hosts_lib.sh"
# The stack's own script: from a worktree whose var/stack links to another
# checkout's stack, only that checkout's scripts/stack knows its servers.
STACK=$(cd "$(readlink -f "$ORDERFLOW_SOURCE_DIR/var/stack")/../.." && pwd -P)/scripts/stack
size=$(sed -n 's/^CLUSTER_SIZE=//p' "$ORDERFLOW_SOURCE_DIR/var/stack/cluster" 2>/dev/null || true)
if [ -n "$size" ] && [ "$size" != 1 ]; then
	echo "not ok - two_hosts_cluster: the stack is a cluster already; this test starts from one node (scripts/stack up --cluster 1)" >&2
	exit 1
fi
sg_init two_hosts_cluster
v=$(t_urlencode "$T_VHOST")

c_exit() {
	local rc=$?
	set +e
	t_cluster_back_to_one || rc=1
	(exit $rc)
	t__exit
}
trap c_exit EXIT

t0=$SECONDS
"$STACK" up --cluster 3 >>"$T_DIR/stack.log" 2>&1 || t_fail "scripts/stack up --cluster 3 failed (see $T_DIR/stack.log)"
echo "# two_hosts_cluster: 3 nodes up in $((SECONDS - t0)) s"
# A quorum queue takes its members from the nodes running when it is
# declared: with one still starting, a queue of two members would lose its
# majority when node 2 stops, and no publish would be confirmed.
nodes_running() {
	t_mgmt GET "/api/nodes?columns=name,running" | python3 -c 'import json, sys
n = sum(1 for x in json.load(sys.stdin) if x.get("running"))
print(n)
sys.exit(0 if n == 3 else 1)'
}
t_wait_for 60 nodes_running
# shellcheck disable=SC1091
source "$T_TOP/var/stack/ports"
node_amqp() { if [ "$1" = 1 ]; then echo "$AMQP_PORT"; else local k=AMQP_PORT_$1; echo "${!k}"; fi; }
urls=
for i in 2 3 1; do
	urls+="\"amqp://$ORDERFLOW_MGMT_USER:$ORDERFLOW_MGMT_PASSWORD@127.0.0.1:$(node_amqp $i)/$v\", "
done
sed -i -E "s|^  url = .*|  urls = [${urls%, }];|" "$T_CONF"
grep -q '^  urls = ' "$T_CONF" || t_fail "could not write broker.urls into $T_CONF"

th_start
# Every work queue has its three members before node 2 goes.
members_ok() {
	t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")?columns=name,members" | python3 -c 'import json, sys
short = [q["name"] for q in json.load(sys.stdin)
         if q["name"].count(".") == 1 and len(q.get("members") or []) != 3]
print("queues without 3 members: " + " ".join(short) if short else "ok")
sys.exit(1 if short else 0)'
}
t_wait_for 30 members_ok
"$STACK" stop-broker --node 2 >>"$T_DIR/stack.log" 2>&1 || t_fail "scripts/stack stop-broker --node 2 failed"
echo "# two_hosts_cluster: node 2 stopped"
t_wait_for 90 th_both_consuming
th_run 300
t_pass "two_hosts_cluster: 300 orders through two orderflowd on a 3-node cluster with node 2 down, one orderflowd killed midway: every saga once ($((SECONDS - SG_T0)) s)"
