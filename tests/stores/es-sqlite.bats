#!/usr/bin/env bats
# servers: es
#
# SQLite table -> Elasticsearch -> SQLite table: every field that
# Elasticsearch keeps comes back as it was (typed values included), on a
# real node (tests/servers/es).  Compared record by record as mig-extract
# reads the two tables, and column by column with the sqlite3 CLI.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_ES_URL
	I=mig-sqlite-t$BATS_TEST_NUMBER
	curl -s -X DELETE "$MIG_ES_HTTP/$I" >/dev/null
}

teardown() {
	[ -z "${I:-}" ] || curl -s -X DELETE "$MIG_ES_HTTP/$I" >/dev/null || true
}

@test "es: sqlite table -> elasticsearch -> sqlite table keeps every field" {
	sql src.db "CREATE TABLE src (id INTEGER PRIMARY KEY, name TEXT, born TIMESTAMP,
		price DECIMAL TEXT, score REAL, ok BOOLEAN, data BLOB, note TEXT)"
	sql src.db "INSERT INTO src VALUES
		(1, 'alice', '2024-05-01T10:00:00.123456Z', '12.50', 1.5, 1, x'00010203', 'a \"quoted\" note'),
		(2, 'bob', '1999-12-31T23:59:59.000Z', '0.10', -2.25, 0, x'', NULL),
		(3, 'çà et là', '2038-01-19T03:14:08.000Z', '12345678901234567890.1234', 1e300, 1, NULL, '2024-05-01'),
		(4, NULL, NULL, NULL, NULL, NULL, NULL, '')"
	awk 'BEGIN { for (i = 5; i <= 2000; i++)
		printf("INSERT INTO src VALUES (%d, \047n%d\047, \0472020-01-01T00:00:%02d.%03dZ\047, \047%d.%02d\047, %d.25, %d, x\047%02x\047, \047r%d\047);\n",
			i, i, i % 60, i % 1000, i, i % 100, i, i % 2, i % 256, i) }' | sqlite3 src.db
	run --separate-stderr bash -c "set -o pipefail; mig-extract sqlite:src.db#src |
		mig-load --create --key id --batch-size 700 '$MIG_ES_URL#$I'"
	status_is 0
	load_summary 2000 2000 0 0
	run --separate-stderr bash -c "set -o pipefail; mig-extract '$MIG_ES_URL#$I' |
		mig-load --create sqlite:dst.db#dst"
	status_is 0
	load_summary 2000 2000 0 0
	# record by record: the same, but for the _id elasticsearch adds
	mig-extract -q sqlite:src.db#src | jq -S -c . | sort >want.ndjson
	mig-extract -q sqlite:dst.db#dst | jq -S -c 'del(._id)' | sort >got.ndjson
	same_json got.ndjson want.ndjson
	[ "$(sql dst.db "SELECT _id FROM dst WHERE id = 3")" = 3 ] || fail "_id of 3"
	# and the stored values, typed as in the source
	local e d
	for e in X.name X.born X.price X.score X.ok 'hex(X.data)' X.note 'typeof(X.data)' \
		'typeof(X.score)' 'typeof(X.price)'; do
		d=$(sql src.db "ATTACH 'dst.db' AS d; SELECT count(*) FROM src s JOIN d.dst t USING (id)
			WHERE ${e//X/s} IS NOT ${e//X/t}" 2>&1) || fail "$e: $d"
		[ "$d" = 0 ] || fail "$e differs in $d rows"
	done
}

@test "es: a description from sqlite creates the index; the mapping types what sqlite declared" {
	sql src.db "CREATE TABLE src (id INTEGER PRIMARY KEY, born TIMESTAMP, price DECIMAL TEXT,
		score REAL, ok BOOLEAN, name TEXT NOT NULL)"
	sql src.db "INSERT INTO src VALUES (1, '2024-05-01T10:00:00.000Z', '1.10', 0.5, 1, 'x')"
	mig-extract -q --describe sqlite:src.db#src >schema.json
	run --separate-stderr bash -c "set -o pipefail; mig-extract sqlite:src.db#src |
		mig-load --create --schema schema.json --key id '$MIG_ES_URL#$I'"
	status_is 0
	curl -s "$MIG_ES_HTTP/$I/_mapping" | jq -c ".[\"$I\"].mappings.properties" >m.json
	jq_true m.json '.id.type == "long" and .born.type == "date" and .score.type == "double"'
	jq_true m.json '.ok.type == "boolean" and .name.type == "text"'
	jq_true m.json '.price.meta.mig_type == "decimal"'
	run --separate-stderr mig-extract "$MIG_ES_URL#$I"
	status_is 0
	same_json_text "$output" <(echo '{"_id":"1","id":1,"born":{"$date":"2024-05-01T10:00:00.000Z"},"price":{"$numberDecimal":"1.10"},"score":0.5,"ok":true,"name":"x"}')
}
