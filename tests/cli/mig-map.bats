#!/usr/bin/env bats
# mig-map(1) as a user meets it: command lines, their output and exit
# status.  The language itself is tested case by case in tests/map/*.test
# (through the library, tests/unit/test_map_cases.c); here: the program,
# the files it reads and writes, the stores of its lookups, the examples of
# its man pages, and checks against independent computations (awk, jq,
# sha256sum, the sqlite3 CLI).

load helpers

FIX=$BATS_TEST_DIRNAME/../map/fixtures
MAN=$BATS_TEST_DIRNAME/../../man

# ------------------------------------------------------------------ common

@test "mig-map --help: usage on stdout, every option, exit 0" {
	run --separate-stderr mig-map --help
	status_is 0
	stdout_has "usage: mig-map [options] (MAPPING | -e TEXT)"
	local o
	for o in --expression --check --input --output --strict --on-error --reject \
		--max-errors --salt --memory --max-line --canonical --plain --report --quiet; do
		stdout_has "$o"
	done
	stderr_empty
}

@test "mig-map --version: mig and library versions" {
	run --separate-stderr mig-map --version
	status_is 0
	[[ "${lines[0]}" =~ ^mig-map\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "first line"
	stdout_matches '^jansson '
}

@test "mig-map with no mapping: usage error, exit 2" {
	run --separate-stderr mig-map </dev/null
	usage_error mig-map
	stderr_has "a MAPPING file or -e TEXT is needed"
}

@test "mig-map FILE -e TEXT: one or the other, exit 2" {
	echo 'a = 1' >m.map
	run --separate-stderr mig-map -e 'a = 1' m.map </dev/null
	usage_error mig-map
}

@test "mig-map --on-error maybe: usage error, exit 2" {
	run --separate-stderr mig-map --on-error maybe -e 'a = 1' </dev/null
	usage_error mig-map
	stderr_has "--on-error takes reject, null or fail, not 'maybe'"
}

@test "mig-map missing.map: the file cannot be read, exit 2" {
	run --separate-stderr mig-map missing.map </dev/null
	status_is 2
	stderr_has "mig-map: missing.map: No such file or directory"
}

# ------------------------------------------------------------------ compile errors

# compile_error MAPPING MESSAGE TEXT CARET: mig-map on the file MAPPING
# fails with exit 2, prints "mig-map: MESSAGE", then the source line and
# the caret, reads nothing, writes nothing.
compile_error() {
	printf '%s' "$1" >bad.map
	run --separate-stderr mig-map bad.map <<<'{"a":1}'
	status_is 2
	stdout_empty
	[ "${#stderr_lines[@]}" -eq 3 ] || fail "expected 3 lines on stderr"
	[ "${stderr_lines[0]}" = "mig-map: $2" ] || fail "message: ${stderr_lines[0]}"
	[ "${stderr_lines[1]}" = "    $3" ] || fail "text: ${stderr_lines[1]}"
	[ "${stderr_lines[2]}" = "    $4" ] || fail "caret: '${stderr_lines[2]}'"
}

@test "bad mapping: an unknown function, with a caret" {
	compile_error $'a = 1\nb = strng(a)\n' "bad.map:2:5: unknown function 'strng'" \
		"b = strng(a)" "    ^"
}

@test "bad mapping: a wrong number of arguments" {
	compile_error $'x = replace(a, "b")\n' \
		"bad.map:1:5: replace() takes 3 to 4 arguments, not 2" 'x = replace(a, "b")' "    ^"
}

@test "bad mapping: a bad regular expression points into the call" {
	compile_error $'x = replace(a, "[a-", "")\n' \
		"bad.map:1:16: replace: bad regular expression: missing terminating ] for character class (at offset 3)" \
		'x = replace(a, "[a-", "")' "               ^"
}

@test "bad mapping: the caret keeps tabs and counts characters" {
	compile_error $'\tname = "é" + + 1\n' "bad.map:1:15: expected a value, found '+'" \
		$'\tname = "é" + + 1' $'\t             ^'
}

@test "bad mapping: = where == was meant" {
	compile_error $'where status = 1\n' \
		"bad.map:1:14: '=' in an expression (write '==' to compare)" "where status = 1" \
		"             ^"
}

@test "bad mapping: an unterminated string" {
	compile_error $'x = "abc\n' "bad.map:1:5: unterminated string" 'x = "abc' "    ^"
}

@test "bad mapping: a statement that is not one" {
	compile_error $'x = 1 2\n' "bad.map:1:7: expected the end of the statement, found '2'" \
		"x = 1 2" "      ^"
}

@test "bad mapping: an aggregate outside a group" {
	compile_error $'n = count()\n' \
		"bad.map:1:5: count() is an aggregate: it is allowed only in a 'group by' block" \
		"n = count()" "    ^"
}

@test "bad mapping: a group without its braces" {
	compile_error $'group by k\n' \
		"bad.map:1:11: expected '{' and the aggregates after the group key, found 'end of line'" \
		"group by k" "          ^"
}

@test "bad mapping with -e: named -e" {
	run --separate-stderr mig-map -e 'a = 1; b = frob(a)' </dev/null
	status_is 2
	stderr_has "mig-map: -e:1:12: unknown function 'frob'"
}

@test "--check: a good mapping compiles, reports, reads nothing" {
	printf 'a = lower(b)\nexplode c\nd = 1\n' >m.map
	run --separate-stderr mig-map --check m.map --report r.json <<<'not json at all'
	status_is 0
	stdout_empty
	stderr_has 'mig-map: m.map: ok: 3 statements, stages ["block","explode","block"], fields ["a","d"]'
	jq_true r.json '.status == "ok" and .statements == 3'
}

@test "--check: a bad mapping, exit 2" {
	run --separate-stderr mig-map --check -e 'a = b +'
	status_is 2
	stderr_has "-e:1:8: expected a value"
}

# ------------------------------------------------------------------ runtime

@test "10,000 records with one runtime error: only it is rejected" {
	awk 'BEGIN { for (i = 1; i <= 10000; i++)
		printf("{\"id\":%d,\"at\":\"%s\"}\n", i, i == 5678 ? "not a date" : "2024-05-01T10:00:00Z") }' >in.ndjson
	run --separate-stderr mig-map --reject rej.ndjson --report r.json -e 'id = id; at = date(at)' <in.ndjson
	status_is 0
	[ "${#lines[@]}" -eq 9999 ] || fail "expected 9999 records out"
	[ "$(wc -l <rej.ndjson)" -eq 1 ] || fail "expected one reject"
	jq_true rej.ndjson '.record == {"id":5678,"at":"not a date"} and .line == 5678 and .stage == "mig-map" and .error == "stdin:5678: -e:1:15: date: not an ISO-8601 date-time: \"not a date\""'
	printf '%s\n' "$output" | jq -s -e 'map(.id) | (index(5678) == null) and length == 9999' >/dev/null || fail "5678 in the output"
	stderr_has "mig-map: stdin: 10000 read, 9999 written, 0 filtered, 1 rejected (rejects in rej.ndjson)"
	report_is r.json read 10000
	report_is r.json written 9999
	report_is r.json rejected 1
	report_is r.json errors 1
}

@test "a runtime error without --reject stops, exit 1, the records before are out" {
	printf '%s\n' '{"n":"1"}' '{"n":"x"}' '{"n":"3"}' >in.ndjson
	run --separate-stderr mig-map -e 'n = int(n)' <in.ndjson
	status_is 1
	[ "$output" = '{"n":1}' ] || fail "stdout"
	stderr_has 'mig-map: stdin:2: -e:1:5: int: not an integer: "x"'
}

@test "--on-error null: the failing expression is null, counted" {
	printf '%s\n' '{"n":"1"}' '{"n":"x"}' >in.ndjson
	run --separate-stderr mig-map --on-error null --report r.json -e 'n = int(n); m = 1' <in.ndjson
	status_is 0
	[ "$output" = $'{"n":1,"m":1}\n{"n":null,"m":1}' ] || fail "stdout"
	stderr_has "1 errors made null"
	report_is r.json nulled 1
}

@test "--on-error fail: stops at the first error even with --reject" {
	printf '%s\n' '{"n":"1"}' '{"n":"x"}' '{"n":"3"}' >in.ndjson
	run --separate-stderr mig-map --on-error fail --reject rej.ndjson -e 'n = int(n)' <in.ndjson
	status_is 1
	[ "$output" = '{"n":1}' ] || fail "stdout"
	stderr_has 'stdin:2: -e:1:5: int: not an integer: "x"'
}

@test "--strict: a missing field is an error; without it, null" {
	printf '%s\n' '{"a":1}' '{"b":2}' >in.ndjson
	run --separate-stderr mig-map -e 'a = a' <in.ndjson
	status_is 0
	[ "$output" = $'{"a":1}\n{"a":null}' ] || fail "stdout"
	run --separate-stderr mig-map --strict --max-errors 5 -e 'a = a' <in.ndjson
	status_is 0
	[ "$output" = '{"a":1}' ] || fail "stdout"
	stderr_has "rejected: stdin:2: -e:1:5: missing field a"
}

@test "a line that is not JSON is rejected with its text" {
	printf '%s\n' '{"a":1}' 'nope' '[1]' >in.ndjson
	run --separate-stderr mig-map --reject rej.ndjson -e 'a = a' <in.ndjson
	status_is 0
	[ "$output" = '{"a":1}' ] || fail "stdout"
	jq_true rej.ndjson 'map(select(.line == 2))[0].record == "nope"' -s
	jq_true rej.ndjson 'map(select(.line == 3))[0].error == "stdin:3: not a JSON object (array)"' -s
}

@test "--max-errors: past it, exit 1" {
	printf '%s\n' '{"n":"x"}' '{"n":"y"}' '{"n":"z"}' >in.ndjson
	run --separate-stderr mig-map --reject rej.ndjson --max-errors 1 -e 'n = int(n)' <in.ndjson
	status_is 1
	stderr_has "2 records rejected, more than --max-errors 1"
}

@test "-i and -o: files, zstd by suffix" {
	records 3 | zstd -q >in.ndjson.zst
	run --separate-stderr mig-map -i in.ndjson.zst -o out.ndjson.zst -e 'id = id'
	status_is 0
	[ "$(zstd -dc out.ndjson.zst)" = $'{"id":1}\n{"id":2}\n{"id":3}' ] || fail "out"
}

@test "the reader goes away: quiet, exit 0" {
	records 50000 >in.ndjson
	run --separate-stderr bash -c 'set -o pipefail; mig-map -q -e "*" <in.ndjson | head -n 1'
	status_is 0
	[ "$output" = '{"id":1,"name":"r1","score":1.5}' ] || fail "stdout"
	stderr_empty
}

@test "--canonical and --plain" {
	run --separate-stderr mig-map -q --canonical -e 'a = 1; b = long(2); c = 1.5' <<<'{}'
	[ "$output" = '{"a":{"$numberInt":"1"},"b":{"$numberLong":"2"},"c":{"$numberDouble":"1.5"}}' ] || fail "canonical"
	run --separate-stderr mig-map -q --plain -e 'd = date(0); e = decimal("1.50")' <<<'{}'
	[ "$output" = '{"d":"1970-01-01T00:00:00.000Z","e":"1.50"}' ] || fail "plain"
}

@test "hash with --salt env:VAR matches sha256sum" {
	export MIG_TEST_SALT=pepper
	run --separate-stderr mig-map -q --salt env:MIG_TEST_SALT -e 'h = hash(email)' <<<'{"email":"a@b.c"}'
	status_is 0
	want=$(printf '%s' 'peppera@b.c' | sha256sum | cut -d' ' -f1)
	[ "$output" = "{\"h\":\"$want\"}" ] || fail "hash"
	has_not "$stderr" pepper
	run --separate-stderr mig-map --salt env:MIG_NOPE_UNSET -e 'h = hash(x)' <<<'{}'
	status_is 2
	stderr_has "--salt env:MIG_NOPE_UNSET: the variable is not set"
}

# ------------------------------------------------------------------ stream statements

@test "dedupe keeps the latest record of each key" {
	printf '%s\n' '{"id":1,"at":"2024-01-01","v":1}' '{"id":2,"at":"2024-01-01","v":2}' \
		'{"id":1,"at":"2024-03-01","v":3}' '{"id":1,"at":"2024-02-01","v":4}' >in.ndjson
	run --separate-stderr mig-map --report r.json -e 'dedupe id by date(at) desc' <in.ndjson
	status_is 0
	[ "$output" = $'{"id":1,"at":"2024-03-01","v":3}\n{"id":2,"at":"2024-01-01","v":2}' ] || fail "stdout"
	report_is r.json duplicates 2
}

@test "dedupe past --memory: spilled, the same output" {
	awk 'BEGIN { srand(7); for (i = 1; i <= 20000; i++)
		printf("{\"k\":%d,\"t\":%d,\"pad\":\"%s\"}\n", int(rand() * 3000), i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") }' >in.ndjson
	mig-map -q -e 'dedupe k by t desc' <in.ndjson >mem.ndjson
	run --separate-stderr mig-map --memory 64k --report r.json -e 'dedupe k by t desc' <in.ndjson
	status_is 0
	printf '%s\n' "$output" >spill.ndjson
	cmp mem.ndjson spill.ndjson || fail "spilled output differs"
	[ "$(report_num r.json spilled_bytes)" -gt 0 ] || fail "nothing spilled"
	# independently: the greatest t of each k, in first-seen order
	jq -s -c 'group_by(.k) | map(max_by(.t)) | sort_by(.k) | .[]' in.ndjson >want.ndjson
	jq -s -c 'sort_by(.k) | .[]' spill.ndjson | cmp - want.ndjson || fail "not the latest of each"
}

@test "group totals match an independent computation (awk)" {
	awk 'BEGIN { srand(11); for (i = 1; i <= 5000; i++)
		printf("{\"customer\":\"c%d\",\"amount\":%d,\"price\":\"%d.%02d\"}\n", int(rand() * 40), int(rand() * 1000), int(rand() * 100), int(rand() * 100)) }' >in.ndjson
	run --separate-stderr mig-map -q -e 'group by customer { n = count(), total = sum(amount), money = sum(decimal(price)), hi = max(amount) }' <in.ndjson
	status_is 0
	printf '%s\n' "$output" | jq -r '[.customer, .n, .total, .money."$numberDecimal", .hi] | @tsv' | sort >got.tsv
	jq -r '[.customer, .amount, .price] | @tsv' in.ndjson | awk -F'\t' '
		{ n[$1]++; t[$1] += $2; split($3, p, "."); c[$1] += p[1] * 100 + p[2]; if (!($1 in h) || $2 > h[$1]) h[$1] = $2 }
		END { for (k in n) printf("%s\t%d\t%d\t%d.%02d\t%d\n", k, n[k], t[k], int(c[k] / 100), c[k] % 100, h[k]) }' | sort >want.tsv
	diff got.tsv want.tsv || fail "totals differ"
}

@test "explode then a block" {
	run --separate-stderr mig-map -q -e 'explode items as item; order = id; sku = item.sku' \
		<<<'{"id":1,"items":[{"sku":"a"},{"sku":"b"}]}'
	[ "$output" = $'{"order":1,"sku":"a"}\n{"order":1,"sku":"b"}' ] || fail "stdout"
}

@test "explode index: positions match jq's to_entries" {
	awk 'BEGIN { srand(3); for (i = 1; i <= 200; i++) { n = int(rand() * 6); s = "";
		for (k = 0; k < n; k++) s = s (k ? "," : "") "\"x" int(rand() * 1000) "\"";
		printf("{\"id\":%d,\"items\":[%s]}\n", i, s) } }' >in.ndjson
	run --separate-stderr mig-map -q -e 'explode items as item index pos' <in.ndjson
	status_is 0
	printf '%s\n' "$output" >got.ndjson
	jq -c '.id as $id | .items | to_entries[] | {id: $id, item: .value, pos: .key}' in.ndjson >want.ndjson
	diff got.ndjson want.ndjson || fail "positions differ"
}

