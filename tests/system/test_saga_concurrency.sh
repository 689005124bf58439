#!/usr/bin/env bash
# test_saga_concurrency: 40 orders of 1 unit of a SKU with 10 in stock,
# placed at once (40 orderflowctl processes in parallel) and reserved by two
# inventory workers side by side: exactly 10 orders are confirmed and
# shipped, 30 are CANCELLED "out of stock" (reservation REJECTED), the stock
# ends at 0 available with 10 committed, never below 0, and the invariants
# hold.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_concurrency

N=40
STOCK=10
sg_conf_domain inventory 'workers = 2;'
sg_start
ctl stock set SKU-RUSH "$STOCK" --price 500 >/dev/null
t_assert_eq 2 "$(sg_consumers orderflow.inventory)" "two inventory workers consume orderflow.inventory"

mkdir -p "$T_DIR/place"
pids=()
for i in $(seq 1 $N); do
	ctl order place --customer "c-rush-$i" --item SKU-RUSH:1 >"$T_DIR/place/$i.out" 2>"$T_DIR/place/$i.err" &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
[ "$failed" = 0 ] || t_fail "$failed of $N parallel 'order place' failed: $(cat "$T_DIR"/place/*.err | head -n 5)"
ids=$(cat "$T_DIR"/place/*.out | grep -cE '^[0-9a-f-]{36}$' || true)
t_assert_eq "$N $N" "$ids $(sg_count orders)" "$N orders placed in parallel, $N distinct rows"

t_wait_for 60 'test "$(sg_count "orders WHERE status IN ('\''SHIPPED'\'', '\''CANCELLED'\'')")" = '$N
sg_settle
t_pass "all $N orders terminal ($((SECONDS - SG_T0)) s after start)"

t_assert_eq "SHIPPED 10 CANCELLED 30" "$(t_sql "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status DESC" | tr '\t\n' '  ' | sed 's/ $//')" \
	"exactly $STOCK orders SHIPPED, $((N - STOCK)) CANCELLED"
t_assert_eq 30 "$(sg_count "orders WHERE status = 'CANCELLED' AND cancel_reason = 'out of stock'")" \
	"every cancelled order was cancelled 'out of stock'"
t_assert_eq "COMMITTED 10 REJECTED 30" "$(t_sql "SELECT status, COUNT(*) FROM reservations GROUP BY status ORDER BY status" | tr '\t\n' '  ' | sed 's/ $//')" \
	"reservations: 10 COMMITTED, 30 REJECTED"
t_assert_eq "10 0 10 10" "$(sg_count "payments WHERE status = 'COMPLETED'") $(sg_count "payments WHERE status <> 'COMPLETED'") $(sg_count "shipments WHERE status = 'SCHEDULED'") $(sg_count shipments)" \
	"10 payments COMPLETED and no other; 10 shipments SCHEDULED and no other"
t_assert_eq "0 10" "$(sg_available SKU-RUSH) $(t_sql "SELECT COALESCE(SUM(quantity), 0) FROM reservation_items")" \
	"stock: 0 available, 10 reserved"

# Both inventory workers took part (their log lines carry their pid).
workers=$(grep -E 'inventory worker: order [0-9a-f-]{36}: (1 lines reserved|reservation rejected)' "$T_DIR/orderflowd.log" |
	sed -E 's/^<[0-9]>orderflowd\[([0-9]+)\].*/\1/' | sort | uniq -c | awk '{printf "%s%s:%s", (NR > 1 ? ", " : ""), $2, $1}')
echo "# order.created handled per inventory worker (pid:count): $workers"
[ "$(echo "$workers" | tr ',' '\n' | grep -c :)" = 2 ] || t_fail "expected both inventory workers to reserve, got: $workers"
t_pass "both inventory workers reserved concurrently ($workers)"

sg_invariants --stock SKU-RUSH=$STOCK
t_pass "saga_concurrency: $N concurrent orders on $STOCK units: 10 shipped, 30 out of stock, none oversold ($((SECONDS - SG_T0)) s)"
