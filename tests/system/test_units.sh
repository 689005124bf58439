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
