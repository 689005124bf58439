#!/usr/bin/env bash
# `orderflowctl db migrate` against the local stack's MariaDB: the first run
# applies every db/migrations/NNN_name.sql in number order and logs each one,
# the second applies none and succeeds; inbox, outbox and schema_migrations
# exist; schema_migrations holds one row per file (its number and name). Then,
# on a dropped database, two migrators started at once: the named lock lets
# one apply everything and the other nothing, both succeed.
set -euo pipefail
: "${ORDERFLOW_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
t_init migrate

CTL=$BIN/orderflowctl
[ -x "$CTL" ] || t_fail "no $CTL: build orderflowctl first"

migrations=()
for f in "$ORDERFLOW_SOURCE_DIR"/db/migrations/[0-9]*_*.sql; do
	migrations+=("$(basename "$f" .sql)")
done
n=${#migrations[@]}
[ "$n" -ge 2 ] || t_fail "expected at least 001_core and 002_domains in db/migrations, found $n"

# orderflowctl shows info lines only at log level debug: a copy of the
# config that says so, to see "applied migration NNN_name".
DEBUG_CONF=$T_DIR/debug.conf
sed -E 's/^(  level = ).*/\1"debug";/' "$T_CONF" >"$DEBUG_CONF"
grep -q '"debug"' "$DEBUG_CONF" || printf 'log = { level = "debug"; };\n' >>"$DEBUG_CONF"

# migrate LOG [ARGS...]: runs orderflowctl db migrate, stderr to $T_DIR/LOG.
migrate() {
	local log=$1
	shift
	"$CTL" -c "$DEBUG_CONF" "$@" db migrate 2>"$T_DIR/$log" ||
		t_fail "orderflowctl db migrate ($log) failed: $(cat "$T_DIR/$log")"
}

out=$(migrate first.log)
t_assert_eq "applied $n migrations to $T_DB" "$out" "first run applies all $n migrations"
for m in "${migrations[@]}"; do
	grep -q "applied migration $m\$" "$T_DIR/first.log" ||
		t_fail "the first run did not log 'applied migration $m': $(cat "$T_DIR/first.log")"
done
t_pass "the first run logs 'applied migration NNN_name' for each file"

out=$(migrate second.log)
t_assert_eq "applied 0 migrations to $T_DB" "$out" "second run applies none and exits 0"
t_assert_eq 0 "$(grep -c 'applied migration' "$T_DIR/second.log" || true)" \
	"the second run logs no migration"

out=$(migrate json.log --json)
t_assert_eq 0 "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["applied"])' <<<"$out")" \
	"--json: applied 0"

t_assert_eq "inbox outbox schema_migrations" \
	"$(t_sql "SELECT GROUP_CONCAT(table_name ORDER BY table_name SEPARATOR ' ')
		FROM information_schema.tables WHERE table_schema = DATABASE() AND engine = 'InnoDB'
		AND table_name IN ('inbox', 'outbox', 'schema_migrations')")" \
	"inbox, outbox and schema_migrations exist (InnoDB)"

want=$(for m in "${migrations[@]}"; do echo "$((10#${m%%_*})) $m"; done)
t_assert_eq "$want" "$(t_sql "SELECT version, name FROM schema_migrations ORDER BY version" | tr '\t' ' ')" \
	"schema_migrations has one row per file: $(echo "${migrations[*]}")"
t_assert_eq "$n" "$(t_sql "SELECT COUNT(*) FROM schema_migrations WHERE applied_at
		BETWEEN UTC_TIMESTAMP(6) - INTERVAL 10 MINUTE AND UTC_TIMESTAMP(6)")" \
	"applied_at is the UTC time of the run"

# Two at once on a database that does not exist yet.
t_sql "DROP DATABASE \`$T_DB\`"
"$CTL" -c "$T_CONF" db migrate >"$T_DIR/race1.out" 2>"$T_DIR/race1.log" &
p1=$!
"$CTL" -c "$T_CONF" db migrate >"$T_DIR/race2.out" 2>"$T_DIR/race2.log" &
p2=$!
rc1=0 rc2=0
wait $p1 || rc1=$?
wait $p2 || rc2=$?
t_assert_eq "0 0" "$rc1 $rc2" "two migrators at once both succeed"
t_assert_eq "$(printf 'applied 0 migrations to %s\napplied %d migrations to %s' "$T_DB" "$n" "$T_DB")" \
	"$(cat "$T_DIR/race1.out" "$T_DIR/race2.out" | sort)" \
	"one of them applied all $n, the other none"
t_assert_eq "$want" "$(t_sql "SELECT version, name FROM schema_migrations ORDER BY version" | tr '\t' ' ')" \
	"each migration recorded once"
