#!/usr/bin/env bats
# mig-load(1) as a user meets it: each case is a command line, what it
# prints on stdout and stderr, what it leaves in the store, and its exit
# status (the contract is /tmp/spec/cli.md, "usage: mig-load").
# Stores are inspected with the sqlite3 CLI, independently of mig.

load helpers

teardown() {
	if [ -n "${bg_pid:-}" ]; then
		kill -KILL "$bg_pid" 2>/dev/null || true
	fi
}

# ids DB TABLE: the ids of TABLE, ascending, comma-separated.
ids() {
	local q=${2//\"/\"\"}
	sql "$1" "SELECT group_concat(id) FROM (SELECT id FROM \"$q\" ORDER BY id)"
}

# coltype DB TABLE COLUMN: the declared type of COLUMN.
coltype() {
	sql "$1" "SELECT type FROM pragma_table_info('$2') WHERE name = '$3'"
}

has_table() {
	[ -e "$1" ] && [ "$(sql "$1" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$2'")" = 1 ]
}

# ------------------------------------------------------------------ common

@test "mig-load --help: usage on stdout, exit 0" {
	run --separate-stderr mig-load --help
	status_is 0
	stdout_has "usage: mig-load [options] LOCATOR"
	stderr_empty
}

@test "mig-load -h: the same usage" {
	run --separate-stderr mig-load -h
	status_is 0
	stdout_has "usage: mig-load [options] LOCATOR"
}

@test "mig-load --help: names every option" {
	run --separate-stderr mig-load --help
	status_is 0
	local o
	for o in --help --version --progress --report --quiet --verbose --input --mode --key \
		--create --truncate --dry-run --atomic --batch-size --reject --max-errors --max-line \
		--parallel --batch-bytes --id-field --routing-field --refresh --cacert --insecure; do
		stdout_has "$o"
	done
}

@test "mig-load --version: mig and library versions, exit 0" {
	run --separate-stderr mig-load --version
	status_is 0
	[[ "${lines[0]}" =~ ^mig-load\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "first line is not 'mig-load VERSION'"
	stdout_matches '^jansson [0-9]+\.[0-9]+'
	stdout_matches '^libzstd [0-9]+\.[0-9]+\.[0-9]+'
	stdout_matches '^libbson [0-9]+\.[0-9]+\.[0-9]+'
	stdout_matches '^sqlite [0-9]+\.[0-9]+\.[0-9]+'
}

@test "mig-load --frobnicate: unknown option, usage on stderr, exit 2" {
	run --separate-stderr mig-load --frobnicate 'sqlite:x.db#t' </dev/null
	usage_error mig-load
	stderr_has "frobnicate"
	[ ! -e x.db ] || fail "x.db created despite the usage error"
}

@test "mig-load with no LOCATOR: usage error, exit 2" {
	run --separate-stderr mig-load </dev/null
	usage_error mig-load
}

@test "mig-load A B: one LOCATOR only, exit 2" {
	run --separate-stderr mig-load 'sqlite:x.db#t' 'sqlite:y.db#t' </dev/null
	usage_error mig-load
}

@test "mig-load --mode bogus: exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --mode bogus --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
	stderr_has "bogus"
}

@test "mig-load --mode upsert without --key: exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --mode upsert --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
	stderr_has "--key"
}

@test "mig-load --mode upsert into a file target: insert only, exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --mode upsert --key id -i in.ndjson file:out.ndjson
	status_is 2
	stderr_matches '^mig-load: '
	[ ! -s out.ndjson ] || fail "records written despite the usage error"
}

@test "mig-load --mode upsert into a file target: exit 2 even with no input" {
	run --separate-stderr mig-load --mode upsert --key id file:out.ndjson </dev/null
	status_is 2
	stderr_matches '^mig-load: '
}

@test "mig-load: without --batch-size, batches of 1000 records" {
	records 2500 >in.ndjson
	run --separate-stderr mig-load --create --report r.json -i in.ndjson 'sqlite:app.db#t'
	status_is 0
	report_is r.json batches 3
}

@test "mig-load: the Elasticsearch options into another store: exit 2, nothing written" {
	records 2 >in.ndjson
	local o
	for o in "--parallel 2" "--batch-bytes 1M" "--id-field id" "--routing-field id" \
		"--refresh" "--refresh=false" "--cacert ca.pem" "--insecure"; do
		# shellcheck disable=SC2086 # the option and its value
		run --separate-stderr mig-load $o --create -i in.ndjson 'sqlite:app.db#t'
		status_is 2
		stderr_has "sqlite:app.db#t: ${o%%[ =]*} does not apply to a sqlite store (only to es:// stores)"
		[ ! -e app.db ] || [ "$(sqlite3 app.db "select count(*) from sqlite_master where name = 't'")" = 0 ] ||
			fail "$o: the table was created"
		# shellcheck disable=SC2086
		run --separate-stderr mig-load $o -i in.ndjson out.ndjson </dev/null
		status_is 2
		stderr_has "does not apply to a file store"
		[ ! -s out.ndjson ] || fail "$o: records written despite the usage error"
	done
}

@test "mig-load run by its full path: usage errors still say 'mig-load: '" {
	run --separate-stderr "$(command -v mig-load)" --frobnicate 'sqlite:x.db#t' </dev/null
	status_is 2
	stderr_matches '^mig-load: '
	run --separate-stderr "$(command -v mig-load)" 'sqlite:x.db#t' --batch-size </dev/null
	status_is 2
	stderr_matches '^mig-load: '
}

@test "mig-load --batch-size 0: exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --batch-size 0 --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
}

@test "mig-load --batch-size x: exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --batch-size x --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
}

@test "mig-load --max-errors x: exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --max-errors x --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
}

@test "mig-load --max-line lots: exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --max-line lots --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
}

@test "mig-load --progress=sometimes: exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --progress=sometimes --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
}

@test "mig-load 'bogus://host/db#t': unknown locator scheme, exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-load -i in.ndjson 'bogus://host/db#t'
	status_is 2
	stdout_empty
	stderr_matches '^mig-load: '
	stderr_has "bogus"
}

# ------------------------------------------------------- loading into sqlite

