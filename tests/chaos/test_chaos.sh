#!/usr/bin/env bash
# test_chaos: orders flow through the whole saga while a driver, from a
# printed random seed, SIGKILLs domain workers and the relay, restarts the
# broker and the database, reloads orderflowd (SIGHUP, toggling the number of
# inventory workers) and stops it (SIGTERM) and starts it again. Then the
# orders stop, the system drains, and the test checks DESIGN.md "Promises":
# every order terminal, the invariants (check_invariants.py), no effect twice,
# nothing parked, nothing unacknowledged, the outbox published, every stop a
# clean exit 0 (orderflowd's and each child's), no crash but ours, the order
# stream's own outcome (exit 0: every HTTP order created, none given up;
# at least ORDERFLOW_CHAOS_MIN_ORDERS_PER_MIN orders a minute) and no
# sanitizer report in any file the test wrote. It prints what it
# did and what it checked, with counts.
#
#   ORDERFLOW_CHAOS_SECONDS  length of the chaos window (default 30: the six
#                            kinds once take about a minute on a busy 2-core
#                            machine, the broker restart most of it, and the
#                            whole test about 2-3 minutes)
#   ORDERFLOW_CHAOS_SEED     the seed of the schedule (default: random, printed)
#   ORDERFLOW_CHAOS_MIN_ORDERS_PER_MIN
#                            orders the stream must have placed per minute of
#                            chaos (default 30; a quiet machine places 150+)
#   ORDERFLOW_CHAOS_LOG_FROM domains.audit.log_from: queue (default) or outbox
#                            (event_log written by the emitting transaction;
#                            the audit inbox then holds only the events no
#                            other domain consumes). ctest runs both:
#                            chaos.test_chaos and chaos.test_chaos_log_from
#
# Every kind of action happens at least once: the run starts with the six
# kinds in a shuffled order, then picks at random until the window is over.
# The same seed gives the same schedule (the kinds, the victims' roles and
# the pauses; not the pids or the timing of the order stream).
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/chaos/chaos_lib.sh"
LOG_FROM=${ORDERFLOW_CHAOS_LOG_FROM:-queue}
case $LOG_FROM in
queue) sg_init chaos ;;
outbox) sg_init chaos_log_from ;;
*) echo "ORDERFLOW_CHAOS_LOG_FROM must be queue or outbox (got '$LOG_FROM')" >&2; exit 1 ;;
esac

SEED=${ORDERFLOW_CHAOS_SEED:-$(((RANDOM << 15) | RANDOM))}
DURATION=${ORDERFLOW_CHAOS_SECONDS:-30}
[[ $SEED =~ ^[0-9]+$ && $DURATION =~ ^[0-9]+$ ]] ||
	t_fail "ORDERFLOW_CHAOS_SEED and ORDERFLOW_CHAOS_SECONDS must be whole numbers (got '$SEED', '$DURATION')"
echo "# chaos: seed $SEED, window $DURATION s, event_log from the $LOG_FROM (replay: ORDERFLOW_CHAOS_SEED=$SEED ORDERFLOW_CHAOS_SECONDS=$DURATION ORDERFLOW_CHAOS_LOG_FROM=$LOG_FROM)"

# Retry delays short enough for the drain to take seconds, not the default
# five minutes, and enough attempts (~2 min of retries) to outlast a broker
# restart (26 s on a quiet machine, up to 96 s seen on a busy one)
# without parking a healthy message.
sg_conf_section retry 'delays_ms = [500, 2000, 5000];
  max_attempts = 30;'
sg_conf_section supervisor 'shutdown_timeout_ms = 20000;'
# A payment that takes 150 ms leaves a cancel placed right after the order a
# chance to land after the charge: payment refunds (payment.refunded).
sg_conf_domain payment 'workers = 1; decline_over_cents = 100000; decline_customers = ["c-declined"]; latency_ms = 150;'
sg_conf_domain audit "workers = 1; log_from = \"$LOG_FROM\";"
declare -A INITIAL=([SKU-A]=100000 [SKU-RARE]=4 [SKU-BIG]=1000)
ch_start
for sku in SKU-A SKU-RARE SKU-BIG; do
	price=700
	[ $sku = SKU-BIG ] && price=60000
	ctl stock set $sku "${INITIAL[$sku]}" --price $price >/dev/null
done

# ---- the chaos ----------------------------------------------------------------
t_bg placer env BIN="$BIN" T_CONF="$T_CONF" SG_HTTP="$SG_HTTP" SG_TOKEN="$SG_TOKEN" \
	bash "$ORDERFLOW_SOURCE_DIR/tests/chaos/chaos_place.sh" "$SEED" "$T_DIR/stop" "$T_DIR/orders.txt"
PLACER_PID=$T_LAST_PID
CH_T0=$SECONDS
ch_run "$SEED" "$DURATION"
touch "$T_DIR/stop"
CH_SECONDS=$((SECONDS - CH_T0))
echo "# chaos over after $CH_SECONDS s: stopping the order stream"
t_wait_for 240 '! kill -0 $PLACER_PID 2>/dev/null'
ch_check_placer "$PLACER_PID" "$CH_SECONDS"

# ---- the drain ------------------------------------------------------------------
t0=$SECONDS
t_wait_for 120 sg_all_consuming
echo "# every domain consuming $((SECONDS - t0)) s after the chaos"
t_wait_for 300 'test "$(sg_count "orders WHERE status NOT IN ('\''SHIPPED'\'', '\''CANCELLED'\'')")" = 0'
echo "# every order terminal $((SECONDS - t0)) s after the chaos"
sg_settle 180
echo "# drained $((SECONDS - t0)) s after the chaos"

# ---- the checks -----------------------------------------------------------------
ch_check_orders
sg_invariants --stock SKU-A=${INITIAL[SKU-A]} --stock SKU-RARE=${INITIAL[SKU-RARE]} --stock SKU-BIG=${INITIAL[SKU-BIG]}
ch_pass "check_invariants.py: outbox, queues, parking lots, terminal orders, stock, payments, shipments, notifications, causation"
ch_check_once
ch_check_broker
ch_check_logs
ch_summary
t_pass "chaos: seed $SEED, $((SECONDS - SG_T0)) s in all, ${CH_CHECKS} checks passed"
