#!/usr/bin/env bash
# The local stack and tests/lib.sh themselves: `scripts/stack up` on a running
# stack is harmless and keeps its ports; rabbitmqadmin and mysql work with the
# generated files; the orderflow database user has its own schemas only; the
# stack's config is valid; publish, queue depth and get of lib.sh round-trip
# in the test's vhost; t_bg runs a command in a process group of its own.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
t_init stack
cd "$ORDERFLOW_SOURCE_DIR"

# A second up: exit 0, same ports, same passwords.
before=$(cat var/stack/ports var/stack/secrets)
scripts/stack up 2>"$T_DIR/up.log" || t_fail "scripts/stack up on a running stack failed: $(cat "$T_DIR/up.log")"
t_assert_eq "$before" "$(cat var/stack/ports var/stack/secrets)" "a second scripts/stack up keeps ports and passwords"
scripts/stack status >"$T_DIR/status.log" || t_fail "scripts/stack status: $(cat "$T_DIR/status.log")"
t_pass "scripts/stack status exits 0 with both servers up"
t_assert_eq 600 "$(stat -c %a var/stack/orderflow.conf)" "orderflow.conf is mode 600"

# rabbitmqadmin with the generated file; also through $RABBITMQADMIN.
rabbitmqadmin -c var/stack/rabbitmqadmin.conf -f tsv -q list vhosts name >"$T_DIR/vhosts" ||
	t_fail "rabbitmqadmin -c var/stack/rabbitmqadmin.conf list vhosts failed"
grep -qx / "$T_DIR/vhosts" || t_fail "rabbitmqadmin list vhosts does not list /: $(cat "$T_DIR/vhosts")"
grep -qx "$T_VHOST" "$T_DIR/vhosts" || t_fail "rabbitmqadmin list vhosts does not list $T_VHOST"
$RABBITMQADMIN -f tsv -q list users name | grep -qx orderflow || t_fail "\$RABBITMQADMIN list users"
if $RABBITMQADMIN -f tsv -q list users name | grep -qx guest; then t_fail "the guest user exists"; fi
t_pass "rabbitmqadmin -c var/stack/rabbitmqadmin.conf lists / and the test vhost; no guest"

# mysql with the generated file, as the orderflow user.
t_assert_eq 1 "$(mysql --defaults-file=var/stack/my.cnf -N -B -e 'select 1')" "mysql --defaults-file=var/stack/my.cnf works"
user=$(mysql --defaults-file=var/stack/my.cnf -N -B -e 'select current_user()')
case $user in orderflow@*) ;; *) t_fail "mysql connects as $user, not orderflow" ;; esac
t_pass "mysql connects as $user"
mysql --defaults-file=var/stack/my.cnf -N -B orderflow -e 'select 1' >/dev/null || t_fail "no access to database orderflow"

# Privileges on orderflow and orderflow_% only.
if mysql --defaults-file=var/stack/my.cnf -e 'CREATE DATABASE other_db' 2>"$T_DIR/other_db.err"; then
	mysql --defaults-file=var/stack/my.cnf -e 'DROP DATABASE other_db' || true
	t_fail "the orderflow user could create database other_db"
fi
grep -q 'Access denied' "$T_DIR/other_db.err" || t_fail "CREATE DATABASE other_db failed otherwise: $(cat "$T_DIR/other_db.err")"
t_pass "the orderflow user cannot create database other_db"
if mysql --defaults-file=var/stack/my.cnf -N -B -e 'SHOW DATABASES' | grep -qx mysql; then
	t_fail "the orderflow user sees the mysql schema"
fi

# t_sql in the test database, in utf8mb4.
t_sql "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20)); INSERT INTO t VALUES (1, 'ünïcødé ✓')"
t_assert_eq "ünïcødé ✓" "$(t_sql 'SELECT s FROM t WHERE id = 1')" "t_sql round-trips utf8mb4 in $T_DB"
t_assert_eq utf8mb4 "$(t_sql "SELECT default_character_set_name FROM information_schema.schemata WHERE schema_name = '$T_DB'")" \
	"the test database is utf8mb4"