@test "mig-load --create: loads the records, summary on stderr" {
	records 3 >in.ndjson
	run --separate-stderr mig-load --create 'sqlite:x.db#t' <in.ndjson
	status_is 0
	stdout_empty
	stderr_matches '^mig-load: sqlite:x\.db#t: 3 read, 3 inserted, 0 updated, (.*, )?0 rejected in [0-9.]+ s'
	[ "$(ids x.db t)" = "1,2,3" ] || fail "rows: $(ids x.db t)"
	[ "$(sql x.db "SELECT name FROM t WHERE id = 2")" = r2 ] || fail "name of id 2"
	[ "$(sql x.db "SELECT score FROM t WHERE id = 3")" = 3.5 ] || fail "score of id 3"
}

@test "mig-load -i in.ndjson / --input in.ndjson: reads the file" {
	records 3 >in.ndjson
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(rows x.db t)" = 3 ] || fail "expected 3 rows"
	run --separate-stderr mig-load --input in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(rows x.db t)" = 6 ] || fail "expected 6 rows"
}

@test "mig-load -i in.ndjson.zst: decompressed" {
	records 400 >in.ndjson
	zstd -q in.ndjson -o in.ndjson.zst
	run --separate-stderr mig-load --create -i in.ndjson.zst 'sqlite:x.db#t'
	status_is 0
	[ "$(rows x.db t)" = 400 ] || fail "expected 400 rows"
	[ "$(sql x.db 'SELECT sum(id) FROM t')" = 80200 ] || fail "wrong ids"
}

@test "mig-load --create: column types from the first batch's values" {
	ndjson in.ndjson '{"i":1,"d":1.5,"b":true,"s":"x","t":{"$date":"2024-05-01T10:00:00.123Z"},"m":{"$numberDecimal":"12.50"},"bin":{"$binary":{"base64":"AAE=","subType":"00"}},"o":{"a":1},"a":[1]}'
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	# The first word is the type the contract names; a second word may
	# follow to pick SQLite's affinity ("DECIMAL TEXT" keeps "12.50").
	local c want got
	for c in i:INTEGER d:REAL b:BOOLEAN s:TEXT t:TIMESTAMP m:DECIMAL bin:BLOB o:JSON a:JSON; do
		want=${c#*:}
		got=$(coltype x.db t "${c%%:*}")
		[ "${got%% *}" = "$want" ] || fail "column ${c%%:*}: type '$got', expected $want"
	done
	[ "$(sql x.db "SELECT typeof(m) || ':' || m FROM t")" = "text:12.50" ] || fail "decimal not kept as the text 12.50"
}

@test "mig-load --create: fields that appear later become columns" {
	ndjson in.ndjson '{"id":1,"a":"x"}' '{"id":2,"a":"y","extra":5}' '{"id":3,"more":"z"}'
	run --separate-stderr mig-load --create --batch-size 1 -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(sql x.db 'SELECT extra FROM t WHERE id = 2')" = 5 ] || fail "extra not loaded"
	[ "$(sql x.db 'SELECT more FROM t WHERE id = 3')" = z ] || fail "more not loaded"
	[ "$(rows x.db t)" = 3 ] || fail "expected 3 rows"
}

@test "mig-load without --create into a missing table: exit 3, naming it" {
	sql x.db 'CREATE TABLE other (id INTEGER)'
	records 2 >in.ndjson
	run --separate-stderr mig-load -i in.ndjson 'sqlite:x.db#nosuch'
	status_is 3
	stderr_has "nosuch"
	has_table x.db nosuch && fail "table created without --create"
	true
}

@test "mig-load --create then mig-extract: every value type comes back identical" {
	# shellcheck disable=SC2016
	ndjson in.ndjson \
		'{"id":1,"i":42,"big":9223372036854775807,"small":-9223372036854775808,"d":3.25,"whole":2.0,"nan":{"$numberDouble":"NaN"},"b":true,"f":false,"s":"café 😀 \"q\" \\ tab\t","n":null,"ms":{"$date":"2024-05-01T10:00:00.123Z"},"us":{"$date":"2024-05-01T10:00:00.123456Z"},"dec":{"$numberDecimal":"12.50"},"bin":{"$binary":{"base64":"AAEC/w==","subType":"00"}},"oid":{"$oid":"65f1a2b3c4d5e6f708192a3b"},"obj":{"a":{"b":[1,"x"]},"e":{}},"arr":[1,2.5,"three",null,{"k":"v"}],"empty":[]}' \
		'{"id":2,"i":-7,"big":1,"small":0,"d":-0.001,"whole":1e300,"nan":{"$numberDouble":"Infinity"},"b":false,"f":true,"s":"","n":null,"ms":{"$date":"1999-12-31T23:59:59.999Z"},"us":{"$date":"2000-02-29T00:00:00.000001Z"},"dec":{"$numberDecimal":"-0.001"},"bin":{"$binary":{"base64":"","subType":"00"}},"oid":{"$oid":"000000000000000000000000"},"obj":{},"arr":[[]],"empty":[]}'
	run --separate-stderr mig-load --create --key id -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 2 2 0 0

	# independently of mig: what sqlite holds
	[ "$(sql x.db 'SELECT typeof(i) || ":" || i FROM t WHERE id = 1')" = integer:42 ] || fail "i in sqlite"
	[ "$(sql x.db 'SELECT big FROM t WHERE id = 1')" = 9223372036854775807 ] || fail "big in sqlite"
	[ "$(sql x.db 'SELECT small FROM t WHERE id = 1')" = -9223372036854775808 ] || fail "small in sqlite"
	[ "$(sql x.db 'SELECT s FROM t WHERE id = 1')" = "$(printf 'café 😀 "q" \\ tab\t')" ] || fail "s in sqlite"

	# relaxed: the same values
	run --separate-stderr mig-extract --order-by id 'sqlite:x.db#t'
	status_is 0
	printf '%s\n' "$output" >out.ndjson
	same_json out.ndjson in.ndjson
	# what jq cannot tell apart, checked in the text
	grep -Eq '"big":(9223372036854775807|\{"\$numberLong":"9223372036854775807"\})[,}]' out.ndjson || fail "int64 max lost"
	grep -Eq '"small":(-9223372036854775808|\{"\$numberLong":"-9223372036854775808"\})[,}]' out.ndjson || fail "int64 min lost"
	grep -Eq '"whole":2\.0[,}]' out.ndjson || fail "2.0 did not stay a double"
	grep -Eq '"i":42[,}]' out.ndjson || fail "42 did not stay an integer"

	# canonical: the types kept apart
	run --separate-stderr mig-extract --canonical --order-by id 'sqlite:x.db#t'
	status_is 0
	printf '%s\n' "$output" | head -1 >canon.json
	jq_true canon.json '.i == {"$numberInt":"42"}'
	jq_true canon.json '.big == {"$numberLong":"9223372036854775807"}'
	jq_true canon.json '.small == {"$numberLong":"-9223372036854775808"}'
	jq_true canon.json '.d == {"$numberDouble":"3.25"}'
	jq_true canon.json '.whole == {"$numberDouble":"2.0"}'
	jq_true canon.json '.nan == {"$numberDouble":"NaN"}'
	jq_true canon.json '.ms == {"$date":{"$numberLong":"1714557600123"}}'
	jq_true canon.json '.us == {"$date":"2024-05-01T10:00:00.123456Z"}'
	jq_true canon.json '.dec == {"$numberDecimal":"12.50"}'
	jq_true canon.json '.oid == {"$oid":"65f1a2b3c4d5e6f708192a3b"}'
	jq_true canon.json '.bin == {"$binary":{"base64":"AAEC/w==","subType":"00"}}'
	jq_true canon.json '.b == true and .f == false and .n == null and .empty == []'
}

@test "mig-load --create then mig-extract: -0.0 keeps its sign inside JSON, not in a REAL column" {
	# SQLite stores a whole-number real as an integer, so a REAL column
	# gives -0.0 back as 0.0 (documented in mig-load(1)); a JSON column
	# keeps the text, sign and all.
	ndjson in.ndjson '{"id":1,"nz":-0.0,"o":{"z":-0.0}}' '{"id":2,"nz":0.0,"o":{"z":0.0}}'
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	run --separate-stderr mig-extract --order-by id 'sqlite:x.db#t'
	status_is 0
	[ "${lines[0]}" = '{"id":1,"nz":0.0,"o":{"z":-0.0}}' ] || fail "record 1"
	[ "${lines[1]}" = '{"id":2,"nz":0.0,"o":{"z":0.0}}' ] || fail "record 2"
	run --separate-stderr mig-extract --canonical --order-by id 'sqlite:x.db#t'
	status_is 0
	printf '%s\n' "${lines[0]}" >canon.json
	jq_true canon.json '.o.z == {"$numberDouble":"-0.0"}'
}

@test "mig-load --truncate: the table is emptied first" {
	records 3 >a.ndjson
	records 2 10 >b.ndjson
	run --separate-stderr mig-load --create -i a.ndjson 'sqlite:x.db#t'
	status_is 0
	run --separate-stderr mig-load --truncate -i b.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(ids x.db t)" = "10,11" ] || fail "rows: $(ids x.db t)"
}

@test "mig-load --truncate with empty input: the table is emptied" {
	records 3 >a.ndjson
	run --separate-stderr mig-load --create -i a.ndjson 'sqlite:x.db#t'
	status_is 0
	run --separate-stderr mig-load --truncate 'sqlite:x.db#t' </dev/null
	status_is 0
	[ "$(rows x.db t)" = 0 ] || fail "table still has $(rows x.db t) rows"
}

@test "mig-load into an existing table: rows appended" {
	sql x.db 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)'
	records 2 >a.ndjson
	records 2 3 >b.ndjson
	run --separate-stderr mig-load -i a.ndjson 'sqlite:x.db#t'
	status_is 0
	run --separate-stderr mig-load -i b.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(ids x.db t)" = "1,2,3,4" ] || fail "rows: $(ids x.db t)"
}

