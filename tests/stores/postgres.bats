#!/usr/bin/env bats
# servers: postgres
#
# The PostgreSQL backend against a real server (tests/servers/postgres,
# started by tests/run.sh, which exports MIG_PG_URL, PGHOST, PGPORT, PGUSER,
# PGDATABASE and MIG_PG_DATADIR).  Each test works in a schema of its own,
# dropped afterwards.  The store is set up and inspected with psql,
# independently of mig; mig-extract and mig-load come from PATH.

load ../cli/helpers

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	export LC_ALL=C.UTF-8
	if [ -n "${MIG_BIN:-}" ]; then
		PATH=$MIG_BIN:$PATH
	fi
	[ -n "${MIG_PG_URL:-}" ] || skip "no server: MIG_PG_URL is not set (tests/run.sh starts one)"
	S=mig_t$BATS_TEST_NUMBER
	L="$MIG_PG_URL#$S"
	pgq "DROP SCHEMA IF EXISTS $S CASCADE; CREATE SCHEMA $S"
}

teardown() {
	if [ -n "${bg_pid:-}" ]; then
		kill -KILL "$bg_pid" 2>/dev/null || true
		wait "$bg_pid" 2>/dev/null || true
	fi
	if [ -n "${server_stopped:-}" ]; then
		server_start || true
	fi
	[ -z "${S:-}" ] || pgq "DROP SCHEMA IF EXISTS $S CASCADE" || true
}

# pgq SQL: runs SQL with psql in the test's schema, unaligned, no header.
pgq() {
	PGTZ=UTC PGOPTIONS="-c search_path=${S:-public},public -c client_min_messages=warning" \
		psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}

# checksum TABLE: an md5 of the whole table's text, in id order.
checksum() {
	pgq "SELECT md5(string_agg(x::text, E'\\n' ORDER BY id)) FROM $1 x"
}

# same_table A B: A and B hold the same rows (md5 in id order, EXCEPT ALL both ways).
same_table() {
	local a b d
	a=$(checksum "$1")
	b=$(checksum "$2")
	# rows compared by their text (json has no equality operator; text is
	# the stricter test anyway)
	d=$(pgq "SELECT (SELECT count(*) FROM (SELECT x::text FROM $1 x EXCEPT ALL SELECT y::text FROM $2 y) p) +
		(SELECT count(*) FROM (SELECT y::text FROM $2 y EXCEPT ALL SELECT x::text FROM $1 x) q)")
	if [ "$a" != "$b" ] || [ "$d" != 0 ]; then
		pgq "SELECT x::text FROM $1 x ORDER BY id" | cut -c1-300 >&2
		echo '# ---' >&2
		pgq "SELECT x::text FROM $2 x ORDER BY id" | cut -c1-300 >&2
		fail "$1 and $2 differ ($d rows differ; md5 $a vs $b)"
	fi
}

rows_are() {
	local n
	n=$(pgq "SELECT count(*) FROM $1")
	[ "$n" = "$2" ] || fail "$1 has $n rows, expected $2"
}

# The server's own tools, run as the owner of its data directory.
as_server() {
	local owner
	owner=$(stat -c %U "$MIG_PG_DATADIR")
	if [ "$(id -un)" = "$owner" ]; then
		(cd / && "$@")
	else
		(cd / && runuser -u "$owner" -- "$@")
	fi
}

pg_ctl_bin() {
	echo "/usr/lib/postgresql/$(cat "$MIG_PG_DATADIR/PG_VERSION")/bin/pg_ctl"
}

server_stop() {
	server_stopped=1
	as_server "$(pg_ctl_bin)" -D "$MIG_PG_DATADIR" -m fast -w -t 30 stop >/dev/null
}

# (fd 3 closed: bats waits for every holder of its TAP output to exit, and
# the server outlives the test)
server_start() {
	as_server "$(pg_ctl_bin)" -D "$MIG_PG_DATADIR" -o "-p $PGPORT" \
		-l "$(dirname "$MIG_PG_DATADIR")/postgres.log" -w -t 60 start >/dev/null 3>&- &&
		server_stopped=
}

# wait_pg_rows TABLE N: polls until TABLE has at least N rows (20 s at most).
wait_pg_rows() {
	local i n=0
	for i in $(seq 200); do
		n=$(pgq "SELECT count(*) FROM $1" 2>/dev/null) || n=0
		[ "${n:-0}" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 never reached $2 rows (has ${n:-0})"
}

# pgs: runs the SQL on stdin, as pgq does.
pgs() {
	PGTZ=UTC PGOPTIONS="-c search_path=${S:-public},public -c client_min_messages=warning" \
		psql -X -q -v ON_ERROR_STOP=1 -At -f -
}

# The table of every type the issue names: row 1 typical values, row 2
# NULLs, row 3 edges and multi-MB values, row 4 other edges.
make_every() {
	pgs <<'EOF'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pt AS (x int, label text, m mood, tags text[]);
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE every (
	id int PRIMARY KEY,
	i2 smallint, i4 integer, i8 bigint, o oid,
	nu numeric, nu2 numeric(12,2),
	f4 real, f8 double precision,
	b boolean,
	t text, vc varchar(20), ch char(5), nm name,
	tstz timestamptz, ts timestamp, d date, tm time, ttz timetz, iv interval,
	u uuid, by bytea, j json, jb jsonb,
	ia int[], ta text[], ma int[][], ea mood[], ca pt[], comp pt, e mood,
	ip inet, net cidr, mac macaddr, tsv tsvector, m money, r int4range, dom posint);
INSERT INTO every VALUES
(1, -32768, 2147483647, 9223372036854775807, 4294967295,
 '1234567890123456789012345678.123456', 12.50,
 3.25, 0.1, true,
 E'h\u00e9llo \U0001F389 \u4e16\u754c tab\there nl\nhere cr\rhere back\\slash "q" ''s',
 'varchar', 'ab', 'a name',
 '2024-05-01 10:00:00.123456+02', '2024-05-01 10:00:00.654321', '2024-02-29',
 '23:59:59.999999', '10:00:00+05:30', '1 year 2 mons 3 days 04:05:06.789',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x00ff5c0a0d09',
 '{"a":1,"b":[true,null,"x"],"c":{"d":"é"}}',
 '{"n": 1.5, "big": 12345678901234567890123, "neg": -7, "s": "x\ty",
   "nested": {"arr": [1, [2, [3]]]}, "emoji": "\ud83c\udf89"}',
 '{1,NULL,3}', '{"a b","c,d","e\"f","g\\h",NULL,"NULL",""}',
 '{{1,2},{3,NULL}}', '{sad,happy}',
 ARRAY[ROW(1, 'a "b", c', 'ok', '{x,"y z"}')::pt, NULL, ROW(NULL, '', NULL, '{}')::pt],
 ROW(2, E'q"uo\\te (paren), comma', 'sad', '{NULL,"NULL",""}'), 'happy',
 '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', 'a fat cat sat', 12.34, '[1,5)', 42);
INSERT INTO every (id) VALUES (2);
INSERT INTO every VALUES
(3, 0, 0, -9223372036854775808, 0, 'NaN', -0.01, 'NaN', '-Infinity', false,
 repeat(E'ab\U0001F389', 1000000), '', '', '',
 '0044-03-15 12:00:00.5+00 BC', 'infinity', '0001-01-01 BC', '00:00', '00:00-12',
 '-3 days', '00000000-0000-0000-0000-000000000000', decode(repeat('00ff', 1000000), 'hex'),
 '[]', (SELECT jsonb_agg(g) FROM generate_series(1, 200000) g),
 '{}', '{}', '{}', '{}', '{}', ROW(NULL, NULL, NULL, NULL), 'sad',
 '::1', '::/0', 'ff:ff:ff:ff:ff:ff', '', -0.5, 'empty', 1),
(4, 1, 1, 1, 1, '-0.000000000000000000001', 1, 'Infinity', 1e308, true,
 'x', 'x', 'x', 'x', '-infinity', '1970-01-01 00:00:00', 'infinity', '24:00', '23:00+14',
 'PT0S', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '', '"a string"', '{"k": {}}',
 '{NULL}', '{NULL,NULL}', '{{{1}},{{2}}}', '{happy}', '{}', ROW(1, 'x', 'ok', '{a}'), 'ok',
 '10.1.2.3', '10.1.2.0/24', '00:00:00:00:00:00', 'z', 0, '(,)', 7);
EOF
}

# ----------------------------------------------------------------- types

@test "postgres: every type round-trips table -> NDJSON -> new table unchanged" {
	make_every
	run --separate-stderr mig-extract "$L.every"
	status_is 0
	printf '%s\n' "$output" >every.ndjson
	[ "$(wc -l <every.ndjson)" = 4 ] || fail "expected 4 lines"
	stderr_has "4 records"
	pgq "CREATE TABLE copy (LIKE every INCLUDING ALL)"
	run --separate-stderr mig-load "$L.copy" -i every.ndjson
	status_is 0
	load_summary 4 4 0 0
	same_table every copy
}

@test "postgres: extract maps each type to its documented JSON form" {
	make_every
	mig-extract -q "$L.every" --order-by id >every.ndjson
	sed -n 1p every.ndjson >r1.json
	sed -n 3p every.ndjson >r3.json
	sed -n 4p every.ndjson >r4.json
	jq_true r1.json '.i2 == -32768 and .i4 == 2147483647 and .o == 4294967295'
	grep -q '"i8":9223372036854775807,' r1.json || fail "int8 not exact"
	jq_true r1.json '.nu == {"$numberDecimal": "1234567890123456789012345678.123456"}'
	jq_true r1.json '.nu2 == {"$numberDecimal": "12.50"} and .f4 == 3.25 and .f8 == 0.1 and .b == true'
	jq_true r1.json '.t == "h\u00e9llo \ud83c\udf89 \u4e16\u754c tab\there nl\nhere cr\rhere back\\slash \"q\" \u0027s"'
	jq_true r1.json '.ch == "ab   " and .vc == "varchar" and .nm == "a name"'
	jq_true r1.json '.tstz == {"$date": "2024-05-01T08:00:00.123456Z"}'
	jq_true r1.json '.ts == {"$date": "2024-05-01T10:00:00.654321Z"}'
	jq_true r1.json '.d == "2024-02-29" and .tm == "23:59:59.999999" and .ttz == "10:00:00+05:30"'
	jq_true r1.json '.iv == "P1Y2M3DT4H5M6.789S" and .u == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'
	jq_true r1.json '.by == {"$binary": {"base64": "AP9cCg0J", "subType": "00"}}'
	jq_true r1.json '.j == {"a": 1, "b": [true, null, "x"], "c": {"d": "\u00e9"}}'
	jq_true r1.json '.jb.big == {"$numberDecimal": "12345678901234567890123"} and .jb.n == 1.5'
	jq_true r1.json '.jb.nested.arr == [1, [2, [3]]] and .jb.emoji == "\ud83c\udf89" and .jb.s == "x\ty"'
	jq_true r1.json '.ia == [1, null, 3] and .ta == ["a b", "c,d", "e\"f", "g\\h", null, "NULL", ""]'
	jq_true r1.json '.ma == [[1, 2], [3, null]] and .ea == ["sad", "happy"] and .e == "happy"'
	jq_true r1.json '.ca == [{"x": 1, "label": "a \"b\", c", "m": "ok", "tags": ["x", "y z"]}, null,
		{"x": null, "label": "", "m": null, "tags": []}]'
	jq_true r1.json '.comp == {"x": 2, "label": "q\"uo\\te (paren), comma", "m": "sad", "tags": [null, "NULL", ""]}'
	jq_true r1.json '.ip == "192.168.0.1/24" and .net == "10.0.0.0/8" and .mac == "08:00:2b:01:02:03"'
	jq_true r1.json '.tsv == "\u0027a\u0027 \u0027cat\u0027 \u0027fat\u0027 \u0027sat\u0027" and .m == "$12.34"'
	jq_true r1.json '.r == "[1,5)" and .dom == 42'
	jq_true r3.json '.f4 == {"$numberDouble": "NaN"} and .f8 == {"$numberDouble": "-Infinity"}'
	jq_true r3.json '.nu == {"$numberDecimal": "NaN"} and .ts == "infinity" and .d == "0001-01-01 BC"'
	jq_true r3.json '.tstz | has("$date")'
	jq_true r3.json '(.t | length) == 3000000 and .ia == [] and .ma == [] and (.jb | length) == 200000'
	jq_true r3.json '.by["$binary"].base64 | length == 2666668'
	jq_true r4.json '.f4 == {"$numberDouble": "Infinity"} and .f8 == 1e308 and .tstz == "-infinity"'
	jq_true r4.json '.ts == {"$date": "1970-01-01T00:00:00.000Z"} and .j == "a string" and .jb == {"k": {}}'
	jq_true r4.json '.ta == [null, null] and .ma == [[[1]], [[2]]] and .comp.tags == ["a"]'
	jq_true r4.json '.nu == {"$numberDecimal": "-0.000000000000000000001"} and .by == {"$binary": {"base64": "", "subType": "00"}}'
}

