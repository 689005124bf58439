#!/usr/bin/env bash
# test_http: the HTTP intake under orderflowd, end to end (DESIGN.md
# "Commands"): every bad input gets its 4xx with a JSON error and writes
# nothing (orders, order_items and the intake's outbox rows are counted
# before and after), nothing a client sends is ever a 500, the happy path is
# a 201 with Location, an Idempotency-Key replays, a cancel after SHIPPED is
# a 409, SQL metacharacters and non-ASCII customer ids are stored verbatim,
# /healthz answers, and /metrics is Prometheus text whose counters move once
# orders flow; orderflow_build_info names the CMake project version,
# orderflow_child_restarts_total{role} counts a worker killed with -9 (once),
# orderflow_parked_messages{domain} equals what was parked, and
# orderflow_outbox_lag_seconds is a sane age.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
t_init http

# ---- set-up: a listener of our own, a token of our own -------------------

# A free loopback port below the ephemeral range (where an outgoing
# connection could take it first).
free_port() {
	local lo hi p i
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	for i in $(seq 1 100); do
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

PORT=$(free_port) || t_fail "no free port"
TOKEN=t-http-$RANDOM$RANDOM
sed -i -E -e "s|^(  listen = ).*|\\1\"127.0.0.1:$PORT\";|" \
	-e "s|^(  tokens = ).*|\\1[\"$TOKEN\"];|" "$T_CONF"
grep -qF "\"127.0.0.1:$PORT\"" "$T_CONF" && grep -qF "\"$TOKEN\"" "$T_CONF" ||
	t_fail "could not set http.listen and http.tokens in $T_CONF"
# A saga takes milliseconds; the cancel below must find its order still
# PENDING, so the payment domain is off (its queue keeps the events) until
# the cancel is done, then turned on with a SIGHUP.
sed -i -E 's|^(  payment = \{ workers = )1;|\10;|' "$T_CONF"
grep -q "payment = { workers = 0;" "$T_CONF" || t_fail "could not set payment.workers = 0 in $T_CONF"
B=http://127.0.0.1:$PORT
AUTH="Authorization: Bearer $TOKEN"
JSON="Content-Type: application/json"

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
"$BIN/orderflowctl" -c "$T_CONF" stock set SKU-A 100000 --price 1250 >/dev/null
"$BIN/orderflowctl" -c "$T_CONF" stock set SKU-B 100000 --price 999 >/dev/null
t_bg orderflowd "$BIN/orderflowd" -c "$T_CONF"
SUP_PID=$T_LAST_PID
t_wait_for 60 'test "$(curl -s -o /dev/null -w "%{http_code}" '"$B"'/healthz)" = 200'
t_pass "orderflowd up, /healthz 200"

# ---- helpers --------------------------------------------------------------

# req METHOD PATH [CURL_ARGS...]: sets CODE, BODY (and $T_DIR/headers).
req() {
	local m=$1 p=$2 how
	shift 2
	how=(-X "$m")
	[ "$m" = HEAD ] && how=(--head) # -X HEAD would wait for the body
	CODE=$(curl -sS "${how[@]}" -o "$T_DIR/body" -D "$T_DIR/headers" -w '%{http_code}' \
		--max-time 30 "$@" "$B$p") || t_fail "curl $m $p failed"
	BODY=$(cat "$T_DIR/body")
	echo "$CODE $m $p" >>"$T_DIR/codes"
	[ "$CODE" != 500 ] || t_fail "$m $p: 500 for client input: $BODY"
}

# header NAME: the value of a response header of the last req.
header() {
	tr -d '\r' <"$T_DIR/headers" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { print substr($0, i + 2); exit } }'
}

# jget EXPR: a value of the last body, as Python sees it (j = the document).
jget() {
	python3 -c 'import json, sys
j = json.loads(sys.argv[2])
v = eval(sys.argv[1])
print(v if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False))' "$1" "$BODY"
}

# What the intake writes: orders, their lines, its own events in the outbox.
counts() {
	t_sql "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_items),
	       (SELECT COUNT(*) FROM outbox WHERE routing_key = 'order.created'
	                                       OR (routing_key = 'order.cancelled'
	                                           AND body LIKE '%\"cause\":\"customer\"%'))" |
		tr '\t' ' '
}

