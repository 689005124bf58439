# shellcheck shell=bash
# tests/chaos/chaos_lib.sh: the chaos driver and the after-the-chaos checks of
# test_chaos.sh. Source after tests/lib.sh, tests/system/saga_lib.sh and
# tests/system/sup_lib.sh, and after sg_init.
#
#   ch_start                 migrate, orderflowd under a notify socket, all consuming
#   ch_run SEED SECONDS      the chaos: every kind once (shuffled), then random
#   ch_check_placer PID S    the order stream's exit status and its rate
#   ch_check_orders ...      the checks, each counted in CH_CHECKS
#   ch_summary               what was done and what was checked, with counts

CH_KINDS=(kill-worker kill-relay restart-broker restart-db sighup term-restart)
declare -A CH_DONE=()
CH_CHECKS=0
CH_KILLS=0
CH_STOPS=0

# ch_pass MESSAGE: "ok - MESSAGE", counted.
ch_pass() {
	CH_CHECKS=$((CH_CHECKS + 1))
	t_pass "$*"
}

# ch_ready_count: READY=1 notifications received so far.
ch_ready_count() { grep -c 'READY=1' "$T_DIR/notify.log" 2>/dev/null || true; }

# ch_start: migrates, declares the topology, starts orderflowd (SUP_PID) with
# a notify socket and waits for READY=1 and every domain consuming.
ch_start() {
	ctl db migrate >/dev/null || t_fail "db migrate"
	ctl topology declare >/dev/null || t_fail "topology declare"
	s_start
	t_wait_for 90 s_notified READY=1
	t_wait_for 90 sg_all_consuming
	echo "# orderflowd $SUP_PID up, every domain consuming ($((SECONDS - SG_T0)) s)"
}

# ch_log WHAT: one line of the chaos log, with the time into the run.
ch_log() { printf '# chaos %4d s  %s\n' $((SECONDS - CH_T0)) "$*"; }

# ch_child TITLE: the pid of one child of orderflowd titled TITLE (waits up to
# 60 s for one: the role may be in its restart backoff after an earlier kill).
ch_child() {
	local pid deadline=$((SECONDS + 60))
	while :; do
		pid=$(pgrep -f -P "$SUP_PID" "^orderflowd: $1\s*$" | head -n 1 || true)
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		[ $SECONDS -lt $deadline ] || t_fail "no child '$1' of orderflowd $SUP_PID within 60 s"
		sleep 0.2
	done
}

ch_kill() {
	local title=$1 pid
	pid=$(ch_child "$title")
	kill -KILL "$pid" || t_fail "kill -KILL $pid ($title)"
	CH_KILLS=$((CH_KILLS + 1))
	ch_log "SIGKILL $title $pid"
}

ch_act_kill-worker() { ch_kill "${CH_DOMAINS[RANDOM % ${#CH_DOMAINS[@]}]} worker"; }
ch_act_kill-relay() { ch_kill relay; }

# A server restart runs in the background, so that the other actions happen
# while the broker or the database is away (a SIGTERM with the broker down,
# a SIGKILL during the database's start). One restart at a time: the two
# would rewrite var/stack's files at once.
CH_STACK_PID=
CH_STACK_WHAT=

# ch_stack_wait: waits for the restart in the background, if any; fails the
# test if it failed.
ch_stack_wait() {
	local rc=0
	[ -n "$CH_STACK_PID" ] || return 0
	wait "$CH_STACK_PID" || rc=$?
	[ "$rc" = 0 ] || t_fail "scripts/stack $CH_STACK_WHAT failed with status $rc (see $T_DIR/stack.log)"
	ch_log "$CH_STACK_WHAT: back after $((SECONDS - CH_STACK_T)) s"
	CH_STACK_PID=
}

ch_stack_restart() {
	ch_stack_wait
	CH_STACK_WHAT=$1 CH_STACK_T=$SECONDS
	"$ORDERFLOW_SOURCE_DIR/scripts/stack" "$1" >>"$T_DIR/stack.log" 2>&1 &
	CH_STACK_PID=$!
	ch_log "$1 (in the background)"
}

