#!/usr/bin/env bash
# test_saga_log_from: domains.audit.log_from = "outbox". The transaction that
# emits an event writes its event_log row, the audit queue is bound only to
# the events no other domain takes (stock.released, shipping.cancelled: every
# event still has a queue), and every event of a saga and of a cancelled
# order is still in event_log exactly once, as
# `orderflowctl order show` prints it. An event written to the outbox while
# the setting was "queue" and not yet published when orderflowd restarts with
# "outbox" is logged by the relay before it goes out. A reload that changes
# the setting is refused; a restart back to "queue" binds "#" again and the
# audit domain logs from its queue as before. A value the key does not know,
# and "outbox" with an emitting domain in another database, are refused by
# orderflowd -t with the key's name.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_log_from

# refused 'AUDIT SETTINGS' 'ORDER SETTINGS' TEXT: orderflowd -t refuses the
# config with those domain lines, naming domains.audit.log_from and TEXT.
refused() {
	cp "$T_CONF" "$T_DIR/bad.conf"
	sed -i -E -e "s|^(  audit = \{).*\};$|\1 $1 };|" -e "s|^(  order = \{).*\};$|\1 $2 };|" \
		"$T_DIR/bad.conf"
	if "$BIN/orderflowd" -t -c "$T_DIR/bad.conf" >"$T_DIR/bad.out" 2>&1; then
		t_fail "orderflowd -t accepted audit { $1 } order { $2 }"
	fi
	grep -q "domains.audit.log_from" "$T_DIR/bad.out" && grep -qF "$3" "$T_DIR/bad.out" ||
		t_fail "orderflowd -t: no 'domains.audit.log_from ... $3' in: $(cat "$T_DIR/bad.out")"
	t_pass "refused: $(grep -m1 log_from "$T_DIR/bad.out")"
}

# audit_keys: the keys binding orderflow.audit to orderflow.events, sorted.
audit_keys() {
	t_mgmt GET "/api/queues/$(t_urlencode "$T_VHOST")/orderflow.audit/bindings" |
		python3 -c 'import json, sys
print(" ".join(sorted(b["routing_key"] for b in json.load(sys.stdin) if b["source"] == "orderflow.events")))'
}

# logged ID: event_log holds the order's five events, each once.
logged() {
	[ "$(t_sql "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM event_log
		WHERE correlation_id = '$1'" | tr '\t' ' ')" = "5 5" ]
}

# audit_inbox ID: the audit domain's inbox rows for the order's events.
audit_inbox() {
	t_sql "SELECT COUNT(*) FROM inbox i JOIN event_log e ON e.event_id = i.event_id
		WHERE i.consumer = 'audit' AND e.correlation_id = '$1'"
}

# saga ID: waits until order ID is SHIPPED and its five events are logged.
saga() {
	t_wait_for 30 "sg_order_is $1 SHIPPED"
	t_wait_for 30 "logged $1"
}

# shown ID: `orderflowctl order show` lists the saga's five events in order.
shown() {
	ctl order show "$1" >"$T_DIR/show.out" || t_fail "order show $1: $(cat "$T_DIR/show.out")"
	local types
	types=$(grep -oE '(order\.created|stock\.reserved|payment\.completed|order\.confirmed|shipping\.scheduled)' \
		"$T_DIR/show.out" | paste -sd ' ')
	t_assert_eq "order.created stock.reserved payment.completed order.confirmed shipping.scheduled" \
		"$types" "order show $1: the event chain"
}

# logged_since LINE: the relay said, after line LINE of orderflowd's log, that
# it wrote the event_log row of one event its writer did not log. (grep
# reads all of tail's output: with -q, tail could die of SIGPIPE and fail
# the pipeline under pipefail.)
logged_since() {
	tail -n +"$1" "$T_DIR/orderflowd.log" |
		grep "wrote the rows of 1 event that their writer did not log" >/dev/null
}

stop() {
	kill -TERM "$SUP_PID"
	t_wait_for 40 "! kill -0 $SUP_PID 2>/dev/null"
}

# 1. What orderflowd -t refuses.
refused 'workers = 1; log_from = "relay";' 'workers = 1;' 'must be "queue" or "outbox"'
refused 'workers = 1; log_from = "outbox";' "workers = 1; database = \"${T_DB}_o\";" \
	"order's database"