@test "postgres: numerics of any precision keep every digit" {
	# The record stream's $numberDecimal is as wide as PostgreSQL's numeric
	# only if lib/value.c accepts more than Decimal128's 34 digits.
	if ! echo '{"a":{"$numberDecimal":"12345678901234567890123456789012345"}}' |
		mig-load -q file:/dev/null 2>/dev/null; then
		skip "lib/value.c limits \$numberDecimal to Decimal128 (34 digits)"
	fi
	pgq "CREATE TABLE n (id int PRIMARY KEY, v numeric, j jsonb);
		INSERT INTO n VALUES (1, '123456789012345678901234567890.123456789012345678901234567890',
		'{\"x\": 0.12345678901234567890123456789012345678901234567890}')"
	mig-extract -q "$L.n" >n.ndjson
	grep -qF '"v":{"$numberDecimal":"123456789012345678901234567890.123456789012345678901234567890"}' n.ndjson ||
		fail "$(cat n.ndjson)"
	pgq "CREATE TABLE m (LIKE n)"
	run --separate-stderr mig-load "$L.m" -i n.ndjson
	status_is 0
	same_table n m
}

@test "postgres: --canonical keeps bigint apart as \$numberLong" {
	pgq "CREATE TABLE n (id int PRIMARY KEY, small int, big bigint);
		INSERT INTO n VALUES (1, 5, 5)"
	run --separate-stderr mig-extract --canonical "$L.n"
	status_is 0
	same_json_text "$output" <(echo '{"id":{"$numberInt":"1"},"small":{"$numberInt":"5"},"big":{"$numberLong":"5"}}')
}

@test "postgres: --describe, then --create --schema, makes the same table" {
	make_every
	run --separate-stderr mig-extract --describe "$L.every"
	status_is 0
	printf '%s\n' "$output" >every.schema.json
	jq_true every.schema.json '."$schema" == "https://json-schema.org/draft/2020-12/schema"'
	jq_true every.schema.json '.required == ["id"] and ."x-mig-primary-key" == ["id"]'
	jq_true every.schema.json '.properties.id == {"type": "integer", "minimum": -2147483648, "maximum": 2147483647, "x-mig-type": "integer"}'
	jq_true every.schema.json '.properties.tstz.type == ["string", "null"] and .properties.tstz.format == "date-time"'
	jq_true every.schema.json '.properties.vc.maxLength == 20 and .properties.e.enum == ["sad", "ok", "happy"]'
	jq_true every.schema.json '.properties.ca.items.properties.tags.items.type == "string"'
	jq_true every.schema.json '.properties.nu2."x-mig-type" == "numeric(12,2)"'
	mig-extract -q "$L.every" >every.ndjson
	run --separate-stderr mig-load --create --schema every.schema.json "$L.copy" -i every.ndjson
	status_is 0
	load_summary 4 4 0 0
	same_table every copy
	a=$(pgq "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || attnotnull, ',' ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = 'every'::regclass AND attnum > 0")
	b=$(pgq "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || attnotnull, ',' ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = 'copy'::regclass AND attnum > 0")
	[ "$a" = "$b" ] || fail "columns differ: $a / $b"
	[ "$(pgq "SELECT count(*) FROM pg_index WHERE indrelid = 'copy'::regclass AND indisprimary")" = 1 ] ||
		fail "no primary key"
}

