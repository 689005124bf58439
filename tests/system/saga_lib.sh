# shellcheck shell=bash
# tests/system/saga_lib.sh: helpers for the saga tests (test_saga_*.sh), which
# run the whole system (orderflowd: the seven domains, a relay, the HTTP
# intake) under their own vhost and database and check DESIGN.md "Events".
#
#   source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
#   source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
#   sg_init my_saga                  # t_init + an HTTP listener and token of our own
#   sg_conf_domain shipping 'workers = 0;'
#   sg_start                         # migrate, orderflowd, wait until every domain consumes
#   ctl stock set SKU-A 10 --price 1250
#   id=$(sg_place c1 SKU-A:1)
#   t_wait_for 30 'sg_order_is "$id" SHIPPED'
#   sg_invariants --stock SKU-A=10   # tests/system/check_invariants.py, fails the test
#
# Every wait is a t_wait_for on a condition; no fixed sleep decides a result.

# shellcheck disable=SC2034  # SG_* are read by the tests that source this file
SG_DOMAINS="order inventory payment shipping notification webhook audit"

# ctl ARGS...: orderflowctl on the test's config.
ctl() { "$BIN/orderflowctl" -c "$T_CONF" "$@"; }

# sg_free_port: a free loopback port below the kernel's ephemeral range
# (where an outgoing connection could take it first).
sg_free_port() {
	local lo hi p i
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % (lo - 20000)))
		if python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))' "$p" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# sg_init NAME: t_init NAME, then http.listen on a free loopback port and a
# token of the test's own in $T_CONF (so that nothing clashes with the
# stack's intake or another test). Sets SG_HTTP (base URL) and SG_TOKEN.
sg_init() {
	t_init "$1"
	local port
	port=$(sg_free_port) || t_fail "no free loopback port for http.listen"
	SG_TOKEN=t-$1-$RANDOM$RANDOM
	SG_HTTP=http://127.0.0.1:$port
	sed -i -E -e "s|^(  listen = ).*|\\1\"127.0.0.1:$port\";|" \
		-e "s|^(  tokens = ).*|\\1[\"$SG_TOKEN\"];|" "$T_CONF"
	grep -qF "\"127.0.0.1:$port\"" "$T_CONF" && grep -qF "\"$SG_TOKEN\"" "$T_CONF" ||
		t_fail "could not set http.listen and http.tokens in $T_CONF"
	SG_T0=$SECONDS
}

# sg_conf_domain DOMAIN 'KEY = VALUE; ...': replaces the settings of
# domains.DOMAIN in $T_CONF (the stack's config has one line per domain).
sg_conf_domain() {
	python3 - "$T_CONF" "$1" "$2" <<'PY' || t_fail "could not set domains.$1 in $T_CONF"
import re, sys
path, dom, body = sys.argv[1:]
text = open(path).read()
new, n = re.subn(r"(?m)^  %s = \{.*\};$" % re.escape(dom), "  %s = { %s };" % (dom, body), text)
if n != 1:
    sys.exit("domains.%s: %d lines match" % (dom, n))
open(path, "w").write(new)
PY
}

# sg_conf_section SECTION 'KEY = VALUE; ...': replaces a top-level section
# (retry, log, ...) of $T_CONF by the given keys.
sg_conf_section() {
	python3 - "$T_CONF" "$1" "$2" <<'PY' || t_fail "could not set section $1 in $T_CONF"
import re, sys
path, sec, body = sys.argv[1:]
text = open(path).read()
new, n = re.subn(r"(?ms)^%s = \{\n.*?^\};$" % re.escape(sec), "%s = {\n  %s\n};" % (sec, body), text)
if n != 1:
    sys.exit("section %s: %d matches" % (sec, n))
open(path, "w").write(new)
PY
}

# sg_workers DOMAIN: domains.DOMAIN.workers in $T_CONF (1 when not said).
sg_workers() {
	local n
	n=$(sed -n -E "s/^  $1 = \{.*workers = ([0-9]+);.*/\1/p" "$T_CONF")
	echo "${n:-1}"
}

# sg_consumers QUEUE: consumers of QUEUE in the test vhost (0 when absent).
sg_consumers() {
	t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")/$(t_urlencode "$1")" 2>/dev/null |
		python3 -c 'import json, sys
print(json.load(sys.stdin).get("consumers") or 0)' 2>/dev/null || echo 0
}

# sg_all_consuming: every domain with workers > 0 has as many consumers on
# its work queue, and the HTTP intake answers /healthz.
# (What is missing is printed: t_wait_for shows it when it gives up.)
sg_all_consuming() {
	local d n w code
	for d in $SG_DOMAINS; do
		n=$(sg_consumers "orderflow.$d")
		w=$(sg_workers "$d")
		[ "$n" = "$w" ] || { echo "orderflow.$d: $n consumers, $w workers wanted"; return 1; }
	done
	code=$(curl -s -o "$T_DIR/healthz.out" -w '%{http_code}' --max-time 5 "$SG_HTTP/healthz") || true
	[ "$code" = 200 ] || { echo "GET $SG_HTTP/healthz: $code $(cat "$T_DIR/healthz.out" 2>/dev/null)"; return 1; }
}