# The generated configs are valid for orderflowd (when it is built).
if [ -x "$BIN/orderflowd" ]; then
	"$BIN/orderflowd" -t -c "$ORDERFLOW_CONF" >"$T_DIR/t.log" 2>&1 || t_fail "orderflowd -t -c var/stack/orderflow.conf: $(cat "$T_DIR/t.log")"
	"$BIN/orderflowd" -t -c "$T_CONF" >"$T_DIR/t.log" 2>&1 || t_fail "orderflowd -t -c \$T_CONF: $(cat "$T_DIR/t.log")"
	t_pass "orderflowd -t accepts var/stack/orderflow.conf and the test's copy"
fi
grep -q "^  url = \"amqp://orderflow:.*@127.0.0.1:$ORDERFLOW_AMQP_PORT/$T_VHOST\";\$" "$T_CONF" ||
	t_fail "T_CONF's url does not point at vhost $T_VHOST"
grep -q "^  name = \"$T_DB\";\$" "$T_CONF" || t_fail "T_CONF's database name is not $T_DB"

# Management API helpers: a topic exchange and a quorum queue in the vhost,
# an envelope published, counted and read back.
v=$(t_urlencode "$T_VHOST")
t_mgmt PUT "/api/exchanges/$v/orderflow.events" '{"type":"topic","durable":true}' >/dev/null
t_mgmt PUT "/api/queues/$v/t.q" '{"durable":true,"arguments":{"x-queue-type":"quorum"}}' >/dev/null
t_mgmt POST "/api/bindings/$v/e/orderflow.events/q/t.q" '{"routing_key":"test.#"}' >/dev/null
ev=$(t_envelope test.created "agg-1" '{"n":1}')
id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["event_id"])' "$ev")
python3 - "$ev" <<'PY' || t_fail "t_envelope: not a valid envelope: $ev"
import json, re, sys
e = json.loads(sys.argv[1])
assert set(e) == {"event_id", "event_type", "schema_version", "aggregate_type", "aggregate_id",
                  "correlation_id", "causation_id", "occurred_at", "payload"}, e
assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", e["event_id"])
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["occurred_at"])
assert e["payload"] == {"n": 1} and e["schema_version"] == 1
PY
t_publish test.created "$ev" amq.default 2>/dev/null && t_fail "t_publish to the default exchange with no such queue reported routed"
t_publish test.created "$ev" "" '{"orderflow-attempt":2}'
t_wait_for 20 'test "$(t_queue_depth t.q)" = 1'
t_pass "t_publish routed an envelope; t_queue_depth sees it"
msg=$(t_get_messages t.q 5)
python3 - "$msg" "$id" <<'PY' || t_fail "t_get_messages: $msg"
import json, sys
msgs = json.loads(sys.argv[1])
assert len(msgs) == 1, msgs
p = msgs[0]["properties"]
assert p["message_id"] == sys.argv[2], p
assert p["type"] == "test.created" and p["delivery_mode"] == 2, p
assert p["content_type"] == "application/json" and p["headers"]["orderflow-attempt"] == 2, p
assert json.loads(msgs[0]["payload"])["event_id"] == sys.argv[2]
PY
t_pass "t_get_messages returns the message with its properties and headers"

# t_bg: own process group, pid in T_LAST_PID, output in $T_DIR/NAME.log.
t_bg sleeper sh -c 'echo started; exec sleep 300'
t_wait_for 5 grep -q started "$T_DIR/sleeper.log"
t_assert_eq "$T_LAST_PID" "$(ps -o pgid= -p "$T_LAST_PID" | tr -d ' ')" "t_bg runs its command in a process group of its own"

# t_wait_for: a false condition fails (in a subshell, so this test goes on).
if (T_DIR=$T_DIR/sub && mkdir -p "$T_DIR" && t_wait_for 1 false) 2>/dev/null; then
	t_fail "t_wait_for 1 false succeeded"
fi
t_pass "t_wait_for gives up after its timeout"
t_pass "the local stack and tests/lib.sh work"
