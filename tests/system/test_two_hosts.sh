#!/usr/bin/env bash
# test_two_hosts: two orderflowd against one broker and one database (the
# design's "several hosts"), the second with its own config file and
# http.listen; 300 orders through both intakes; the second killed with
# SIGKILL, its whole process group at once, midway. Every saga completes
# exactly once and the invariants hold (issue 15, item 4).
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/two_hosts_lib.sh"
sg_init two_hosts

th_start
th_run 300
t_pass "two_hosts: 300 orders through two orderflowd, one killed midway: every saga once ($((SECONDS - SG_T0)) s)"