# refused WANT_CODE MESSAGE_PART METHOD PATH [CURL_ARGS...]: the request gets
# WANT_CODE with a JSON body {"error": "...MESSAGE_PART..."} and writes nothing.
refused() {
	local want=$1 part=$2 m=$3 p=$4 before after err
	shift 4
	before=$(counts)
	req "$m" "$p" "$@"
	[ "$CODE" = "$want" ] || t_fail "$m $p ${*: -1}: expected $want, got $CODE: $BODY"
	[[ $(header Content-Type) == application/json* ]] || t_fail "$m $p: error not JSON"
	err=$(jget 'j["error"]' 2>/dev/null) || t_fail "$m $p: body is not {\"error\": ...}: $BODY"
	[[ $err == *"$part"* ]] || t_fail "$m $p: error '$err' does not say '$part'"
	after=$(counts)
	[ "$before" = "$after" ] || t_fail "$m $p: wrote rows (orders items events: $before -> $after)"
}

# urlenc STRING: percent-encoded UTF-8 bytes (t_urlencode encodes code points).
urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

order() { printf '{"customer_id": "%s", "items": [{"sku": "%s", "quantity": %s}]}' "$@"; }
post() { refused "$1" "$2" POST /api/orders -H "$AUTH" -H "$JSON" --data-binary "$3"; }

# ---- bad input: nothing written -----------------------------------------

t_assert_eq "0 0 0" "$(counts)" "no order yet"

refused 401 "missing or invalid bearer token" POST /api/orders -H "$JSON" --data-binary "$(order c1 SKU-A 1)"
t_assert_eq "Bearer" "$(header WWW-Authenticate)" "401 carries WWW-Authenticate: Bearer"
refused 401 "bearer token" POST /api/orders -H "Authorization: Bearer ${TOKEN}x" -H "$JSON" --data-binary "$(order c1 SKU-A 1)"
refused 401 "bearer token" POST /api/orders -H "Authorization: Bearer ${TOKEN:0:5}" -H "$JSON" --data-binary "$(order c1 SKU-A 1)"
refused 401 "bearer token" POST /api/orders -H "Authorization: Basic $TOKEN" -H "$JSON" --data-binary "$(order c1 SKU-A 1)"
refused 401 "bearer token" GET /api/orders?customer=c1
refused 401 "bearer token" GET /api/no/such/route
t_pass "a missing or wrong token is 401 everywhere under /api"

post 400 "malformed JSON" '{"customer_id": "c1", "items": ['
post 400 "malformed JSON" 'customer_id=c1'
post 400 "malformed JSON" $'{"customer_id": "\xff\xfe", "items": []}'
post 400 "a JSON request body is required" ''
post 400 "must be a JSON object" '[{"customer_id": "c1"}]'
post 400 "customer_id is required" '{"items": [{"sku": "SKU-A", "quantity": 1}]}'
post 400 "items is required" '{"customer_id": "c1"}'
post 400 "customer_id must be a string" '{"customer_id": 42, "items": [{"sku": "SKU-A", "quantity": 1}]}'
post 400 "customer_id must be a string" '{"customer_id": "", "items": [{"sku": "SKU-A", "quantity": 1}]}'
post 400 "customer_id must be a string" "$(order "$(printf 'x%.0s' {1..65})" SKU-A 1)"
post 400 "customer_id must be a string" "$(order "$(printf 'ü%.0s' {1..33})" SKU-A 1)"
post 400 "items must be an array" '{"customer_id": "c1", "items": {"sku": "SKU-A", "quantity": 1}}'
post 400 "items[0] must be an object" '{"customer_id": "c1", "items": ["SKU-A"]}'
post 400 "items[0].sku must be a string" '{"customer_id": "c1", "items": [{"sku": 7, "quantity": 1}]}'
post 400 "currency must be a string" '{"customer_id": "c1", "currency": 978, "items": [{"sku": "SKU-A", "quantity": 1}]}'
for q in 2.0 '"2"' true null '[2]'; do
	post 400 "items[0].quantity must be an integer" "$(order c1 SKU-A "$q")"