@test "mig-load --batch-size 1 and 7: every record loaded" {
	records 20 >in.ndjson
	run --separate-stderr mig-load --create --batch-size 1 -i in.ndjson 'sqlite:a.db#t'
	status_is 0
	load_summary 20 20 0 0
	[ "$(sql a.db 'SELECT count(*) || ":" || sum(id) FROM t')" = 20:210 ] || fail "batch-size 1"
	run --separate-stderr mig-load --create --batch-size 7 -i in.ndjson 'sqlite:b.db#t'
	status_is 0
	load_summary 20 20 0 0
	[ "$(sql b.db 'SELECT count(*) || ":" || sum(id) FROM t')" = 20:210 ] || fail "batch-size 7"
}

@test "mig-load --mode insert: the default, explicitly" {
	records 3 >in.ndjson
	run --separate-stderr mig-load --mode insert --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 3 3 0 0
}

# ------------------------------------------------------------------ upsert

@test "mig-load --create --key id: the key becomes the primary key" {
	records 2 >in.ndjson
	run --separate-stderr mig-load --create --key id -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(sql x.db "SELECT pk FROM pragma_table_info('t') WHERE name = 'id'")" = 1 ] || fail "id is not the primary key"
}

@test "mig-load --mode upsert --key id: inserted and updated counted apart" {
	records 3 >a.ndjson
	run --separate-stderr mig-load --create --key id -i a.ndjson 'sqlite:x.db#t'
	status_is 0
	ndjson b.ndjson '{"id":2,"name":"B"}' '{"id":3,"name":"C"}' '{"id":4,"name":"d"}'
	run --separate-stderr mig-load --mode upsert --key id --report r.json -i b.ndjson 'sqlite:x.db#t'
	status_is 0
	stderr_matches '^mig-load: sqlite:x\.db#t: 3 read, 1 inserted, 2 updated, (.*, )?0 rejected in '
	[ "$(ids x.db t)" = "1,2,3,4" ] || fail "rows: $(ids x.db t)"
	[ "$(sql x.db 'SELECT group_concat(name) FROM (SELECT name FROM t ORDER BY id)')" = "r1,B,C,d" ] || fail "names"
	# upsert updates the fields the record has; score was not given
	[ "$(sql x.db 'SELECT score FROM t WHERE id = 2')" = 2.5 ] || fail "score of id 2 changed"
	jq -e . r.json >/dev/null || fail "r.json is not JSON"
	report_is r.json read 3
	report_is r.json inserted 1
	report_is r.json updated 2
	report_is r.json rejected 0
}

@test "mig-load --mode upsert --create: a key seen twice in the input is updated" {
	ndjson in.ndjson '{"id":1,"v":1}' '{"id":1,"v":2}'
	run --separate-stderr mig-load --mode upsert --key id --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 2 1 1 0
	[ "$(sql x.db 'SELECT count(*) || ":" || max(v) FROM t')" = 1:2 ] || fail "not updated"
}

@test "mig-load --mode upsert --key a,b: a compound key" {
	ndjson a.ndjson '{"a":1,"b":"x","v":1}' '{"a":1,"b":"y","v":2}'
	run --separate-stderr mig-load --create --key a,b -i a.ndjson 'sqlite:x.db#t'
	status_is 0
	ndjson b.ndjson '{"a":1,"b":"y","v":3}' '{"a":2,"b":"x","v":4}'
	run --separate-stderr mig-load --mode upsert --key a,b -i b.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 2 1 1 0
	[ "$(sql x.db "SELECT group_concat(v) FROM (SELECT v FROM t ORDER BY a, b)")" = "1,3,4" ] || fail "values"
}

