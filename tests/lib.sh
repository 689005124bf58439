# tests/lib.sh: helpers for the integration and system tests, which ctest runs
# as `bash tests/{integration,system}/test_*.sh` with ORDERFLOW_SOURCE_DIR and
# ORDERFLOW_BUILD_DIR set, against the local stack (scripts/stack up).
#
#   source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
#   t_init my_test           # own vhost t-my_test, database orderflow_t_my_test,
#                            # $T_CONF pointing at both, $T_DIR for files and logs
#   t_bg worker "$BIN/orderflowd" -c "$T_CONF"   # killed when the test ends
#   t_wait_for 30 'test "$(t_sql "SELECT COUNT(*) FROM orders")" = 1'
#   t_pass "what the test proved"
#
# On success the vhost and the database are deleted; on failure they are kept
# (with the logs in $T_DIR) and the test says where. Output follows TAP's
# words: "ok - ..." on stdout, "not ok - ..." on stderr.
#
# t_wait_for re-runs its command, but the shell expands "$(...)" in the
# arguments once, before t_wait_for runs: pass a condition that has to be
# computed again each time as ONE single-quoted string (it is eval'ed) or as
# a function name.

T_TOP=${ORDERFLOW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)}
T_PIDS=()
T_LAST_PID=
T__READY=

# t_urlencode STRING: STRING with everything but [A-Za-z0-9._~-] %-encoded
# (a vhost or queue name in a management API path or an AMQP URL).
t_urlencode() {
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s\n' "$out"
}

# t_pass MESSAGE: prints "ok - MESSAGE".
t_pass() { echo "ok - $*"; }

# t_fail MESSAGE: prints "not ok - MESSAGE" and exits 1. Called in a subshell
# (inside "$(...)"), it still fails the test: it leaves a mark in $T_DIR that
# the exit trap reads.
t_fail() {
	echo "not ok - $*" >&2
	[ -n "${T_DIR:-}" ] && [ -d "$T_DIR" ] && echo "$*" >>"$T_DIR/.failed"
	exit 1
}

# t_assert_eq EXPECTED ACTUAL MESSAGE: "ok - MESSAGE", or fails the test.
t_assert_eq() {
	if [ "$1" = "$2" ]; then
		echo "ok - $3"
	else
		t_fail "$3: expected '$1', got '$2'"
	fi
}

