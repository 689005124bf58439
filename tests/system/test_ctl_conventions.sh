#!/usr/bin/env bash
# test_ctl_conventions: what orderflowctl promises every caller (issue 17):
# `--version` prints the CMake project version; a usage error exits 2 even
# when the configuration cannot be read (the arguments are checked first);
# `--help` of each subcommand exits 0 and names its flags and the fields of
# its --json document (checked against the document it really prints); with
# --json an error on stderr is JSON, the exit status unchanged; a broker or
# database that refuses the connection is named with "connection refused".
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
t_init ctl_conventions

CTL=$BIN/orderflowctl
ctl() { "$CTL" -c "$T_CONF" "$@"; }

# run CMD...: runs CMD, stdout in $T_DIR/out, stderr in $T_DIR/err, status in RC.
run() {
	RC=0
	"$@" >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}
# is_json_error FILE: every line of FILE is a JSON object with a non-empty "error"
# or "warning", and at least one "error".
is_json_error() {
	python3 -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines and all(isinstance(o, dict) and (o.get("error") or o.get("warning")) for o in lines)
assert any(o.get("error") for o in lines)' "$1"
}

# ---- --version ------------------------------------------------------------------

want=$(sed -n 's/^project(orderflow VERSION \([0-9][0-9.]*\).*/\1/p' "$ORDERFLOW_SOURCE_DIR/CMakeLists.txt")
[ -n "$want" ] || t_fail "no project version found in CMakeLists.txt"
run "$CTL" --version
t_assert_eq "0 orderflowctl $want" "$RC $(cat "$T_DIR/out")" "--version prints 'orderflowctl VERSION' and exits 0"
run "$CTL" -c /nonexistent/orderflow.conf --version
t_assert_eq "0 orderflowctl $want" "$RC $(cat "$T_DIR/out")" "--version needs no configuration"

# ---- usage errors before the configuration ---------------------------------------

printf 'this is { not a configuration\n' >"$T_DIR/garbage.conf"
chmod 600 "$T_DIR/garbage.conf"
usage_errors=(
	""
	"bogus"
	"db"
	"db migrate now"
	"topology"
	"topology declare all"
	"stock"
	"stock set"
	"stock set SKU-A many"
	"stock set SKU-A 1 --price -5"
	"stock show all"
	"order"
	"order place --item SKU-A:1"
	"order place --customer c1 --item SKU-A"
	"order show"
	"parked"
	"parked list"
	"parked list nosuchdomain"
	"parked replay order"
	"parked replay order --all --event e1"
	"parked purge order now"
	"stats now"
)
for conf in /nonexistent/orderflow.conf "$T_DIR/garbage.conf"; do
	for args in "${usage_errors[@]}"; do
		# shellcheck disable=SC2086 # word splitting of $args is the point
		run "$CTL" -c "$conf" $args
		[ "$RC" = 2 ] || t_fail "'$args' with config $conf: exit $RC, expected 2 (usage): $(cat "$T_DIR/err")"
		grep -qF -- "$conf" "$T_DIR/err" && t_fail "'$args': the configuration was read before the arguments: $(cat "$T_DIR/err")"
		[ -s "$T_DIR/out" ] && t_fail "'$args': a usage error printed on stdout: $(cat "$T_DIR/out")"
	done
done
t_pass "${#usage_errors[@]} usage errors exit 2 with a missing and with an invalid configuration"
run "$CTL" -c /nonexistent/orderflow.conf stats
t_assert_eq 1 "$RC" "a well-formed command with a missing configuration exits 1"
grep -qF "/nonexistent/orderflow.conf: cannot open" "$T_DIR/err" || t_fail "the missing configuration is not named: $(cat "$T_DIR/err")"

# ---- --help per subcommand ----------------------------------------------------------

# help_names "GROUP SUB" WORD...: `--help` exits 0 (configuration unreadable)
# and its page names each WORD.
help_names() {
	local cmd=$1 w
	shift
	# shellcheck disable=SC2086
	run "$CTL" -c /nonexistent/orderflow.conf $cmd --help
	[ "$RC" = 0 ] || t_fail "$cmd --help: exit $RC: $(cat "$T_DIR/err")"
	grep -qF "usage: orderflowctl" "$T_DIR/out" || t_fail "$cmd --help: no usage line: $(cat "$T_DIR/out")"
	for w in "--json" "$@"; do
		grep -qF -- "$w" "$T_DIR/out" || t_fail "$cmd --help does not name '$w': $(cat "$T_DIR/out")"
	done
}
help_names "db migrate" applied migrations
help_names "topology declare" declared
help_names "topology show" parking_lot delay_ms
help_names "stock set" --price SKU QTY
help_names "stock show" price_cents available
help_names "order place" --customer --item --currency --idempotency-key total_cents
help_names "order show" since_previous_ms since_start_ms
help_names "parked list" event_id first_failed_at parked_from
help_names "parked replay" --all --event replayed kept
help_names "parked purge" purged
help_names "stats" lag_seconds retrying set_aside pruned last_at
# -h too, and after the subcommand's own arguments.
run "$CTL" -c /nonexistent/orderflow.conf parked replay order --event x -h
[ "$RC" = 0 ] && grep -qF -- "--event ID" "$T_DIR/out" || t_fail "parked replay ... -h: exit $RC: $(cat "$T_DIR/out" "$T_DIR/err")"
# A group's --help lists its subcommands' pages.
run "$CTL" parked --help
[ "$RC" = 0 ] && grep -qF "orderflowctl parked replay --help" "$T_DIR/out" || t_fail "parked --help: exit $RC: $(cat "$T_DIR/out")"
t_pass "--help of every subcommand exits 0 and names its flags and --json fields"