@test "mig-load --mode update --key a,b: existing rows only, a key not found is rejected" {
	ndjson a.ndjson '{"a":1,"b":"x","v":1,"w":"p"}' '{"a":1,"b":"y","v":2,"w":"q"}'
	run --separate-stderr mig-load --create --key a,b -i a.ndjson 'sqlite:x.db#t'
	status_is 0
	ndjson b.ndjson '{"a":1,"b":"y","v":3}' '{"a":2,"b":"x","v":4}' '{"a":1,"b":"x","w":"P"}' '{"a":1,"v":9}'
	run --separate-stderr mig-load --mode update --key a,b --reject rej.ndjson -i b.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 4 0 2 2
	[ "$(sql x.db "SELECT group_concat(v || w) FROM (SELECT v, w FROM t ORDER BY a, b)")" = "1P,3q" ] ||
		fail "rows: $(sql x.db 'SELECT * FROM t')"
	jq -c '[.line, .error]' rej.ndjson >got
	printf '%s\n' '[2,"b.ndjson:2: no row with key a=2, b=\"x\""]' \
		'[4,"b.ndjson:4: key field b missing"]' >want
	diff got want || fail "rejects: $(cat rej.ndjson)"
	# without --reject, the key not found stops the load
	run --separate-stderr mig-load --mode update --key a,b -i b.ndjson 'sqlite:x.db#t'
	status_is 1
	stderr_has "no row with key a=2"
}

@test "mig-load --mode delete --key id: deleted and not found counted apart, other fields ignored" {
	records 5 >a.ndjson
	run --separate-stderr mig-load --create --key id -i a.ndjson 'sqlite:x.db#t'
	status_is 0
	ndjson d.ndjson '{"id":2,"name":"ignored","nocolumn":true}' '{"id":99}' '{"id":4}' '{"id":2}' '{"name":"r5"}'
	run --separate-stderr mig-load --mode delete --key id --dry-run --reject rej.ndjson -i d.ndjson 'sqlite:x.db#t'
	status_is 0
	stderr_has "5 read, 2 would be deleted, 2 not found, 1 rejected"
	[ "$(ids x.db t)" = "1,2,3,4,5" ] || fail "the dry run deleted: $(ids x.db t)"
	run --separate-stderr mig-load --mode delete --key id --reject rej.ndjson --report r.json -i d.ndjson 'sqlite:x.db#t'
	status_is 0
	stderr_matches '^mig-load: sqlite:x\.db#t: 5 read, 2 deleted, 2 not found, 1 rejected \(rej\.ndjson\) in '
	[ "$(ids x.db t)" = "1,3,5" ] || fail "rows: $(ids x.db t)"
	report_is r.json deleted 2
	report_is r.json not_found 2
	report_is r.json rejected 1
	jq_true rej.ndjson '.line == 5 and (.error | test("key field id missing"))'
}

@test "mig-load --mode delete: refused with --create, --on-conflict, and into a file" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --mode delete --key id --create -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
	stderr_has "--mode delete cannot go with --create"
	run --separate-stderr mig-load --mode delete --key id --on-conflict skip -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
	stderr_has "--on-conflict cannot go with --mode delete"
	run --separate-stderr mig-load --mode delete -i in.ndjson 'sqlite:x.db#t'
	usage_error mig-load
	stderr_has "--mode delete needs --key"
	run --separate-stderr mig-load --mode delete --key id -i in.ndjson file:out.ndjson
	status_is 2
	stderr_has "--mode delete: a file target takes only --mode insert"
	[ ! -e out.ndjson ] || fail "the file was written"
}

# ------------------------------------------------------ rejects by the store

@test "mig-load: duplicate key in insert mode, --reject: rejected with line, stage and code" {
	ndjson in.ndjson '{"id":1,"name":"a"}' '{"id":1,"name":"dup"}' '{"id":2,"name":"b"}'
	run --separate-stderr mig-load --create --key id --reject rej.ndjson -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 3 2 0 1
	[ "$(ids x.db t)" = "1,2" ] || fail "rows: $(ids x.db t)"
	[ "$(sql x.db 'SELECT name FROM t WHERE id = 1')" = a ] || fail "the first id 1 was replaced"
	[ "$(wc -l <rej.ndjson)" -eq 1 ] || fail "expected one reject"
	jq_true rej.ndjson '.record == {"id":1,"name":"dup"}'
	jq_true rej.ndjson '.line == 2'
	jq_true rej.ndjson '.stage == "mig-load"'
	jq_true rej.ndjson '(.error | type) == "string" and (.error | length) > 0'
	jq_true rej.ndjson '(.code | type) == "string" and (.code | length) > 0'
	jq_true rej.ndjson '.error | test("\n") | not'
}

@test "mig-load: duplicate key without --reject: exit 1, the records before it loaded" {
	ndjson in.ndjson '{"id":1,"name":"a"}' '{"id":2,"name":"b"}' '{"id":1,"name":"dup"}'
	run --separate-stderr mig-load --create --key id -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	stderr_matches '^mig-load: '
	stderr_has "in.ndjson:3"
	[ "$(ids x.db t)" = "1,2" ] || fail "rows: $(ids x.db t)"
}

# ------------------------------------------------- dry run, atomic, targets

@test "mig-load --dry-run: counts, writes nothing" {
	sql x.db 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)'
	records 3 >in.ndjson
	run --separate-stderr mig-load --dry-run -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	stdout_empty
	[ "$(rows x.db t)" = 0 ] || fail "rows written in a dry run"
	stderr_has "dry run: 3 read, 3 would be inserted"
}

@test "mig-load --dry-run --create into a missing database: the file is not created" {
	records 3 >in.ndjson
	run --separate-stderr mig-load --dry-run --create -i in.ndjson 'sqlite:new.db#t'
	status_is 0
	[ ! -e new.db ] || fail "new.db created by a dry run"
	stderr_has "dry run: 3 read, 3 would be inserted"
}

@test "mig-load --dry-run into a file target: the file is not created" {
	records 3 >in.ndjson
	run --separate-stderr mig-load --dry-run -i in.ndjson file:out.ndjson
	status_is 0
	[ ! -e out.ndjson ] || fail "out.ndjson created by a dry run"
	stderr_has "dry run: 3 read, 3 would be inserted"
}