# sg_start: migrates, declares the topology (so that a domain that is off
# still has its queue and keeps its events), starts orderflowd (SUP_PID) and
# waits until every enabled domain consumes and the intake answers.
sg_start() {
	ctl db migrate >/dev/null || t_fail "db migrate"
	ctl topology declare >/dev/null || t_fail "topology declare"
	t_bg orderflowd "$BIN/orderflowd" -c "$T_CONF"
	SUP_PID=$T_LAST_PID
	t_wait_for 60 sg_all_consuming
	echo "# orderflowd $SUP_PID up, every domain consuming ($((SECONDS - SG_T0)) s)"
}

# sg_reload: SIGHUP to orderflowd after an edit of $T_CONF; waits until the
# worker counts of the file are the consumer counts on the queues.
sg_reload() {
	local t0=$SECONDS
	kill -HUP "$SUP_PID"
	t_wait_for 60 sg_all_consuming
	echo "# reloaded: worker counts as configured after $((SECONDS - t0)) s"
}

# sg_place CUSTOMER SKU:QTY...: places an order with orderflowctl (the
# intake's code path), prints its id.
sg_place() {
	local c=$1 a=() it id
	shift
	for it in "$@"; do a+=(--item "$it"); done
	id=$(ctl order place --customer "$c" "${a[@]}" | head -n 1) || t_fail "order place --customer $c $*"
	[[ $id =~ ^[0-9a-f-]{36}$ ]] || t_fail "order place printed '$id', not an order id"
	echo "$id"
}

# sg_api METHOD PATH [CURL_ARGS...]: a request to the intake with the token;
# sets SG_CODE and SG_BODY.
sg_api() {
	local m=$1 p=$2
	shift 2
	SG_CODE=$(curl -sS -X "$m" -o "$T_DIR/api.body" -w '%{http_code}' --max-time 30 \
		-H "Authorization: Bearer $SG_TOKEN" "$@" "$SG_HTTP$p") || t_fail "curl $m $p failed"
	SG_BODY=$(cat "$T_DIR/api.body")
}

# sg_status ID: the order's status.
sg_status() { t_sql "SELECT status FROM orders WHERE id = '$1'"; }
# sg_order_is ID STATUS: for t_wait_for.
sg_order_is() { [ "$(sg_status "$1")" = "$2" ]; }
# sg_count 'TABLE WHERE ...': COUNT(*).
sg_count() { t_sql "SELECT COUNT(*) FROM $1"; }
# sg_available SKU: stock.available of SKU.
sg_available() { t_sql "SELECT available FROM stock WHERE sku = '$1'"; }

# sg_metric NAME: the sum of a counter of GET /metrics over its samples.
sg_metric() {
	curl -sS --max-time 10 "$SG_HTTP/metrics" | awk -v n="$1" '
		index($0, n "{") == 1 || index($0, n " ") == 1 { s += $NF } END { printf "%d\n", s }'
}

# sg_drained: the outbox has nothing unpublished and every queue of the
# vhost but the parking lots is empty (the broker's statistics, refreshed
# every second on the local stack: t_wait_for it, see sg_settle).
sg_drained() {
	[ "$(sg_count "outbox WHERE published_at IS NULL")" = 0 ] || return 1
	t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")?columns=name,messages" |
		python3 -c 'import json, sys
busy = [q["name"] + "=" + str(q.get("messages")) for q in json.load(sys.stdin)
        if not q["name"].endswith(".dead") and (q.get("messages") or 0) != 0]
sys.exit("busy: " + " ".join(busy) if busy else 0)'
}

# sg_settle [TIMEOUT]: waits until sg_drained holds on three reads in a row
# over more than the statistics interval (a message published just before a
# read is not in that read's numbers yet) and event_log stops growing.
sg_settle() {
	SG_SETTLE_OK=0
	SG_SETTLE_LOG=
	t_wait_for "${1:-60}" sg__settle_step
}
sg__settle_step() {
	local n
	n=$(sg_count event_log)
	if sg_drained && [ "$n" = "$SG_SETTLE_LOG" ]; then
		SG_SETTLE_OK=$((SG_SETTLE_OK + 1))
	else
		SG_SETTLE_OK=0
	fi
	SG_SETTLE_LOG=$n
	[ "$SG_SETTLE_OK" -ge 3 ] || { sleep 0.5; return 1; }
}

# sg_invariants ARGS...: the invariant checker on the test's database and
# vhost (ARGS: --stock SKU=INITIAL ..., --expect-dead QUEUE=N ...); fails the
# test on the first violation.
sg_invariants() {
	python3 "$ORDERFLOW_SOURCE_DIR/tests/system/check_invariants.py" \
		--db "$T_DB" --vhost "$T_VHOST" "$@" || t_fail "invariants violated (see above)"
}
