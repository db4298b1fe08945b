#!/usr/bin/env bats
# mig-extract(1) as a user meets it: each case is a command line, what it
# prints on stdout and stderr, and its exit status (the contract is
# /tmp/spec/cli.md, "usage: mig-extract").

load helpers

teardown() {
	if [ -n "${bg_pid:-}" ]; then
		kill -KILL "$bg_pid" 2>/dev/null || true
	fi
}

# A small SQLite database made with the sqlite3 CLI, independent of mig:
# table t (3 rows), table u (empty).
make_db() {
	sql "${1:-src.db}" "
		CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL);
		INSERT INTO t VALUES (1, 'ann', 0.5), (2, 'bob', 1.5), (3, 'cy', 2.5);
		CREATE TABLE u (k TEXT);"
}

# ------------------------------------------------------------------ common

@test "mig-extract --help: usage on stdout, exit 0" {
	run --separate-stderr mig-extract --help
	status_is 0
	stdout_has "usage: mig-extract [options] LOCATOR"
	stderr_empty
}

@test "mig-extract -h: the same usage" {
	run --separate-stderr mig-extract -h
	status_is 0
	stdout_has "usage: mig-extract [options] LOCATOR"
}

@test "mig-extract --help: names every option" {
	run --separate-stderr mig-extract --help
	status_is 0
	local o
	for o in --help --version --progress --report --quiet --verbose --query --where \
		--order-by --limit --list --count --describe --canonical --plain --output --max-line; do
		stdout_has "$o"
	done
}

@test "mig-extract --version: mig and library versions, exit 0" {
	run --separate-stderr mig-extract --version
	status_is 0
	stdout_matches '^mig-extract [0-9]+\.[0-9]+\.[0-9]+$'
	stdout_matches '^jansson [0-9]+\.[0-9]+'
	stdout_matches '^libzstd [0-9]+\.[0-9]+\.[0-9]+'
	stdout_matches '^libbson [0-9]+\.[0-9]+\.[0-9]+'
	# the first line is the program's own
	[[ "${lines[0]}" =~ ^mig-extract\ [0-9] ]] || fail "first line is not 'mig-extract VERSION'"
	stdout_matches '^sqlite [0-9]+\.[0-9]+\.[0-9]+'
}

@test "mig-extract --version: the sqlite it reports is the one the sqlite3 CLI links" {
	run --separate-stderr mig-extract --version
	status_is 0
	local v
	v=$(sqlite3 --version | cut -d' ' -f1)
	stdout_has "sqlite $v"
}

@test "mig-extract --frobnicate: unknown option, usage on stderr, exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-extract --frobnicate in.ndjson
	usage_error mig-extract
	stderr_has "frobnicate"
}

@test "mig-extract with no LOCATOR: usage error, exit 2" {
	run --separate-stderr mig-extract
	usage_error mig-extract
}

@test "mig-extract A B: one LOCATOR only, exit 2" {
	records 1 >a.ndjson
	records 1 >b.ndjson
	run --separate-stderr mig-extract a.ndjson b.ndjson
	usage_error mig-extract
}

@test "mig-extract --limit x: not a number, exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-extract --limit x in.ndjson
	usage_error mig-extract
}

@test "mig-extract --max-line lots: not a size, exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-extract --max-line lots in.ndjson
	usage_error mig-extract
}

@test "mig-extract --progress=sometimes: bad WHEN, exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-extract --progress=sometimes in.ndjson
	usage_error mig-extract
}

@test "mig-extract --limit: option without its argument, exit 2" {
	run --separate-stderr mig-extract in.ndjson --limit
	usage_error mig-extract
}

@test "mig-extract --canonical --plain: one or the other, exit 2" {
	records 1 >in.ndjson
	run --separate-stderr mig-extract --canonical --plain in.ndjson
	usage_error mig-extract
}

@test "mig-extract run by its full path: usage errors still say 'mig-extract: '" {
	records 1 >in.ndjson
	run --separate-stderr "$(command -v mig-extract)" --frobnicate in.ndjson
	status_is 2
	stderr_matches '^mig-extract: '
	run --separate-stderr "$(command -v mig-extract)" in.ndjson --limit
	status_is 2
	stderr_matches '^mig-extract: '
}