@test "mig-load --dry-run: bad input is still found, exit 1" {
	ndjson in.ndjson '{"id":1}' '{"id":2,'
	run --separate-stderr mig-load --dry-run --create -i in.ndjson 'sqlite:new.db#t'
	status_is 1
	stderr_has "in.ndjson:2:"
	[ ! -e new.db ] || fail "new.db created by a dry run"
}

@test "mig-load --atomic: a failure leaves nothing loaded" {
	sql x.db 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)'
	ndjson in.ndjson '{"id":1,"name":"a"}' '{"id":2,"name":"b"}' '{"id":1,"name":"dup"}' '{"id":3,"name":"c"}'
	run --separate-stderr mig-load --atomic --batch-size 1 -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	[ "$(rows x.db t)" = 0 ] || fail "atomic load left $(rows x.db t) rows"
}

@test "mig-load without --atomic, --batch-size 1: the batches before the failure stay" {
	sql x.db 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)'
	ndjson in.ndjson '{"id":1,"name":"a"}' '{"id":2,"name":"b"}' '{"id":1,"name":"dup"}' '{"id":3,"name":"c"}'
	run --separate-stderr mig-load --batch-size 1 -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	[ "$(ids x.db t)" = "1,2" ] || fail "rows: $(ids x.db t)"
}

@test "mig-load --atomic: bad input line leaves nothing loaded" {
	ndjson in.ndjson '{"id":1}' '{"id":2}' 'garbage' '{"id":4}'
	run --separate-stderr mig-load --atomic --create --batch-size 1 -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	if has_table x.db t; then
		[ "$(rows x.db t)" = 0 ] || fail "atomic load left rows"
	fi
}

@test "mig-load --atomic: a good load is all there" {
	records 25 >in.ndjson
	run --separate-stderr mig-load --atomic --create --batch-size 4 -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(rows x.db t)" = 25 ] || fail "expected 25 rows"
}

@test "mig-load 'sqlite:x.db#my \"odd\" table'\''s': a table name with spaces and quotes" {
	records 3 >in.ndjson
	local loc='sqlite:x.db#my "odd" table'\''s'
	run --separate-stderr mig-load --create -i in.ndjson "$loc"
	status_is 0
	[ "$(sql x.db "SELECT count(*) FROM \"my \"\"odd\"\" table's\"")" = 3 ] || fail "table not found by its name"
	run --separate-stderr mig-extract "$loc"
	status_is 0
	same_json_text "$output" in.ndjson
}

@test "mig-load env:VAR: the locator read from the environment" {
	records 3 >in.ndjson
	export MIG_TEST_LOC="sqlite:$T/x.db#t"
	run --separate-stderr mig-load --create -i in.ndjson env:MIG_TEST_LOC
	status_is 0
	[ "$(rows x.db t)" = 3 ] || fail "expected 3 rows"
}

@test "mig-load @FILE: the locator read from the first line of FILE" {
	records 3 >in.ndjson
	printf 'sqlite:%s/x.db#t\n' "$T" >loc.txt
	run --separate-stderr mig-load --create -i in.ndjson @loc.txt
	status_is 0
	[ "$(rows x.db t)" = 3 ] || fail "expected 3 rows"
}

@test "mig-load: a password in a postgres locator is never printed" {
	records 2 >in.ndjson
	run --separate-stderr mig-load -i in.ndjson 'postgres://bob:s3cret@127.0.0.1:1/db#t'
	failed_cleanly
	has_not "$output$stderr" s3cret output
	run --separate-stderr mig-load -v --report r.json --reject rej.ndjson -i in.ndjson 'postgres://bob:s3cret@127.0.0.1:1/db#t'
	failed_cleanly
	has_not "$output$stderr" s3cret output
	if [ -e r.json ]; then has_not "$(cat r.json)" s3cret report; fi
	if [ -e rej.ndjson ]; then has_not "$(cat rej.ndjson)" s3cret rejects; fi
}

@test "mig-load: passwords in other locator forms are never printed" {
	records 1 >in.ndjson
	local loc
	for loc in 'postgresql://bob:s3cret@127.0.0.1:1/db#t' \
		'postgres://127.0.0.1:1/db?user=bob&password=s3cret#t' \
		'mongodb://bob:s3cret@127.0.0.1:1/db#c' \
		'es://bob:s3cret@127.0.0.1:1#idx'; do
		run --separate-stderr mig-load -v -i in.ndjson "$loc"
		failed_cleanly
		has_not "$output$stderr" s3cret "output for $loc"
	done
}

@test "mig-load env:VAR / @FILE holding a password: never printed" {
	records 1 >in.ndjson
	export MIG_TEST_LOC='postgres://bob:s3cret@127.0.0.1:1/db#t'
	run --separate-stderr mig-load -v -i in.ndjson env:MIG_TEST_LOC
	failed_cleanly
	has_not "$output$stderr" s3cret output
	printf '%s\n' "$MIG_TEST_LOC" >loc.txt
	run --separate-stderr mig-load -v -i in.ndjson @loc.txt
	failed_cleanly
	has_not "$output$stderr" s3cret output
}

# -------------------------------------------------------------- bad input
#
# Each kind of bad line is line 2 of in.ndjson, between two good records.
# Without --reject the load stops at it (exit 1) and record 1 is loaded;
# with --reject it lands in the reject file and records 1 and 3 are loaded.

# bad_input BADLINE_PRINTF_FORMAT: writes in.ndjson.
bad_input() {
	{
		printf '{"id":1,"name":"a"}\n'
		# shellcheck disable=SC2059
		printf "$1"
		printf '\n{"id":3,"name":"c"}\n'
	} >in.ndjson
}

# stops_at_line2 ERE [OPTION...]
stops_at_line2() {
	local re=$1
	shift
	run --separate-stderr mig-load --create "$@" -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	stderr_matches "^mig-load: .*in\.ndjson:2: .*$re"
	[ "$(ids x.db t)" = 1 ] || fail "expected record 1 loaded, rows: $(ids x.db t)"
}