@test "postgres: --describe names unique constraints, defaults and identity" {
	pgq "CREATE TABLE u (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
		a int, b int, n int DEFAULT 7, UNIQUE (a, b));
		COMMENT ON COLUMN u.email IS 'where we write'"
	run --separate-stderr mig-extract --describe "$L.u"
	status_is 0
	printf '%s\n' "$output" >u.json
	jq_true u.json '."x-mig-unique" == [["email"], ["a", "b"]] and .required == ["id", "email"]'
	jq_true u.json '.properties.id."x-mig-identity" == "always" and .properties.n."x-mig-default" == "7"'
	jq_true u.json '.properties.email.description == "where we write" and .additionalProperties == false'
}

@test "postgres: --create infers column types from the first batch" {
	ndjson in.ndjson \
		'{"id":1,"n":5,"x":1.5,"s":"a","t":{"$date":"2024-01-01T00:00:00Z"},"d":{"$numberDecimal":"1.10"},"b":true,"bin":{"$binary":{"base64":"AQI=","subType":"00"}},"o":{"a":1},"arr":[1,2],"mix":1,"none":null}' \
		'{"id":2,"n":6,"x":2,"s":"b","t":{"$date":"2024-01-02T00:00:00.5Z"},"d":{"$numberDecimal":"2"},"b":false,"bin":null,"o":null,"arr":[],"mix":"one","none":null}'
	run --separate-stderr mig-load --create --key id "$L.inferred" -i in.ndjson
	status_is 0
	load_summary 2 2 0 0
	types=$(pgq "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = 'inferred'::regclass AND attnum > 0")
	[ "$types" = "id:bigint,n:bigint,x:double precision,s:text,t:timestamp with time zone,d:numeric,b:boolean,bin:bytea,o:jsonb,arr:jsonb,mix:jsonb,none:text" ] ||
		fail "types: $types"
	[ "$(pgq "SELECT d::text || ' ' || t::text || ' ' || mix::text FROM inferred WHERE id = 2")" = '2 2024-01-02 00:00:00.5+00 "one"' ] ||
		fail "values: $(pgq 'TABLE inferred')"
	[ "$(pgq "SELECT d::text FROM inferred WHERE id = 1")" = "1.10" ] || fail "decimal scale lost"
}

# ----------------------------------------------------------------- rejects

@test "postgres: a string holding \\u0000 is rejected with a reason, the rest load" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, s text, j jsonb, js json)"
	ndjson in.ndjson '{"id":1,"s":"a"}' '{"id":2,"s":"nul\u0000here"}' '{"id":3,"j":{"k":"x\u0000"}}' \
		'{"id":4,"js":{"k":"x\u0000"}}' '{"id":5,"s":"e"}'
	run --separate-stderr mig-load --reject rej.ndjson "$L.t" -i in.ndjson
	status_is 0
	load_summary 5 3 0 2
	rows_are t 3
	[ "$(wc -l <rej.ndjson)" = 2 ] || fail "expected 2 rejects"
	jq_true rej.ndjson 'map(select(.line == 2))[0] | .record.id == 2 and
		(.error | contains("field s: PostgreSQL text cannot hold the NUL character"))' -s
	jq_true rej.ndjson 'map(select(.line == 3))[0].error | contains("field j: jsonb cannot hold")' -s
	[ "$(pgq "SELECT js::text FROM t WHERE id = 4")" = '{"k":"x\u0000"}' ] || fail "json keeps \\u0000"
}

@test "postgres: a value that does not fit its column is a reject with the server's message" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, c varchar(3), CHECK (n >= 0))"
	ndjson in.ndjson '{"id":1,"n":1}' '{"id":2,"n":"abc"}' '{"id":3,"n":-1}' '{"id":4,"n":1,"c":"toolong"}' \
		'{"id":5,"n":null}' '{"id":6,"n":2,"zz":1}' '{"id":7,"n":3.0}' '{"id":1,"n":9}' '{"id":8,"n":4}'
	run --separate-stderr mig-load --reject rej.ndjson "$L.t" -i in.ndjson
	status_is 0
	load_summary 9 3 0 6
	[ "$(pgq "SELECT string_agg(id || '=' || n, ',' ORDER BY id) FROM t")" = "1=1,7=3,8=4" ] ||
		fail "rows: $(pgq 'TABLE t')"
	jq -c '[.line, .code, .error]' rej.ndjson >got
	grep -qF '[2,"22P02","in.ndjson:2: column n: invalid input syntax for type integer: \"abc\""]' got ||
		fail "$(cat got)"
	grep -qF '[3,"23514",' got || fail "check: $(cat got)"
	grep -qF '[4,"22001",' got || fail "varchar: $(cat got)"
	grep -qF '[5,"23502",' got || fail "not null: $(cat got)"
	grep -qF '[6,null,"in.ndjson:6: field zz: '"$S"'.t has no such column"]' got || fail "unknown: $(cat got)"
	grep -qF '[8,"23505","in.ndjson:8: duplicate key value violates unique constraint' got || fail "dup: $(cat got)"
}

@test "postgres: without --reject the first bad record stops the load (exit 1)" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, n int)"
	ndjson in.ndjson '{"id":1,"n":1}' '{"id":2,"n":"abc"}' '{"id":3,"n":3}'
	run --separate-stderr mig-load "$L.t" -i in.ndjson
	status_is 1
	stderr_has 'invalid input syntax for type integer: "abc"'
}

@test "postgres: a bad record in the middle of 10,000 is the only one rejected" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, v int, s text)"
	awk 'BEGIN { for (i = 1; i <= 10000; i++)
		if (i == 5000) printf("{\"id\":%d,\"v\":\"bad\",\"s\":\"s%d\"}\n", i, i)
		else printf("{\"id\":%d,\"v\":%d,\"s\":\"s%d\"}\n", i, i, i) }' >in.ndjson
	run --separate-stderr mig-load --batch-size 1000 --reject rej.ndjson --report rep.json "$L.t" -i in.ndjson
	status_is 0
	load_summary 10000 9999 0 1
	rows_are t 9999
	[ "$(pgq "SELECT count(*) FROM t WHERE id = 5000")" = 0 ] || fail "the bad row is there"
	[ "$(pgq "SELECT sum(v) FROM t")" = $((50005000 - 5000)) ] || fail "sum"
	jq_true rej.ndjson '.line == 5000 and .code == "22P02" and .record.id == 5000'
	report_is rep.json rejected 1
	report_is rep.json inserted 9999
}

@test "postgres: duplicates in a batch are rejected one by one, the rest committed" {
	pgq "CREATE TABLE t (id int PRIMARY KEY)"
	awk 'BEGIN { for (i = 1; i <= 3000; i++) print "{\"id\":" (i % 1000 == 0 ? 1 : i) "}" }' >in.ndjson
	run --separate-stderr mig-load --reject rej.ndjson "$L.t" -i in.ndjson
	status_is 0
	load_summary 3000 2997 0 3
	rows_are t 2997
	[ "$(jq -r .code rej.ndjson | sort -u)" = 23505 ] || fail "codes"
}

# ----------------------------------------------------------------- modes