@test "mig-extract 'bogus://host/db#t': unknown locator scheme, exit 2" {
	run --separate-stderr mig-extract 'bogus://host/db#t'
	status_is 2
	stdout_empty
	stderr_matches '^mig-extract: '
	stderr_has "bogus"
}

@test "mig-extract env:UNSET_VAR: the locator cannot be resolved, exit 2" {
	unset MIG_NO_SUCH_VAR
	run --separate-stderr mig-extract env:MIG_NO_SUCH_VAR
	status_is 2
	stdout_empty
	stderr_has "MIG_NO_SUCH_VAR"
}

# ------------------------------------------------------------- file sources

@test "mig-extract in.ndjson: the records on stdout, summary on stderr" {
	ndjson in.ndjson '{"id":1,"name":"ann"}' '{"id":2,"name":"bob","tags":["x","y"]}' '{"id":3,"nested":{"a":{"b":null}}}'
	run --separate-stderr mig-extract in.ndjson
	status_is 0
	[ "${#lines[@]}" -eq 3 ] || fail "expected 3 lines on stdout"
	same_json_text "$output" in.ndjson
	stderr_matches '^mig-extract: .*in\.ndjson.*: 3 records in '
}

@test "mig-extract writes compact NDJSON: one object per line" {
	printf '{ "id" : 1,\t"name" : "ann" }\n{"id":2}\n' >in.ndjson
	run --separate-stderr mig-extract in.ndjson
	status_is 0
	[ "${#lines[@]}" -eq 2 ] || fail "expected 2 lines"
	[ "${lines[0]}" = '{"id":1,"name":"ann"}' ] || fail "line 1 is not compact"
	[ "${lines[1]}" = '{"id":2}' ] || fail "line 2 is not compact"
}

@test "mig-extract file:in.ndjson: the file: scheme" {
	records 3 >in.ndjson
	run --separate-stderr mig-extract file:in.ndjson
	status_is 0
	same_json_text "$output" in.ndjson
}

@test "mig-extract in.ndjson.zst: zstd input decompressed by suffix" {
	records 500 >in.ndjson
	zstd -q in.ndjson -o in.ndjson.zst
	run --separate-stderr mig-extract in.ndjson.zst
	status_is 0
	[ "${#lines[@]}" -eq 500 ] || fail "expected 500 lines, got ${#lines[@]}"
	same_json_text "$output" in.ndjson
	stderr_has "500 records"
}

@test "mig-extract -: reads standard input" {
	records 4 >in.ndjson
	run --separate-stderr mig-extract - <in.ndjson
	status_is 0
	same_json_text "$output" in.ndjson
}

@test "mig-extract --limit 2: at most two records" {
	records 5 >in.ndjson
	run --separate-stderr mig-extract --limit 2 in.ndjson
	status_is 0
	head -2 in.ndjson >want.ndjson
	same_json_text "$output" want.ndjson
}

@test "mig-extract --limit 10 of 3 records: all three" {
	records 3 >in.ndjson
	run --separate-stderr mig-extract --limit 10 in.ndjson
	status_is 0
	same_json_text "$output" in.ndjson
}

@test "mig-extract --limit 0: no records" {
	records 3 >in.ndjson
	run --separate-stderr mig-extract --limit 0 in.ndjson
	status_is 0
	stdout_empty
}

@test "mig-extract -o out.ndjson: records in the file, nothing on stdout" {
	records 3 >in.ndjson
	run --separate-stderr mig-extract -o out.ndjson in.ndjson
	status_is 0
	stdout_empty
	same_json out.ndjson in.ndjson
}

@test "mig-extract --output out.ndjson.zst: compressed output" {
	records 300 >in.ndjson
	run --separate-stderr mig-extract --output out.ndjson.zst in.ndjson
	status_is 0
	stdout_empty
	zstd -t -q out.ndjson.zst || fail "out.ndjson.zst is not a zstd file"
	zstd -dc out.ndjson.zst >out.ndjson
	same_json out.ndjson in.ndjson
}

