#!/usr/bin/env bash
# TLS to the broker: the stack's amqps listener (scripts/stack up, CA in
# var/stack/tls/ca.pem). With the right CA a probe worker and publisher carry
# events end to end over amqps; with a CA this test makes (another key) the
# connection is refused with an error naming the URL and the failed check and
# nothing is processed; a host name the certificate does not hold, plain amqp
# to the TLS port and amqps to the plain port fail cleanly too.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/integration/probe_lib.sh"
t_init tls

[ -n "${ORDERFLOW_AMQPS_PORT:-}" ] && [ -s "${ORDERFLOW_TLS_CA_FILE:-}" ] ||
	t_fail "var/stack/env has no ORDERFLOW_AMQPS_PORT / ORDERFLOW_TLS_CA_FILE: run scripts/stack up"
v=$(t_urlencode "$T_VHOST")
creds=${ORDERFLOW_MGMT_USER}:${ORDERFLOW_MGMT_PASSWORD}
tls_url="amqps://$creds@localhost:$ORDERFLOW_AMQPS_PORT/$v"

# conf_with FILE URL [CA_FILE]: $T_CONF with broker.url URL (and ca_file).
conf_with() {
	(umask 077 && sed -E "s|^  url = .*|  url = \"$2\";${3:+\\n  ca_file = \"$3\";}|" "$T_CONF" >"$1")
	grep -qF "\"$2\"" "$1" || t_fail "could not write $1"
}
conf_with "$T_DIR/tls.conf" "$tls_url" "$ORDERFLOW_TLS_CA_FILE"

# A CA of our own: a different key, so it cannot verify the stack's server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T_DIR/wrong-ca.key" -out "$T_DIR/wrong-ca.pem" -days 1 \
	-subj "/CN=orderflow local stack CA" >"$T_DIR/openssl.log" 2>&1 ||
	t_fail "openssl could not make the test's CA (see $T_DIR/openssl.log)"
conf_with "$T_DIR/wrong-ca.conf" "$tls_url" "$T_DIR/wrong-ca.pem"

"$BIN/orderflowctl" -c "$T_CONF" db migrate >/dev/null

# (a) the right CA: worker and publisher over amqps, 50 events, 50 effects.
T_CONF_PLAIN=$T_CONF
T_CONF=$T_DIR/tls.conf
p_worker probe
worker=$T_LAST_PID
t_wait_for 30 p_wait_declared orderflow.probe
for i in $(seq 1 50); do p_event ok; done >"$T_DIR/batch1"
t_assert_eq 50 "$(p_publish <"$T_DIR/batch1")" "50 events published over amqps with confirms"
t_wait_for 60 'test "$(p_effects)" = 50'
t_wait_for 30 p_queue_empty orderflow.probe
# The worker's connections on the test vhost are TLS ones, to the amqps port.
conns() {
	t_mgmt GET "/api/vhosts/$v/connections?columns=name,ssl,port,client_properties" |
		python3 -c 'import json, sys
for c in json.load(sys.stdin):
    name = c.get("client_properties", {}).get("connection_name", "")
    print(name, c.get("ssl"), c.get("port"))'
}
t_wait_for 20 'conns | grep -q "^orderflow probe $worker True $ORDERFLOW_AMQPS_PORT$"'
conns | grep -q ' False ' && t_fail "a connection of the test vhost is not TLS: $(conns | tr '\n' ';')"
t_pass "right CA: 50 of 50 events processed over amqps (connections: $(conns | wc -l), all TLS)"

kill -TERM -- "-$worker"
wait "$worker" || true

# (b) the wrong CA: refused, with the URL (password hidden) and the reason.
T_CONF=$T_DIR/wrong-ca.conf
redacted="amqps://$ORDERFLOW_MGMT_USER:***@localhost:$ORDERFLOW_AMQPS_PORT/$v"
for i in $(seq 1 5); do p_event ok; done >"$T_DIR/batch2"
if timeout 60 "$BIN/tests/of-probe" publish -c "$T_CONF" <"$T_DIR/batch2" >"$T_DIR/wrong-ca.log" 2>&1; then
	t_fail "publishing with the wrong CA succeeded"
fi
grep -qF "$redacted: connect to localhost:$ORDERFLOW_AMQPS_PORT over TLS: SSL peer cert verification failed" \
	"$T_DIR/wrong-ca.log" || t_fail "wrong CA: unexpected error: $(cat "$T_DIR/wrong-ca.log")"
grep -qF "wrong-ca.pem" "$T_DIR/wrong-ca.log" || t_fail "wrong CA: the error does not name the CA file"
grep -qF "$ORDERFLOW_MGMT_PASSWORD" "$T_DIR/wrong-ca.log" && t_fail "wrong CA: the error shows the password"
t_pass "wrong CA: refused: $(grep -o 'connect to localhost.*' "$T_DIR/wrong-ca.log")"

# A worker with the wrong CA processes nothing of what waits in its queue.
T_CONF=$T_CONF_PLAIN
t_assert_eq 5 "$(p_publish <"$T_DIR/batch2")" "5 events published over plain amqp"
T_CONF=$T_DIR/wrong-ca.conf
p_worker probe
t_wait_for 30 'grep -q "SSL peer cert verification failed" "$T_DIR/worker-probe.log"'
sleep 3
t_assert_eq 50 "$(p_effects)" "wrong CA: no event processed"
t_wait_for 20 'test "$(t_queue_depth orderflow.probe)" = 5'
conns | grep -q . && t_fail "wrong CA: a connection was opened: $(conns | tr '\n' ';')"
t_pass "wrong CA: the worker keeps retrying, 5 events wait in orderflow.probe"

# (c) a host name the certificate does not hold; plain amqp to the TLS port;
# amqps to the plain port. Each fails, promptly, naming the URL.
T_CONF=$T_CONF_PLAIN
try() { # NAME URL EXPECTED
	conf_with "$T_DIR/$1.conf" "$2" "$ORDERFLOW_TLS_CA_FILE"
	if timeout 60 "$BIN/tests/of-probe" publish -c "$T_DIR/$1.conf" </dev/null >"$T_DIR/$1.log" 2>&1; then
		t_fail "$1: connecting succeeded"
	fi
	grep -qF "$3" "$T_DIR/$1.log" || t_fail "$1: expected '$3' in: $(cat "$T_DIR/$1.log")"
	t_pass "$1 refused: $(grep -o 'every URL failed: .*' "$T_DIR/$1.log")"
}
try hostname "amqps://$creds@127.0.0.1:$ORDERFLOW_AMQPS_PORT/$v" \
	"amqps://$ORDERFLOW_MGMT_USER:***@127.0.0.1:$ORDERFLOW_AMQPS_PORT/$v: connect to 127.0.0.1:$ORDERFLOW_AMQPS_PORT over TLS: SSL hostname verification failed"
try plain-to-tls "amqp://$creds@127.0.0.1:$ORDERFLOW_AMQPS_PORT/$v" \
	"amqp://$ORDERFLOW_MGMT_USER:***@127.0.0.1:$ORDERFLOW_AMQPS_PORT/$v: "
try tls-to-plain "amqps://$creds@localhost:$ORDERFLOW_AMQP_PORT/$v" \
	"amqps://$ORDERFLOW_MGMT_USER:***@localhost:$ORDERFLOW_AMQP_PORT/$v: connect to localhost:$ORDERFLOW_AMQP_PORT over TLS: "
t_assert_eq 50 "$(p_effects)" "still 50 effects"
t_pass "amqps with CA verification: right CA works end to end, wrong CA and wrong host refused"
