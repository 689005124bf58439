#!/usr/bin/env bash
# test_prune: expired inbox and outbox rows are pruned while the system is
# busy, in short rounds that do not slow the sagas, and nothing inside its
# retention is touched (DESIGN.md "Processing a delivery"; issue 15 item 1).
#
# With orderflowd running on the stack's retentions (inbox 30 days, outbox
# 1 day), a first run of orders gives the baseline. Then 200,000 inbox rows
# past their retention and 50,000 published outbox rows past theirs are
# seeded, with 1,000 of each just inside it, and a second run of orders is
# placed at once. The expired rows must be gone within two minutes of the
# seed, the second run must complete in a time comparable to the first (a
# loose bound: timing targets belong in bench/), the rows inside retention
# must be the very same rows (ids compared), and the pruned rows must show in
# /metrics (orderflow_pruned_rows_total) and in `orderflowctl stats`.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init prune

ORDERS=40
sg_start
ctl stock set SKU-P 100000 --price 100 >/dev/null

now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }
# run_orders LABEL: places $ORDERS orders, waits until every one is SHIPPED,
# sets RUN_MS to the time from the first placement to the last shipment.
run_orders() {
	local t0 i
	t0=$(now_ms)
	: >"$T_DIR/ids.$1"
	for ((i = 0; i < ORDERS; i++)); do
		sg_place "c-prune-$1" SKU-P:1 >>"$T_DIR/ids.$1"
	done
	t_wait_for 120 "test \"\$(sg_count \"orders WHERE customer_id = 'c-prune-$1' AND status = 'SHIPPED'\")\" = $ORDERS"
	RUN_MS=$(($(now_ms) - t0))
}

run_orders base
BASE_MS=$RUN_MS
t_pass "baseline: $ORDERS orders SHIPPED in $BASE_MS ms"

# The seed: expired rows spread over a few hours past the retention, and the
# ones to keep just inside it.
t0=$(now_ms)
t_sql "INSERT INTO inbox (consumer, event_id, processed_at)
	WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499)
	SELECT 'seed-old', UUID(), UTC_TIMESTAMP(6) - INTERVAL 31 DAY - INTERVAL (a.i * 400 + b.i) SECOND
	FROM n a, (SELECT i FROM n WHERE i < 400) b;
	INSERT INTO inbox (consumer, event_id, processed_at)
	WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
	SELECT 'seed-keep', UUID(), UTC_TIMESTAMP(6) - INTERVAL 29 DAY - INTERVAL i SECOND FROM n;
	INSERT INTO outbox (event_id, routing_key, body, created_at, published_at)
	WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499)
	SELECT UUID(), 'seed.old', '{}', UTC_TIMESTAMP(6) - INTERVAL 2 DAY,
		UTC_TIMESTAMP(6) - INTERVAL 25 HOUR - INTERVAL (a.i * 100 + b.i) SECOND
	FROM n a, (SELECT i FROM n WHERE i < 100) b;
	INSERT INTO outbox (event_id, routing_key, body, created_at, published_at)
	WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
	SELECT UUID(), 'seed.keep', '{}', UTC_TIMESTAMP(6) - INTERVAL 1 DAY,
		UTC_TIMESTAMP(6) - INTERVAL 23 HOUR - INTERVAL i SECOND FROM n" ||
	t_fail "seeding the inbox and the outbox"
SEED_MS=$(now_ms)
echo "# seeded in $((SEED_MS - t0)) ms"
t_sql "SELECT consumer, event_id, processed_at FROM inbox WHERE consumer = 'seed-keep'
	ORDER BY event_id" >"$T_DIR/keep-inbox.before"
t_sql "SELECT id, event_id, published_at FROM outbox WHERE routing_key = 'seed.keep'
	ORDER BY id" >"$T_DIR/keep-outbox.before"
t_assert_eq "1000 1000" "$(wc -l <"$T_DIR/keep-inbox.before") $(wc -l <"$T_DIR/keep-outbox.before")" \
	"1,000 inbox and 1,000 outbox rows seeded inside their retention"

# Seeded while the pruner runs: some may already be gone, none may be left
# two minutes from now.
expired_left() {
	t_sql "SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at < UTC_TIMESTAMP(6) - INTERVAL 30 DAY)
		+ (SELECT COUNT(*) FROM outbox WHERE published_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY)"
}
cleared() { [ "$(expired_left)" = 0 ]; }

