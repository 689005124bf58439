#!/usr/bin/env bash
# db/ against the local stack's MariaDB, in a database of its own:
# tests/integration/tool_dbcheck.c does the work and prints one line per
# check (migrations twice and two at once, a failing migration's message, the
# session settings, inbox duplicates, transactions and savepoints, parameters
# and text results, SQL metacharacters and non-ASCII text, outbox claim with
# SKIP LOCKED over two connections, mark, prune, lag, the relay's index, a
# 200 KiB body, a KILLed connection and an idle timeout, then reconnect).
set -euo pipefail
: "${ORDERFLOW_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
t_init dbcheck

TOOL=$BIN/tests/of-dbcheck
[ -x "$TOOL" ] || t_fail "no $TOOL: build the of-dbcheck target first"
if "$TOOL" -c "$T_CONF" 2>"$T_DIR/dbcheck.log"; then
	t_pass "db/ against MariaDB/MySQL: every of-dbcheck check passed"
else
	t_fail "of-dbcheck: a check failed (above; its log is $T_DIR/dbcheck.log)"
fi