@test "postgres: upsert updates the fields present, inserts the rest" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text, b int DEFAULT 7);
		INSERT INTO t VALUES (1, 'one', 1), (2, 'two', 2)"
	ndjson in.ndjson '{"id":1,"a":"ONE"}' '{"id":3,"b":3}' '{"id":3,"a":"three"}'
	run --separate-stderr mig-load --mode upsert --key id "$L.t" -i in.ndjson
	status_is 0
	load_summary 3 1 2 0
	[ "$(pgq "SELECT string_agg(id || ':' || coalesce(a, '-') || ':' || b, ',' ORDER BY id) FROM t")" = \
		"1:ONE:1,2:two:2,3:three:3" ] || fail "$(pgq 'TABLE t')"
}

@test "postgres: replace sets absent columns back to their default" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text, b int DEFAULT 7);
		INSERT INTO t VALUES (1, 'one', 1), (2, 'two', 2)"
	ndjson in.ndjson '{"id":1,"a":"ONE"}' '{"id":4,"a":"four"}'
	run --separate-stderr mig-load --mode replace --key id "$L.t" -i in.ndjson
	status_is 0
	load_summary 2 1 1 0
	[ "$(pgq "SELECT string_agg(id || ':' || coalesce(a, '-') || ':' || b, ',' ORDER BY id) FROM t")" = \
		"1:ONE:7,2:two:2,4:four:7" ] || fail "$(pgq 'TABLE t')"
}

@test "postgres: merge keeps the fields a record lacks; a compound key works" {
	pgq "CREATE TABLE t (k1 text, k2 int, a text, b text, PRIMARY KEY (k1, k2));
		INSERT INTO t VALUES ('x', 1, 'a', 'b')"
	ndjson in.ndjson '{"k1":"x","k2":1,"b":"B"}' '{"k1":"x","k2":2,"a":"new"}'
	run --separate-stderr mig-load --mode merge --key k1,k2 "$L.t" -i in.ndjson
	status_is 0
	load_summary 2 1 1 0
	[ "$(pgq "SELECT string_agg(k1 || k2 || ':' || coalesce(a, '-') || ':' || coalesce(b, '-'), ',' ORDER BY k2) FROM t")" = \
		"x1:a:B,x2:new:-" ] || fail "$(pgq 'TABLE t')"
}

@test "postgres: upsert applies a batch in input order, even across field sets" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text, b int)"
	# change events with partial updates: the last word on each key wins
	ndjson in.ndjson '{"id":3,"a":"x"}' '{"id":3,"a":"y","b":1}' '{"id":3,"a":"z"}' \
		'{"id":4,"b":4}' '{"id":4,"a":"w","b":5}' '{"id":4,"b":6}'
	run --separate-stderr mig-load --mode upsert --key id "$L.t" -i in.ndjson
	status_is 0
	load_summary 6 2 4 0
	[ "$(pgq "SELECT string_agg(id || ':' || a || ':' || b, ',' ORDER BY id) FROM t")" = "3:z:1,4:w:6" ] ||
		fail "$(pgq 'TABLE t')"
}

@test "postgres: upsert rejects what the table refuses and writes the rest" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, CHECK (n < 100));
		INSERT INTO t VALUES (1, 1), (2, 2)"
	awk 'BEGIN { for (i = 1; i <= 1000; i++) {
		if (i == 300) print "{\"id\":" i ",\"n\":\"abc\"}"
		else if (i == 600) print "{\"id\":" i ",\"n\":500}"
		else if (i == 2) print "{\"id\":2,\"n\":null}"
		else print "{\"id\":" i ",\"n\":" (i % 100) "}" } }' >in.ndjson
	run --separate-stderr mig-load --mode upsert --key id --reject rej.ndjson "$L.t" -i in.ndjson
	status_is 0
	load_summary 1000 996 1 3
	rows_are t 998
	jq -c '[.line, .code]' rej.ndjson | sort >got
	printf '%s\n' '[2,"23502"]' '[300,"22P02"]' '[600,"23514"]' >want
	cmp got want || fail "rejects: $(cat rej.ndjson)"
	[ "$(pgq "SELECT n FROM t WHERE id = 2")" = 2 ] || fail "the refused update went in"
}

@test "postgres: --on-conflict skip and fail" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'one')"
	ndjson in.ndjson '{"id":1,"a":"ONE"}' '{"id":2,"a":"two"}'
	run --separate-stderr mig-load --on-conflict skip "$L.t" -i in.ndjson
	status_is 0
	stderr_has "1 inserted, 0 updated, 1 skipped, 0 rejected"
	[ "$(pgq "SELECT a FROM t WHERE id = 1")" = one ] || fail "overwritten"
	ndjson in2.ndjson '{"id":2,"a":"TWO"}' '{"id":3,"a":"three"}'
	run --separate-stderr mig-load --on-conflict fail --reject rej.ndjson "$L.t" -i in2.ndjson
	status_is 0
	load_summary 2 1 0 1
	jq_true rej.ndjson '.code == "23505" and .record.id == 2'
	[ "$(pgq "SELECT string_agg(id || a, ',' ORDER BY id) FROM t")" = "1one,2two,3three" ] || fail "$(pgq 'TABLE t')"
	# an updating mode that may not update is refused, as by the other backends
	for mode in upsert replace merge; do
		run --separate-stderr mig-load --mode $mode --key id --on-conflict fail "$L.t" -i in2.ndjson
		status_is 2
		stderr_has "--on-conflict fail contradicts --mode $mode"
	done
	[ "$(pgq "SELECT string_agg(id || a, ',' ORDER BY id) FROM t")" = "1one,2two,3three" ] || fail "$(pgq 'TABLE t')"
}

@test "postgres: merge and upsert update only the columns a partial record holds" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, c int, d text NOT NULL DEFAULT 'x');
		INSERT INTO t VALUES (1, 'a', 1, 'p'), (2, 'b', 2, 'q'), (3, 'c', 3, 'r')"
	# id 9 is new and lacks name: rejected with the server's message; id 1
	# twice in a batch: the last wins
	ndjson in.ndjson '{"id":1,"c":10}' '{"id":2,"c":20}' '{"id":9,"c":90}' \
		'{"id":8,"c":80,"name":"new"}' '{"id":1,"c":11}'
	for mode in merge upsert; do
		run --separate-stderr mig-load --mode $mode --key id --reject rej.ndjson "$L.t" -i in.ndjson
		status_is 0
		if [ $mode = merge ]; then load_summary 5 1 3 1; else load_summary 5 0 4 1; fi
		jq_true rej.ndjson '.code == "23502" and .record.id == 9 and (.error | test("null value in column \"name\""))'
	done
	[ "$(pgq "SELECT string_agg(id || ':' || name || ':' || c || ':' || d, ',' ORDER BY id) FROM t")" = \
		"1:a:11:p,2:b:20:q,3:c:3:r,8:new:80:x" ] || fail "$(pgq 'TABLE t')"
}

