#!/usr/bin/env bash
# broker/ against the local stack's RabbitMQ, in a vhost of its own: the
# connection name, idempotent and conflicting declarations, confirms and
# returns, the way back through the retry tiers, cancel with deliveries in
# flight, the keepalive thread, a quorum queue's delivery limit and
# at-least-once dead-lettering. tests/integration/tool_brokercheck.c does the
# work and prints one line per check; quorum queues in full, then the classic
# variant of the topology, retry and consumer checks.
set -euo pipefail
: "${ORDERFLOW_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
BUILD=${ORDERFLOW_BUILD_DIR:-$ORDERFLOW_SOURCE_DIR/build}

# vhost_url URL VHOST: URL with its path replaced by the encoded vhost.
vhost_url() {
	python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit((p.scheme, p.netloc, "/" + u.quote(sys.argv[2], safe=""), "", "")))' "$1" "$2"
}

if [ -f "$ORDERFLOW_SOURCE_DIR/tests/lib.sh" ]; then
	source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
	t_init brokercheck
else
	# Without tests/lib.sh: the stack's env and a fresh vhost made here.
	source "$ORDERFLOW_SOURCE_DIR/var/stack/env"
	T_VHOST=t-brokercheck
	api=http://127.0.0.1:$ORDERFLOW_MGMT_PORT/api
	mgmt() {
		curl -fsS -u "${ORDERFLOW_MGMT_USER:-guest}:${ORDERFLOW_MGMT_PASSWORD:-guest}" \
			-H 'content-type: application/json' "$@"
	}
	amqp_user=$(python3 -c 'import sys, urllib.parse as u
print(u.unquote(u.urlsplit(sys.argv[1]).username or "guest"))' "$ORDERFLOW_AMQP_URL")
	mgmt -X DELETE "$api/vhosts/$T_VHOST" >/dev/null 2>&1 || true
	mgmt -X PUT "$api/vhosts/$T_VHOST" >/dev/null
	mgmt -X PUT -d '{"configure":".*","write":".*","read":".*"}' \
		"$api/permissions/$T_VHOST/$amqp_user" >/dev/null
	trap 'mgmt -X DELETE "$api/vhosts/$T_VHOST" >/dev/null 2>&1 || true' EXIT
fi
export ORDERFLOW_MGMT_PORT ORDERFLOW_MGMT_USER ORDERFLOW_MGMT_PASSWORD

url=$(vhost_url "$ORDERFLOW_AMQP_URL" "$T_VHOST")
status=0
"$BUILD/tests/of-brokercheck" --queue-type quorum "$url" || status=1
"$BUILD/tests/of-brokercheck" --queue-type classic \
	--only declare,args,conflict,throughput,unroutable,retry,cancel,stale-tag "$url" || status=1
exit $status