@test "mig-extract -o /nonexistent-dir/out.ndjson: unwritable output, exit 3" {
	records 1 >in.ndjson
	run --separate-stderr mig-extract -o /nonexistent-dir/out.ndjson in.ndjson
	status_is 3
	stderr_has "/nonexistent-dir/out.ndjson"
}

@test "mig-extract bad.ndjson.zst: a corrupt zstd file cannot be read, exit 3" {
	records 1000 >in.ndjson
	zstd -q in.ndjson -o full.zst
	head -c 200 full.zst >bad.ndjson.zst
	run --separate-stderr mig-extract -q bad.ndjson.zst
	status_is 3
	stderr_has "bad.ndjson.zst"
}

@test "mig-extract nofile.ndjson: missing input, exit 3 naming it" {
	run --separate-stderr mig-extract nofile.ndjson
	status_is 3
	stdout_empty
	stderr_matches '^mig-extract: '
	stderr_has "nofile.ndjson"
}

# ------------------------------------------------------ Extended JSON modes

@test "mig-extract (relaxed default): canonical number wrappers become numbers" {
	ndjson in.ndjson '{"n":{"$numberInt":"5"},"l":{"$numberLong":"7"},"d":{"$numberDouble":"2.5"},"neg":{"$numberInt":"-3"}}'
	run --separate-stderr mig-extract in.ndjson
	status_is 0
	[ "$output" = '{"n":5,"l":7,"d":2.5,"neg":-3}' ] || fail "not relaxed"
}

@test "mig-extract (relaxed default): canonical \$date becomes its ISO string" {
	ndjson in.ndjson '{"t":{"$date":{"$numberLong":"1714557600123"}}}'
	run --separate-stderr mig-extract in.ndjson
	status_is 0
	ndjson want.ndjson '{"t":{"$date":"2024-05-01T10:00:00.123Z"}}'
	same_json_text "$output" want.ndjson
}

@test "mig-extract (relaxed default): other wrappers pass through" {
	ndjson in.ndjson '{"nan":{"$numberDouble":"NaN"},"dec":{"$numberDecimal":"12.50"},"oid":{"$oid":"65f1a2b3c4d5e6f708192a3b"},"bin":{"$binary":{"base64":"AAEC/w==","subType":"00"}},"t":{"$date":"2024-05-01T10:00:00.123Z"}}'
	run --separate-stderr mig-extract in.ndjson
	status_is 0
	same_json_text "$output" in.ndjson
}

@test "mig-extract --canonical: \$numberInt, \$numberLong, \$numberDouble, \$date as ms" {
	ndjson in.ndjson '{"i":1,"l":1099511627776,"d":1.5,"t":{"$date":"2024-05-01T10:00:00.123Z"},"s":"x","b":true,"z":null}'
	ndjson want.ndjson '{"i":{"$numberInt":"1"},"l":{"$numberLong":"1099511627776"},"d":{"$numberDouble":"1.5"},"t":{"$date":{"$numberLong":"1714557600123"}},"s":"x","b":true,"z":null}'
	run --separate-stderr mig-extract --canonical in.ndjson
	status_is 0
	same_json_text "$output" want.ndjson
}

@test "mig-extract --canonical: int32 boundaries and a whole double" {
	ndjson in.ndjson '{"a":2147483647,"b":2147483648,"c":-2147483648,"d":-2147483649,"e":2.0,"f":-0.0}'
	ndjson want.ndjson '{"a":{"$numberInt":"2147483647"},"b":{"$numberLong":"2147483648"},"c":{"$numberInt":"-2147483648"},"d":{"$numberLong":"-2147483649"},"e":{"$numberDouble":"2.0"},"f":{"$numberDouble":"-0.0"}}'
	run --separate-stderr mig-extract --canonical in.ndjson
	status_is 0
	same_json_text "$output" want.ndjson
}

@test "mig-extract --canonical: nested values too" {
	ndjson in.ndjson '{"o":{"a":[1,{"b":2.5}]}}'
	ndjson want.ndjson '{"o":{"a":[{"$numberInt":"1"},{"b":{"$numberDouble":"2.5"}}]}}'
	run --separate-stderr mig-extract --canonical in.ndjson
	status_is 0
	same_json_text "$output" want.ndjson
}