@test "postgres: --mode update updates existing rows only, and rejects a key it does not find" {
	pgq "CREATE TABLE t (id int, k2 text, name text NOT NULL, c int, PRIMARY KEY (id, k2));
		INSERT INTO t VALUES (1, 'x', 'a', 1), (2, 'x', 'b', 2)"
	ndjson in.ndjson '{"id":1,"k2":"x","c":10}' '{"id":7,"k2":"x","c":70}' \
		'{"id":2,"k2":"x","name":"B"}' '{"id":2,"k2":"y","c":0}' '{"id":1,"c":3}'
	run --separate-stderr mig-load --mode update --key id,k2 --reject rej.ndjson "$L.t" -i in.ndjson
	status_is 0
	load_summary 5 0 2 3
	jq -c '[.line, .error]' rej.ndjson >got
	printf '%s\n' '[2,"stdin:2: no row with key id=7, k2=\"x\""]' \
		'[4,"stdin:4: no row with key id=2, k2=\"y\""]' '[5,"stdin:5: key field k2 is missing"]' >want
	sed -i 's/in\.ndjson:/stdin:/' got
	diff got want || fail "rejects: $(cat rej.ndjson)"
	[ "$(pgq "SELECT string_agg(id || k2 || ':' || name || ':' || c, ',' ORDER BY id) FROM t")" = \
		"1x:a:10,2x:B:2" ] || fail "$(pgq 'TABLE t')"
	# without --reject, the first key not found stops the load (exit 1)
	ndjson in2.ndjson '{"id":5,"k2":"x","c":1}'
	run --separate-stderr mig-load --mode update --key id,k2 "$L.t" -i in2.ndjson
	status_is 1
	stderr_has "no row with key id=5"
	# a dry run counts the same and writes nothing
	run --separate-stderr mig-load --mode update --key id,k2 --dry-run --reject rej2.ndjson "$L.t" -i in.ndjson
	status_is 0
	stderr_has "5 read, 0 would be inserted, 2 would be updated, 0 skipped, 3 rejected"
	[ "$(pgq "SELECT string_agg(id || k2 || ':' || name || ':' || c, ',' ORDER BY id) FROM t")" = \
		"1x:a:10,2x:B:2" ] || fail "$(pgq 'TABLE t')"
}

@test "postgres: --mode delete deletes by key and counts what it did not find" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL);
		CREATE TABLE child (id int PRIMARY KEY, t_id int REFERENCES t (id));
		INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 10) g;
		INSERT INTO child VALUES (1, 5)"
	# other fields are ignored, a key repeated is found once; 5 is referred to
	ndjson in.ndjson '{"id":3,"name":"whatever","nocolumn":1}' '{"id":77}' '{"id":3}' \
		'{"id":4}' '{"id":5}' '{"name":"n6"}'
	run --separate-stderr mig-load --mode delete --key id --dry-run --reject rej.ndjson "$L.t" -i in.ndjson
	status_is 0
	stderr_has "6 read, 2 would be deleted, 2 not found, 2 rejected"
	rows_are t 10
	run --separate-stderr mig-load --mode delete --key id --reject rej.ndjson --report rep.json "$L.t" -i in.ndjson
	status_is 0
	stderr_has "6 read, 2 deleted, 2 not found, 2 rejected"
	jq_true rep.json '.mode == "delete" and .deleted == 2 and .not_found == 2 and .rejected == 2'
	jq -c '[.line, .code]' rej.ndjson >got
	printf '%s\n' '[5,"23503"]' '[6,null]' >want
	diff got want || fail "rejects: $(cat rej.ndjson)"
	[ "$(pgq "SELECT string_agg(id::text, ',' ORDER BY id) FROM t")" = "1,2,5,6,7,8,9,10" ] ||
		fail "$(pgq 'TABLE t')"
	run --separate-stderr mig-load --mode delete --key id --create "$L.t" -i in.ndjson
	status_is 2
	stderr_has "--mode delete cannot go with --create"
}

@test "postgres: --key without a unique index says so" {
	pgq "CREATE TABLE t (id int, a text)"
	ndjson in.ndjson '{"id":1,"a":"x"}'
	run --separate-stderr mig-load --mode upsert --key id "$L.t" -i in.ndjson
	status_is 2
	stderr_has "no primary key or unique index on exactly these columns"
}

@test "postgres: --dry-run writes nothing and counts inserts against updates exactly" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'one'), (2, 'two')"
	ndjson in.ndjson '{"id":1,"a":"x"}' '{"id":3,"a":"y"}' '{"id":4,"a":"z"}' '{"id":5,"a":1,"zz":2}'
	before=$(checksum t)
	run --separate-stderr mig-load --dry-run --mode upsert --key id --reject rej.ndjson "$L.t" -i in.ndjson
	status_is 0
	stderr_has "dry run"
	stderr_matches "2 would be inserted, 1 would be updated"
	[ "$(checksum t)" = "$before" ] || fail "the table changed"
	run --separate-stderr mig-load --dry-run --create "$L.newtable" -i in.ndjson
	status_is 0
	[ "$(pgq "SELECT to_regclass('newtable') IS NULL")" = t ] || fail "dry run created the table"
	run --separate-stderr mig-load --dry-run --truncate "$L.t" -i /dev/null
	status_is 0
	rows_are t 2
}

@test "postgres: --atomic: a load stopped by a bad record leaves nothing" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, n int)"
	awk 'BEGIN { for (i = 1; i <= 2500; i++) print "{\"id\":" i ",\"n\":" (i == 2400 ? "\"x\"" : i) "}" }' >in.ndjson
	run --separate-stderr mig-load --atomic --batch-size 500 "$L.t" -i in.ndjson
	status_is 1
	rows_are t 0
	# without --atomic the batches before, and the rest of the batch that
	# held the bad record, stay committed
	run --separate-stderr mig-load --batch-size 500 "$L.t" -i in.ndjson
	status_is 1
	rows_are t 2499
}

@test "postgres: --truncate and --drop" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'one'), (2, 'two')"
	ndjson in.ndjson '{"id":2,"a":"x"}'
	run --separate-stderr mig-load --truncate "$L.t" -i in.ndjson
	status_is 0
	[ "$(pgq "SELECT string_agg(id || a, ',') FROM t")" = 2x ] || fail "$(pgq 'TABLE t')"
	ndjson in2.ndjson '{"id":"k","b":true}'
	run --separate-stderr mig-load --drop --create "$L.t" -i in2.ndjson
	status_is 0
	[ "$(pgq "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'id'")" = text ] ||
		fail "not recreated"
	run --separate-stderr mig-load "$L.missing" -i in.ndjson
	status_is 3
	stderr_has "no table $S.missing (--create makes it)"
	run --separate-stderr mig-load --drop "$L.t" -i in.ndjson
	status_is 2
	stderr_has "--drop needs --create"
	[ "$(pgq "SELECT to_regclass('t') IS NOT NULL")" = t ] || fail "dropped anyway"
}

@test "postgres: --create adds columns for fields that appear in later batches" {
	ndjson in.ndjson '{"id":1,"a":"x"}' '{"id":2,"a":"y"}' '{"id":3,"b":1.5}' '{"id":4,"c":{"$date":"2024-01-01T00:00:00Z"}}'
	run --separate-stderr mig-load --create --batch-size 2 "$L.t" -i in.ndjson
	status_is 0
	load_summary 4 4 0 0
	types=$(pgq "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0")
	[ "$types" = "id:bigint,a:text,b:double precision,c:timestamp with time zone" ] || fail "types: $types"
	ndjson in2.ndjson '{"id":1,"zz":true}'
	run --separate-stderr mig-load --reject rej.ndjson "$L.t" -i in2.ndjson
	status_is 0
	jq_true rej.ndjson '.error | contains("field zz: '"$S"'.t has no such column")'
}

@test "postgres: loading explicit ids moves serial and identity sequences past them" {
	pgq "CREATE TABLE t (id serial PRIMARY KEY, g int GENERATED BY DEFAULT AS IDENTITY, a text)"
	ndjson in.ndjson '{"id":10,"g":20,"a":"x"}'
	run --separate-stderr mig-load "$L.t" -i in.ndjson
	status_is 0
	pgq "INSERT INTO t (a) VALUES ('next')"
	[ "$(pgq "SELECT id || ',' || g FROM t WHERE a = 'next'")" = "11,21" ] || fail "$(pgq 'TABLE t')"
}