# 2. "queue", no relay: order.created waits in the outbox, with no event_log row.
sg_conf_section relay 'workers = 0;'
sg_start
ctl stock set SKU-LF 10 --price 500 >/dev/null
ID0=$(sg_place c-logfrom0-$RANDOM SKU-LF:1)
t_wait_for 10 "[ \"\$(sg_count \"outbox WHERE published_at IS NULL\")\" -ge 1 ]"
t_assert_eq 0 "$(sg_count "event_log WHERE correlation_id = '$ID0'")" "queue, no relay: nothing logged yet"
stop

# 3. Restart with "outbox": the relay logs the waiting event, then the saga
# runs with nothing bound to the audit queue from orderflow.events.
sg_conf_section relay 'workers = 1;'
sg_conf_domain audit 'workers = 1; log_from = "outbox";'
from=$(($(wc -l <"$T_DIR/orderflowd.log") + 1))
sg_start
ORPHANS="shipping.cancelled stock.released"
t_assert_eq "$ORPHANS" "$(audit_keys)" "outbox: orderflowd narrowed orderflow.audit from # (bound by orderflowctl topology declare) to the events no other domain takes"
saga "$ID0"
logged_since "$from" ||
	t_fail "the relay did not say it logged the event written before the restart"
ID1=$(sg_place c-logfrom1-$RANDOM SKU-LF:1)
saga "$ID1"
t_assert_eq 0 "$(audit_inbox "$ID1")" "outbox: the audit domain took no delivery of $ID1"
shown "$ID1"
t_pass "outbox: each event of $ID0 and $ID1 in event_log once, none through the audit queue"
# A declined payment: the compensation events only audit consumes still
# reach a queue (none returned to the relay, none set aside) and the log.
ID4=$(sg_place c-declined SKU-LF:1)
t_wait_for 30 "sg_order_is $ID4 CANCELLED"
t_wait_for 30 "[ \"\$(sg_count \"event_log WHERE correlation_id = '$ID4' AND event_type = 'stock.released'\")\" = 1 ]"
t_wait_for 30 "[ \"\$(sg_count \"outbox WHERE published_at IS NULL\")\" = 0 ]"
t_assert_eq 0 "$(sg_count "outbox o LEFT JOIN event_log e ON e.event_id = o.event_id WHERE e.event_id IS NULL")" \
	"outbox: every event emitted so far is in event_log"
t_pass "outbox: $ID4 cancelled, its $(sg_count "event_log WHERE correlation_id = '$ID4'") events logged and published"

# 4. A reload that changes it is refused; the running setting stays. The
# order placed then by orderflowctl, which reads the file ("queue"), is
# logged by the relay instead.
sg_conf_domain audit 'workers = 1;'
from=$(($(wc -l <"$T_DIR/orderflowd.log") + 1))
kill -HUP "$SUP_PID"
t_wait_for 20 "tail -n +$from \"\$T_DIR/orderflowd.log\" | grep 'reload refused: domains.audit.log_from cannot change' >/dev/null"
ID2=$(sg_place c-logfrom2-$RANDOM SKU-LF:1)
saga "$ID2"
t_assert_eq 0 "$(audit_inbox "$ID2")" "after the refused reload: still logged by the emitters"
t_assert_eq "$ORPHANS" "$(audit_keys)" "after the refused reload: orderflow.audit still narrowed"
logged_since "$from" ||
	t_fail "the relay did not say it logged the order.created that orderflowctl wrote"
stop

# 5. A restart with "queue": orderflowd binds "#" again (started without
# `orderflowctl topology declare`, which always binds it), the audit domain logs.
t_bg orderflowd "$BIN/orderflowd" -c "$T_CONF"
SUP_PID=$T_LAST_PID
t_wait_for 60 sg_all_consuming
t_assert_eq "#" "$(audit_keys)" "queue: orderflowd bound orderflow.audit to # again"
ID3=$(sg_place c-logfrom3-$RANDOM SKU-LF:1)
saga "$ID3"
t_wait_for 20 "[ \"\$(audit_inbox $ID3)\" = 5 ]"
shown "$ID3"
t_pass "queue: $ID3 logged by the audit domain, each event once"
# The acks follow the commits, and the broker's counts lag them by up to a
# second: wait until the queues read empty three times in a row.
sg_settle 30
sg_invariants --stock SKU-LF=10