done
post 400 "malformed JSON" "$(order c1 SKU-A 99999999999999999999999)"
post 400 "malformed JSON" "$(order c1 SKU-A -99999999999999999999999)"
post 400 "nested deeper than 32" "{\"customer_id\": \"c1\", \"items\": [], \"x\": $(printf '[%.0s' {1..40})$(printf ']%.0s' {1..40})}"
post 400 "malformed JSON" '{"customer_id": "c1", "customer_id": "c2", "items": []}'
refused 400 "Idempotency-Key" POST /api/orders -H "$AUTH" -H "$JSON" \
	-H "Idempotency-Key: $(printf 'k%.0s' {1..129})" --data-binary "$(order c1 SKU-A 1)"
t_pass "malformed JSON, missing fields and wrong types are 400"

post 422 "quantity of SKU-A must be from 1 to 10000" "$(order c1 SKU-A 0)"
post 422 "quantity of SKU-A must be from 1 to 10000" "$(order c1 SKU-A -3)"
post 422 "quantity of SKU-A must be from 1 to 10000" "$(order c1 SKU-A 10001)"
post 422 "quantity of SKU-A must be from 1 to 10000" "$(order c1 SKU-A 9223372036854775807)"
post 422 "unknown SKU" "$(order c1 NO-SUCH-SKU 1)"
post 422 "unknown SKU" "$(order c1 "'; DROP TABLE orders; --" 1)"
post 422 "unknown SKU" "$(order c1 "$(printf 'S%.0s' {1..65})" 1)"
post 422 "unknown SKU" '{"customer_id": "c1", "items": [{"sku": "SKU-A", "quantity": 1}, {"sku": "sku-a", "quantity": 1}]}'
post 422 "is not accepted" '{"customer_id": "c1", "currency": "USD", "items": [{"sku": "SKU-A", "quantity": 1}]}'
post 422 "at least one item" '{"customer_id": "c1", "items": []}'
t_pass "orders that break a rule are 422"

big=$(python3 -c 'import json; print(json.dumps({"customer_id": "c1", "items": [{"sku": "SKU-A", "quantity": 1}], "pad": "x" * 70000}))')
refused 413 "request body over" POST /api/orders -H "$AUTH" -H "$JSON" --data-binary "$big"
refused 413 "request body over" POST /api/orders -H "$AUTH" -H "$JSON" -H "Transfer-Encoding: chunked" --data-binary "$big"
refused 415 "Content-Type must be application/json" POST /api/orders -H "$AUTH" -H "Content-Type: text/plain" --data-binary "$(order c1 SKU-A 1)"
refused 415 "Content-Type must be application/json" POST /api/orders -H "$AUTH" -H "Content-Type: application/x-www-form-urlencoded" --data-binary "customer_id=c1"
t_pass "an oversize body is 413 (with and without Content-Length), another Content-Type 415"

refused 404 "not found" GET /api/orders/0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11 -H "$AUTH"
refused 404 "not found" POST /api/orders/0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11/cancel -H "$AUTH"
refused 404 "not found" GET "/api/orders/x'%20OR%20'1'='1" -H "$AUTH"
refused 404 "not found" GET "/api/orders/..%2F..%2Fetc" -H "$AUTH"
refused 404 "not found" GET /api/nothing -H "$AUTH"
refused 404 "not found" GET /nothing
refused 405 "not allowed" DELETE /api/orders -H "$AUTH"
t_assert_eq "GET, HEAD, POST" "$(header Allow)" "405 names the allowed methods"
refused 405 "not allowed" GET /api/orders/0b6f7c1e-3f0a-4c2b-9a57-3f1f0d2b8e11/cancel -H "$AUTH"
refused 400 "customer is required" GET /api/orders -H "$AUTH"
t_pass "unknown orders and routes are 404, a wrong method 405 with Allow"

t_assert_eq "0 0 0" "$(counts)" "after every bad request: still no row"

# ---- the happy path -------------------------------------------------------

req POST /api/orders -H "$AUTH" -H "$JSON" --data-binary \
	'{"customer_id": "c1", "currency": "EUR", "items": [{"sku": "SKU-A", "quantity": 2}]}'
