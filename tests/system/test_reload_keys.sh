#!/usr/bin/env bash
# test_reload_keys: which children a SIGHUP restarts comes from the key
# table's roles (core/config_keys.c). supervisor.shutdown_timeout_ms is read by
# the HTTP process (it drains in half of it): a reload that changes it
# restarts the HTTP children, and them only (issue 13, where the hand-written
# fingerprint left them on the old value). A change only the relay reads
# restarts the relay and leaves the HTTP children alone.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/sup_lib.sh"
t_init reload_keys

# A free loopback port below the ephemeral range (the stack's own port may
# be in use by another test's HTTP process).
free_port() {
	local lo hi p i
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % (lo - 20000)))
		if python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))' "$p" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

PORT=$(free_port) || t_fail "no free port"
sed -i -E "s|^(  listen = ).*|\\1\"127.0.0.1:$PORT\";|" "$T_CONF"
grep -qF "\"127.0.0.1:$PORT\"" "$T_CONF" || t_fail "could not set http.listen in $T_CONF"
# One domain worker is enough to see that a domain is left alone.
for d in order inventory payment shipping notification; do s_conf_workers "$d" 0; done
grep -q '^  shutdown_timeout_ms = 30000;' "$T_CONF" || t_fail "no shutdown_timeout_ms in $T_CONF"

# The table prints itself; the row that used to be missed names http.
"$BIN/orderflowd" --dump-keys | grep -qxP 'supervisor\.shutdown_timeout_ms\tinteger\t30000\t>= 1\tsupervisor,http' ||
	t_fail "orderflowd --dump-keys lists supervisor.shutdown_timeout_ms as read by http"
t_pass "orderflowd --dump-keys: supervisor.shutdown_timeout_ms is read by the supervisor and http"

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null
s_start
t_wait_for 60 s_notified "READY=1"
t_wait_for 30 'curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null'

# pid_of TITLE: the one child of the supervisor with that title.
pid_of() { pgrep -f -P "$SUP_PID" "^orderflowd: $1\s*$"; }
# reload N: SIGHUP, then wait for the Nth READY=1 (the reload applied).
reload() {
	kill -HUP "$SUP_PID"
	t_wait_for 30 s_notified "READY=1" "$1"
	grep -q "reload: configuration applied" "$T_DIR/orderflowd.log" || t_fail "reload not applied"
}
# a_new_pid TITLE OLD: one child with TITLE runs (the old one, draining,
# has gone) and its pid is not OLD.
a_new_pid() { local p; p=$(pid_of "$1") && [[ $p =~ ^[0-9]+$ ]] && [ "$p" != "$2" ]; }

http=$(pid_of http)
relay=$(pid_of relay)
audit=$(pid_of "audit worker")
[ -n "$http" ] && [ -n "$relay" ] && [ -n "$audit" ] || t_fail "http, relay and audit children up"
echo "# before: http $http, relay $relay, audit $audit"

sed -i -E 's/^(  shutdown_timeout_ms = )30000;/\112000;/' "$T_CONF"
reload 2
t_wait_for 40 a_new_pid http "$http"
grep -q "reload: settings of http changed; restarting its children" "$T_DIR/orderflowd.log" ||
	t_fail "the restart of http is logged"
t_wait_for 30 'curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null'
t_assert_eq "$relay $audit" "$(pid_of relay) $(pid_of "audit worker")" \
	"the relay and the audit worker keep running"
grep -q "settings of \(relay\|audit\) changed" "$T_DIR/orderflowd.log" &&
	t_fail "only http was restarted"
t_pass "HUP with supervisor.shutdown_timeout_ms 30000 -> 12000: the http child is replaced ($http -> $(pid_of http))"

http=$(pid_of http)
python3 - "$T_CONF" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text, n = re.subn(r"^relay = \{\n", "relay = {\n  batch_size = 77;\n", text, flags=re.M)
assert n == 1, "no relay section"
open(path, "w").write(text)
PY
reload 3
t_wait_for 40 a_new_pid relay "$relay"
t_assert_eq "$http $audit" "$(pid_of http) $(pid_of "audit worker")" \
	"the http child and the audit worker keep running"
t_pass "HUP with relay.batch_size = 77: the relay is replaced, the http child is not"

kill -TERM "$SUP_PID"
t_wait_for 40 sh -c "! kill -0 $SUP_PID 2>/dev/null"
t_pass "TERM: a clean stop"
