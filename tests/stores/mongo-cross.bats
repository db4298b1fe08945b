#!/usr/bin/env bats
# servers: mongo postgres
#
# Cross-store trips through MongoDB (FerretDB v1): a SQLite table and a
# PostgreSQL table holding every type each backend maps, to MongoDB and
# back into a table of the same store, compared with the store's own
# client (sqlite3, psql).  FerretDB v1 cannot store a Decimal128: records
# that hold one are rejected on the way in, with the reason, and the
# tests check that; on a real MongoDB they make the trip like the rest.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_MONGO_URL
	M="${MIG_MONGO_URL%/}/mig_cross_${BATS_TEST_NUMBER}_$$"
}

# Back out of MongoDB without the _id the server added, in source order.
NO_ID='[{"$project":{"_id":0}},{"$sort":{"id":1}}]'

@test "SQLite table with every type -> MongoDB -> SQLite: the same values" {
	sql src.db "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, big INTEGER, r REAL,
		whole REAL, b BOOLEAN, s TEXT, ts TIMESTAMP, bl BLOB, j JSON, o OBJECTID, n TEXT,
		dec DECIMAL(10,2));
		INSERT INTO t VALUES
		(1, 42, 9007199254740993, 1.5, 2.0, 1, 'é☆ \"q\"', '2024-05-01 10:00:00.123',
		 x'0001feff', '{\"a\":[1,2.5],\"b\":{\"c\":null}}', '58921b3e6e32ab156a22b59e', NULL, NULL),
		(2, -7, -1, -0.25, 0.0, 0, '', '1999-12-31T23:59:59Z', x'', '[1,\"x\"]', NULL, 'z', NULL),
		(3, 0, 0, 1e300, 3.0, NULL, 'x', NULL, NULL, NULL, NULL, NULL, '12.50');"
	mig-extract -q 'sqlite:src.db#t' >src.ndjson
	run --separate-stderr mig-load "$M#t" -i src.ndjson --reject rj.ndjson
	status_is 0
	# the types MongoDB holds
	for q in '{"big":{"$type":"long"}}' '{"i":{"$type":"int"}}' '{"whole":{"$type":"double"}}' \
		'{"b":{"$type":"bool"}}' '{"ts":{"$type":"date"}}' '{"bl":{"$type":"binData"}}' \
		'{"o":{"$type":"objectId"}}' '{"j.b":{"$type":"object"}}'; do
		[ "$(mig-extract -q --count --where "$q" "$M#t")" -ge 1 ] || fail "no document where $q"
	done
	if [ -s rj.ndjson ]; then
		# FerretDB v1: the record with a Decimal128 is refused
		load_summary 3 2 0 1
		jq_true rj.ndjson '.line == 3'
		grep -v '"id":3,' src.ndjson >want.ndjson
	else
		cp src.ndjson want.ndjson
	fi
	run --separate-stderr bash -c "set -o pipefail; mig-extract --query '$NO_ID' '$M#t' |
		mig-load 'sqlite:back.db#t' --create --key id"
	status_is 0
	mig-extract -q 'sqlite:back.db#t' >back.ndjson
	same_json back.ndjson want.ndjson
	# and by SQLite's own client, column by column
	[ "$(sql back.db 'SELECT typeof(big), big, quote(bl), ts FROM t WHERE id = 1')" = \
		"$(sql src.db "SELECT typeof(big), big, quote(bl), strftime('%Y-%m-%dT%H:%M:%fZ', ts) FROM t WHERE id = 1")" ] ||
		fail "SQLite sees other values: $(sql back.db 'SELECT * FROM t WHERE id = 1')"
}

@test "PostgreSQL table with every type -> MongoDB -> PostgreSQL: identical rows" {
	if [ -z "${MIG_PG_URL:-}" ]; then
		skip "no PostgreSQL test server (MIG_PG_URL)"
	fi
	mig-extract --version | grep -q '^libpq' || skip "this build has no PostgreSQL backend"
	local ddl="(id int PRIMARY KEY, s2 int2, s4 int4, s8 int8, f4 float4, f8 float8, b bool,
		t text, vc varchar(10), ts timestamptz, tsl timestamp, d date, by bytea, jb jsonb,
		js json, u uuid, arr int[], tarr text[], num numeric)"
	psql -X -q -v ON_ERROR_STOP=1 -d "$MIG_PG_URL" <<EOF
DROP TABLE IF EXISTS mig_cross_src, mig_cross_back;
CREATE TABLE mig_cross_src $ddl;
CREATE TABLE mig_cross_back $ddl;
INSERT INTO mig_cross_src VALUES
 (1, -32768, 2147483647, 9223372036854775807, 1.5, 0.1, true, 'é☆ "q" \\ tab	x', 'short',
  '2024-05-01 10:00:00.123+00', '2024-05-01 12:00:00.5', '2024-02-29', '\\x0001feff',
  '{"a": [1, 2.5, {"b": null}], "c": "d"}', '{"k": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{1,2,3}', '{"x","y z"}', NULL),
 (2, 0, 0, -1, -0.25, -1e300, false, '', '', '1969-07-20 20:17:40+00', '1900-01-01 00:00:00',
  '1970-01-01', '\\x', '[]', '"s"', NULL, '{}', '{}', NULL),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, 12.50);
EOF
	mig-extract -q "$MIG_PG_URL#mig_cross_src" >src.ndjson
	run --separate-stderr mig-load "$M#t" -i src.ndjson --reject rj.ndjson
	status_is 0
	[ "$(mig-extract -q --count --where '{"s8":{"$type":"long"},"ts":{"$type":"date"},"by":{"$type":"binData"},"arr":{"$type":"array"}}' "$M#t")" = 1 ] ||
		fail "MongoDB does not hold the native types"
	local where="true"
	if [ -s rj.ndjson ]; then
		# FerretDB v1: the numeric (Decimal128) row is refused
		load_summary 3 2 0 1
		jq_true rj.ndjson '.line == 3'
		where="id <> 3"
	fi
	run --separate-stderr bash -c "set -o pipefail; mig-extract --query '$NO_ID' '$M#t' |
		mig-load '$MIG_PG_URL#mig_cross_back'"
	status_is 0
	# row for row, column for column, by PostgreSQL's own equality
	run psql -X -At -v ON_ERROR_STOP=1 -d "$MIG_PG_URL" -c "
		SELECT count(*) FROM (
		  (SELECT id, s2, s4, s8, f4, f8, b, t, vc, ts, tsl, d, by, jb, js::jsonb, u, arr, tarr, num
		   FROM mig_cross_src WHERE $where
		   EXCEPT SELECT id, s2, s4, s8, f4, f8, b, t, vc, ts, tsl, d, by, jb, js::jsonb, u, arr, tarr, num
		   FROM mig_cross_back)
		  UNION ALL
		  (SELECT id, s2, s4, s8, f4, f8, b, t, vc, ts, tsl, d, by, jb, js::jsonb, u, arr, tarr, num
		   FROM mig_cross_back
		   EXCEPT SELECT id, s2, s4, s8, f4, f8, b, t, vc, ts, tsl, d, by, jb, js::jsonb, u, arr, tarr, num
		   FROM mig_cross_src WHERE $where)) x"
	status_is 0
	if [ "$output" != 0 ]; then
		psql -X -d "$MIG_PG_URL" -c "TABLE mig_cross_src" -c "TABLE mig_cross_back" >&2
		fail "$output rows differ"
	fi
	psql -X -q -d "$MIG_PG_URL" -c "DROP TABLE mig_cross_src, mig_cross_back"
}