@test "parse_json: a localStorage dump's values; bad text is a reject with its reason" {
	printf '%s\n' '{"u":1,"settings":"{\"theme\":\"dark\",\"at\":{\"$date\":\"2024-05-01T10:00:00.123456Z\"}}"}' \
		'{"u":2,"settings":"{\"theme\":"}' '{"u":3,"settings":"[]"}' >in.ndjson
	run --separate-stderr mig-map --reject rej.ndjson -e 'u = u; s = parse_json(settings)' <in.ndjson
	status_is 0
	[ "$output" = '{"u":1,"s":{"theme":"dark","at":{"$date":"2024-05-01T10:00:00.123456Z"}}}
{"u":3,"s":[]}' ] || fail "stdout"
	jq_true rej.ndjson 'length == 1' -s
	jq_true rej.ndjson '.[0].line == 2 and .[0].record.u == 2 and .[0].stage == "mig-map"' -s
	jq_true rej.ndjson '.[0].error == "stdin:2: -e:1:12: parse_json: invalid JSON: premature end of input (column 10)"' -s
	# to_json is the inverse: jq reads back what it wrote
	run --separate-stderr mig-map -q -e 'j = to_json(.)' <<<'{"a":[1,{"b":"x\"y"}],"d":{"$date":"2024-05-01T10:00:00Z"}}'
	status_is 0
	[ "$(printf '%s' "$output" | jq -c '.j | fromjson')" = '{"a":[1,{"b":"x\"y"}],"d":{"$date":"2024-05-01T10:00:00.000Z"}}' ] || fail "to_json"
}

# ------------------------------------------------------------------ lookups

@test "lookup from an NDJSON file" {
	printf '%s\n' '{"code":"FR","name":"France"}' '{"code":"DE","name":"Germany"}' >countries.ndjson
	printf '%s\n' '{"c":"DE"}' '{"c":"XX"}' >in.ndjson
	run --separate-stderr mig-map -q -e 'lookup countries from "countries.ndjson" on code; country = countries[c].name ?? "?"' <in.ndjson
	status_is 0
	[ "$output" = $'{"country":"Germany"}\n{"country":"?"}' ] || fail "stdout"
}

@test "lookup from SQLite, made by mig-load" {
	printf '%s\n' '{"id":10,"email":"a@x"}' '{"id":11,"email":"b@x"}' |
		mig-load -q 'sqlite:users.db#users' --create
	[ "$(rows users.db users)" = 2 ] || fail "users not loaded"
	run --separate-stderr mig-map -q -e 'lookup users from "sqlite:users.db#users" on id; email = users[uid].email' <<<'{"uid":11}'
	status_is 0
	[ "$output" = '{"email":"b@x"}' ] || fail "stdout"
}

@test "lookup: a table that cannot be read, exit 3" {
	run --separate-stderr mig-map -e 'lookup t from "nope.ndjson" on id; x = t[a]' <<<'{}'
	status_is 3
	stderr_has "lookup t: nope.ndjson: No such file or directory"
}

# ------------------------------------------------------------------ end to end

@test "multi-provider example: strava_connections -> provider_connections -> activities" {
	run --separate-stderr mig-map --report r.json "$FIX/connections.map" <"$FIX/strava_connections.ndjson"
	status_is 0
	printf '%s\n' "$output" >pc.ndjson
	jq -c 'del(.access_token, .migrated_at) | .token_expires_at |= ."$date"' pc.ndjson >got.ndjson
	diff got.ndjson "$FIX/provider_connections.expected" || fail "provider_connections differ"
	want=$(printf '%s' tok-a2 | sha256sum | cut -d' ' -f1)
	jq_true pc.ndjson "map(select(.provider_user_id == \"1001\"))[0].access_token == \"$want\"" -s
	jq_true pc.ndjson 'all(.migrated_at."$date" | test("^20[0-9][0-9]-"))' -s
	report_is r.json read 4
	report_is r.json written 2
	report_is r.json duplicates 1
	report_is r.json filtered 1
	# load them (the ids the store gives stand in for provider_connections.id)
	jq -c '{id: ("pc-" + .provider_user_id), provider, provider_user_id}' pc.ndjson |
		mig-load -q 'sqlite:app.db#provider_connections' --create --key id
	[ "$(rows app.db provider_connections)" = 2 ] || fail "not loaded"
	sed 's|LOCATOR|sqlite:app.db#provider_connections|' "$FIX/activities.map" >activities.map
	run --separate-stderr mig-map activities.map <"$FIX/activities.ndjson"
	status_is 0
	[ "$output" = '{"activity_id":"a1","connection_id":"pc-1001","provider":"strava","km":{"$numberDecimal":"5.5"}}
{"activity_id":"a2","connection_id":"pc-1003","provider":"strava","km":{"$numberDecimal":"10.0"}}
{"activity_id":"a3","connection_id":null,"provider":"unknown","km":{"$numberDecimal":"1.0"}}' ] || fail "activities"
}

# ------------------------------------------------------------------ man pages

# run_examples PAGE: every "$ command" of the page's EXAMPLES section runs
# in one directory and prints the lines that follow it on stdout.
run_examples() {
	local page=$1 cmd= want= got n=0
	mandoc -Tutf8 "$page" | col -b |
		awk '/^EXAMPLES/ { on = 1; next } /^[A-Z]/ { on = 0 } on' >ex.txt
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		*'$ '*)
			if [ -n "$cmd" ]; then check_example; fi
			cmd=${line#*\$ }
			want=
			;;
		'')
			if [ -n "$cmd" ]; then check_example; fi
			cmd=
			;;
		*)
			[ -z "$cmd" ] || want+="${want:+$'\n'}${line#"${line%%[![:space:]]*}"}"
			;;
		esac
	done <ex.txt
	if [ -n "$cmd" ]; then check_example; fi
	[ "$n" -gt 0 ] || fail "no examples found in $page"
}

check_example() {
	n=$((n + 1))
	got=$(bash -c "$cmd" 2>/dev/null) || true
	if [ "$got" != "$want" ]; then
		printf '# example: %s\n# want: %s\n# got:  %s\n' "$cmd" "$want" "$got" >&2
		fail "a man page example does not do what it says"
	fi
	cmd=
}

@test "the examples of mig-map(5) run" {
	run_examples "$MAN/man5/mig-map.5"
}

@test "the examples of mig-map(1) run" {
	run_examples "$MAN/man1/mig-map.1"
}