@test "mig-extract --plain: dates and decimals flattened to strings" {
	ndjson in.ndjson '{"t":{"$date":"2024-05-01T10:00:00.123Z"},"c":{"$date":{"$numberLong":"1714557600123"}},"m":{"$numberDecimal":"12.50"},"oid":{"$oid":"65f1a2b3c4d5e6f708192a3b"},"n":{"$numberInt":"5"},"x":1}'
	ndjson want.ndjson '{"t":"2024-05-01T10:00:00.123Z","c":"2024-05-01T10:00:00.123Z","m":"12.50","oid":"65f1a2b3c4d5e6f708192a3b","n":5,"x":1}'
	run --separate-stderr mig-extract --plain in.ndjson
	status_is 0
	same_json_text "$output" want.ndjson
	has_not "$output" '$' stdout
}

# --------------------------------------------------------- sqlite sources

@test "mig-extract sqlite:src.db#t: the rows as records" {
	make_db
	ndjson want.ndjson '{"id":1,"name":"ann","score":0.5}' '{"id":2,"name":"bob","score":1.5}' '{"id":3,"name":"cy","score":2.5}'
	run --separate-stderr mig-extract --order-by id 'sqlite:src.db#t'
	status_is 0
	same_json_text "$output" want.ndjson
	stderr_matches '^mig-extract: sqlite:src\.db#t: 3 records in '
}

@test "mig-extract --where: only the matching rows" {
	make_db
	run --separate-stderr mig-extract --where 'score > 1' --order-by id 'sqlite:src.db#t'
	status_is 0
	ndjson want.ndjson '{"id":2,"name":"bob","score":1.5}' '{"id":3,"name":"cy","score":2.5}'
	same_json_text "$output" want.ndjson
}

@test "mig-extract --order-by 'id DESC': rows in that order" {
	make_db
	run --separate-stderr mig-extract --order-by 'id DESC' 'sqlite:src.db#t'
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -c .id | tr '\n' ' ')" = "3 2 1 " ] || fail "not in descending order"
}

@test "mig-extract --query: a query instead of the table; #TABLE optional" {
	make_db
	run --separate-stderr mig-extract --query 'SELECT id, upper(name) AS n FROM t WHERE id >= 2 ORDER BY id' sqlite:src.db
	status_is 0
	ndjson want.ndjson '{"id":2,"n":"BOB"}' '{"id":3,"n":"CY"}'
	same_json_text "$output" want.ndjson
}

@test "mig-extract --count: the number of records, and nothing else" {
	make_db
	run --separate-stderr mig-extract --count 'sqlite:src.db#t'
	status_is 0
	[ "$output" = 3 ] || fail "expected 3"
}

@test "mig-extract --count --where / --limit / --query: honoured" {
	make_db
	run --separate-stderr mig-extract --count --where 'score > 1' 'sqlite:src.db#t'
	status_is 0
	[ "$output" = 2 ] || fail "--where: expected 2"
	run --separate-stderr mig-extract --count --limit 1 'sqlite:src.db#t'
	status_is 0
	[ "$output" = 1 ] || fail "--limit: expected 1"
	run --separate-stderr mig-extract --count --query 'SELECT * FROM t WHERE id = 3' sqlite:src.db
	status_is 0
	[ "$output" = 1 ] || fail "--query: expected 1"
}

@test "mig-extract --count in.ndjson: counts a file's records" {
	records 7 >in.ndjson
	run --separate-stderr mig-extract --count in.ndjson
	status_is 0
	[ "$output" = 7 ] || fail "expected 7"
}

@test "mig-extract --list sqlite:src.db: each table with its count, tab-separated" {
	make_db
	run --separate-stderr mig-extract --list sqlite:src.db
	status_is 0
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf 't\t3\nu\t0')" ] || fail "expected t<TAB>3 and u<TAB>0"
}