# Every field of the JSON documents the commands really print is on their page.
# fields_named "GROUP SUB" JSON: each key (at any depth) of JSON is in the help.
fields_named() {
	local cmd=$1 json=$2
	# shellcheck disable=SC2086
	"$CTL" $cmd --help >"$T_DIR/help"
	python3 -c 'import json, sys
help = open(sys.argv[2]).read()
def keys(v):
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from keys(x)
    elif isinstance(v, list):
        for x in v:
            yield from keys(x)
missing = sorted({k for k in keys(json.loads(sys.argv[1])) if k not in help})
assert not missing, "not on the --help page: %s" % missing' "$json" "$T_DIR/help" ||
		t_fail "$cmd --json prints fields its --help does not explain: $json"
}
fields_named "db migrate" "$(ctl --json db migrate)"
fields_named "topology declare" "$(ctl --json topology declare)"
fields_named "topology show" "$(ctl --json topology show)"
fields_named "stock set" "$(ctl --json stock set SKU-A 10 --price 100)"
fields_named "stock show" "$(ctl --json stock show)"
fields_named "order place" "$(ctl --json order place --customer c1 --item SKU-A:1)"
fields_named "parked list" "$(ctl --json parked list order)"
fields_named "parked purge" "$(ctl --json parked purge order)"
fields_named "stats" "$(ctl --json stats)"
t_pass "every field the commands print with --json is explained by their --help"

# ---- errors in words, and as JSON with --json -----------------------------------------

sed -E "s|^(  url = \"amqps?://[^@]*@)[^/]*(/.*)|\\1127.0.0.1:1\\2|" "$T_CONF" >"$T_DIR/nobroker.conf"
grep -qF "@127.0.0.1:1/" "$T_DIR/nobroker.conf" || t_fail "could not point a config at port 1"
sed -E "s|^(  port = ).*|\\11;|" "$T_CONF" >"$T_DIR/nodb.conf"
grep -qxF "  port = 1;" "$T_DIR/nodb.conf" || t_fail "could not point a config at database port 1"
chmod 600 "$T_DIR/nobroker.conf" "$T_DIR/nodb.conf"

run "$CTL" -c "$T_DIR/nobroker.conf" stats
t_assert_eq 1 "$RC" "unreachable broker: exit 1"
grep -qE "^orderflowctl: cannot connect to the broker: .*amqp://[^ ]*127\.0\.0\.1:1/[^ ]*: connect to 127\.0\.0\.1:1: connection refused$" "$T_DIR/err" ||
	t_fail "unreachable broker: not said in words: $(cat "$T_DIR/err")"
grep -qF "socket error" "$T_DIR/err" && t_fail "unreachable broker: still rabbitmq-c's 'socket error': $(cat "$T_DIR/err")"
run "$CTL" -c "$T_DIR/nodb.conf" stock show
t_assert_eq 1 "$RC" "unreachable database: exit 1"
grep -qF "cannot connect to MariaDB/MySQL at 127.0.0.1:1 as " "$T_DIR/err" && grep -qF ": connection refused" "$T_DIR/err" ||
	t_fail "unreachable database: not said in words: $(cat "$T_DIR/err")"
t_pass "a refused connection to the broker or the database says 'connection refused'"

json_error() { # STATUS WORDS CMD...: exit STATUS, stderr JSON naming WORDS, stdout empty
	local want=$1 words=$2
	shift 2
	run "$@"
	[ "$RC" = "$want" ] || t_fail "$*: exit $RC, expected $want: $(cat "$T_DIR/err")"
	is_json_error "$T_DIR/err" || t_fail "$*: stderr is not JSON: $(cat "$T_DIR/err")"
	python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["error"] else 1)' <"$T_DIR/err" ||
		t_fail "$*: stderr is not one JSON document: $(cat "$T_DIR/err")"
	grep -qF -- "$words" "$T_DIR/err" || t_fail "$*: the JSON error does not say '$words': $(cat "$T_DIR/err")"
	[ -s "$T_DIR/out" ] && t_fail "$*: printed on stdout: $(cat "$T_DIR/out")"
	return 0
}
json_error 1 "connection refused" "$CTL" -c "$T_DIR/nobroker.conf" --json stats
json_error 1 "connection refused" "$CTL" -c "$T_DIR/nodb.conf" stock show --json
json_error 1 "cannot open" "$CTL" -c /nonexistent/orderflow.conf --json parked list order
json_error 2 "a DOMAIN is required" "$CTL" -c /nonexistent/orderflow.conf --json parked list
json_error 2 "unknown command 'bogus'" "$CTL" --json bogus
json_error 2 "-c needs a file" "$CTL" --json -c
json_error 1 "not found" ctl --json parked replay order --event no-such-event
json_error 1 "order nope not found" ctl --json order show nope
t_pass "with --json an error on stderr is JSON, exit 1 for errors and 2 for usage"

# A warning of the configuration check is a JSON line too.
cp "$T_CONF" "$T_DIR/open.conf"
chmod 644 "$T_DIR/open.conf"
run "$CTL" -c "$T_DIR/open.conf" --json stats
t_assert_eq 0 "$RC" "stats with a world-readable config"
python3 -c 'import json, sys
ws = [json.loads(l) for l in sys.stdin if l.strip()]
assert ws and all("readable by others" in w["warning"] for w in ws), ws' <"$T_DIR/err" ||
	t_fail "--json: the configuration warning is not a JSON line: $(cat "$T_DIR/err")"
t_pass "--json: the modules' warnings on stderr are JSON lines"