t_assert_eq 201 "$CODE" "a good order is 201: $BODY"
ID=$(jget 'j["id"]')
t_assert_eq "/api/orders/$ID" "$(header Location)" "Location names the new order"
t_assert_eq "c1 PENDING 2500 EUR SKU-A 2 1250" \
	"$(jget '" ".join(str(x) for x in [j["customer_id"], j["status"], j["total_cents"], j["currency"], j["items"][0]["sku"], j["items"][0]["quantity"], j["items"][0]["unit_price_cents"]])')" \
	"the order as JSON"
jget 'j["created_at"]' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' || t_fail "created_at: $BODY"
t_assert_eq "1 1 1" "$(counts)" "one order, one line, one order.created in the outbox"
req GET "/api/orders/$ID" -H "$AUTH"
t_assert_eq "200 $ID" "$CODE $(jget 'j["id"]')" "GET of the Location"
req HEAD "/api/orders/$ID" -H "$AUTH"
t_assert_eq 200 "$CODE" "HEAD of an order"

KEY=retry-$RANDOM
req POST /api/orders -H "$AUTH" -H "$JSON" -H "Idempotency-Key: $KEY" --data-binary "$(order c2 SKU-B 3)"
t_assert_eq 201 "$CODE" "first POST with an Idempotency-Key"
ID2=$(jget 'j["id"]')
req POST /api/orders -H "$AUTH" -H "$JSON" -H "Idempotency-Key: $KEY" --data-binary "$(order c2 SKU-B 3)"
t_assert_eq "200 $ID2" "$CODE $(jget 'j["id"]')" "the same POST again returns the first order with 200"
refused 409 "already used" POST /api/orders -H "$AUTH" -H "$JSON" -H "Idempotency-Key: $KEY" --data-binary "$(order c2 SKU-B 4)"
t_assert_eq "2 2 2" "$(counts)" "the replay created nothing"

SQLC="'; DROP TABLE orders; --"
UNIC="Jürgen-客户-ñ"
for c in "$SQLC" "$UNIC" 'back\slash "quoted"'; do
	body=$(python3 -c 'import json, sys; print(json.dumps({"customer_id": sys.argv[1], "items": [{"sku": "SKU-A", "quantity": 1}]}, ensure_ascii=False))' "$c")
	req POST /api/orders -H "$AUTH" -H "$JSON" --data-binary "$body"
	t_assert_eq 201 "$CODE" "customer id $c is accepted"
	oid=$(jget 'j["id"]')
	# HEX: mysql's batch output would escape the backslash
	t_assert_eq "$(printf '%s' "$c" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
		"$(t_sql "SELECT HEX(customer_id) FROM orders WHERE id = '$oid'")" "customer id $c stored verbatim"
	req GET "/api/orders?customer=$(urlenc "$c")" -H "$AUTH"
	t_assert_eq "200 $c $oid" "$CODE $(jget 'j["customer_id"]') $(jget 'j["orders"][0]["id"]')" "listed by customer $c"
done
t_assert_eq 1 "$(t_sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$T_DB' AND table_name = 'orders'")" "the orders table is still there"

req POST /api/orders -H "$AUTH" -H "$JSON" --data-binary "$(order c1 SKU-B 1)"
ID3=$(jget 'j["id"]')
req GET "/api/orders?customer=c1" -H "$AUTH"
t_assert_eq "200 c1 $ID3 $ID" "$CODE $(jget 'j["customer_id"]') $(jget '" ".join(o["id"] for o in j["orders"])')" "the customer's orders, newest first"

# ---- cancel ---------------------------------------------------------------

req POST "/api/orders/$ID3/cancel" -H "$AUTH"
t_assert_eq "200 CANCELLED" "$CODE $(jget 'j["status"]')" "cancel is 200 with the order, CANCELLED"
before=$(counts)
req POST "/api/orders/$ID3/cancel" -H "$AUTH" -H "$JSON" --data-binary '{"reason": "again"}'
t_assert_eq "200 CANCELLED" "$CODE $(jget 'j["status"]')" "cancelling a cancelled order is 200"
t_assert_eq "$before" "$(counts)" "and changes nothing"
refused 400 "reason must be a string" POST "/api/orders/$ID3/cancel" -H "$AUTH" -H "$JSON" --data-binary '{"reason": 5}'

sed -i -E 's|^(  payment = \{ workers = )0;|\11;|' "$T_CONF"
kill -HUP "$SUP_PID"

