#!/usr/bin/env bash
# test_saga_linger: domains.NAME.linger_ms. With audit lingering 1000 ms, the
# five events of one saga, which reach the audit domain one by one over the
# saga's few tens of milliseconds, are recorded in fewer transactions than
# events (the worker logs each multi-delivery commit at debug level), and
# event_log and the audit inbox still hold each event exactly once. Without a
# linger (the run before, same config otherwise) the same saga gives the
# audit domain nothing to batch: each event arrives alone. A value out of
# range is refused by orderflowd -t with the key's name and its range.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_linger

sg_conf_section log 'level = "debug";'

# audit_batches FROM_LINE: the sizes of the audit worker's multi-delivery
# commits logged after line FROM_LINE of orderflowd's log, one per line.
audit_batches() {
	tail -n +"$1" "$T_DIR/orderflowd.log" |
		sed -n -E 's/.* audit worker: batch of ([0-9]+) deliveries committed in one transaction$/\1/p'
}

# saga CUSTOMER: places one order, waits until it is SHIPPED and all five of
# its events are in event_log; prints the order id.
saga() {
	local id
	id=$(sg_place "$1" SKU-L:1)
	t_wait_for 30 'sg_order_is "$id" SHIPPED' >&2
	t_wait_for 30 'test "$(sg_count "event_log WHERE correlation_id = '\''$id'\''")" = 5' >&2
	echo "$id"
}

# once_each ID: event_log and the audit inbox hold the order's events once.
once_each() {
	local n d
	n=$(t_sql "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM event_log WHERE correlation_id = '$1'" | tr '\t' ' ')
	t_assert_eq "5 5" "$n" "event_log: the five events of $1, each once"
	d=$(t_sql "SELECT COUNT(*) FROM inbox i JOIN event_log e ON e.event_id = i.event_id
		WHERE i.consumer = 'audit' AND e.correlation_id = '$1'")
	t_assert_eq 5 "$d" "audit inbox: one row per event of $1"
}

# 1. Out of range: refused before anything starts.
cp "$T_CONF" "$T_DIR/bad.conf"
sed -i -E 's|^(  audit = \{).*\};$|\1 linger_ms = 1001; };|' "$T_DIR/bad.conf"
if "$BIN/orderflowd" -t -c "$T_DIR/bad.conf" >"$T_DIR/bad.out" 2>&1; then
	t_fail "orderflowd -t accepted domains.audit.linger_ms = 1001"
fi
grep -q "domains.audit.linger_ms" "$T_DIR/bad.out" && grep -q "1000" "$T_DIR/bad.out" ||
	t_fail "orderflowd -t: the error names neither the key nor its range: $(cat "$T_DIR/bad.out")"
t_pass "linger_ms = 1001 refused: $(head -n 1 "$T_DIR/bad.out")"

# 2. No linger: each event of a lone saga is its own transaction.
sg_start
ctl stock set SKU-L 10 --price 500 >/dev/null
from=$(($(wc -l <"$T_DIR/orderflowd.log") + 1))
ID0=$(saga c-linger0-$RANDOM)
once_each "$ID0"
t_assert_eq "" "$(audit_batches "$from" | tr '\n' ' ')" "linger_ms 0: audit batched nothing of a lone saga"
kill -TERM "$SUP_PID"
t_wait_for 40 "! kill -0 $SUP_PID 2>/dev/null"

# 3. Audit lingers 1000 ms: the saga's events share transactions.
sg_conf_domain audit 'linger_ms = 1000;'
from=$(($(wc -l <"$T_DIR/orderflowd.log") + 1))
sg_start
ID1=$(saga c-linger1-$RANDOM)
once_each "$ID1"
sizes=$(audit_batches "$from" | paste -sd ' ')
total=0
for n in $sizes; do total=$((total + n)); done
[ "$total" -ge 2 ] || t_fail "linger_ms 1000: the audit worker committed no batch (sizes: '$sizes')"
t_pass "linger_ms 1000: audit committed batches of $sizes deliveries"
# The acks follow the commits, and the broker's counts lag them by up to a
# second: wait until the queues read empty three times in a row.
sg_settle 30
sg_invariants --stock SKU-L=10