@test "mig-extract --describe: a JSON Schema 2020-12 of the table" {
	make_db
	run --separate-stderr mig-extract --describe 'sqlite:src.db#t'
	status_is 0
	printf '%s\n' "$output" >schema.json
	jq_true schema.json '."$schema" | test("2020-12")'
	jq_true schema.json '.type == "object"'
	jq_true schema.json '.properties | keys == ["id","name","score"]'
	jq_true schema.json '[.properties.id.type] | flatten | index("integer") != null'
	jq_true schema.json '[.properties.name.type] | flatten | index("string") != null'
	jq_true schema.json '[.properties.score.type] | flatten | index("number") != null'
}

@test "mig-extract sqlite:missing.db#t: no such database, exit 3, nothing created" {
	run --separate-stderr mig-extract 'sqlite:missing.db#t'
	status_is 3
	stdout_empty
	stderr_has "missing.db"
	[ ! -e missing.db ] || fail "missing.db was created by a reader"
}

@test "mig-extract sqlite:src.db#nosuch: no such table, exit 3" {
	make_db
	run --separate-stderr mig-extract 'sqlite:src.db#nosuch'
	status_is 3
	stdout_empty
	stderr_has "nosuch"
}

@test "mig-extract env:VAR: the locator read from the environment" {
	make_db
	export MIG_TEST_LOC="sqlite:$T/src.db#t"
	run --separate-stderr mig-extract --count env:MIG_TEST_LOC
	status_is 0
	[ "$output" = 3 ] || fail "expected 3"
}

@test "mig-extract @FILE: the locator read from the first line of FILE" {
	make_db
	printf 'sqlite:%s/src.db#t\nignored second line\n' "$T" >loc.txt
	run --separate-stderr mig-extract --count @loc.txt
	status_is 0
	[ "$output" = 3 ] || fail "expected 3"
}

@test "mig-extract --plain from sqlite: loaded dates and decimals come out as strings" {
	ndjson in.ndjson '{"id":1,"t":{"$date":"2024-05-01T10:00:00.123Z"},"m":{"$numberDecimal":"12.50"}}'
	run --separate-stderr mig-load --create -i in.ndjson 'sqlite:x.db#t'
	status_is 0
	run --separate-stderr mig-extract --plain 'sqlite:x.db#t'
	status_is 0
	ndjson want.ndjson '{"id":1,"t":"2024-05-01T10:00:00.123Z","m":"12.50"}'
	same_json_text "$output" want.ndjson
}

# ------------------------------------------------------------- bad input

@test "mig-extract: invalid JSON in a file: FILE:LINE, exit 1" {
	ndjson in.ndjson '{"id":1}' '{"id":2,' '{"id":3}'
	run --separate-stderr mig-extract in.ndjson
	status_is 1
	stderr_matches '^mig-extract: .*in\.ndjson:2: .*invalid JSON'
}

@test "mig-extract: a JSON array instead of an object: exit 1" {
	ndjson in.ndjson '{"id":1}' '[1,2]'
	run --separate-stderr mig-extract in.ndjson
	status_is 1
	stderr_matches 'in\.ndjson:2: not a JSON object \(array\)'
}

@test "mig-extract -: bad input on stdin is named stdin:LINE" {
	ndjson in.ndjson '{"id":1}' '{"id":2}' 'nope'
	run --separate-stderr mig-extract - <in.ndjson
	status_is 1
	stderr_matches '^mig-extract: stdin:3: '
}

@test "mig-extract --max-line 100: a 200-byte line is an error, exit 1" {
	{
		echo '{"id":1}'
		printf '{"id":2,"s":"%s"}\n' "$(printf 'x%.0s' $(seq 180))"
	} >in.ndjson
	run --separate-stderr mig-extract --max-line 100 in.ndjson
	status_is 1
	stderr_matches 'in\.ndjson:2: '
}

@test "mig-extract --max-line 1k: size suffix accepted" {
	printf '{"id":1,"s":"%s"}\n' "$(printf 'x%.0s' $(seq 500))" >in.ndjson
	run --separate-stderr mig-extract --max-line 1k in.ndjson
	status_is 0
	same_json_text "$output" in.ndjson
}

# --------------------------------------------------------------- behaviour