t_wait_for 90 'test "$(t_sql "SELECT status FROM orders WHERE id = '"'$ID'"'")" = SHIPPED'
t_pass "the first order went through the saga to SHIPPED"
refused 409 "can no longer be cancelled" POST "/api/orders/$ID/cancel" -H "$AUTH"
t_assert_eq SHIPPED "$(t_sql "SELECT status FROM orders WHERE id = '$ID'")" "a shipped order stays SHIPPED"

# ---- notifications --------------------------------------------------------

t_wait_for 60 'test "$(t_sql "SELECT COUNT(*) FROM notifications WHERE order_id = '"'$ID'"' AND type = '"'shipped'"'")" = 1'
req GET /api/customers/c1/notifications -H "$AUTH"
t_assert_eq 200 "$CODE" "notifications of c1"
python3 - "$BODY" "$ID" <<'PY' || t_fail "notifications: $BODY"
import json, sys
j = json.loads(sys.argv[1])
assert j["customer_id"] == "c1"
n = j["notifications"]
assert all(set(x) == {"order_id", "type", "message", "created_at"} for x in n), n
assert [x["created_at"] for x in n] == sorted((x["created_at"] for x in n), reverse=True), n
assert {"created", "confirmed", "shipped"} <= {x["type"] for x in n if x["order_id"] == sys.argv[2]}, n
PY
t_pass "notifications: order_id, type, message, created_at; newest first"
req GET "/api/customers/$(urlenc "$UNIC")/notifications" -H "$AUTH"
t_assert_eq "200 $UNIC" "$CODE $(jget 'j["customer_id"]')" "notifications by a non-ASCII customer id"

# ---- /metrics and /healthz --------------------------------------------------

req GET /healthz
t_assert_eq '200 {"status":"ok","database":"ok","broker":"ok"}' "$CODE $BODY" "/healthz without a token"

metric() { awk -v k="$1" '$1 == k { print $2 }' "$T_DIR/body"; }
req GET /metrics
t_assert_eq 200 "$CODE" "/metrics without a token"
t_assert_eq "text/plain; version=0.0.4" "$(header Content-Type)" "/metrics content type"
python3 - "$T_DIR/body" <<'PY' || t_fail "/metrics is not Prometheus text"
import re, sys
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? [-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|Inf|NaN)$')
comment = re.compile(r'^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$')
typed, seen = set(), set()
for line in open(sys.argv[1]).read().splitlines():
    if comment.match(line):
        if line.startswith("# TYPE"):
            typed.add(line.split()[2])
        continue
    assert sample.match(line), "bad line: %r" % line
    name = re.match(r'[a-zA-Z_:][a-zA-Z0-9_:]*', line).group(0)
    base = re.sub(r'_(bucket|sum|count)$', '', name)
    assert name in typed or base in typed, "no TYPE for %s" % name
    seen.add(base if base in typed else name)
for fam in ("orderflow_events_processed_total", "orderflow_events_duplicate_total",
            "orderflow_events_retried_total", "orderflow_events_parked_total",
            "orderflow_handler_duration_seconds", "orderflow_relayed_total",
            "orderflow_orders_placed_total", "orderflow_outbox_pending",
            "orderflow_outbox_lag_seconds", "orderflow_build_info",
            "orderflow_child_restarts_total", "orderflow_parked_messages"):
    assert fam in seen, "missing " + fam
# histogram: cumulative buckets, +Inf == _count
text = open(sys.argv[1]).read()
for dom in ("order", "inventory", "payment"):
    b = [float(v) for v in re.findall(r'^orderflow_handler_duration_seconds_bucket\{domain="%s",le="[^"]+"\} (\S+)$' % dom, text, re.M)]
    inf = float(re.search(r'^orderflow_handler_duration_seconds_bucket\{domain="%s",le="\+Inf"\} (\S+)$' % dom, text, re.M).group(1))
    cnt = float(re.search(r'^orderflow_handler_duration_seconds_count\{domain="%s"\} (\S+)$' % dom, text, re.M).group(1))
    assert b == sorted(b) and inf == cnt == b[-1], (dom, b, cnt)
PY
t_pass "/metrics: every line a comment or a sample, every family typed, histograms cumulative"

