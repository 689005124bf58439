# shellcheck shell=bash
# tests/system/two_hosts_lib.sh: two orderflowd ("hosts" A and B) on one vhost
# and one database, B with its own config file and http.listen; orders placed
# through both intakes while B's whole process group is killed (SIGKILL)
# midway; then every saga must complete exactly once. Used by
# test_two_hosts.sh (one broker) and test_two_hosts_cluster.sh (three nodes,
# one stopped). Source after tests/lib.sh and saga_lib.sh, after sg_init.

# th_start: orderflowd A (SUP_PID, $T_CONF, $SG_HTTP) and B (TH_B_PID,
# $T_DIR/orderflow-b.conf, $TH_HTTP_B); waits until every domain has two
# consumers and both intakes answer.
th_start() {
	local port
	port=$(sg_free_port) || t_fail "no free loopback port for B's http.listen"
	TH_HTTP_B=http://127.0.0.1:$port
	sed -E "s|^(  listen = ).*|\\1\"127.0.0.1:$port\";|" "$T_CONF" >"$T_DIR/orderflow-b.conf"
	ctl db migrate >/dev/null || t_fail "db migrate"
	ctl topology declare >/dev/null || t_fail "topology declare"
	t_bg orderflowd "$BIN/orderflowd" -c "$T_CONF"
	SUP_PID=$T_LAST_PID
	t_bg orderflowd-b "$BIN/orderflowd" -c "$T_DIR/orderflow-b.conf"
	TH_B_PID=$T_LAST_PID
	t_wait_for 90 th_both_consuming
	echo "# orderflowd A ($SUP_PID, $SG_HTTP) and B ($TH_B_PID, $TH_HTTP_B) up, two consumers per domain"
}

th_both_consuming() {
	local d n
	for d in $SG_DOMAINS; do
		n=$(sg_consumers "orderflow.$d")
		[ "$n" = 2 ] || { echo "orderflow.$d: $n consumers"; return 1; }
	done
	curl -sf -o /dev/null --max-time 5 "$SG_HTTP/healthz" &&
		curl -sf -o /dev/null --max-time 5 "$TH_HTTP_B/healthz"
}

# th_run N: N orders (1 to 3 lines of 3 SKUs) through both intakes, 4 at a
# time; after N/2 answers B's process group gets SIGKILL; a request B did not
# answer goes to A with the same Idempotency-Key (B may have committed it).
# Then checks: N orders, all SHIPPED, one event per type per order in
# event_log, the invariants.
th_run() {
	local n=$1 s
	for s in H-A H-B H-C; do ctl stock set "$s" 100000 --price 100 >/dev/null; done
	python3 - "$n" "$SG_HTTP" "$TH_HTTP_B" "$SG_TOKEN" "$TH_B_PID" >"$T_DIR/placed" \
		2>"$T_DIR/place.err" <<'PY' || t_fail "placing orders: $(tail -n 5 "$T_DIR/place.err")"
import json, os, random, signal, sys, threading, urllib.request, uuid
from concurrent.futures import ThreadPoolExecutor
n, url_a, url_b, token, pgid_b = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
lock, done, killed, moved = threading.Lock(), [0], [False], [0]

def post(url, body, key):
    req = urllib.request.Request(url + "/api/orders", data=body, method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json",
        "Idempotency-Key": key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.load(r)["id"]

def place(i):
    body = json.dumps({"customer_id": "c-host-%d" % (i % 9), "items": [
        {"sku": s, "quantity": 1} for s in random.sample(["H-A", "H-B", "H-C"], random.randint(1, 3))]}).encode()
    key = str(uuid.uuid4())
    url = url_b if i % 2 else url_a
    try:
        st, oid = post(url, body, key)
    except Exception as e:  # B killed: the same request to A
        if url != url_b:
            raise
        with lock:
            moved[0] += 1
        st, oid = post(url_a, body, key)
    assert st in (200, 201), st  # 200: B had placed it (Idempotency-Key)
    with lock:
        done[0] += 1
        if done[0] >= n // 2 and not killed[0]:
            os.killpg(pgid_b, signal.SIGKILL)
            killed[0] = True
            print("# B killed (SIGKILL to its process group) after %d orders" % done[0], file=sys.stderr)
    return oid

with ThreadPoolExecutor(4) as ex:
    ids = list(ex.map(place, range(n)))
print("# requests B did not answer, sent to A: %d" % moved[0], file=sys.stderr)
print("\n".join(ids))
PY
	grep '^#' "$T_DIR/place.err" || true
	t_assert_eq "$n $n" "$(sort -u "$T_DIR/placed" | wc -l) $(sg_count orders)" \
		"$n orders placed through both intakes, $n rows (none twice)"
	t_wait_for 240 'test "$(sg_count "orders WHERE status = '\''SHIPPED'\''")" = '"$n"
	sg_settle 90
	t_assert_eq "" "$(t_sql "SELECT aggregate_id, event_type, COUNT(*) FROM event_log
		GROUP BY aggregate_id, event_type HAVING COUNT(*) <> 1 LIMIT 5")" \
		"event_log: one event per type per order"
	# The happy path: created, reserved, completed, confirmed, scheduled.
	t_assert_eq "$((5 * n))" "$(sg_count event_log)" "event_log: 5 events for each of the $n orders"
	t_assert_eq 0 "$(t_sql "SELECT COUNT(*) FROM notifications GROUP BY order_id, type HAVING COUNT(*) > 1" | wc -l)" \
		"one notification per (order, type)"
	sg_invariants --stock H-A=100000 --stock H-B=100000 --stock H-C=100000
}