@test "postgres: an identity GENERATED ALWAYS column loads by COPY and by upsert" {
	pgq "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, a text, g int GENERATED ALWAYS AS (length(a)) STORED)"
	ndjson in.ndjson '{"id":5,"a":"five","g":99}'
	run --separate-stderr mig-load "$L.t" -i in.ndjson
	status_is 0
	ndjson in2.ndjson '{"id":5,"a":"FIVE!"}' '{"id":6,"a":"six"}'
	run --separate-stderr mig-load --mode upsert --key id "$L.t" -i in2.ndjson
	status_is 0
	load_summary 2 1 1 0
	[ "$(pgq "SELECT string_agg(id || a || g, ',' ORDER BY id) FROM t")" = "5FIVE!5,6six3" ] || fail "$(pgq 'TABLE t')"
}

# ----------------------------------------------------------------- reading

@test "postgres: --shard K/N: three shards are disjoint and cover the table" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text);
		INSERT INTO t SELECT g, 'r' || g FROM generate_series(1, 3000) g;
		CREATE TABLE c (k1 text, k2 date, PRIMARY KEY (k1, k2));
		INSERT INTO c SELECT 'k' || (g % 7), date '2024-01-01' + g FROM generate_series(1, 1000) g;
		CREATE TABLE nopk (a int) WITH (fillfactor = 10);
		INSERT INTO nopk SELECT g FROM generate_series(1, 20000) g"
	for tbl in t c nopk; do
		: >all.ndjson
		for k in 0 1 2; do
			run --separate-stderr mig-extract --shard $k/3 "$L.$tbl"
			status_is 0
			n=$(printf '%s\n' "$output" | grep -c .)
			[ "$n" -gt 0 ] || fail "shard $k of $tbl is empty"
			printf '%s\n' "$output" >>all.ndjson
		done
		total=$(pgq "SELECT count(*) FROM $tbl")
		[ "$(wc -l <all.ndjson)" = "$total" ] || fail "$tbl: $(wc -l <all.ndjson) records for $total rows"
		[ "$(sort -u all.ndjson | wc -l)" = "$total" ] || fail "$tbl: shards overlap"
		mig-extract -q "$L.$tbl" | sort >whole.ndjson
		sort all.ndjson | cmp - whole.ndjson || fail "$tbl: the shards are not the table"
	done
	run --separate-stderr mig-extract --count --shard 1/3 "$L.t"
	status_is 0
	[ "$output" -gt 0 ] && [ "$output" -lt 3000 ] || fail "count of a shard: $output"
}

@test "postgres: --since with --state: two runs emit every row once, even rows sharing a time" {
	pgq "CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, v text);
		INSERT INTO ev SELECT g, timestamptz '2024-01-01 00:00:00+00' + (g / 3) * interval '1 second', 'v' || g
		FROM generate_series(1, 10) g;
		INSERT INTO ev VALUES (11, NULL, 'no time')"
	run --separate-stderr mig-extract --since at --state st.json --limit 4 "$L.ev"
	status_is 0
	printf '%s\n' "$output" >run1.ndjson
	[ -f st.json.next ] || fail "no st.json.next"
	mv st.json.next st.json
	pgq "INSERT INTO ev VALUES (12, '2024-01-01 00:00:01+00', 'late, same second as others')"
	run --separate-stderr mig-extract --since at --state st.json "$L.ev"
	status_is 0
	printf '%s\n' "$output" >run2.ndjson
	ids=$(cat run1.ndjson run2.ndjson | jq -r .id | sort -n | paste -sd, -)
	[ "$ids" = "1,2,3,4,5,6,7,8,9,10,12" ] || fail "ids: $ids"
	jq -r .id run1.ndjson | paste -sd, - | grep -qx '1,2,3,4' || fail "first run: $(cat run1.ndjson)"
	mv st.json.next st.json
	run --separate-stderr mig-extract --since at --state st.json "$L.ev"
	status_is 0
	[ -z "$output" ] || fail "third run emitted: $output"
}

@test "postgres: --since needs a primary key and a known column" {
	pgq "CREATE TABLE nopk (a int, at timestamptz); CREATE TABLE t (id int PRIMARY KEY, at timestamptz)"
	run --separate-stderr mig-extract --since at --state st.json "$L.nopk"
	status_is 2
	stderr_has "--since needs a primary key"
	run --separate-stderr mig-extract --since nosuch --state st.json "$L.t"
	status_is 2
	stderr_has "--since nosuch: no such column"
}

@test "postgres: --where, --order-by, --limit, --query and --count" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t SELECT g, 'r' || g FROM generate_series(1, 100) g"
	run --separate-stderr mig-extract --where "id % 10 = 0" --order-by "id DESC" --limit 3 "$L.t"
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -r .id | paste -sd, -)" = "100,90,80" ] || fail "$output"
	run --separate-stderr mig-extract --count --where "id > 90" "$L.t"
	status_is 0
	[ "$output" = 10 ] || fail "count $output"
	run --separate-stderr mig-extract --query "SELECT id, a || '!' AS b FROM $S.t WHERE id < 3 ORDER BY id" "$MIG_PG_URL"
	status_is 0
	same_json_text "$output" <(printf '%s\n' '{"id":1,"b":"r1!"}' '{"id":2,"b":"r2!"}')
	run --separate-stderr mig-extract --count --query "SELECT 1 FROM $S.t" "$MIG_PG_URL"
	status_is 0
	[ "$output" = 100 ] || fail "count $output"
	run --separate-stderr mig-extract --where "nosuchcolumn = 1" "$L.t"
	status_is 2
	stderr_has 'column "nosuchcolumn" does not exist'
	run --separate-stderr mig-extract --where "true) TO STDOUT; DROP TABLE $S.t; --" "$L.t"
	[ "$status" -ne 0 ] || fail "accepted a second statement"
	rows_are t 100
}

@test "postgres: --list names tables with row estimates, --count counts exactly" {
	pgq "CREATE TABLE a (id int); INSERT INTO a SELECT generate_series(1, 500);
		CREATE TABLE \"b.c\" (id int); INSERT INTO \"b.c\" VALUES (1), (2); ANALYZE a;
		CREATE VIEW v AS SELECT * FROM a WHERE id <= 10"
	run --separate-stderr mig-extract --list "$MIG_PG_URL"
	status_is 0
	stdout_has "$(printf '%s.a\t500' "$S")"
	stdout_has "$(printf '%s."b.c"\t2' "$S")"
	stdout_has "$(printf '%s.v\t10' "$S")"
	run --separate-stderr mig-extract --count "$MIG_PG_URL#$S.\"b.c\""
	status_is 0
	[ "$output" = 2 ] || fail "count $output"
}