ch_act_restart-broker() { ch_stack_restart restart-broker; }
ch_act_restart-db() { ch_stack_restart restart-db; }

# SIGHUP with a changed file (inventory workers 1 <-> 2), so that a reload
# starts or stops a worker gracefully; waits for the reload's READY=1.
ch_act_sighup() {
	local n want=$((3 - $(sg_workers inventory)))
	n=$(ch_ready_count)
	sg_conf_domain inventory "workers = $want;"
	kill -HUP "$SUP_PID"
	t_wait_for 60 "s_notified READY=1 $((n + 1))"
	ch_log "SIGHUP orderflowd $SUP_PID: reloaded with $want inventory worker(s) (READY=1)"
}

# SIGTERM, wait for exit 0 and for no process of its session to be left,
# then start it again and wait for READY=1.
ch_act_term-restart() {
	local rc=0 t=$SECONDS n left
	kill -TERM "$SUP_PID"
	t_wait_for 90 '! kill -0 $SUP_PID 2>/dev/null'
	wait "$SUP_PID" || rc=$?
	[ "$rc" = 0 ] || t_fail "orderflowd $SUP_PID exited $rc on SIGTERM, not 0"
	left=$(pgrep -s "$SUP_PID" -a || true)
	[ -z "$left" ] || t_fail "orderflowd $SUP_PID exited but left: $left"
	CH_STOPS=$((CH_STOPS + 1))
	ch_log "SIGTERM orderflowd $SUP_PID: exit 0 after $((SECONDS - t)) s, no process left"
	sleep "0.$((RANDOM % 10))"
	n=$(ch_ready_count)
	s_start
	t_wait_for 90 "s_notified READY=1 $((n + 1))"
	ch_log "orderflowd started again: $SUP_PID (READY=1)"
}

