#!/usr/bin/env bash
# orderflowd and the database schema: on a database without the migrations it
# exits at once, non-zero, naming `orderflowctl db migrate`, and starts no
# child; on a schema newer than it knows it exits naming both versions; on the
# schema it knows it serves. A reload onto a domain database that is not
# migrated is refused and the running configuration kept.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
t_init schema

s_conf_role http 0
known=$(find "$ORDERFLOW_SOURCE_DIR/db/migrations" -name '[0-9]*_*.sql' -printf '%f\n' |
	sed -E 's/^0*([0-9]+)_.*/\1/' | sort -n | tail -n 1)

# start_refused LOG: orderflowd exits non-zero within 20 s, having forked no child.
start_refused() {
	local log=$1 rc=0 start=$SECONDS
	timeout 20 "$BIN/orderflowd" -c "$T_CONF" >"$T_DIR/$log" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || t_fail "orderflowd should exit non-zero at once (rc $rc): $(tail -n 5 "$T_DIR/$log")"
	! grep -qE 'started [a-z]+( worker)? [0-9]+$' "$T_DIR/$log" || t_fail "children were started: $(cat "$T_DIR/$log")"
	echo "# orderflowd exited $rc after $((SECONDS - start)) s"
}

start_refused empty.log
grep -q 'orderflowctl db migrate' "$T_DIR/empty.log" ||
	t_fail "the error does not name orderflowctl db migrate: $(cat "$T_DIR/empty.log")"
grep -q "database $T_DB has schema version 0" "$T_DIR/empty.log" ||
	t_fail "the error does not name the database: $(cat "$T_DIR/empty.log")"
t_pass "an unmigrated database: orderflowd exits non-zero at once and names orderflowctl db migrate"

grep -q "needs $known:" "$T_DIR/empty.log" ||
	t_fail "orderflowd expects another schema version than the newest migration $known: $(cat "$T_DIR/empty.log")"
t_pass "the schema version orderflowd expects is the newest file in db/migrations ($known)"

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
newer=$((known + 1))
t_sql "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($newer, '$(printf %03d $newer)_from_the_future', UTC_TIMESTAMP(6))"
start_refused newer.log
grep -q "schema version $newer, newer than the version $known" "$T_DIR/newer.log" ||
	t_fail "the error does not name both versions: $(cat "$T_DIR/newer.log")"
t_pass "a newer schema ($newer) is refused at start, naming both versions ($newer and $known)"

t_sql "DELETE FROM schema_migrations WHERE version = $newer"
s_start
t_wait_for 60 s_notified "READY=1"
t_pass "on the schema it knows, orderflowd starts"

# A reload that moves a domain to a database without the migrations.
other=${T_DB}_ship
t__mysql -e "DROP DATABASE IF EXISTS \`$other\`; CREATE DATABASE \`$other\`"
trap 'rc=$?; t__mysql -e "DROP DATABASE IF EXISTS \`$other\`" || true; (exit $rc); t__exit' EXIT
sed -i -E "s/^(  shipping = \{ workers = 1;)/\1 database = \"$other\";/" "$T_CONF"
grep -q "database = \"$other\"" "$T_CONF" || t_fail "could not set domains.shipping.database"
kill -HUP "$SUP_PID"
t_wait_for 30 s_notified "READY=1" 2
t_wait_for 10 "grep -q 'reload refused: keeping the running configuration' '$T_DIR/orderflowd.log'"
grep -q "database $other has schema version 0" "$T_DIR/orderflowd.log" ||
	t_fail "the refused reload does not say why: $(tail -n 5 "$T_DIR/orderflowd.log")"
t_pass "a reload onto an unmigrated domain database is refused; the running configuration is kept"
