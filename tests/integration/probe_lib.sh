# Helpers for the delivery-protocol tests that run the test-only probe domain
# (tests/integration/tool_probe.c). Source after tests/lib.sh and t_init.

# p_conf_set KEY VALUE: replaces the line "  KEY = ...;" of $T_CONF, or adds it
# to the group named by p_conf_group (default broker) when it is not there.
p_conf_set() {
	local key=$1 value=$2 group=${3:-broker}
	if grep -qE "^  $key = " "$T_CONF"; then
		sed -i -E "s|^  $key = .*|  $key = $value;|" "$T_CONF"
	else
		sed -i -E "s|^$group = \{|$group = {\n  $key = $value;|" "$T_CONF"
	fi
}

# p_worker NAME [ENV=VALUE ...]: starts a probe worker for domain NAME.
p_worker() {
	local name=$1; shift
	t_bg "worker-$name" env "$@" "$BIN/tests/of-probe" worker -c "$T_CONF" --name "$name"
}

# p_publish [--rk KEY] < lines: publishes one body per line with confirms.
p_publish() {
	"$BIN/tests/of-probe" publish -c "$T_CONF" "$@"
}

# p_event ACTION [EXTRA_JSON_MEMBERS] [EVENT_ID]: a probe envelope.
p_event() {
	local action=$1 extra=${2:-} id=${3:-}
	local payload="{\"action\":\"$action\"${extra:+,$extra}}"
	t_envelope probe.test "agg-$RANDOM" "$payload" "$id"
}

p_effects() { t_sql "SELECT COUNT(*) FROM probe_effects ${1:-}"; }

# p_queue_empty QUEUE: ready and unacknowledged are both zero.
p_queue_empty() { [ "$(t_queue_depth "$1")" = 0 ]; }

# p_wait_queue QUEUE: the worker declared the queue (it is serving).
p_wait_declared() { t_mgmt GET "/api/queues/$(p_vhost)/$1" >/dev/null 2>&1; }
p_vhost() { python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$T_VHOST"; }