@test "mig-extract big.ndjson | head -1: stops quietly, exit 0" {
	records 200000 >big.ndjson
	run bash -c 'set -o pipefail
		mig-extract big.ndjson 2>err.txt | head -1 >first.txt
		echo "${PIPESTATUS[*]}"'
	[ "$output" = "0 0" ] || { cat err.txt >&2; fail "PIPESTATUS is '$output', expected '0 0'"; }
	status_is 0
	[ "$(cat first.txt)" = '{"id":1,"name":"r1","score":1.5}' ] || fail "wrong first line"
	if grep -Eiq 'broken pipe|epipe|error' err.txt; then
		cat err.txt >&2
		fail "mig-extract complained about the closed pipe"
	fi
}

@test "mig-extract --quiet: no summary line" {
	records 3 >in.ndjson
	run --separate-stderr mig-extract --quiet in.ndjson
	status_is 0
	stderr_empty
	same_json_text "$output" in.ndjson
	run --separate-stderr mig-extract -q in.ndjson
	status_is 0
	stderr_empty
}

@test "mig-extract --quiet: errors are still shown" {
	run --separate-stderr mig-extract -q nofile.ndjson
	status_is 3
	stderr_has "nofile.ndjson"
}

@test "mig-extract -v: more messages than by default, stdout unchanged" {
	make_db
	run --separate-stderr mig-extract 'sqlite:src.db#t'
	status_is 0
	local n_default=${#stderr_lines[@]} out_default=$output
	run --separate-stderr mig-extract -v 'sqlite:src.db#t'
	status_is 0
	[ "${#stderr_lines[@]}" -gt "$n_default" ] || fail "-v printed no more than the default ($n_default lines)"
	[ "$output" = "$out_default" ] || fail "-v changed stdout"
	stderr_has "3 records"
	run --separate-stderr mig-extract --verbose 'sqlite:src.db#t'
	status_is 0
	[ "${#stderr_lines[@]}" -gt "$n_default" ] || fail "--verbose printed no more than the default"
}

@test "mig-extract --progress / --progress=never|always|auto: stdout stays records only" {
	records 50 >in.ndjson
	local p
	for p in --progress --progress=never --progress=always --progress=auto; do
		run --separate-stderr mig-extract "$p" in.ndjson
		status_is 0
		same_json_text "$output" in.ndjson
	done
}

@test "mig-extract --report r.json: a JSON summary with the count" {
	make_db
	run --separate-stderr mig-extract --report r.json 'sqlite:src.db#t'
	status_is 0
	jq -e . r.json >/dev/null || fail "r.json is not JSON"
	report_is r.json records 3
}

@test "mig-extract --report r.json: written on failure too (exit 1)" {
	ndjson in.ndjson '{"id":1}' '{"id":2,'
	run --separate-stderr mig-extract --report r.json in.ndjson
	status_is 1
	[ -s r.json ] || fail "no report written"
	jq -e . r.json >/dev/null || fail "r.json is not JSON"
	report_is r.json records 1
}

@test "mig-extract: a password in the locator is never printed" {
	run --separate-stderr mig-extract -v --report r.json 'postgres://bob:s3cret@127.0.0.1:1/db#t'
	failed_cleanly
	has_not "$output" s3cret stdout
	has_not "$stderr" s3cret stderr
	if [ -e r.json ]; then has_not "$(cat r.json)" s3cret report; fi
	run --separate-stderr mig-extract 'mongodb://bob:s3cret@127.0.0.1:1/db#c'
	failed_cleanly
	has_not "$output$stderr" s3cret output
}

@test "mig-extract env:VAR holding a password: never printed" {
	export MIG_TEST_LOC='postgres://bob:s3cret@127.0.0.1:1/db#t'
	run --separate-stderr mig-extract -v env:MIG_TEST_LOC
	failed_cleanly
	has_not "$output$stderr" s3cret output
}

@test "mig-extract -: SIGTERM while waiting for input: exit 4" {
	trap '' PIPE
	mkfifo in.fifo
	mig-extract - <in.fifo >out.txt 2>err.txt 3>&- &
	bg_pid=$!
	exec 5>in.fifo
	records 3 >&5
	wait_blocked "$bg_pid"
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid"
	bg_pid=
	exec 5>&-
	[ "$rc" -eq 4 ] || { cat err.txt >&2; fail "exit status $rc, expected 4"; }
}