# rejects_line2 JQ_RECORD_TEST [OPTION...]
rejects_line2() {
	local rec=$1
	shift
	run --separate-stderr mig-load --create --reject rej.ndjson "$@" -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 3 2 0 1
	[ "$(ids x.db t)" = "1,3" ] || fail "expected records 1 and 3 loaded, rows: $(ids x.db t)"
	[ "$(wc -l <rej.ndjson)" -eq 1 ] || { cat rej.ndjson >&2; fail "expected one reject"; }
	jq_true rej.ndjson '.line == 2'
	jq_true rej.ndjson '.stage == "mig-load"'
	# the reason names FILE:LINE, in the reject file or on stderr
	if ! jq -e '.error | contains("in.ndjson:2:")' rej.ndjson >/dev/null; then
		stderr_has "in.ndjson:2:"
	fi
	jq_true rej.ndjson '(.error | type) == "string" and (.error | length) > 0'
	jq_true rej.ndjson "$rec"
}

@test "mig-load: invalid JSON line: stdin:LINE / FILE:LINE, exit 1" {
	bad_input '{"id":2,'
	stops_at_line2 'invalid JSON'
}

@test "mig-load: invalid JSON on stdin is named stdin:LINE" {
	bad_input '{"id":2,'
	run --separate-stderr mig-load --create 'sqlite:x.db#t' <in.ndjson
	status_is 1
	stderr_matches '^mig-load: stdin:2: invalid JSON'
	[ "$(ids x.db t)" = 1 ] || fail "rows: $(ids x.db t)"
}

@test "mig-load --reject: invalid JSON line rejected as its raw text" {
	bad_input '{"id":2,'
	rejects_line2 '.record == "{\"id\":2,"'
}

@test "mig-load: a JSON array instead of an object, exit 1" {
	bad_input '[1,2]'
	stops_at_line2 'not a JSON object \(array\)'
}

@test "mig-load --reject: a JSON array rejected" {
	bad_input '[1,2]'
	rejects_line2 '.record == [1,2] or .record == "[1,2]"'
}

@test "mig-load: invalid UTF-8, exit 1" {
	bad_input '{"id":2,"s":"\xff\xfe"}'
	stops_at_line2 'UTF-8'
}

@test "mig-load --reject: invalid UTF-8 rejected, the reject file stays UTF-8" {
	bad_input '{"id":2,"s":"\xff"}'
	rejects_line2 '.record | type == "string" and startswith("{\"id\":2,")'
	iconv -f UTF-8 -t UTF-8 rej.ndjson >/dev/null || fail "rej.ndjson is not UTF-8"
}

@test "mig-load: a NUL byte inside a line, exit 1" {
	bad_input '{"id":2,"s":"a\0b"}'
	stops_at_line2 'NUL'
}

@test "mig-load --reject: a NUL byte rejected" {
	bad_input '{"id":2,"s":"a\0b"}'
	rejects_line2 '.record | type == "string" and startswith("{\"id\":2,")'
}

@test "mig-load --max-line 100: a 200-byte line, exit 1" {
	bad_input "{\"id\":2,\"s\":\"$(printf 'x%.0s' $(seq 180))\"}"
	stops_at_line2 '' --max-line 100
}

@test "mig-load --max-line 100 --reject: the long line rejected, the rest loaded" {
	bad_input "{\"id\":2,\"s\":\"$(printf 'x%.0s' $(seq 180))\"}"
	rejects_line2 '.record | type == "string" and startswith("{\"id\":2,")' --max-line 100
}

@test "mig-load: a malformed wrapper {\"\$date\":\"nope\"}, exit 1" {
	bad_input '{"id":2,"t":{"$date":"nope"}}'
	stops_at_line2 'date'
}

@test "mig-load --reject: a malformed wrapper rejected" {
	bad_input '{"id":2,"t":{"$date":"nope"}}'
	rejects_line2 '.record == {"id":2,"t":{"$date":"nope"}} or .record == "{\"id\":2,\"t\":{\"$date\":\"nope\"}}"'
}

@test "mig-load --max-line 20: a line of 20 bytes is accepted, of 21 not" {
	printf '{"id":1,"s":"abcde"}\n{"id":2,"s":"abcdef"}\n' >in.ndjson
	run --separate-stderr mig-load --max-line 20 --create --reject rej.ndjson -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(ids x.db t)" = 1 ] || fail "rows: $(ids x.db t)"
	jq_true rej.ndjson '.line == 2'
}

@test "mig-load: empty input: exit 0, nothing loaded, no table created" {
	run --separate-stderr mig-load --create 'sqlite:x.db#t' </dev/null
	status_is 0
	load_summary 0 0 0 0
	has_table x.db t && fail "table t created from empty input"
	true
}

@test "mig-load: blank lines are skipped, line numbers still count them" {
	printf '{"id":1}\n\n\n{"id":2}\n\n' >in.ndjson
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 2 2 0 0
	[ "$(ids x.db t)" = "1,2" ] || fail "rows: $(ids x.db t)"
	printf '{"id":1}\n\n[3]\n' >bad.ndjson
	run --separate-stderr mig-load --create -i bad.ndjson 'sqlite:y.db#t'
	status_is 1
	stderr_has "bad.ndjson:3:"
}

@test "mig-load: a last line without a newline is read" {
	printf '{"id":1}\n{"id":2}' >in.ndjson
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(ids x.db t)" = "1,2" ] || fail "rows: $(ids x.db t)"
}

@test "mig-load: CRLF line endings accepted" {
	printf '{"id":1,"name":"a"}\r\n{"id":2,"name":"b"}\r\n' >in.ndjson
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 2 2 0 0
	[ "$(sql x.db "SELECT group_concat(name, '|') FROM (SELECT name FROM t ORDER BY id)")" = "a|b" ] || fail "names carry a CR"
}

@test "mig-load -i nofile: missing input, exit 3 naming it" {
	run --separate-stderr mig-load --create -i nofile 'sqlite:x.db#t'
	status_is 3
	stderr_matches '^mig-load: '
	stderr_has "nofile"
}

@test "mig-load -i bad.ndjson.zst: a corrupt zstd input, exit 3" {
	records 1000 >in.ndjson
	zstd -q in.ndjson -o full.zst
	head -c 200 full.zst >bad.ndjson.zst
	run --separate-stderr mig-load --create -i bad.ndjson.zst 'sqlite:x.db#t'
	status_is 3
	stderr_has "bad.ndjson.zst"
}

@test "mig-load --max-line 1k: size suffix accepted" {
	printf '{"id":1,"s":"%s"}\n' "$(printf 'x%.0s' $(seq 500))" >in.ndjson
	run --separate-stderr mig-load --max-line 1k --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	[ "$(sql x.db 'SELECT length(s) FROM t')" = 500 ] || fail "long value not loaded"
}

