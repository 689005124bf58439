#!/usr/bin/env bash
# chaos_place.sh: the order stream of test_chaos.sh. Places orders steadily
# until STOP_FILE exists, with a mix of outcomes, and writes one line per
# attempt to OUT_FILE:
#   placed http|ctl ID KIND      an order was created (KIND: ok, rare, declined,
#                                big, cancel)
#   cancel ID CODE               POST /api/orders/ID/cancel answered CODE
#   failed http|ctl KIND REASON  no order came of it (ctl: see below)
#
#   chaos_place.sh SEED STOP_FILE OUT_FILE
#
# Environment (from test_chaos.sh): BIN, T_CONF, SG_HTTP, SG_TOKEN.
#
# Over HTTP every order carries an Idempotency-Key, and a request that got no
# definite answer (refused connection while orderflowd restarts, 503 while
# the database restarts, a timeout) is sent again with the same key until it
# does: an order is never lost or doubled by the stream itself, whatever the
# chaos does. orderflowctl has no such key, so a failed `order place` is not
# retried (it may or may not have committed); the test counts orders from the
# database, not from this file.
#
# Every orderflowctl's stderr is kept in OUT_FILE.ctl.err (the test scans
# every file it wrote for sanitizer reports). Exit status: 0 when every HTTP
# order got its 201 and every cancel a definite answer, 1 when one did not
# (refused, or no definite answer in 180 s: "gave up"), with a last line
# that says how many.
set -euo pipefail

usage() { echo "usage: chaos_place.sh SEED STOP_FILE OUT_FILE (env: BIN T_CONF SG_HTTP SG_TOKEN)"; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 3 ] || { usage >&2; exit 2; }
SEED=$1 STOP=$2 OUT=$3
: "${BIN:?}" "${T_CONF:?}" "${SG_HTTP:?}" "${SG_TOKEN:?}"
RANDOM=$SEED

BODY_FILE=$OUT.body
CTL_ERR=$OUT.ctl.err
: >"$CTL_ERR"

# post KEY JSON: POST /api/orders until a definite answer; prints "CODE BODY".
# Gives up after 180 s (the chaos never keeps the intake away that long).
post() {
	local key=$1 json=$2 code deadline=$((SECONDS + 180))
	while :; do
		code=$(curl -s -o "$BODY_FILE" -w '%{http_code}' --max-time 20 -X POST \
			-H "Authorization: Bearer $SG_TOKEN" -H 'Content-Type: application/json' \
			-H "Idempotency-Key: $key" --data "$json" "$SG_HTTP/api/orders") || code=000
		case $code in
		000 | 500 | 502 | 503 | 504) ;;
		*) echo "$code $(tr -d '\n' <"$BODY_FILE")"; return 0 ;;
		esac
		[ $SECONDS -lt $deadline ] || { echo "$code gave up after 180 s"; return 0; }
		sleep 0.5
	done
}

# cancel ID: POST /api/orders/ID/cancel until a definite answer (a cancel is
# idempotent: cancelling a cancelled order is 200 and changes nothing).
cancel() {
	local code deadline=$((SECONDS + 180))
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST \
			-H "Authorization: Bearer $SG_TOKEN" "$SG_HTTP/api/orders/$1/cancel") || code=000
		case $code in
		000 | 500 | 502 | 503 | 504) ;;
		*) break ;;
		esac
		[ $SECONDS -lt $deadline ] || { http_failed=$((http_failed + 1)); break; }
		sleep 0.5
	done
	echo "cancel $1 $code" >>"$OUT"
}

placed=()
n=0
http_failed=0
while [ ! -e "$STOP" ]; do
	n=$((n + 1))
	# The mix: SKU-A is plentiful, SKU-RARE runs out (stock.rejected) and
	# comes back when orders holding it are cancelled; c-declined and totals
	# over decline_over_cents are refused by payment; some orders are
	# cancelled by the customer, right away or later on.
	r=$((RANDOM % 100))
	cust=c-$((RANDOM % 20))
	if [ $r -lt 45 ]; then
		kind=ok items="SKU-A:$((1 + RANDOM % 3))"
	elif [ $r -lt 65 ]; then
		kind=rare items="SKU-RARE:$((1 + RANDOM % 2)) SKU-A:1"
	elif [ $r -lt 77 ]; then
		kind=declined cust=c-declined items="SKU-A:1"
		[ $((RANDOM % 2)) = 0 ] && items="SKU-RARE:1"
	elif [ $r -lt 85 ]; then
		kind=big items="SKU-BIG:2"
	else
		kind=cancel items="SKU-A:1 SKU-RARE:1"
	fi
	if [ $((n % 5)) -eq 0 ]; then
		args=()
		for it in $items; do args+=(--item "$it"); done
		if id=$("$BIN/orderflowctl" -c "$T_CONF" order place --customer "$cust" "${args[@]}" 2>"$BODY_FILE" | head -n 1) &&
			[[ $id =~ ^[0-9a-f-]{36}$ ]]; then
			echo "placed ctl $id $kind" >>"$OUT"
			placed+=("$id")
		else
			echo "failed ctl $kind $(tr '\n' ' ' <"$BODY_FILE")" >>"$OUT"
			id=
		fi
		cat "$BODY_FILE" >>"$CTL_ERR"
	else
		json='{"customer_id": "'$cust'", "items": ['
		sep=
		for it in $items; do
			json+=$sep'{"sku": "'${it%%:*}'", "quantity": '${it##*:}'}'
			sep=', '
		done
		json+=']}'
		resp=$(post "chaos-$SEED-$n" "$json")
		if [[ $resp == 201\ * ]]; then
			[[ $resp =~ \"id\":\ *\"([0-9a-f-]{36})\" ]] || { echo "201 without an id: $resp" >&2; exit 1; }
			id=${BASH_REMATCH[1]}
			echo "placed http $id $kind" >>"$OUT"
			placed+=("$id")
		else
			echo "failed http $kind $resp" >>"$OUT"
			http_failed=$((http_failed + 1))
			id=
		fi
	fi
	if [ "$kind" = cancel ] && [ -n "$id" ]; then
		cancel "$id"
	elif [ $((RANDOM % 12)) -eq 0 ] && [ ${#placed[@]} -gt 0 ]; then
		# A late cancel: PENDING, CONFIRMED (refund, release) or SHIPPED (409).
		cancel "${placed[RANDOM % ${#placed[@]}]}"
	fi
	sleep 0.$((1 + RANDOM % 3))
done
if [ "$http_failed" -gt 0 ]; then
	echo "chaos_place: $http_failed HTTP requests of $n orders got no 201 or no definite answer (see 'failed http' and 'cancel ID 000|5xx' in $OUT)"
	exit 1
fi
echo "chaos_place: $n orders placed or tried, every HTTP order created"