run_orders seeded
SEEDED_MS=$RUN_MS
pruned_busy=$(($(sg_metric orderflow_pruned_rows_total)))
t_pass "with the seed being pruned: $ORDERS orders SHIPPED in $SEEDED_MS ms (baseline $BASE_MS ms); $pruned_busy rows pruned meanwhile"
[ "$SEEDED_MS" -le $((3 * BASE_MS + 15000)) ] ||
	t_fail "the orders took $SEEDED_MS ms while the seed was pruned, over 3 x the baseline $BASE_MS ms + 15 s"

t_wait_for 120 cleared
CLEAR_MS=$(($(now_ms) - SEED_MS))
[ "$CLEAR_MS" -le 120000 ] || t_fail "the expired rows took $CLEAR_MS ms to go, over two minutes"
t_pass "200,000 expired inbox and 50,000 expired outbox rows gone $CLEAR_MS ms after the seed"

t_sql "SELECT consumer, event_id, processed_at FROM inbox WHERE consumer = 'seed-keep'
	ORDER BY event_id" >"$T_DIR/keep-inbox.after"
t_sql "SELECT id, event_id, published_at FROM outbox WHERE routing_key = 'seed.keep'
	ORDER BY id" >"$T_DIR/keep-outbox.after"
cmp -s "$T_DIR/keep-inbox.before" "$T_DIR/keep-inbox.after" ||
	t_fail "inbox rows inside their retention changed: diff $T_DIR/keep-inbox.{before,after}"
cmp -s "$T_DIR/keep-outbox.before" "$T_DIR/keep-outbox.after" ||
	t_fail "outbox rows inside their retention changed: diff $T_DIR/keep-outbox.{before,after}"
t_pass "the 1,000 + 1,000 rows inside their retention are untouched (ids and times compared)"

# Every order of both runs went through (their events' inbox rows are
# recent, so the pruner left them alone): one order.created per order.
t_assert_eq $((2 * ORDERS)) "$(sg_count "event_log WHERE event_type = 'shipping.scheduled'")" \
	"every order of both runs reached shipping.scheduled once"

# The counters: /metrics (the pool's) and orderflowctl stats (prune_stats).
inbox_m=$(curl -sS --max-time 10 "$SG_HTTP/metrics" | sed -n 's/^orderflow_pruned_rows_total{table="inbox"} //p')
outbox_m=$(curl -sS --max-time 10 "$SG_HTTP/metrics" | sed -n 's/^orderflow_pruned_rows_total{table="outbox"} //p')
[ "${inbox_m:-0}" -ge 200000 ] && [ "${outbox_m:-0}" -ge 50000 ] ||
	t_fail "/metrics: orderflow_pruned_rows_total inbox '${inbox_m}', outbox '${outbox_m}' (want >= 200000, 50000)"
t_pass "/metrics: orderflow_pruned_rows_total{table=\"inbox\"} $inbox_m, {table=\"outbox\"} $outbox_m"
ctl stats --json >"$T_DIR/stats.json" || t_fail "orderflowctl stats --json"
python3 - "$T_DIR/stats.json" <<'PY' || t_fail "orderflowctl stats --json: pruned rows (see above)"
import json, sys
p = json.load(open(sys.argv[1]))["outbox"]["pruned"]
if p["inbox"]["rows"] < 200000 or p["outbox"]["rows"] < 50000 or not p["inbox"]["last_at"]:
    sys.exit("pruned: %r" % p)
PY
ctl stats >"$T_DIR/stats.txt" || t_fail "orderflowctl stats"
grep -qE '^pruned inbox: [0-9]{6,} rows' "$T_DIR/stats.txt" ||
	t_fail "orderflowctl stats does not show the pruned inbox rows: $(cat "$T_DIR/stats.txt")"
t_pass "orderflowctl stats (text and --json) shows the pruned rows: $(grep '^pruned' "$T_DIR/stats.txt" | tr '\n' ' ')"
echo "# figures: clear $CLEAR_MS ms for 250,000 rows ($((250000 * 1000 / CLEAR_MS)) rows/s from the end of the seed); orders baseline $BASE_MS ms, during the prune $SEEDED_MS ms"

sg_settle
sg_invariants --stock SKU-P=100000