@test "mig-load sqlite:/nonexistent-dir/x.db#t: unwritable target, exit 3" {
	records 2 >in.ndjson
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:/nonexistent-dir/x.db#t'
	status_is 3
	stderr_has "/nonexistent-dir/x.db"
}

@test "mig-load file:/nonexistent-dir/x.ndjson: unwritable target, exit 3" {
	records 2 >in.ndjson
	run --separate-stderr mig-load -i in.ndjson 'file:/nonexistent-dir/x.ndjson'
	status_is 3
	stderr_has "/nonexistent-dir/x.ndjson"
}

@test "mig-load file:/nonexistent-dir/x.ndjson with empty input: still exit 3" {
	run --separate-stderr mig-load 'file:/nonexistent-dir/x.ndjson' </dev/null
	status_is 3
	stderr_has "/nonexistent-dir/x.ndjson"
}

@test "mig-load sqlite:/nonexistent-dir/x.db#t with empty input: still exit 3" {
	run --separate-stderr mig-load --create 'sqlite:/nonexistent-dir/x.db#t' </dev/null
	status_is 3
	stderr_has "/nonexistent-dir/x.db"
}

# two bad lines: 2 and 4 of five
two_bad() {
	ndjson in.ndjson '{"id":1}' '{"id":2,' '{"id":3}' '[4]' '{"id":5}'
}

@test "mig-load --reject --max-errors 1 with 2 bad lines: exit 1" {
	two_bad
	run --separate-stderr mig-load --create --reject rej.ndjson --max-errors 1 -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	[ "$(sql x.db 'SELECT count(*) FROM t WHERE id IN (1, 3)')" = 2 ] || fail "records before the limit not loaded"
	jq_true rej.ndjson 'map(.line) == [2,4]' -s
}

@test "mig-load --max-errors 1 with 2 bad lines (no --reject): exit 1" {
	two_bad
	run --separate-stderr mig-load --create --max-errors 1 -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	stderr_has "in.ndjson:2:"
	stderr_has "in.ndjson:4:"
	[ "$(sql x.db 'SELECT count(*) FROM t WHERE id IN (1, 3)')" = 2 ] || fail "records before the limit not loaded"
}

@test "mig-load --max-errors 2 with 2 bad lines: within the limit, exit 0" {
	two_bad
	run --separate-stderr mig-load --create --reject rej.ndjson --max-errors 2 -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 5 3 0 2
	[ "$(ids x.db t)" = "1,3,5" ] || fail "rows: $(ids x.db t)"
}

@test "mig-load --reject with many bad lines: max-errors unlimited by default" {
	{
		for i in $(seq 1 30); do
			if [ $((i % 3)) -eq 0 ]; then echo "bad $i"; else echo "{\"id\":$i}"; fi
		done
	} >in.ndjson
	run --separate-stderr mig-load --create --reject rej.ndjson -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	load_summary 30 20 0 10
	[ "$(wc -l <rej.ndjson)" -eq 10 ] || fail "expected 10 rejects"
}

# ------------------------------------------------------ report, verbosity

@test "mig-load --report r.json: a JSON summary with the counts" {
	two_bad
	run --separate-stderr mig-load --create --reject rej.ndjson --report r.json -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	jq -e . r.json >/dev/null || fail "r.json is not JSON"
	report_is r.json read 5
	report_is r.json inserted 3
	report_is r.json updated 0
	report_is r.json rejected 2
}

@test "mig-load --report r.json: written even when the load fails (exit 1)" {
	ndjson in.ndjson '{"id":1}' '{"id":2,' '{"id":3}'
	run --separate-stderr mig-load --create --report r.json -i in.ndjson 'sqlite:x.db#t'
	status_is 1
	[ -s r.json ] || fail "no report"
	jq -e . r.json >/dev/null || fail "r.json is not JSON"
	report_is r.json inserted 1
}

@test "mig-load --report r.json: written when the target is unreachable (exit 3)" {
	records 1 >in.ndjson
	run --separate-stderr mig-load --report r.json -i in.ndjson 'file:/nonexistent-dir/x.ndjson'
	status_is 3
	jq -e . r.json >/dev/null || fail "r.json missing or not JSON"
}

@test "mig-load --quiet / -q: no summary line" {
	records 3 >in.ndjson
	run --separate-stderr mig-load --quiet --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	stderr_empty
	run --separate-stderr mig-load -q -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	stderr_empty
	[ "$(rows x.db t)" = 6 ] || fail "expected 6 rows"
}

@test "mig-load --quiet: errors still shown" {
	run --separate-stderr mig-load -q --create -i nofile 'sqlite:x.db#t'
	status_is 3
	stderr_has "nofile"
}

@test "mig-load -v / --verbose: more messages than by default" {
	records 3 >in.ndjson
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:a.db#t'
	status_is 0
	local n=${#stderr_lines[@]}
	run --separate-stderr mig-load -v --create -i in.ndjson 'sqlite:b.db#t'
	status_is 0
	[ "${#stderr_lines[@]}" -gt "$n" ] || fail "-v printed no more than the default ($n lines)"
	load_summary 3 3 0 0
	run --separate-stderr mig-load --verbose --create -i in.ndjson 'sqlite:c.db#t'
	status_is 0
	[ "${#stderr_lines[@]}" -gt "$n" ] || fail "--verbose printed no more than the default"
}

@test "mig-load --progress / --progress=never|always|auto: loads the same" {
	records 50 >in.ndjson
	# (not $i: bats 1.8's run leaks a global i)
	local p k=0
	for p in --progress --progress=never --progress=always --progress=auto; do
		k=$((k + 1))
		run --separate-stderr mig-load "$p" --create -i in.ndjson "sqlite:x$k.db#t"
		status_is 0
		stdout_empty
		[ "$(rows "x$k.db" t)" = 50 ] || fail "$p: expected 50 rows"
	done
}

# ------------------------------------------------------------- interrupts

@test "mig-load: SIGINT while waiting for input: exit 4, committed batches kept" {
	trap '' PIPE
	mkfifo in.fifo
	env --default-signal=INT mig-load --create --batch-size 2 'sqlite:x.db#t' \
		<in.fifo >out.txt 2>err.txt 3>&- &
	bg_pid=$!
	exec 5>in.fifo
	records 4 >&5
	wait_rows x.db t 4
	wait_blocked "$bg_pid"
	kill -INT "$bg_pid"
	wait_exit "$bg_pid"
	bg_pid=
	exec 5>&-
	[ "$rc" -eq 4 ] || { cat err.txt >&2; fail "exit status $rc, expected 4"; }
	[ "$(ids x.db t)" = "1,2,3,4" ] || fail "rows: $(ids x.db t)"
	[ ! -s out.txt ] || fail "something on stdout"
}

@test "mig-load: SIGTERM in the middle of a batch: exit 4, whole batches only, report written" {
	trap '' PIPE
	mkfifo in.fifo
	mig-load --create --batch-size 2 --report r.json 'sqlite:x.db#t' \
		<in.fifo >out.txt 2>err.txt 3>&- &
	bg_pid=$!
	exec 5>in.fifo
	records 5 >&5
	wait_rows x.db t 4
	wait_blocked "$bg_pid"
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid"
	bg_pid=
	exec 5>&-
	[ "$rc" -eq 4 ] || { cat err.txt >&2; fail "exit status $rc, expected 4"; }
	local got
	got=$(ids x.db t)
	[ "$got" = "1,2,3,4" ] || [ "$got" = "1,2,3,4,5" ] || fail "rows: $got"
	jq -e . r.json >/dev/null || fail "r.json missing or not JSON"
}

@test "mig-load --atomic: interrupted (SIGTERM), exit 4 and nothing written" {
	trap '' PIPE
	sql x.db 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)'
	mkfifo in.fifo
	mig-load --atomic --batch-size 2 'sqlite:x.db#t' <in.fifo >out.txt 2>err.txt 3>&- &
	bg_pid=$!
	exec 5>in.fifo
	records 4 >&5
	wait_blocked "$bg_pid"
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid"
	bg_pid=
	exec 5>&-
	[ "$rc" -eq 4 ] || { cat err.txt >&2; fail "exit status $rc, expected 4"; }
	[ "$(rows x.db t)" = 0 ] || fail "an interrupted atomic load left $(rows x.db t) rows"
}