placed=$(metric orderflow_orders_placed_total)
[ "${placed:-0}" -ge 6 ] || t_fail "orders_placed_total $placed after 6 orders"
[ "$(metric 'orderflow_relayed_total')" -ge 6 ] || t_fail "relayed_total did not move"
[ "$(metric 'orderflow_events_processed_total{domain="inventory"}')" -ge 1 ] || t_fail "inventory processed did not move"
[ "$(metric 'orderflow_events_processed_total{domain="order"}')" -ge 1 ] || t_fail "order processed did not move"
[ "$(metric 'orderflow_handler_duration_seconds_count{domain="payment"}')" -ge 1 ] || t_fail "payment latency count did not move"
req POST /api/orders -H "$AUTH" -H "$JSON" --data-binary "$(order c3 SKU-A 1)"
req GET /metrics
t_assert_eq $((placed + 1)) "$(metric orderflow_orders_placed_total)" "orders_placed_total counts a 201"
t_pass "/metrics counters move as orders flow"

# ---- build_info, child restarts, parked depth, outbox lag ---------------------

# mval NAME{LABELS}: the sample's value in a fresh /metrics.
mval() { curl -s "$B/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
version=$(sed -n 's/^project(orderflow VERSION \([0-9][0-9.]*\).*/\1/p' "$ORDERFLOW_SOURCE_DIR/CMakeLists.txt")
t_assert_eq 1 "$(mval "orderflow_build_info{version=\"$version\"}")" "build_info{version=\"$version\"} 1"
t_assert_eq 1 "$(curl -s "$B/metrics" | grep -c '^orderflow_build_info{')" "one build_info sample"

for role in order inventory payment shipping notification webhook audit relay http; do
	[ -n "$(mval "orderflow_child_restarts_total{role=\"$role\"}")" ] || t_fail "no child_restarts_total for role $role"
done
R='orderflow_child_restarts_total{role="inventory"}'
before=$(mval "$R")
pid=$(pgrep -f -P "$SUP_PID" "^orderflowd: inventory worker" | head -n 1)
[ -n "$pid" ] || t_fail "no inventory worker under $SUP_PID"
kill -KILL "$pid"
t_wait_for 30 'test "$(mval '"'$R'"')" = '"$((before + 1))"
t_wait_for 30 "pgrep -f -P $SUP_PID '^orderflowd: inventory worker' | grep -vqx $pid"
t_assert_eq "$((before + 1)) 0" "$(mval "$R") $(mval 'orderflow_child_restarts_total{role="shipping"}')" \
	"kill -9 of the inventory worker: one restart of role inventory, none of another role"
t_pass "child_restarts_total counts a killed worker by its role"

P='orderflow_parked_messages{domain="shipping"}'
t_wait_for 30 'test -n "$(mval '"'$P'"')"'
pbefore=$(mval "$P")
for i in 1 2 3; do
	t_publish shipping "$(t_envelope shipping.scheduled "$(cat /proc/sys/kernel/random/uuid)" '{"order_id": "x"}')" orderflow.dead \
		'{"orderflow-parked-reason": "test_http", "orderflow-parked-from": "orderflow.shipping"}'
done
# The http process reads the lots at most every 5 s.
t_wait_for 30 'test "$(mval '"'$P'"')" = '"$((pbefore + 3))"
t_assert_eq "$((pbefore + 3))" "$("$BIN/orderflowctl" -c "$T_CONF" --json stats | python3 -c 'import json, sys
print([d["parked"] for d in json.load(sys.stdin)["domains"] if d["domain"] == "shipping"][0])')" \
	"orderflowctl stats agrees on the shipping parking lot"
t_pass "parked_messages{domain=\"shipping\"} went from $pbefore to $((pbefore + 3)) with 3 parked messages"

lag=$(mval orderflow_outbox_lag_seconds)
python3 -c 'import sys; v = float(sys.argv[1]); assert 0 <= v < 60, v' "$lag" ||
	t_fail "outbox_lag_seconds is not a sane age with the relay running: '$lag'"
t_pass "outbox_lag_seconds $lag"

if grep -q '^500 ' "$T_DIR/codes"; then t_fail "a 500 was answered: $(grep '^500 ' "$T_DIR/codes")"; fi
t_pass "$(wc -l <"$T_DIR/codes") requests, no 500"
