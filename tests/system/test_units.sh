#!/usr/bin/env bash
# The systemd units are accepted by systemd-analyze verify, and the service's
# exposure (systemd-analyze security) is 2.0 or better.
set -euo pipefail
src=$ORDERFLOW_SOURCE_DIR
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# verify checks that ExecStart= programs exist: point them at this build.
for u in orderflow.service orderflow-migrate.service; do
	sed -e "s|/usr/sbin/orderflowd|$ORDERFLOW_BUILD_DIR/orderflowd|g" \
	    -e "s|/usr/bin/orderflowctl|$ORDERFLOW_BUILD_DIR/orderflowctl|g" \
	    "$src/systemd/$u" > "$dir/$u"
done
# verify also runs man(1) on each Documentation=man: page: the built ones.
mkdir -p "$dir/man/man5" "$dir/man/man8"
for page in "$ORDERFLOW_BUILD_DIR"/man/*.[58]; do
	[ -e "$page" ] && ln -s "$page" "$dir/man/man${page##*.}/"
done
if ! out=$(MANPATH=$dir/man systemd-analyze verify "$dir/orderflow.service" \
	"$dir/orderflow-migrate.service" 2>&1); then
	echo "not ok - systemd-analyze verify: $out"; exit 1
fi
echo "ok - systemd-analyze verify accepts both units, their manual pages included"
line=$(systemd-analyze security --offline=true "$src/systemd/orderflow.service" 2>&1 | grep "Overall exposure level")
score=$(echo "$line" | sed -E 's/.*: ([0-9.]+) .*/\1/')
echo "# $line"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)" "$score" ||
	{ echo "not ok - exposure $score > 2.0"; exit 1; }
echo "ok - exposure $score <= 2.0"

# `systemctl reload` runs the ExecReload= lines in order and fails at the
# first that fails. Run them the same way (with this build's binaries and a
# stand-in main process) on a valid and on an invalid file: the valid one
# signals the main process, the invalid one fails before any signal is sent.
mapfile -t reload < <(sed -n -e 's/^ExecReload=//p' "$src/systemd/orderflow.service")
[ "${#reload[@]}" -ge 2 ] || { echo "not ok - ExecReload= should test the file, then signal"; exit 1; }
case ${reload[0]} in
*"orderflowd -t -c /etc/orderflow/orderflow.conf") ;;
*) echo "not ok - the first ExecReload= should be orderflowd -t, is: ${reload[0]}"; exit 1 ;;
esac
run_reload() { # CONFIG: runs the ExecReload= lines against CONFIG, MAINPID = a sleeper
	local conf=$1 line cmd
	for line in "${reload[@]}"; do
		cmd=${line//\/etc\/orderflow\/orderflow.conf/$conf}
		cmd=${cmd//\/usr\/sbin\/orderflowd/$ORDERFLOW_BUILD_DIR/orderflowd}
		cmd=${cmd//\$MAINPID/$MAINPID}
		eval "$cmd" >>"$dir/reload.log" 2>&1 || return 1
	done
}
hup_count() { cat "$dir/hups" 2>/dev/null | wc -l; }
bash -c "trap 'echo hup >>$dir/hups' HUP; while :; do sleep 0.1; done" &
MAINPID=$!
trap 'kill $MAINPID 2>/dev/null; rm -rf "$dir"' EXIT
sleep 0.3
run_reload "$src/tests/configs/valid_minimal.conf" ||
	{ echo "not ok - reload with a valid file failed: $(cat "$dir/reload.log")"; exit 1; }
for _ in $(seq 50); do [ "$(hup_count)" -ge 1 ] && break; sleep 0.1; done
[ "$(hup_count)" -eq 1 ] || { echo "not ok - a valid reload sent $(hup_count) SIGHUP, not 1"; exit 1; }
echo "ok - systemctl reload with a valid file: orderflowd -t passes, then SIGHUP"
if run_reload "$src/tests/configs/err_syntax.conf"; then
	echo "not ok - reload with an invalid file succeeded"; exit 1
fi
sleep 0.3
[ "$(hup_count)" -eq 1 ] || { echo "not ok - an invalid reload still sent SIGHUP"; exit 1; }
grep -q "err_syntax.conf:" "$dir/reload.log" ||
	{ echo "not ok - the refused reload does not say why: $(cat "$dir/reload.log")"; exit 1; }
echo "ok - systemctl reload with an invalid file fails, and no SIGHUP is sent"

# An upgrade is a restart: the database is migrated before orderflowd starts.
grep -q '^ExecStartPre=/usr/bin/orderflowctl -c /etc/orderflow/orderflow.conf db migrate$' \
	"$src/systemd/orderflow.service" ||
	{ echo "not ok - orderflow.service does not migrate before it starts"; exit 1; }
echo "ok - orderflow.service migrates (ExecStartPre=) before the new binary serves"

# orderflowd -t warns about the settings that cannot change on a live system
# and says what to do.
out=$("$ORDERFLOW_BUILD_DIR/orderflowd" -t -c "$src/tests/configs/valid_minimal.conf" 2>&1) ||
	{ echo "not ok - orderflowd -t refused valid_minimal.conf: $out"; exit 1; }
grep -q "warning: broker.queue_type .*cannot change on a live system.*delete the orderflow.\* queues" <<<"$out" &&
	grep -q "warning: broker.delivery_limit .*set broker.management_url" <<<"$out" &&
	grep -q "configuration is valid" <<<"$out" ||
	{ echo "not ok - orderflowd -t does not warn about queue_type and delivery_limit: $out"; exit 1; }
echo "ok - orderflowd -t warns about broker.queue_type and a delivery_limit without management_url, and says what to do"