# t_init NAME: the test's own vhost, database, config and folder; see the top.
t_init() {
	set -euo pipefail
	[ $# -eq 1 ] && [[ $1 =~ ^[A-Za-z0-9_-]+$ ]] || t_fail "t_init NAME: NAME of [A-Za-z0-9_-], got '$*'"
	T_NAME=$1
	if [ ! -s "$T_TOP/var/stack/env" ]; then
		t_fail "$T_NAME: the local stack is not up (no $T_TOP/var/stack/env): run scripts/stack up"
	fi
	# shellcheck disable=SC1091
	source "$T_TOP/var/stack/env"
	export ORDERFLOW_SOURCE_DIR=$T_TOP
	export ORDERFLOW_BUILD_DIR=${ORDERFLOW_BUILD_DIR:-$T_TOP/build}
	BIN=$ORDERFLOW_BUILD_DIR
	T_VHOST=t-$T_NAME
	T_DB=orderflow_t_${T_NAME//-/_}
	T_DIR=$T_TOP/var/tests/$T_NAME
	T_CONF=$T_DIR/orderflow.conf
	export T_NAME T_VHOST T_DB T_DIR T_CONF BIN

	rm -rf "$T_DIR"
	mkdir -p "$T_DIR"
	trap t__exit EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'T__ERR="line $LINENO: $BASH_COMMAND"' ERR

	local v
	v=$(t_urlencode "$T_VHOST")
	t_mgmt GET /api/overview >/dev/null ||
		t_fail "$T_NAME: RabbitMQ's management API (127.0.0.1:$ORDERFLOW_MGMT_PORT) does not answer: is the stack up? (scripts/stack status)"
	t_mgmt DELETE "/api/vhosts/$v" >/dev/null 2>&1 || true
	t_mgmt PUT "/api/vhosts/$v" '{"description":"orderflow test '"$T_NAME"'"}' >/dev/null ||
		t_fail "$T_NAME: could not create vhost $T_VHOST"
	t_mgmt PUT "/api/permissions/$v/$(t_urlencode "$ORDERFLOW_MGMT_USER")" \
		'{"configure":".*","write":".*","read":".*"}' >/dev/null ||
		t_fail "$T_NAME: could not grant $ORDERFLOW_MGMT_USER the vhost $T_VHOST"

	t__mysql -e "DROP DATABASE IF EXISTS \`$T_DB\`;
		CREATE DATABASE \`$T_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci" ||
		t_fail "$T_NAME: could not create database $T_DB"
	T__READY=1

	# The stack's config, on the test's vhost and database.
	local url=${ORDERFLOW_AMQP_URL%/*}/$v
	(umask 077 && sed -E -e "s|^(  url = ).*|\\1\"$url\";|" \
		-e "s|^(  name = ).*|\\1\"$T_DB\";|" "$ORDERFLOW_CONF" >"$T_CONF")
	grep -qF "\"$url\"" "$T_CONF" && grep -qF "\"$T_DB\"" "$T_CONF" ||
		t_fail "$T_NAME: could not point $T_CONF at vhost $T_VHOST and database $T_DB"
	echo "# $T_NAME: vhost $T_VHOST, database $T_DB, files in ${T_DIR#"$T_TOP"/}"
}

# t_cluster_back_to_one: the clean-up of a test that grew the stack to
# three nodes with "$STACK up --cluster 3" (STACK is set by the test).
# Stops what the test started, deletes its vhost, shrinks the stack back to
# one node and waits for its management API. Returns 1 if the shrink failed.
# The vhost goes first, whatever the outcome, with all three nodes running:
# its quorum queues have members on the nodes about to leave. With node 2
# still stopped the delete outlasts the API's timeout, and a queue left with
# a member on a node that is then removed can never be used or deleted
# again: it fails the shrink of every later cluster test. The logs stay in
# $T_DIR.
t_cluster_back_to_one() {
	local t0=$SECONDS
	t__stop_all
	"$STACK" up --cluster 3 >>"$T_DIR/stack.log" 2>&1 ||
		echo "# $T_NAME: could not start node 2 again before the cleanup (see $T_DIR/stack.log)" >&2
	t_mgmt DELETE "/api/vhosts/$(t_urlencode "$T_VHOST")" >/dev/null &&
		T_VHOST_GONE=1 ||
		echo "# $T_NAME: could not delete vhost $T_VHOST before the shrink" >&2
	echo "# $T_NAME: back to one node (scripts/stack up --cluster 1)"
	"$STACK" up --cluster 1 >>"$T_DIR/stack.log" 2>&1 || {
		echo "not ok - $T_NAME: scripts/stack up --cluster 1 failed (see $T_DIR/stack.log)" >&2
		return 1
	}
	# The management API comes back a little after the node.
	for _ in $(seq 1 60); do t_mgmt GET /api/overview >/dev/null 2>&1 && break; sleep 0.5; done
	echo "# $T_NAME: one node again after $((SECONDS - t0)) s"
}

# t__exit: the EXIT trap. Stops what t_bg started; on success deletes the
# vhost and the database, on failure keeps them and says where they are.
t__exit() {
	local rc=$? cmd=$BASH_COMMAND pid
	set +e
	trap - ERR
	if [ $rc -eq 0 ] && [ -s "$T_DIR/.failed" ]; then rc=1; fi
	if [ $rc -ne 0 ] && [ ! -s "$T_DIR/.failed" ]; then
		echo "not ok - $T_NAME: exited with status $rc at ${T__ERR:-$cmd}" >&2
	fi
	t__stop_all
	# A sanitizer report in any process the test ran fails the test, even
	# when the process's exit status went unnoticed (a supervised child):
	# every file the test wrote is read, not only the *.log ones.
	if [ -n "$T__READY" ] && [ -n "$(t_sanitizer_files)" ]; then
		echo "not ok - $T_NAME: sanitizer report in $(t_sanitizer_files | tr '\n' ' ')" >&2
		t_sanitizer_files | xargs -d '\n' grep -hE -A12 "$T_SANITIZER_RE" |
			head -n 40 | sed 's/^/#   /' >&2
		rc=1
	fi
	if [ -n "$T__READY" ]; then
		if [ $rc -eq 0 ]; then
			[ -n "${T_VHOST_GONE:-}" ] ||
				t_mgmt DELETE "/api/vhosts/$(t_urlencode "$T_VHOST")" >/dev/null ||
				echo "# $T_NAME: could not delete vhost $T_VHOST" >&2
			t__mysql -e "DROP DATABASE IF EXISTS \`$T_DB\`" ||
				echo "# $T_NAME: could not drop database $T_DB" >&2
		else
			echo "# $T_NAME: kept for inspection: $([ -n "${T_VHOST_GONE:-}" ] || echo "vhost $T_VHOST, ")database $T_DB, logs in $T_DIR" >&2
			local f
			for f in "$T_DIR"/*.log; do
				[ -s "$f" ] || continue
				echo "# last lines of $f:" >&2
				tail -n 15 "$f" | sed 's/^/#   /' >&2
			done
		fi
	fi
	exit $rc
}

# t_sanitizer_files: the files under $T_DIR (all of them, in every folder)
# that hold a sanitizer report, one a line.
T_SANITIZER_RE="ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: "
t_sanitizer_files() {
	grep -rlaE "$T_SANITIZER_RE" "$T_DIR" 2>/dev/null || true
}

# t__stop_all: TERM to the process group of every t_bg command, KILL after 10 s.
t__stop_all() {
	local pid alive deadline
	[ ${#T_PIDS[@]} -eq 0 ] && return 0
	for pid in "${T_PIDS[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done
	deadline=$((SECONDS + 10))
	while :; do
		alive=
		for pid in "${T_PIDS[@]}"; do
			if kill -0 -- "-$pid" 2>/dev/null || kill -0 "$pid" 2>/dev/null; then alive+=" $pid"; fi
		done
		[ -z "$alive" ] && break
		if [ $SECONDS -ge $deadline ]; then
			echo "# $T_NAME: killing what is left of:$alive" >&2
			for pid in $alive; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; done
			break
		fi
		sleep 0.1
	done
	wait 2>/dev/null
	T_PIDS=()
}

# t_bg NAME CMD...: runs CMD in the background, in a process group of its own,
# output appended to $T_DIR/NAME.log; its pid is $T_LAST_PID. The exit trap
# stops the whole group.
t_bg() {
	local name=$1
	shift
	setsid "$@" </dev/null >>"$T_DIR/$name.log" 2>&1 &
	T_LAST_PID=$!
	T_PIDS+=("$T_LAST_PID")
}

t__mysql() { mysql --defaults-file="$T_TOP/var/stack/my.cnf" "$@"; }

# t_sql SQL: runs SQL in the test database, prints the result (tab-separated,
# no column names).
t_sql() { t__mysql -N -B "$T_DB" -e "$1"; }

# t_mgmt METHOD PATH [JSON]: a request to RabbitMQ's management API (PATH
# begins with /api/) as the stack's user; prints the answer's body. An HTTP
# error is reported on stderr and returns 1 (it does not exit: t_wait_for can
# poll with it).
t_mgmt() {
	local method=$1 path=$2 body=${3:-} resp code
	local args=(-sS -X "$method" -u "$ORDERFLOW_MGMT_USER:$ORDERFLOW_MGMT_PASSWORD"
		-H 'content-type: application/json' --max-time 30 -w '\n%{http_code}')
	[ -n "$body" ] && args+=(--data-binary "$body")
	resp=$(curl "${args[@]}" "http://127.0.0.1:$ORDERFLOW_MGMT_PORT$path" 2>&1) || {
		echo "t_mgmt: $method $path: ${resp%$'\n'*}" >&2
		return 1
	}
	code=${resp##*$'\n'}
	resp=${resp%$'\n'*}
	if [[ $code != 2?? ]]; then
		echo "t_mgmt: $method $path: HTTP $code: ${resp:0:500}" >&2
		return 1
	fi
	[ -n "$resp" ] && printf '%s\n' "$resp"
	return 0
}

# t_queue_depth QUEUE: messages (ready + unacknowledged) in QUEUE of the test
# vhost, from the management API. Those counts are statistics the broker
# refreshes every second on the local stack (collect_statistics_interval and
# quorum_tick_interval), so poll with t_wait_for rather than trust one read.
# A queue whose statistics have not arrived yet is waited for (10 s at most).
t_queue_depth() {
	local q=$1 json n deadline=$((SECONDS + 10))
	while :; do
		json=$(t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")/$(t_urlencode "$q")") || return 1
		n=$(python3 -c 'import json, sys
m = json.load(sys.stdin).get("messages")
print("" if m is None else m)' <<<"$json") || return 1
		if [ -n "$n" ]; then
			echo "$n"
			return 0
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "t_queue_depth: queue $q of vhost $T_VHOST has no message count yet" >&2
			return 1
		fi
		sleep 0.3
	done
}

# t_get_messages QUEUE COUNT: up to COUNT messages of QUEUE as the management
# API's JSON array (payload, properties with headers, ...). They are
# requeued, not consumed (on a quorum queue with a delivery limit each read
# counts as a delivery).
t_get_messages() {
	t_mgmt POST "/api/queues/$(t_urlencode "$T_VHOST")/$(t_urlencode "$1")/get" \
		"{\"count\":$2,\"ackmode\":\"ack_requeue_true\",\"encoding\":\"auto\",\"truncate\":1000000}"
}

# t_publish ROUTING_KEY BODY [EXCHANGE] [HEADERS_JSON]: publishes BODY to
# EXCHANGE (orderflow.events when left out or empty; amq.default is the AMQP
# default exchange, which routes by queue name) of the test
# vhost, persistent, content_type application/json, with message_id, type,
# correlation_id and timestamp taken from the envelope when BODY is one.
# Returns 1 when the broker routed it to no queue.
t_publish() {
	local rk=$1 body=$2 ex=${3:-orderflow.events} headers=${4:-} req resp
	req=$(python3 - "$rk" "$body" "$headers" <<'PY'
import calendar, json, sys, time
rk, body, headers = sys.argv[1:4]
props = {"delivery_mode": 2, "content_type": "application/json"}
try:
    env = json.loads(body)
except ValueError:
    env = None
if isinstance(env, dict):
    for key, prop in (("event_id", "message_id"), ("event_type", "type"),
                      ("correlation_id", "correlation_id")):
        if isinstance(env.get(key), str) and env[key]:
            props[prop] = env[key]
    try:
        props["timestamp"] = calendar.timegm(time.strptime(env["occurred_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    except (KeyError, TypeError, ValueError):
        pass
if headers:
    props["headers"] = json.loads(headers)
print(json.dumps({"properties": props, "routing_key": rk, "payload": body,
                  "payload_encoding": "string"}))
PY
	) || { echo "t_publish: bad HEADERS_JSON: $headers" >&2; return 1; }
	resp=$(t_mgmt POST "/api/exchanges/$(t_urlencode "$T_VHOST")/$(t_urlencode "$ex")/publish" "$req") || return 1
	if [[ $resp != *'"routed":true'* ]]; then
		echo "t_publish: $rk on exchange $ex of vhost $T_VHOST was not routed to any queue" >&2
		return 1
	fi
}

# t_wait_for TIMEOUT_S CMD...: runs CMD (quietly) every 0.2 s until it succeeds;
# fails the test after TIMEOUT_S seconds, naming CMD and showing its last
# output. With one argument, that argument is eval'ed each time, so a
# single-quoted 'test "$(t_sql ...)" = 3' is computed again on every try.
t_wait_for() {
	local timeout=$1 out=/dev/null start deadline hint=
	shift
	[ -n "${T_DIR:-}" ] && [ -d "$T_DIR" ] && out=$T_DIR/.wait_for.out
	start=${EPOCHREALTIME/[.,]/}
	deadline=$((start + timeout * 1000000))
	while :; do
		if [ $# -eq 1 ]; then
			if eval "$1" >"$out" 2>&1; then return 0; fi
		elif "$@" >"$out" 2>&1; then
			return 0
		fi
		[ "${EPOCHREALTIME/[.,]/}" -ge $deadline ] && break
		sleep 0.2
	done
	case $1 in
	test | \[) [ $# -gt 1 ] && hint=" (its arguments were expanded once, when t_wait_for was called: quote a condition with \$(...) in single quotes to compute it again on each try)" ;;
	esac
	if [ "$out" != /dev/null ] && [ -s "$out" ]; then
		echo "# last output of the command:" >&2
		tail -n 10 "$out" | sed 's/^/#   /' >&2
	fi
	t_fail "t_wait_for: not true within $timeout s: $*$hint"
}

# t_envelope EVENT_TYPE AGGREGATE_ID [PAYLOAD_JSON] [EVENT_ID]: a valid event
# envelope on one line: aggregate_type "order", correlation_id AGGREGATE_ID,
# causation_id "", occurred_at now (UTC, milliseconds), payload {} and a new
# event_id unless given (an empty argument counts as not given).
t_envelope() {
	local type=$1 agg=$2 payload=${3:-} id=${4:-}
	[ -n "$payload" ] || payload='{}'
	[ -n "$id" ] || id=$(cat /proc/sys/kernel/random/uuid)
	agg=${agg//\\/\\\\}
	agg=${agg//\"/\\\"}
	printf '{"event_id":"%s","event_type":"%s","schema_version":1,"aggregate_type":"order","aggregate_id":"%s","correlation_id":"%s","causation_id":"","occurred_at":"%s","payload":%s}\n' \
		"$id" "$type" "$agg" "$agg" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$payload"
}