# ch_run SEED SECONDS: the six kinds in a shuffled order, then random kinds
# until SECONDS have passed since the start; a pause of 1-4 s before each.
ch_run() {
	local seed=$1 secs=$2 sched=("${CH_KINDS[@]}") i j tmp kind end
	CH_DOMAINS=($SG_DOMAINS)
	RANDOM=$seed
	for ((i = ${#sched[@]} - 1; i > 0; i--)); do
		j=$((RANDOM % (i + 1)))
		tmp=${sched[i]} sched[i]=${sched[j]} sched[j]=$tmp
	done
	echo "# chaos: first ${sched[*]}, then at random until $secs s"
	end=$((SECONDS + secs))
	for ((i = 0; ; i++)); do
		if [ $i -lt ${#sched[@]} ]; then
			kind=${sched[i]}
		elif [ $SECONDS -lt $end ]; then
			kind=${CH_KINDS[RANDOM % ${#CH_KINDS[@]}]}
			# A server restart only when none is under way and the window
			# has room for one (a broker restart takes 30-60 s here): a
			# second one would only stretch the run past its window.
			case $kind in restart-*)
				if { [ -n "$CH_STACK_PID" ] && kill -0 "$CH_STACK_PID" 2>/dev/null; } || [ $((end - SECONDS)) -lt 60 ]; then
					kind=kill-worker
				fi
				;;
			esac
		else
			break
		fi
		sleep $((1 + RANDOM % 4))
		"ch_act_$kind"
		CH_DONE[$kind]=$((${CH_DONE[$kind]:-0} + 1))
	done
	ch_stack_wait
}

# ---- checks ---------------------------------------------------------------------

# ch_check_placer PID SECONDS: the order stream's own outcome, once it has
# exited: its exit status 0 (every HTTP order got its 201 and no request was
# given up), and at least ORDERFLOW_CHAOS_MIN_ORDERS_PER_MIN orders placed
# per minute of the SECONDS of chaos.
ch_check_placer() {
	local pid=$1 secs=$2 rc=0 placed min=${ORDERFLOW_CHAOS_MIN_ORDERS_PER_MIN:-30} want
	wait "$pid" || rc=$?
	if [ "$rc" != 0 ]; then
		{ tail -n 3 "$T_DIR/placer.log"; grep -E '^failed http|^cancel [^ ]+ (000|5)' "$T_DIR/orders.txt" | head -n 5; } |
			sed 's/^/#   /' >&2 || true
		t_fail "the order stream (chaos_place.sh, pid $pid) exited $rc, not 0 (above)"
	fi
	ch_pass "order stream: exit 0 ($(tail -n 1 "$T_DIR/placer.log"))"
	placed=$(grep -c '^placed ' "$T_DIR/orders.txt" || true)
	want=$(((min * secs + 59) / 60))
	[ "$placed" -ge "$want" ] ||
		t_fail "the order stream placed $placed orders in $secs s of chaos, fewer than $min a minute ($want)"
	ch_pass "order stream: $placed orders in $secs s of chaos (at least $min a minute: $want)"
}

# ch_check_orders: every order the stream was told about exists, the
# database holds no order the stream did not place (an Idempotency-Key
# retried during a restart made no second order), every order terminal.
ch_check_orders() {
	local placed failed_ctl db extra missing
	placed=$(grep -c '^placed ' "$T_DIR/orders.txt" || true)
	failed_ctl=$(grep -c '^failed ctl ' "$T_DIR/orders.txt" || true)
	db=$(sg_count orders)
	awk '$1 == "placed" { print $3 }' "$T_DIR/orders.txt" | sort >"$T_DIR/placed.ids"
	t_sql "SELECT id FROM orders" | sort >"$T_DIR/db.ids"
	missing=$(comm -23 "$T_DIR/placed.ids" "$T_DIR/db.ids" | wc -l)
	extra=$(comm -13 "$T_DIR/placed.ids" "$T_DIR/db.ids" | wc -l)
	[ "$missing" = 0 ] || t_fail "$missing placed orders are not in the database (first: $(comm -23 "$T_DIR/placed.ids" "$T_DIR/db.ids" | head -n 1))"
	[ "$extra" -le "$failed_ctl" ] ||
		t_fail "$extra orders in the database that the stream did not place, only $failed_ctl failed 'order place' could explain them (a duplicate order?)"
	[ "$placed" -gt 0 ] || t_fail "no order was placed"
	ch_pass "orders: $placed placed, all $db in the database ($extra from $failed_ctl failed 'order place'), none twice"
	t_assert_eq 0 "$(sg_count "orders WHERE status NOT IN ('SHIPPED', 'CANCELLED')")" "every order terminal"
	CH_CHECKS=$((CH_CHECKS + 1))
}

# ch_check_once: no effect twice, as far as the schema shows it:
#  - per order, at most one event of each type (a handler run twice would
#    emit a second event with a new id) and exactly one order.created;
#  - every outbox row reached the audit domain exactly once (event_log, keyed
#    by event_id, holds as many rows as the outbox, with the same ids);
#  - every consumer's inbox holds the ids of exactly the events routed to
#    it (DESIGN.md "Events", tests/spec/subscriptions.txt, applied to
#    event_log): nothing lost, nothing handled as two events.
ch_check_once() {
	local dup n_out n_log diff
	dup=$(t_sql "SELECT CONCAT(correlation_id, ' ', event_type, ' x', COUNT(*)) FROM event_log
		GROUP BY correlation_id, event_type HAVING COUNT(*) > 1 LIMIT 3")
	[ -z "$dup" ] || t_fail "an event type more than once for one order: $(echo "$dup" | tr '\n' ';')"
	t_assert_eq 0 "$(t_sql "SELECT COUNT(*) FROM orders o WHERE (SELECT COUNT(*) FROM event_log e
		WHERE e.correlation_id = o.id AND e.event_type = 'order.created') <> 1")" \
		"no effect twice: at most one event of each type per order, exactly one order.created each"
	CH_CHECKS=$((CH_CHECKS + 1))
	n_out=$(sg_count outbox)
	n_log=$(sg_count event_log)
	diff=$(t_sql "SELECT COUNT(*) FROM outbox o LEFT JOIN event_log e ON e.event_id = o.event_id WHERE e.event_id IS NULL")
	t_assert_eq "$n_out 0" "$n_log $diff" "every one of the $n_out outbox rows is in event_log once ($LOG_FROM)"
	CH_CHECKS=$((CH_CHECKS + 1))
	ch_check_inboxes
}

# ch_orphan_keys: the routing keys audit is the only consumer of (the spec),
# quoted for SQL, comma-separated.
ch_orphan_keys() {
	local k out=
	for k in $(python3 "$ORDERFLOW_SOURCE_DIR/tests/spec/subscriptions.py" keys audit); do
		[ "$(python3 "$ORDERFLOW_SOURCE_DIR/tests/spec/subscriptions.py" count "$k")" = 1 ] &&
			out+="'$k',"
	done
	[ -n "$out" ] || t_fail "the spec has no event only audit consumes"
	echo "${out%,}"
}

# ch_check_inboxes: each consumer's inbox holds exactly the ids of the
# events of event_log that DESIGN.md's "Events" table routes to it
# (tests/spec/subscriptions.txt), compared id by id: none missing, none
# extra.
ch_check_inboxes() {
	local d keys missing extra parts=
	for d in $SG_DOMAINS; do
		keys=$(python3 "$ORDERFLOW_SOURCE_DIR/tests/spec/subscriptions.py" keys "$d" |
			sed "s/.*/'&'/" | paste -sd, -)
		# With log_from = "outbox" the emitters wrote event_log and the
		# audit queue takes only the events no other domain consumes.
		if [ "$d" = audit ] && [ "${LOG_FROM:-queue}" = outbox ]; then
			keys=$(ch_orphan_keys)
		fi
		[ -n "$keys" ] || t_fail "inbox: tests/spec/subscriptions.txt names no key for $d"
		missing=$(t_sql "SELECT e.event_id FROM event_log e LEFT JOIN inbox i
			ON i.consumer = '$d' AND i.event_id = e.event_id
			WHERE e.event_type IN ($keys) AND i.event_id IS NULL LIMIT 3")
		extra=$(t_sql "SELECT i.event_id FROM inbox i LEFT JOIN event_log e
			ON e.event_id = i.event_id AND e.event_type IN ($keys)
			WHERE i.consumer = '$d' AND e.event_id IS NULL LIMIT 3")
		[ -z "$missing" ] || t_fail "inbox of $d: events routed to it by the spec but not in its inbox: $(echo $missing)"
		[ -z "$extra" ] || t_fail "inbox of $d: ids the spec does not route to it (or not in event_log): $(echo $extra)"
		parts+="$d $(sg_count "inbox WHERE consumer = '$d'"), "
	done
	ch_pass "inbox: the ids of exactly the events the spec routes to each consumer (${parts%, })"
}

# ch_check_broker: nothing ready, nothing unacknowledged, nothing parked, and
# every work queue consumed (the management API; sg_settle already waited for
# the statistics to be steady).
ch_check_broker() {
	local out
	out=$(t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")?columns=name,messages,messages_ready,messages_unacknowledged,consumers" |
		python3 -c '
import json, sys
qs = json.load(sys.stdin)
bad = ["%s ready=%s unacked=%s" % (q["name"], q.get("messages_ready"), q.get("messages_unacknowledged"))
       for q in qs if (q.get("messages_ready") or 0) or (q.get("messages_unacknowledged") or 0)]
work = ["orderflow." + d for d in sys.argv[1].split()]
idle = [q["name"] for q in qs if q["name"] in work and not q.get("consumers")]
dead = [q["name"] for q in qs if q["name"].endswith(".dead")]
if bad or idle:
    print("BAD " + "; ".join(bad + ["%s has no consumer" % n for n in idle]))
else:
    print("OK %d queues (%d parking lots) empty, 0 unacknowledged, %d work queues consumed" % (len(qs), len(dead), len(work)))' "$SG_DOMAINS")
	[[ $out == OK* ]] || t_fail "broker: ${out#BAD }"
	ch_pass "broker: ${out#OK }"
}

# ch_check_logs: no sanitizer report; no child died but by our SIGKILLs;
# every stop was clean. Prints what the logs say about the chaos.
ch_check_logs() {
	local log=$T_DIR/orderflowd.log kills other timeouts
	[ -z "$(t_sanitizer_files)" ] || t_fail "sanitizer report in $(t_sanitizer_files | tr '\n' ' ')"
	ch_pass "no sanitizer report in the $(find "$T_DIR" -type f | wc -l) files the test wrote (logs, the placer's orderflowctl stderr, ...)"
	kills=$(grep -c 'died by signal 9 (Killed)' "$log" || true)
	other=$(grep -E 'died by signal|exited unexpectedly' "$log" | grep -vc 'died by signal 9 (Killed)' || true)
	t_assert_eq "$CH_KILLS" "$kills" "children killed by SIGKILL: $kills, all ours"
	CH_CHECKS=$((CH_CHECKS + 1))
	if [ "$other" != 0 ]; then
		grep -E 'died by signal|exited unexpectedly' "$log" | grep -v 'died by signal 9 (Killed)' | head -n 5 | sed 's/^/#   /' >&2
		t_fail "$other unexpected child deaths (above)"
	fi
	ch_pass "no child died or exited unexpectedly but by our SIGKILLs"
	timeouts=$(grep -c 'did not stop within' "$log" || true)
	t_assert_eq 0 "$timeouts" "every child stopped within shutdown_timeout_ms on each of $CH_STOPS SIGTERMs"
	CH_CHECKS=$((CH_CHECKS + 1))
	# Each child's own exit on a stop (SIGTERM or a reload's), not only
	# orderflowd's: the supervisor logs an unclean one as a warning.
	unclean=$(grep -c 'stopped uncleanly' "$log" || true)
	if [ "$unclean" != 0 ]; then
		grep 'stopped uncleanly' "$log" | head -n 5 | sed 's/^/#   /' >&2
		t_fail "$unclean children stopped uncleanly (above)"
	fi
	ch_pass "every child stop a clean exit 0 ($(grep -c 'stopped (exit 0)' "$log" || true) of them)"
}

# ch_parked_now: messages in the vhost's parking lots (orderflow.*.dead).
ch_parked_now() {
	t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")?columns=name,messages" | python3 -c '
import json, sys
print(sum(q.get("messages") or 0 for q in json.load(sys.stdin) if q["name"].endswith(".dead")))'
}

# ch_summary: the block of figures.
ch_summary() {
	local k
	echo "# ---- chaos summary (seed $SEED, window $DURATION s) ----"
	for k in "${CH_KINDS[@]}"; do printf '#   action %-15s %3d\n' "$k" "${CH_DONE[$k]:-0}"; done
	echo "#   orders placed: $(grep -c '^placed http' "$T_DIR/orders.txt" || true) over HTTP, $(grep -c '^placed ctl' "$T_DIR/orders.txt" || true) with orderflowctl, $(grep -c '^failed' "$T_DIR/orders.txt" || true) refused or failed"
	echo "#   orders by kind: $(awk '$1 == "placed" { n[$4]++ } END { for (k in n) printf "%s %d  ", k, n[k] }' "$T_DIR/orders.txt")"
	echo "#   cancel requests: $(awk '$1 == "cancel" { n[$3]++ } END { for (k in n) printf "HTTP %s: %d  ", k, n[k] }' "$T_DIR/orders.txt")"
	echo "#   final states: $(t_sql "SELECT CONCAT(status, ' ', COUNT(*)) FROM orders GROUP BY status" | tr '\n' ' ')"
	echo "#   cancel reasons: $(t_sql "SELECT CONCAT(COALESCE(cancel_reason, '-'), ': ', COUNT(*)) FROM orders WHERE status = 'CANCELLED' GROUP BY cancel_reason" | tr '\n' ';')"
	echo "#   events published: $(sg_count outbox) ($(t_sql "SELECT CONCAT(routing_key, ' ', COUNT(*)) FROM outbox GROUP BY routing_key" | tr '\n' ',' | sed 's/,$//; s/,/, /g'))"
	echo "#   retries logged: $(grep -cE 'retrying in [0-9]+ ms \(attempt' "$T_DIR/orderflowd.log" || true), parked (logged): $(grep -c 'parked message ' "$T_DIR/orderflowd.log" || true), in the parking lots now: $(ch_parked_now), checks passed: $CH_CHECKS"
}
