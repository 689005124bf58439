#!/usr/bin/env bash
# The whole saga with `order` and `inventory` each in a database of its own
# (domains.<name>.database): db migrate builds each database (its own inbox,
# outbox and schema_migrations), the relay publishes every database's outbox,
# `stock` acts on inventory's database, the intake (HTTP and order place)
# prices from inventory's catalogue, `stats` counts every outbox.
source "$ORDERFLOW_SOURCE_DIR/tests/lib.sh"
source "$ORDERFLOW_SOURCE_DIR/tests/system/saga_lib.sh"
sg_init saga_domain_dbs

ODB=${T_DB}_order
IDB=${T_DB}_inventory
# The operator creates the empty databases.
t__mysql -e "DROP DATABASE IF EXISTS \`$ODB\`; DROP DATABASE IF EXISTS \`$IDB\`;
	CREATE DATABASE \`$ODB\` CHARACTER SET utf8mb4; CREATE DATABASE \`$IDB\` CHARACTER SET utf8mb4" ||
	t_fail "could not create $ODB and $IDB"
trap 'rc=$?; [ $rc -ne 0 ] || t__mysql -e "DROP DATABASE IF EXISTS \`$ODB\`; DROP DATABASE IF EXISTS \`$IDB\`" || true; (exit $rc); t__exit' EXIT
sg_conf_domain order "workers = 1; database = \"$ODB\";"
sg_conf_domain inventory "workers = 1; database = \"$IDB\";"

q() { t__mysql -N -B "$1" -e "$2"; } # q DATABASE SQL

out=$(ctl db migrate) || t_fail "db migrate: $out"
for db in "$T_DB" "$ODB" "$IDB"; do
	grep -qx "applied [0-9]* migrations to $db" <<<"$out" || t_fail "db migrate did not migrate $db: $out"
	for t in schema_migrations inbox outbox; do
		[ "$(q "$db" "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$db' AND table_name = '$t'")" = 1 ] ||
			t_fail "$db has no $t"
	done
done
[ "$(q "$ODB" "SELECT COUNT(*) FROM schema_migrations")" = "$(q "$T_DB" "SELECT COUNT(*) FROM schema_migrations")" ] ||
	t_fail "$ODB has another schema version than $T_DB"
t_pass "db migrate builds database.name and both domain databases, each with inbox, outbox, schema_migrations"

sg_start
ctl stock set SKU-A 5 --price 1250 >/dev/null
ctl stock set SKU-B 100 --price 300 >/dev/null
[ "$(q "$IDB" "SELECT available FROM stock WHERE sku = 'SKU-A'")" = 5 ] || t_fail "stock set did not write inventory's database"
[ "$(q "$T_DB" "SELECT COUNT(*) FROM stock")" = 0 ] || t_fail "stock set wrote database.name"
ctl stock show | grep -q "SKU-B" || t_fail "stock show does not read inventory's database"
t_pass "stock set/show act on inventory's database"

ids=()
ids+=("$(sg_place c1 SKU-A:2 SKU-B:1)")
sg_api POST /api/orders -H 'Content-Type: application/json' \
	-d '{"customer_id": "c2", "items": [{"sku": "SKU-A", "quantity": 3}]}'
[ "$SG_CODE" = 201 ] || t_fail "POST /api/orders: $SG_CODE $SG_BODY"
ids+=("$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$SG_BODY")")
total=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["total_cents"])' "$SG_BODY")
t_assert_eq 3750 "$total" "the intake prices from inventory's catalogue (3 x 1250)"
rejected=$(sg_place c3 SKU-A:1) # SKU-A is used up: out of stock

status_in_odb() { q "$ODB" "SELECT status FROM orders WHERE id = '$1'"; }
for id in "${ids[@]}"; do
	t_wait_for 60 "[ \"\$(status_in_odb $id)\" = SHIPPED ]"
done
t_wait_for 60 "[ \"\$(status_in_odb $rejected)\" = CANCELLED ]"
t_pass "the saga runs: two orders SHIPPED, one out of stock CANCELLED, with order and inventory in their own databases"

t_assert_eq 0 "$(q "$IDB" "SELECT available FROM stock WHERE sku = 'SKU-A'")" "SKU-A: 5 - 2 - 3 = 0 available"
t_assert_eq 2 "$(q "$IDB" "SELECT COUNT(*) FROM reservations WHERE status = 'COMMITTED'")" "two reservations committed in inventory's database"
[ "$(q "$T_DB" "SELECT COUNT(*) FROM orders")" = 0 ] || t_fail "orders written to database.name"
t_wait_for 30 "[ \"\$(q $ODB 'SELECT COUNT(*) FROM outbox WHERE published_at IS NULL')\" = 0 ]"
t_wait_for 30 "[ \"\$(q $IDB 'SELECT COUNT(*) FROM outbox WHERE published_at IS NULL')\" = 0 ]"
[ "$(q "$ODB" "SELECT COUNT(*) FROM outbox")" -gt 0 ] && [ "$(q "$IDB" "SELECT COUNT(*) FROM outbox")" -gt 0 ] ||
	t_fail "the domain databases' outboxes were not used"
t_pass "every outbox is relayed: nothing unpublished in $ODB, $IDB"

pending=$(ctl --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["outbox"]["pending"])') ||
	t_fail "stats --json failed"
t_assert_eq 0 "$pending" "stats reads every database's outbox: 0 pending"
