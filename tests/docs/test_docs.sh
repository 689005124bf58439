#!/usr/bin/env bash
# The operator's documentation cannot drift from the code:
#  - every key of etc/orderflow.conf (the example documents them all) is in
#    orderflow.conf(5), by its full name (domains.NAME.KEY for the keys every
#    domain knows);
#  - every orderflowctl command (from the usage lines of tools/) is in
#    orderflowctl(8) and in the bash completion;
#  - every metric /metrics renders is in docs/metrics.md, and every orderflow_*
#    name the alert rules and the dashboard use is documented there;
#  - the built pages render with no groff warning, and the completion
#    completes `orderflowctl par` to `parked`.
set -uo pipefail
# all_in runs at the end of pipelines: in this shell, so its `fail=1` counts.
shopt -s lastpipe
src=$ORDERFLOW_SOURCE_DIR
build=${ORDERFLOW_BUILD_DIR:-}
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

# all_in WHAT FILE: every name on stdin (one a line) must be in FILE.
all_in() {
	local what=$1 file=$2 name missing=()
	while read -r name; do
		grep -qF -- "$name" "$file" || missing+=("$name")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		ok "$what: all in ${file#"$src"/}"
	else
		notok "$what missing from ${file#"$src"/}: ${missing[*]}"
	fi
}

# Keys of the example config, with their section path. Commented-out keys
# count too (# socket = ...), and the commented block before `domains = {`
# lists the keys every domain knows.
config_keys() {
	python3 - "$src/etc/orderflow.conf" <<'PY'
import re, sys
common = {"workers", "prefetch", "crash_limit", "database"}
path, keys = [], []
for line in open(sys.argv[1]):
    m = re.match(r'\s*(#\s*)?([a-z_]+)\s*=\s*(\{)?', line)
    if m:
        commented, name, opens = m.group(1), m.group(2), m.group(3)
        if opens and not commented:
            path.append(name)
            continue
        if commented and not path:
            full = "domains.NAME." + name
        elif len(path) == 2 and path[0] == "domains" and name in common:
            full = "domains.NAME." + name
        else:
            full = ".".join(path + [name])
        if full not in keys:
            keys.append(full)
    elif re.match(r'\s*\};', line) and path:
        path.pop()
print("\n".join(keys))
PY
}
n=$(config_keys | wc -l)
[ "$n" -ge 40 ] || notok "only $n keys found in etc/orderflow.conf: the parser is broken"
config_keys | all_in "$n configuration keys" "$src/man/orderflow.conf.5.scd"

# "  orderflowctl GROUP SUB ..." and "  orderflowctl stats" in the usage strings.
ctl_commands() {
	grep -ho '"  orderflowctl [a-z]*\( [a-z]*\)\?' "$src"/tools/*.c | sed 's/^"  orderflowctl //; s/ *$//' | sort -u
}
n=$(ctl_commands | wc -l)
[ "$n" -ge 10 ] || notok "only $n orderflowctl commands found in tools/"
ctl_commands | sed 's/^/*/' | all_in "$n orderflowctl commands" "$src/man/orderflowctl.8.scd"
ctl_commands | tr ' ' '\n' | sort -u | all_in "orderflowctl words" "$src/contrib/bash-completion/orderflowctl"

# Metric names rendered by http_metrics.c (wherever the intake lives).
metrics_c=$(find "$src" -name http_metrics.c -not -path '*/tests/*' | head -1)
served() { grep -o '"orderflow_[a-z_]*"' "$metrics_c" | tr -d '"' | sort -u; }
n=$(served | wc -l)
[ "$n" -ge 5 ] || notok "only $n metrics found in $metrics_c"
served | sed 's/.*/`&`/' | all_in "$n served metrics" "$src/docs/metrics.md"
used() {
	grep -ho 'orderflow_[a-z_]*' "$src/contrib/prometheus/orderflow.rules.yml" \
		"$src/contrib/grafana/orderflow.json" |
		grep -v '^orderflow_[a-z]*_dead$' | sed 's/_bucket$//' | sort -u
}
used | sed 's/.*/`&`/' | all_in "metrics of the rules and the dashboard" "$src/docs/metrics.md"

if [ -n "$build" ] && [ -d "$build/man" ]; then
	for page in "$build"/man/*.[58]; do
		err=$(LANG=C MANWIDTH=80 man -l --warnings "$page" 2>&1 >/dev/null)
		[ -z "$err" ] && ok "man -l ${page##*/} renders without warnings" ||
			notok "man -l ${page##*/}: $err"
	done
else
	echo "# no built manual pages in ${build:-(no build dir)}/man: not rendered"
fi

if [ -f /usr/share/bash-completion/bash_completion ]; then
	got=$(bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"
		COMP_WORDS=(orderflowctl par); COMP_CWORD=1; COMP_LINE="orderflowctl par"
		COMP_POINT=${#COMP_LINE}; _orderflowctl orderflowctl par orderflowctl
		echo "${COMPREPLY[*]}"' _ "$src/contrib/bash-completion/orderflowctl" 2>&1)
	[ "$got" = parked ] && ok "completion: orderflowctl par -> parked" ||
		notok "completion: orderflowctl par -> '$got', expected 'parked'"
else
	echo "# bash-completion is not installed: completion not tried"
fi
exit $fail