@test "mig-load: a second SIGTERM stops a load blocked on a server that never answers" {
	# A TCP server that accepts and never replies: the MongoDB driver waits
	# in server selection, retrying on EINTR, so the first signal cannot
	# end the load there; the second must, by the default action.
	python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
c = []
while True: c.append(s.accept()[0])' >port.txt 3>&- &
	local hole=$! port=
	for _ in $(seq 50); do port=$(cat port.txt); [ -n "$port" ] && break; sleep 0.1; done
	[ -n "$port" ] || { kill "$hole"; fail "the silent server did not start"; }
	records 1 | MONGOC_DISABLE_SHM=1 mig-load "mongodb://127.0.0.1:$port/db#c" \
		>out.txt 2>err.txt 3>&- &
	bg_pid=$!
	sleep 1
	kill -TERM "$bg_pid"
	sleep 0.5
	kill -0 "$bg_pid" 2>/dev/null || { kill "$hole"; cat err.txt >&2; fail "the first signal ended the load (the test needs a blocked call)"; }
	grep -q 'signal again to stop at once' err.txt || { kill "$hole"; fail "no notice on stderr: $(cat err.txt)"; }
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid"
	bg_pid=
	kill "$hole"
	[ "$rc" -eq 143 ] || { cat err.txt >&2; fail "exit status $rc, expected 143 (SIGTERM)"; }
}

# ------------------------------------------------------------ file targets

@test "mig-load file:out.ndjson twice: records appended" {
	records 2 >a.ndjson
	records 2 3 >b.ndjson
	run --separate-stderr mig-load -i a.ndjson file:out.ndjson
	status_is 0
	load_summary 2 2 0 0
	run --separate-stderr mig-load -i b.ndjson file:out.ndjson
	status_is 0
	cat a.ndjson b.ndjson >want.ndjson
	same_json out.ndjson want.ndjson
}

@test "mig-load --truncate file:out.ndjson: starts empty" {
	records 2 >a.ndjson
	records 2 3 >b.ndjson
	run --separate-stderr mig-load -i a.ndjson file:out.ndjson
	status_is 0
	run --separate-stderr mig-load --truncate -i b.ndjson file:out.ndjson
	status_is 0
	same_json out.ndjson b.ndjson
}

@test "mig-load --truncate file:out.ndjson with empty input: the file is emptied" {
	records 2 >out.ndjson
	run --separate-stderr mig-load --truncate file:out.ndjson </dev/null
	status_is 0
	[ -e out.ndjson ] && [ ! -s out.ndjson ] || fail "out.ndjson not emptied ($(wc -c <out.ndjson) bytes)"
}

@test "mig-load out.ndjson: a bare path is a file target" {
	records 3 >in.ndjson
	run --separate-stderr mig-load -i in.ndjson out.ndjson
	status_is 0
	same_json out.ndjson in.ndjson
}

@test "mig-load out.ndjson.zst: compressed, appended as further frames" {
	records 100 >a.ndjson
	records 100 101 >b.ndjson
	run --separate-stderr mig-load -i a.ndjson out.ndjson.zst
	status_is 0
	zstd -t -q out.ndjson.zst || fail "not a zstd file"
	run --separate-stderr mig-load -i b.ndjson out.ndjson.zst
	status_is 0
	zstd -dc out.ndjson.zst >got.ndjson
	cat a.ndjson b.ndjson >want.ndjson
	same_json got.ndjson want.ndjson
}

@test "mig-load -: records to standard output, summary to stderr" {
	records 3 >in.ndjson
	run --separate-stderr mig-load - <in.ndjson
	status_is 0
	same_json_text "$output" in.ndjson
	load_summary 3 3 0 0
}

@test "mig-load file target with --reject: the bad line rejected, the good appended" {
	bad_input '[2]'
	run --separate-stderr mig-load --reject rej.ndjson -i in.ndjson file:out.ndjson
	status_is 0
	load_summary 3 2 0 1
	ndjson want.ndjson '{"id":1,"name":"a"}' '{"id":3,"name":"c"}'
	same_json out.ndjson want.ndjson
	jq_true rej.ndjson '.line == 2'
}

@test "mig-load: a batch also ends at 64 MiB of record text" {
	# 100 records of 1 MiB: 64 of them reach 64 MiB, the other 36 make a second batch
	s=$(head -c 1048576 /dev/zero | tr '\0' x)
	for i in $(seq 100); do printf '{"id":%d,"s":"%s"}\n' "$i" "$s"; done >in.ndjson
	run --separate-stderr mig-load --create --batch-size 1000 --report r.json -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	report_is r.json batches 2
	[ "$(sql x.db 'SELECT count(*), sum(length(s)) FROM t')" = "100|104857600" ] || fail "rows"
}