@test "postgres: names with quotes, dots and semicolons are names" {
	pgq "CREATE TABLE x (id int); INSERT INTO x VALUES (1)"
	ndjson in.ndjson '{"id":1,"we\"ird; col":"v1"}' '{"id":2,"we\"ird; col":"v2"}'
	run --separate-stderr mig-load --create --key id "$MIG_PG_URL#$S.a; DROP TABLE x" -i in.ndjson
	status_is 0
	load_summary 2 2 0 0
	rows_are x 1
	[ "$(pgq "SELECT string_agg(\"we\"\"ird; col\", ',' ORDER BY id) FROM \"a; DROP TABLE x\"")" = "v1,v2" ] ||
		fail "$(pgq 'TABLE "a; DROP TABLE x"')"
	run --separate-stderr mig-extract "$MIG_PG_URL#$S.a; DROP TABLE x"
	status_is 0
	same_json_text "$output" in.ndjson
	ndjson in2.ndjson '{"id":2,"we\"ird; col":"V2"}'
	run --separate-stderr mig-load --mode upsert --key id "$MIG_PG_URL#$S.a; DROP TABLE x" -i in2.ndjson
	status_is 0
	load_summary 1 0 1 0
	pgq "CREATE SCHEMA \"$S.sub\"; CREATE TABLE \"$S.sub\".\"t.1\" (id int)"
	ndjson in3.ndjson '{"id":7}'
	run --separate-stderr mig-load "$MIG_PG_URL#\"$S.sub\".\"t.1\"" -i in3.ndjson
	status_is 0
	[ "$(pgq "SELECT id FROM \"$S.sub\".\"t.1\"")" = 7 ] || fail "quoted locator"
	run --separate-stderr mig-extract --since 'x"; DROP TABLE x; --' --state st.json "$MIG_PG_URL#$S.a; DROP TABLE x"
	status_is 2
	rows_are x 1
	pgq "DROP SCHEMA \"$S.sub\" CASCADE"
}

@test "postgres: a wrong server or database is exit 3 with the redacted locator" {
	run --separate-stderr mig-extract "postgres://nobody:s3cret@127.0.0.1:1/db#t"
	status_is 3
	stderr_has "cannot connect"
	has_not "$stderr" "s3cret" stderr
	run --separate-stderr mig-extract "$MIG_PG_URL#$S.nosuch"
	status_is 3
	stderr_has "no table $S.nosuch"
	run --separate-stderr mig-extract --version
	status_is 0
	stdout_matches '^libpq [0-9]+\.[0-9]+$'
}

# ----------------------------------------------------------------- failures

@test "postgres: a lost connection is retried and the load completes without duplicates" {
	pgq "CREATE TABLE t (id int, v text)"   # no key: a duplicate would show
	awk 'BEGIN { for (i = 1; i <= 20000; i++) print "{\"id\":" i ",\"v\":\"r" i "\"}" }' >in.ndjson
	{ head -n 6000 in.ndjson; sleep 3; tail -n +6001 in.ndjson; } |
		mig-load --batch-size 500 --retries 5 "$L.t" 2>err.txt &
	bg_pid=$!
	wait_pg_rows t 6000
	n=$(pgq "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'mig-load' AND datname = current_database()")
	[ "$n" = 1 ] || fail "terminated $n backends"
	wait_exit "$bg_pid"
	bg_pid=
	[ "$rc" = 0 ] || { cat err.txt >&2; fail "mig-load exited $rc"; }
	rows_are t 20000
	[ "$(pgq "SELECT count(DISTINCT id) FROM t")" = 20000 ] || fail "duplicates"
}

@test "postgres: the server gone mid-load: exit 3 naming what was committed" {
	pgq "CREATE TABLE t (id int PRIMARY KEY)"
	awk 'BEGIN { for (i = 1; i <= 5000; i++) print "{\"id\":" i "}" }' >in.ndjson
	{ head -n 3000 in.ndjson; sleep 4; tail -n +3001 in.ndjson; } |
		mig-load --batch-size 1000 --retries 1 "$L.t" 2>err.txt &
	bg_pid=$!
	wait_pg_rows t 3000
	server_stop
	wait_exit "$bg_pid"
	bg_pid=
	[ "$rc" = 3 ] || { cat err.txt >&2; fail "exit $rc, expected 3"; }
	grep -q "3000 records committed before this batch" err.txt || { cat err.txt >&2; fail "message"; }
	server_start
	rows_are t 3000
}

@test "postgres: kill -9 mid-load, then --checkpoint resumes with no gap and no duplicate" {
	pgq "CREATE TABLE t (id int, v text)"
	awk 'BEGIN { for (i = 1; i <= 10000; i++) print "{\"id\":" i ",\"v\":\"r" i "\"}" }' >in.ndjson
	{ head -n 4000 in.ndjson; sleep 30; } |
		mig-load --batch-size 250 --checkpoint ck.json "$L.t" 2>err.txt &
	bg_pid=$!
	wait_pg_rows t 4000
	kill -KILL "$bg_pid"
	wait "$bg_pid" 2>/dev/null || true
	bg_pid=
	run --separate-stderr mig-load --batch-size 250 --checkpoint ck.json "$L.t" -i in.ndjson
	status_is 0
	rows_are t 10000
	[ "$(pgq "SELECT count(DISTINCT id) FROM t")" = 10000 ] || fail "duplicates"
	[ "$(checksum t)" = "$(pgq "SELECT md5(string_agg(x::text, E'\\n' ORDER BY id)) FROM
		(SELECT g AS id, 'r' || g AS v FROM generate_series(1, 10000) g) x")" ] || fail "checksum"
}

# A double with no fraction in a json or jsonb value is written with one
# ("2.0"), so that it reads back as a double, not as the integer 2: jsonb
# keeps the scale it is given.  (PostgreSQL's jsonb makes -0.0 0.0; json
# keeps the text.)
@test "postgres: whole doubles in json and jsonb stay doubles, by either path" {
	pgq "CREATE TABLE t (id int PRIMARY KEY, j jsonb, js json)"
	cat >in.ndjson <<'NDJSON'
{"id":1,"j":{"a":2.0,"b":0.0,"c":-0.0,"d":2,"e":[1.5,3.0]},"js":{"a":2.0,"c":-0.0,"d":2}}
{"id":2,"j":{"a":{"$numberDouble":"3.0"},"b":{"$numberDouble":"-0.0"}},"js":[{"$numberDouble":"1.0"}]}
NDJSON
	for path in text parsed; do
		pgq "TRUNCATE t"
		if [ $path = parsed ]; then
			MIG_PG_NO_TEXT_PATH=1 run --separate-stderr mig-load "$L.t" -i in.ndjson
		else
			run --separate-stderr mig-load "$L.t" -i in.ndjson
		fi
		status_is 0
		[ "$(pgq "SELECT j::text || ' ' || js::text FROM t ORDER BY id")" = \
		  '{"a": 2.0, "b": 0.0, "c": 0.0, "d": 2, "e": [1.5, 3.0]} {"a":2.0,"c":-0.0,"d":2}
{"a": 3.0, "b": 0.0} [1.0]' ] || fail "$path: $(pgq "SELECT j::text || ' ' || js::text FROM t ORDER BY id")"
		mig-extract -q --canonical "$L.t" >out.ndjson
		jq_true out.ndjson 'map(select(.id["$numberInt"] == "1"))[0] |
			.j.a == {"$numberDouble": "2.0"} and .j.d == {"$numberInt": "2"} and
			.js.c == {"$numberDouble": "-0.0"}' -s
	done
}

# ----------------------------------------------------------------- the text path

# mig-load converts most records straight from their JSON text to COPY text
# (lib/backend/pg.c, fast_record); under MIG_PG_NO_TEXT_PATH every record
# goes through Jansson values and to_text.  Both must store exactly the
# same rows and reject the same lines, edge cases included, and so must the
# text path inside one transaction (--atomic: each batch's COPY under a
# savepoint, bisected under savepoints).
@test "postgres: records converted from their text store what parsed records store" {
	pgq "CREATE TABLE a (id int PRIMARY KEY, s text, v varchar(40), i int, b bigint, f float8,
		r real, n numeric, ts timestamptz, tn timestamp, d date, ok boolean, j jsonb, js json,
		arr text[])"
	pgq "CREATE TABLE b (LIKE a INCLUDING ALL)"
	pgq "CREATE TABLE c (LIKE a INCLUDING ALL)"
	cat >in.ndjson <<'NDJSON'
{"id":1,"s":"tab\there","v":"new\nline","i":-0,"b":9223372036854775807,"f":0.1,"r":0.1,"n":1.0,"ok":true}
{"id":2,"s":"back\\slash \"q\" \/ \b\f\r","i":3.0,"b":-9223372036854775808,"f":-0.0,"r":1e-30,"n":-0.0,"ok":false}
{"id":3,"s":"\u00e9\u20ac\ud83d\ude00 é€😀","f":1e308,"r":3.4028234e38,"n":123456789012345678901234567890.123456789}
{"id":4,"f":1e400,"s":"big"}
{"id":5,"f":4.9e-324,"n":12345678901234567890123,"s":"tiny"}
{"id":6,"n":{"$numberDecimal":"-000123.4500"},"s":{"$numberDecimal":"1.5"},"f":{"$numberDecimal":"2.5"}}
{"id":7,"n":{"$numberDecimal":"NaN"},"f":{"$numberDouble":"Infinity"},"r":{"$numberDouble":"NaN"}}
{"id":8,"ts":{"$date":"2024-05-01T10:00:00.123456Z"},"tn":{"$date":"2024-05-01T10:00:00.5+05:30"},"d":{"$date":"2024-02-29T23:59:59.999999-01:00"}}
{"id":9,"ts":{"$date":"0999-12-31T23:59:59Z"},"tn":{"$date":"9999-12-31T23:59:59.999999Z"},"d":{"$date":"1970-01-01T00:00:00Z"}}
{"id":10,"ts":{"$date":"1969-12-31T23:59:59.000001Z"},"tn":{"$date":{"$numberLong":"-62135596800000"}},"s":{"$date":"2024-05-01T10:00:00Z"}}
{"id":11,"j":{"a":"tab\t","b":[1,-0,2.50,1e2,true,null,{"c":"\u0041\u00e9\ud83d\ude00"}],"\u0064":"escaped key"},"js":{"x":[],"y":{}}}
{"id":12,"j":{"n":{"$numberDecimal":"1.10"},"l":{"$numberLong":"5"}},"js":["a\\b","\"q\""],"arr":["x","y,z","q\"u"]}
{"id":13,"j":"just a string","js":12345678901234567890123,"s":["an","array"],"v":{"an":"object"}}
{"id":14,"j":{"dup":1,"dup":2}}
{"id":15,"s":"nul\u0000"}
{"id":16,"j":{"k":"nul\u0000"}}
{"id":17,"ts":{"$date":"not a date"}}
{"id":18,"$bad":1}
{"id":19,"nosuch":1}
{"id":20,"i":"abc"}
{"id":21,"v":"this value is longer than forty characters, far longer"}
{"s":"key order differs","id":22,"ok":null,"i":null}
  { "id" : 23 , "s" : "spaces" , "j" : { "a" : [ 1 , 2 ] } }
{"id":24,"s":"a"} trailing
{"id":25,"s":"bad utf8 ÿ"}
{"id":1,"s":"duplicate key"}
{"id":26,"ok":"true","i":"7","f":"1.5","n":"2.25","ts":"2024-01-01 00:00:00+00"}
{"id":27,"j":{"deep":[[[[[[[[[[[[[[[[[[[[{"x":1}]]]]]]]]]]]]]]]]]]]}}
{"id":28,"j":{"$date":"2024-05-01T10:00:00Z"},"js":{"$oid":"0123456789abcdef01234567"}}
NDJSON
	for bs in 1000 3; do
		pgq "TRUNCATE a; TRUNCATE b; TRUNCATE c"
		run --separate-stderr mig-load --batch-size $bs --reject fast.rej "$L.a" -i in.ndjson
		status_is 0
		MIG_PG_NO_TEXT_PATH=1 run --separate-stderr mig-load --batch-size $bs --reject slow.rej \
			"$L.b" -i in.ndjson
		status_is 0
		run --separate-stderr mig-load --batch-size $bs --atomic --reject atomic.rej "$L.c" -i in.ndjson
		status_is 0
		[ "$(pgq 'SELECT count(*) FROM a')" -ge 15 ] || fail "too few rows: $(pgq 'SELECT id FROM a')"
		same_table a b
		same_table a c
		for r in fast slow atomic; do
			jq -c '[.line, .code, (.error | sub("\\.[abc] "; " ") | sub("\"[abc]_pkey"; "\"t_pkey"))]' \
				$r.rej >$r.got
		done
		diff slow.got fast.got || fail "the rejects differ (batch size $bs)"
		diff atomic.got fast.got || fail "the rejects of --atomic differ (batch size $bs)"
		jq -s -e 'map(select(.line == 20))[0].record.id == 20' fast.rej >/dev/null ||
			fail "a record the server refused is kept as an object in the reject"
	done
}

# mig-extract prints most fields straight from their COPY text
# (lib/backend/pg.c, read_next_text); --state reads go through Jansson
# values and the writer.  Both must print the same bytes: every type, and
# doubles, timestamps and jsonb at the edges of the text path's rules.
@test "postgres: records printed from their text are the bytes printed records are" {
	make_every
	pgs <<'EOF2'
CREATE TABLE edge (id int PRIMARY KEY, f8 float8, f4 real, ts timestamptz, jb jsonb, n numeric, "$t" text);
SELECT setseed(0.5);
INSERT INTO edge (id, f8, f4, ts)
	SELECT g, (random() - 0.5) * 10 ^ (g % 40 - 20), (random() * 10 ^ (g % 12 - 6))::real,
		timestamptz '1960-01-01 00:00:00+00' + random() * interval '100 years'
	FROM generate_series(1, 20000) g;
INSERT INTO edge (id, f8) SELECT 100000 + g, 2 ^ g FROM generate_series(-60, 60) g;
INSERT INTO edge (id, f8) SELECT 200000 + g, 1e12 + g / 16.0 FROM generate_series(0, 200) g;
INSERT INTO edge (id, f8) SELECT 300000 + g, round((random() * 1e6)::numeric, g % 9)::float8
	FROM generate_series(1, 2000) g;
INSERT INTO edge (id, f8, ts) VALUES (400001, 0, '1970-01-01 00:00:00+00'), (400002, '-0', '9999-12-31 23:59:59.999999+00'),
	(400003, 1e15, '10000-01-01 00:00:00+00'), (400004, 999999999999999, '0001-01-01 00:00:00+00'),
	(400005, 123456789012345.6, 'infinity'), (400006, 0.0001, '-infinity'), (400007, 0.00009999999999999999, NULL),
	(400008, 5e-324, '2000-01-01 BC'), (400009, 1.7976931348623157e308, '1969-12-31 23:59:59.999999+00'),
	(400010, 9007199254740993, '2024-05-01 10:00:00+00'), (400011, 0.1 + 0.2, '2024-05-01 10:00:00.001+00'),
	(400012, 'NaN', NULL), (400013, 'Infinity', NULL), (400014, 1e-5, NULL), (400015, 100, NULL);
INSERT INTO edge (id, jb, n) VALUES
	(500001, '{"a": 1.10, "b": 1e2, "c": 0.00001, "d": 0.0001, "e": 12345678901234567890, "f": -0, "g": 123456789012.3456}', 1.10),
	(500002, '{"$date": "2024-05-01T10:00:00Z"}', 'NaN'),
	(500003, '{"x": {"$numberLong": "5"}, "y": [{"$oid": "0123456789abcdef01234567"}]}', '-0.0'),
	(500004, '{"s": "tab\there \"q\" \\ \u0001 é 😀 \u007f", "k\"ey": [], "": {}, "z": [[[]]]}', 1e30),
	(500005, '"just a string"', 0), (500006, '12', 1), (500007, '[1, "2", null, true, false, 0.5]', NULL),
	(500008, (SELECT jsonb_agg(g / 7.0) FROM generate_series(1, 300) g), 3),
	(500009, ('{"deep": ' || repeat('[', 80) || '{"x": 1}' || repeat(']', 80) || '}')::jsonb, 4);
EOF2
	for t in every edge; do
		mig-extract -q "$L.$t" --order-by id >fast.ndjson
		mig-extract -q "$L.$t" --since id --state st.json >slow.ndjson
		[ "$(wc -l <fast.ndjson)" -ge 4 ] || fail "$t: too few lines"
		cmp fast.ndjson slow.ndjson ||
			fail "$t: $(diff fast.ndjson slow.ndjson | cut -c1-300 | head -n 6)"
		rm -f st.json.next
	done
	# a first column named $... would make the record a wrapper: printed records throughout
	pgq "CREATE TABLE dollar (\"\$date\" text, v int); INSERT INTO dollar VALUES ('x', 1)"
	run --separate-stderr mig-extract "$L.dollar"
	status_is 0
	[ "$output" = '{"$date":"x","v":1}' ] || fail "got $output"
}
