# Helpers for the supervisor tests: run orderflowd under a notify socket.
# Source after tests/lib.sh and t_init.

# s_conf_workers DOMAIN N: sets domains.DOMAIN.workers in $T_CONF.
s_conf_workers() {
	sed -i -E "s/^(  $1 = \{ workers = )[0-9]+;/\1$2;/" "$T_CONF"
}
# s_conf_role ROLE N: relay or http workers.
s_conf_role() {
	python3 - "$T_CONF" "$1" "$2" <<'PY'
import re, sys
path, role, n = sys.argv[1:]
text = open(path).read()
# The role's group runs from "ROLE = {" to the next "};": set workers there.
m = re.search(r"^%s = \{\n(.*?)^\};" % role, text, re.S | re.M)
body = re.sub(r"^  workers = \d+;", "  workers = %s;" % n, m.group(1), flags=re.M)
text = text[:m.start(1)] + body + text[m.end(1):]
open(path, "w").write(text)
PY
}

# s_start [ENV=VALUE ...]: starts orderflowd with NOTIFY_SOCKET; sets SUP_PID.
s_start() {
	if [ -z "${S_NOTIFY_STARTED:-}" ]; then
		t_bg notify python3 "$ORDERFLOW_SOURCE_DIR/tests/system/notify_listener.py" \
			"$T_DIR/notify.sock" "$T_DIR/notify.log"
		t_wait_for 10 test -S "$T_DIR/notify.sock"
		S_NOTIFY_STARTED=1
	fi
	t_bg orderflowd env NOTIFY_SOCKET="$T_DIR/notify.sock" "$@" \
		"$BIN/orderflowd" -c "$T_CONF"
	SUP_PID=$T_LAST_PID
}

# s_notified TEXT [N]: the notify log has at least N (default 1) lines with TEXT.
s_notified() { [ "$(grep -c -- "$1" "$T_DIR/notify.log" 2>/dev/null || true)" -ge "${2:-1}" ]; }

# s_count TITLE: processes whose title is exactly TITLE, children of SUP_PID.
s_count() { pgrep -f -P "$SUP_PID" "^$1\s*$" | wc -l; }
